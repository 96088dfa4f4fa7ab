//! Manual identity linking (GoTrue's `SECURITY_MANUAL_LINKING_ENABLED`): which OAuth flow was
//! started by a signed-in user to link a provider to their account (GoTrue's
//! `flow_state.linking_target_id`), and what unlinking an identity does to the user.
//!
//! The target is kept in its own table beside `flow_state`, keyed by the flow's id, so data
//! files made before linking existed need no migration.

use rusqlite::{params, Connection, OptionalExtension};
use uuid::Uuid;

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS flow_state_linking (
    flow_id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL
);
";

pub fn set_target(conn: &Connection, flow: Uuid, user: Uuid) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO flow_state_linking (flow_id, user_id) VALUES (?1, ?2)",
        params![flow.to_string(), user.to_string()],
    )?;
    Ok(())
}

/// The user the flow links to, if it is a linking flow.
pub fn target(conn: &Connection, flow: Uuid) -> rusqlite::Result<Option<Uuid>> {
    let user: Option<String> = conn
        .query_row(
            "SELECT user_id FROM flow_state_linking WHERE flow_id = ?1",
            [flow.to_string()],
            |row| row.get(0),
        )
        .optional()?;
    Ok(user.and_then(|u| Uuid::parse_str(&u).ok()))
}

pub fn forget(conn: &Connection, flow: Uuid) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM flow_state_linking WHERE flow_id = ?1",
        [flow.to_string()],
    )?;
    Ok(())
}
