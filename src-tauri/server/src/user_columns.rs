//! Columns added to `users` after its first schema, for the admin API and email changes:
//! GoTrue's `invited_at`, `deleted_at` (soft delete) and the pending email change
//! (`email_change`, `email_change_sent_at`, `email_change_confirm_status`). The email-change
//! token hashes themselves live in `one_time_tokens` (slots `email_change_current` and
//! `email_change_new`), as this server keeps every one-time token there rather than in
//! GoTrue's `users.*_token` columns.
//!
//! `migrate` adds whichever column a data file made by an older build lacks; `User` reads
//! them all (see `db::USER_COLUMNS`).

use rusqlite::{params, Connection};
use uuid::Uuid;

/// The added columns with their SQL types, in the order `db::USER_COLUMNS` reads them.
const ADDED: [(&str, &str); 5] = [
    ("invited_at", "INTEGER"),
    ("deleted_at", "INTEGER"),
    ("email_change", "TEXT NOT NULL DEFAULT ''"),
    ("email_change_sent_at", "INTEGER"),
    ("email_change_confirm_status", "INTEGER NOT NULL DEFAULT 0"),
];

/// Adds the columns a data file lacks (`ALTER TABLE … ADD COLUMN`, so existing users keep
/// their rows with the defaults).
pub fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let mut statement = conn.prepare("SELECT name FROM pragma_table_info('users')")?;
    let present = statement
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (name, kind) in ADDED {
        if !present.iter().any(|p| p == name) {
            conn.execute_batch(&format!("ALTER TABLE users ADD COLUMN {name} {kind};"))?;
        }
    }
    Ok(())
}

/// GoTrue's `invited_at` (set when an invite is sent or generated).
pub fn set_invited_at(conn: &Connection, user: Uuid, at: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET invited_at = ?2 WHERE id = ?1",
        params![user.to_string(), at],
    )?;
    Ok(())
}

/// Records a pending email change to `new_email`, sent at `at`, with no side confirmed yet
/// (GoTrue's `email_change`, `email_change_sent_at`, `email_change_confirm_status = 0`).
pub fn set_pending_email_change(
    conn: &Connection,
    user: Uuid,
    new_email: &str,
    at: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET email_change = ?2, email_change_sent_at = ?3, \
         email_change_confirm_status = 0 WHERE id = ?1",
        params![user.to_string(), new_email, at],
    )?;
    Ok(())
}

/// Records that one side of a secure email change was confirmed (GoTrue's
/// `email_change_confirm_status = 1`).
pub fn set_email_change_confirm_status(
    conn: &Connection,
    user: Uuid,
    status: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET email_change_confirm_status = ?2 WHERE id = ?1",
        params![user.to_string(), status],
    )?;
    Ok(())
}

/// Forgets the pending email change (after it was applied, or replaced).
pub fn clear_pending_email_change(conn: &Connection, user: Uuid) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET email_change = '', email_change_sent_at = NULL, \
         email_change_confirm_status = 0 WHERE id = ?1",
        [user.to_string()],
    )?;
    Ok(())
}

/// GoTrue's `SoftDeleteUser`: the addresses are replaced by an obfuscated form (so they can
/// be registered again), the password and pending change go, the user metadata is emptied
/// and `deleted_at` is set; so are the user's identities. The caller clears the one-time tokens, factors and sessions.
pub fn soft_delete(conn: &Connection, user: Uuid, now: i64) -> rusqlite::Result<()> {
    let obfuscated = |address: &str| -> String {
        if address.is_empty() {
            return String::new();
        }
        // GoTrue writes a SHA-256 of the user id and address; any value no one can sign up
        // with works, and this one stays unique per user and address.
        crate::hash::hex(&crate::hash::sha256(format!("{user}{address}").as_bytes()))
    };
    let (email, phone): (String, String) = conn.query_row(
        "SELECT email, phone FROM users WHERE id = ?1",
        [user.to_string()],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    conn.execute(
        "UPDATE users SET email = ?2, phone = ?3, password_hash = NULL, email_change = '', \
         email_change_sent_at = NULL, email_change_confirm_status = 0, user_metadata = '{}', \
         deleted_at = ?4, updated_at = ?4 WHERE id = ?1",
        params![
            user.to_string(),
            obfuscated(&email),
            obfuscated(&phone),
            now
        ],
    )?;
    // GoTrue's `SoftDeleteUserIdentities`: the identities' data is emptied and their provider
    // ids replaced, so the same provider account can sign up again.
    conn.execute(
        "UPDATE identities SET identity_data = '{}', email = '', \
         provider_id = 'deleted-' || id, updated_at = ?2 WHERE user_id = ?1",
        params![user.to_string(), now],
    )?;
    Ok(())
}
