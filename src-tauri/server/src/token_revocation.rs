//! When a user's outstanding tokens can no longer be trusted, as GoTrue's `models/user.go`
//! decides it: a new password (`User.UpdatePassword`, used by `PUT /user` and
//! `PUT /admin/users/{id}`) and a new primary email from the identities
//! (`User.ClearAllPendingTokens`, used by unlinking). One function per GoTrue function so
//! every route revokes the same things.

use rusqlite::Connection;
use uuid::Uuid;

use crate::{db, one_time_token as ott, pending_changes};

/// GoTrue's `User.UpdatePassword`: the new hash is stored; the confirmation, recovery,
/// email-change, phone-change and reauthentication tokens are blanked with their sent times
/// (the pending `email_change` / `phone_change` addresses stay); every one-time token is used
/// up; and every session of the user ends except `keep_session` (the one that changed it, for
/// `PUT /user`; none for an admin).
pub fn update_password(
    conn: &Connection,
    user: Uuid,
    password_hash: &str,
    keep_session: Option<Uuid>,
    now: i64,
) -> rusqlite::Result<()> {
    db::update_password(conn, user, password_hash, now)?;
    pending_changes::revoke_tokens(conn, user)?;
    ott::forget_all(conn, user)?;
    db::delete_user_sessions(conn, user, keep_session)
}

/// GoTrue's `User.ClearAllPendingTokens`: as a password change, and the pending email and phone
/// changes themselves are dropped.
pub fn clear_all_pending(conn: &Connection, user: Uuid) -> rusqlite::Result<()> {
    pending_changes::clear_all_pending(conn, user)?;
    ott::forget_all(conn, user)
}
