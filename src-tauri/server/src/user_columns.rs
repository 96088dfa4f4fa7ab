//! Columns the admin API adds to `users`: GoTrue's `invited_at` (set by `/invite` and invite
//! links) and `deleted_at` (soft delete). The pending email change has its own columns, in
//! `pending_changes`.
//!
//! `migrate` adds whichever column a data file made by an older build lacks; `User` reads
//! them (see `db::USER_COLUMNS`).

use rusqlite::{params, Connection};
use uuid::Uuid;

/// The added columns with their SQL types, in the order `db::USER_COLUMNS` reads them.
const ADDED: [(&str, &str); 2] = [("invited_at", "INTEGER"), ("deleted_at", "INTEGER")];

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

/// GoTrue's `SoftDeleteUser`: the addresses are replaced by an obfuscated form (so they can
/// be registered again), the password and pending change go, the user and app metadata are
/// emptied and `deleted_at` is set; so are the user's identities. The caller clears the one-time tokens, factors and sessions.
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
         email_change_token_current = '', email_change_token_new = '', phone_change = '', \
         phone_change_token = '', user_metadata = '{}', app_metadata = '{}', \
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
