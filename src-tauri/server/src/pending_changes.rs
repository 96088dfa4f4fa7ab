//! What a user has asked to change and not yet confirmed, in GoTrue's own `users` columns: a
//! new email (`email_change`, its two token hashes, when it was sent, how many of the two
//! confirmations arrived), a new phone (`phone_change`, its token hash, when it was sent) and
//! the reauthentication nonce (`reauthentication_token`, `reauthentication_sent_at`). As
//! everywhere in this server, only hashes of codes are kept (GoTrue's `GenerateTokenHash`).
//!
//! The columns are added to `users` by [`migrate`] (idempotent, so an older data file gains
//! them) and read with every user lookup into [`PendingChanges`]. Everything that writes them
//! is here: `/user`, `/verify`, `/resend`, `/reauthenticate` and `/admin/generate_link` go
//! through these helpers.

use rusqlite::{params, Connection, OptionalExtension, Row};
use uuid::Uuid;

use crate::db::{self, User};

/// GoTrue's `email_change_confirm_status` values.
pub const ZERO_CONFIRMATION: i64 = 0;
pub const SINGLE_CONFIRMATION: i64 = 1;

/// The added columns, in the order [`COLUMNS`] selects them.
const ADDED: [(&str, &str); 10] = [
    ("email_change", "TEXT NOT NULL DEFAULT ''"),
    ("email_change_token_current", "TEXT NOT NULL DEFAULT ''"),
    ("email_change_token_new", "TEXT NOT NULL DEFAULT ''"),
    ("email_change_sent_at", "INTEGER"),
    ("email_change_confirm_status", "INTEGER NOT NULL DEFAULT 0"),
    ("phone_change", "TEXT NOT NULL DEFAULT ''"),
    ("phone_change_token", "TEXT NOT NULL DEFAULT ''"),
    ("phone_change_sent_at", "INTEGER"),
    ("reauthentication_token", "TEXT NOT NULL DEFAULT ''"),
    ("reauthentication_sent_at", "INTEGER"),
];

const COLUMNS: &str = "email_change, email_change_token_current, email_change_token_new, \
    email_change_sent_at, email_change_confirm_status, phone_change, phone_change_token, \
    phone_change_sent_at, reauthentication_token, reauthentication_sent_at";

/// Adds the columns `users` lacks (SQLite has no `ADD COLUMN IF NOT EXISTS`).
pub fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let mut statement = conn.prepare("SELECT name FROM pragma_table_info('users')")?;
    let existing = statement
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    for (name, kind) in ADDED {
        if !existing.iter().any(|column| column == name) {
            conn.execute_batch(&format!("ALTER TABLE users ADD COLUMN {name} {kind}"))?;
        }
    }
    Ok(())
}

/// A user's pending changes; empty strings and `None` when nothing is pending. Token fields
/// are hashes (empty once used), possibly `pkce_`-prefixed as GoTrue stores them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PendingChanges {
    pub email_change: String,
    pub email_change_token_current: String,
    pub email_change_token_new: String,
    pub email_change_sent_at: Option<i64>,
    pub email_change_confirm_status: i64,
    pub phone_change: String,
    pub phone_change_token: String,
    pub phone_change_sent_at: Option<i64>,
    pub reauthentication_token: String,
    pub reauthentication_sent_at: Option<i64>,
}

fn from_row(row: &Row) -> rusqlite::Result<PendingChanges> {
    Ok(PendingChanges {
        email_change: row.get(0)?,
        email_change_token_current: row.get(1)?,
        email_change_token_new: row.get(2)?,
        email_change_sent_at: row.get(3)?,
        email_change_confirm_status: row.get(4)?,
        phone_change: row.get(5)?,
        phone_change_token: row.get(6)?,
        phone_change_sent_at: row.get(7)?,
        reauthentication_token: row.get(8)?,
        reauthentication_sent_at: row.get(9)?,
    })
}

/// The user's pending changes (all empty for an unknown id).
pub fn load(conn: &Connection, user: Uuid) -> rusqlite::Result<PendingChanges> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM users WHERE id = ?1"),
            [user.to_string()],
            from_row,
        )
        .optional()?
        .unwrap_or_default())
}

fn user_where(conn: &Connection, condition: &str, args: &[&str]) -> rusqlite::Result<Option<User>> {
    let id: Option<String> = conn
        .query_row(
            &format!("SELECT id FROM users WHERE {condition}"),
            rusqlite::params_from_iter(args),
            |row| row.get(0),
        )
        .optional()?;
    match id.and_then(|id| Uuid::parse_str(&id).ok()) {
        Some(id) => db::user_by_id(conn, id),
        None => Ok(None),
    }
}

