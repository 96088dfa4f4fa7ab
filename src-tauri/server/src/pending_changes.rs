//! A pending email change, in GoTrue's own `users` columns: the new address (`email_change`),
//! the hashes of the links to the current and the new address (`email_change_token_current`,
//! `email_change_token_new`; empty once used), when they were sent and how many of the two
//! confirmations arrived (`email_change_confirm_status`). `/admin/generate_link` starts one
//! here; the `/verify` side of an email change (GoTrue's `emailChangeVerify`) is not part of
//! this module.
//!
//! Shaped as the "account" work's `pending_changes` (same columns, types, names and
//! `start_email_change`), which also keeps phone changes and reauthentication nonces and
//! supersedes this subset when the two meet.

use rusqlite::{params, Connection, OptionalExtension, Row};
use uuid::Uuid;

/// The added columns, in the order [`COLUMNS`] selects them.
const ADDED: [(&str, &str); 5] = [
    ("email_change", "TEXT NOT NULL DEFAULT ''"),
    ("email_change_token_current", "TEXT NOT NULL DEFAULT ''"),
    ("email_change_token_new", "TEXT NOT NULL DEFAULT ''"),
    ("email_change_sent_at", "INTEGER"),
    ("email_change_confirm_status", "INTEGER NOT NULL DEFAULT 0"),
];

const COLUMNS: &str = "email_change, email_change_token_current, email_change_token_new, \
    email_change_sent_at, email_change_confirm_status";

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

/// A user's pending email change; empty strings and `None` when nothing is pending. Token
/// fields are hashes (GoTrue's `GenerateTokenHash`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PendingChanges {
    pub email_change: String,
    pub email_change_token_current: String,
    pub email_change_token_new: String,
    pub email_change_sent_at: Option<i64>,
    pub email_change_confirm_status: i64,
}

fn from_row(row: &Row) -> rusqlite::Result<PendingChanges> {
    Ok(PendingChanges {
        email_change: row.get(0)?,
        email_change_token_current: row.get(1)?,
        email_change_token_new: row.get(2)?,
        email_change_sent_at: row.get(3)?,
        email_change_confirm_status: row.get(4)?,
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

/// Records a pending change to `new_email` with its two token hashes (either may be empty),
/// sent at `now`, with no side confirmed yet.
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
