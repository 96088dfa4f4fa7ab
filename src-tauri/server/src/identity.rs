//! External identities (`github`, `google`, …): GoTrue's `identities` rows for the providers a
//! user signed in with. The `email` identity of an email user is not stored; `state::user_json`
//! derives it, as before identities were kept.

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::clock::{from_micros, rfc3339};

#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub id: Uuid,
    /// The provider's user id (`sub`), GoTrue's `provider_id`.
    pub provider_id: String,
    pub user_id: Uuid,
    pub identity_data: Value,
    pub provider: String,
    /// Lowercased, from `identity_data.email`.
    pub email: String,
    pub last_sign_in_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Identity {
    /// GoTrue's `NewIdentity`: the provider id is `identity_data.sub`; an email is lowercased
    /// in the data and kept beside it.
    pub fn new(user: Uuid, provider: &str, mut identity_data: Value, now: i64) -> Identity {
        let email = identity_data["email"]
            .as_str()
            .map(str::to_lowercase)
            .unwrap_or_default();
        if !email.is_empty() {
            identity_data["email"] = json!(email);
        }
        Identity {
            id: Uuid::new_v4(),
            provider_id: identity_data["sub"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            user_id: user,
            identity_data,
            provider: provider.to_string(),
            email,
            last_sign_in_at: Some(now),
            created_at: now,
            updated_at: now,
        }
    }

    /// As GoTrue writes an identity: `identity_id` is the row, `id` the provider's user id.
    pub fn to_json(&self) -> Value {
        let time = |t: i64| rfc3339(from_micros(t));
        let mut body = json!({
            "identity_id": self.id,
            "id": self.provider_id,
            "user_id": self.user_id,
            "identity_data": self.identity_data,
            "provider": self.provider,
            "last_sign_in_at": self.last_sign_in_at.map(time),
            "created_at": time(self.created_at),
            "updated_at": time(self.updated_at),
        });
        if !self.email.is_empty() {
            body["email"] = json!(self.email);
        }
        body
    }
}

const COLUMNS: &str = "id, provider_id, user_id, identity_data, provider, email, last_sign_in_at, \
    created_at, updated_at";

fn from_row(row: &Row) -> rusqlite::Result<Identity> {
    let uuid = |index: usize| -> rusqlite::Result<Uuid> {
        let text: String = row.get(index)?;
        Uuid::parse_str(&text).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(
                index,
                rusqlite::types::Type::Text,
                Box::new(e),
            )
        })
    };
    let data: String = row.get(3)?;
    Ok(Identity {
        id: uuid(0)?,
        provider_id: row.get(1)?,
        user_id: uuid(2)?,
        identity_data: serde_json::from_str(&data).unwrap_or(Value::Null),
        provider: row.get(4)?,
        email: row.get(5)?,
        last_sign_in_at: row.get(6)?,
        created_at: row.get(7)?,
        updated_at: row.get(8)?,
    })
}

pub fn insert(conn: &Connection, identity: &Identity) -> rusqlite::Result<()> {
    conn.execute(
        &format!("INSERT INTO identities ({COLUMNS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)"),
        params![
            identity.id.to_string(),
            identity.provider_id,
            identity.user_id.to_string(),
            identity.identity_data.to_string(),
            identity.provider,
            identity.email,
            identity.last_sign_in_at,
            identity.created_at,
            identity.updated_at,
        ],
    )?;
    Ok(())
}

/// GoTrue's `FindIdentityByIdAndProvider`.
pub fn by_provider_id(
    conn: &Connection,
    provider_id: &str,
    provider: &str,
) -> rusqlite::Result<Option<Identity>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM identities WHERE provider_id = ?1 AND provider = ?2"),
        params![provider_id, provider],
        from_row,
    )
    .optional()
}

/// The user's identities, oldest first.
pub fn for_user(conn: &Connection, user: Uuid) -> rusqlite::Result<Vec<Identity>> {
    let mut statement = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM identities WHERE user_id = ?1 ORDER BY created_at, rowid"
    ))?;
    let rows = statement.query_map([user.to_string()], from_row)?;
    rows.collect()
}

/// Identities whose email is one of `emails` (lowercased), as GoTrue's linking looks them up.
pub fn with_email(conn: &Connection, email: &str) -> rusqlite::Result<Vec<Identity>> {
    let mut statement = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM identities WHERE email = ?1 AND email <> '' ORDER BY created_at"
    ))?;
    let rows = statement.query_map([email], from_row)?;
    rows.collect()
}

/// A sign-in with an existing identity: the provider's latest data.
pub fn update_data(conn: &Connection, id: Uuid, data: &Value, now: i64) -> rusqlite::Result<()> {
    let email = data["email"]
        .as_str()
        .map(str::to_lowercase)
        .unwrap_or_default();
    conn.execute(
        "UPDATE identities SET identity_data = ?2, email = ?3, last_sign_in_at = ?4, updated_at = ?4 \
         WHERE id = ?1",
        params![id.to_string(), data.to_string(), email, now],
    )?;
    Ok(())
}

/// Removes the user's identities except `keep`.
pub fn delete_others(conn: &Connection, user: Uuid, keep: Uuid) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM identities WHERE user_id = ?1 AND id <> ?2",
        params![user.to_string(), keep.to_string()],
    )?;
    Ok(())
}

/// GoTrue's `Identity.UpdateIdentityData`: `updates` merged into the identity's data (the
/// last sign-in stays).
pub fn merge_data(
    conn: &Connection,
    identity: &Identity,
    updates: &Value,
    now: i64,
) -> rusqlite::Result<()> {
    let mut data = identity
        .identity_data
        .as_object()
        .cloned()
        .unwrap_or_default();
    if let Some(updates) = updates.as_object() {
        for (key, value) in updates {
            data.insert(key.clone(), value.clone());
        }
    }
    conn.execute(
        "UPDATE identities SET identity_data = ?2, updated_at = ?3 WHERE id = ?1",
        params![
            identity.id.to_string(),
            Value::Object(data).to_string(),
            now
        ],
    )?;
    Ok(())
}