/// GoTrue's `FindUserByEmailChangeToken`: the user whose current or new email-change token is
/// this hash (or its `pkce_` form).
pub fn user_by_email_change_token(conn: &Connection, hash: &str) -> rusqlite::Result<Option<User>> {
    if hash.is_empty() {
        return Ok(None);
    }
    let pkce = format!("pkce_{hash}");
    user_where(
        conn,
        "email_change_token_current IN (?1, ?2) OR email_change_token_new IN (?1, ?2)",
        &[hash, &pkce],
    )
}

/// GoTrue's `FindUserForEmailChange`: with secure change on, the user whose current email and
/// current-address token match; otherwise (or failing that) the one whose new email and
/// new-address token match.
pub fn user_for_email_change(
    conn: &Connection,
    email: &str,
    hash: &str,
    secure: bool,
) -> rusqlite::Result<Option<User>> {
    let pkce = format!("pkce_{hash}");
    if secure {
        if let Some(user) = user_where(
            conn,
            "email = ?1 AND email <> '' AND email_change_token_current IN (?2, ?3)",
            &[email, hash, &pkce],
        )? {
            return Ok(Some(user));
        }
    }
    user_where(
        conn,
        "email_change = ?1 AND email_change <> '' AND email_change_token_new IN (?2, ?3)",
        &[email, hash, &pkce],
    )
}

/// GoTrue's `FindUserByPhoneChangeAndAudience`.
pub fn user_by_phone_change(conn: &Connection, phone: &str) -> rusqlite::Result<Option<User>> {
    user_where(conn, "phone_change = ?1 AND phone_change <> ''", &[phone])
}

/// GoTrue's `sendEmailChange` bookkeeping: the new address, both token hashes (the current
/// one empty when only the new address is asked), nothing confirmed yet, sent now.
pub fn start_email_change(
    conn: &Connection,
    user: Uuid,
    new_email: &str,
    token_current: &str,
    token_new: &str,
    now: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET email_change = ?2, email_change_token_current = ?3, \
         email_change_token_new = ?4, email_change_sent_at = ?5, \
         email_change_confirm_status = 0 WHERE id = ?1",
        params![user.to_string(), new_email, token_current, token_new, now],
    )?;
    Ok(())
}

/// The pending address alone, for a change that confirms itself at once (`PUT /user` under
/// autoconfirm): GoTrue only sets `email_change` / `phone_change` in memory then, so no token
/// is issued and no sent time is stamped (a later change is not held back by the resend
/// limit).
pub fn set_change_address(
    conn: &Connection,
    user: Uuid,
    email: Option<&str>,
    phone: Option<&str>,
) -> rusqlite::Result<()> {
    if let Some(email) = email {
        conn.execute(
            "UPDATE users SET email_change = ?2 WHERE id = ?1",
            params![user.to_string(), email],
        )?;
    }
    if let Some(phone) = phone {
        conn.execute(
            "UPDATE users SET phone_change = ?2 WHERE id = ?1",
            params![user.to_string(), phone],
        )?;
    }
    Ok(())
}

/// Which of the two email-change confirmations arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailChangeSide {
    Current,
    New,
}

/// The first of two confirmations: that side's token is used up and the status is 1.
pub fn confirm_email_change_side(
    conn: &Connection,
    user: Uuid,
    side: Option<EmailChangeSide>,
) -> rusqlite::Result<()> {
    let clear = match side {
        Some(EmailChangeSide::Current) => ", email_change_token_current = ''",
        Some(EmailChangeSide::New) => ", email_change_token_new = ''",
        None => "",
    };
    conn.execute(
        &format!("UPDATE users SET email_change_confirm_status = ?2{clear} WHERE id = ?1"),
        params![user.to_string(), SINGLE_CONFIRMATION],
    )?;
    Ok(())
}

/// GoTrue's `ConfirmEmailChange`: the new address becomes the email and the pending change
/// is gone (the sent time stays, as GoTrue keeps it). Confirming the email itself and
/// updating the identity are the caller's part.
pub fn apply_email_change(conn: &Connection, user: Uuid, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET email = email_change, email_change = '', \
         email_change_token_current = '', email_change_token_new = '', \
         email_change_confirm_status = 0, updated_at = ?2 WHERE id = ?1",
        params![user.to_string(), now],
    )?;
    Ok(())
}

/// GoTrue's `sendPhoneConfirmation` for `phone_change`.
pub fn start_phone_change(
    conn: &Connection,
    user: Uuid,
    new_phone: &str,
    token: &str,
    now: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET phone_change = ?2, phone_change_token = ?3, phone_change_sent_at = ?4 \
         WHERE id = ?1",
        params![user.to_string(), new_phone, token, now],
    )?;
    Ok(())
}

/// GoTrue's `ConfirmPhoneChange`: the new number becomes the phone, confirmed now.
pub fn apply_phone_change(conn: &Connection, user: Uuid, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET phone = phone_change, phone_change = '', phone_change_token = '', \
         phone_confirmed_at = ?2, updated_at = ?2 WHERE id = ?1",
        params![user.to_string(), now],
    )?;
    Ok(())
}

/// Both email-change tokens are used up; the pending address and its status stay.
pub fn forget_email_change_tokens(conn: &Connection, user: Uuid) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET email_change_token_current = '', email_change_token_new = '' \
         WHERE id = ?1",
        [user.to_string()],
    )?;
    Ok(())
}

/// GoTrue's `User.UpdatePassword` column part: every token and its sent time is blanked; the
/// pending addresses (`email_change`, `phone_change`) and the confirmation status stay.
pub fn revoke_tokens(conn: &Connection, user: Uuid) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET email_change_token_current = '', email_change_token_new = '', \
         email_change_sent_at = NULL, phone_change_token = '', phone_change_sent_at = NULL, \
         reauthentication_token = '', reauthentication_sent_at = NULL WHERE id = ?1",
        [user.to_string()],
    )?;
    Ok(())
}

/// GoTrue's `User.ClearAllPendingTokens` column part: [`revoke_tokens`] and the pending
/// changes themselves.
pub fn clear_all_pending(conn: &Connection, user: Uuid) -> rusqlite::Result<()> {
    revoke_tokens(conn, user)?;
    conn.execute(
        "UPDATE users SET email_change = '', email_change_confirm_status = 0, phone_change = '' \
         WHERE id = ?1",
        [user.to_string()],
    )?;
    Ok(())
}

/// A new reauthentication nonce (its hash), sent now.
pub fn set_reauthentication(
    conn: &Connection,
    user: Uuid,
    token: &str,
    now: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET reauthentication_token = ?2, reauthentication_sent_at = ?3 WHERE id = ?1",
        params![user.to_string(), token, now],
    )?;
    Ok(())
}

/// GoTrue's `ConfirmReauthentication`: the nonce whose hash is `token` is used up. The update
/// only happens while that hash is still stored, so of two requests racing with the same
/// nonce exactly one gets `true`.
pub fn use_reauthentication(conn: &Connection, user: Uuid, token: &str) -> rusqlite::Result<bool> {
    let changed = conn.execute(
        "UPDATE users SET reauthentication_token = '' \
         WHERE id = ?1 AND reauthentication_token = ?2 AND reauthentication_token <> ''",
        params![user.to_string(), token],
    )?;
    Ok(changed == 1)
}

/// What GoTrue's `UpdateAppMetaDataProviders` and the end of `emailChangeVerify` /
/// `smsVerify` do for a confirmed change: the user is no longer anonymous, and `provider` joins
/// `app_metadata.providers` (becoming `provider` when there was none).
pub fn gain_provider(
    conn: &Connection,
    user: &User,
    provider: &str,
    now: i64,
) -> rusqlite::Result<()> {
    let mut metadata = user.app_metadata.as_object().cloned().unwrap_or_default();
    let mut providers: Vec<serde_json::Value> = metadata
        .get("providers")
        .and_then(|p| p.as_array())
        .cloned()
        .unwrap_or_else(|| {
            // A user from before providers were kept has the derived email identity.
            if user.email.is_empty() || user.is_anonymous {
                Vec::new()
            } else {
                vec!["email".into()]
            }
        });
    if !providers.iter().any(|p| p == provider) {
        providers.push(provider.into());
    }
    metadata.insert("providers".into(), providers.into());
    if !metadata.contains_key("provider") {
        metadata.insert("provider".into(), provider.into());
    }
    conn.execute(
        "UPDATE users SET app_metadata = ?2, is_anonymous = 0, updated_at = ?3 WHERE id = ?1",
        params![
            user.id.to_string(),
            serde_json::Value::Object(metadata).to_string(),
            now
        ],
    )?;
    Ok(())
}
