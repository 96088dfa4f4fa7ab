//! Users, sessions and refresh tokens in SQLite: an in-memory database by default, or a file
//! so that a demo project survives restarts. One connection behind a mutex; every refresh runs
//! in one transaction, so a revocation can be committed while the request itself fails.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde_json::Value;
use uuid::Uuid;

use crate::errors::ApiError;

const SCHEMA: &str = "
PRAGMA foreign_keys = ON;
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY, aud TEXT NOT NULL, role TEXT NOT NULL,
  email TEXT NOT NULL DEFAULT '', phone TEXT NOT NULL DEFAULT '', password_hash TEXT,
  email_confirmed_at INTEGER, phone_confirmed_at INTEGER,
  app_metadata TEXT NOT NULL, user_metadata TEXT NOT NULL, is_anonymous INTEGER NOT NULL,
  banned_until INTEGER, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
  last_sign_in_at INTEGER);
CREATE UNIQUE INDEX IF NOT EXISTS users_email ON users(email) WHERE email <> '';
CREATE UNIQUE INDEX IF NOT EXISTS users_phone ON users(phone) WHERE phone <> '';
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, refreshed_at INTEGER,
  not_after INTEGER, aal TEXT NOT NULL, amr TEXT NOT NULL,
  hmac_key BLOB, counter INTEGER NOT NULL DEFAULT 0, oauth_client_id TEXT);
CREATE TABLE IF NOT EXISTS refresh_tokens (
  id INTEGER PRIMARY KEY AUTOINCREMENT, token TEXT NOT NULL UNIQUE,
  user_id TEXT NOT NULL, session_id TEXT REFERENCES sessions(id) ON DELETE CASCADE,
  parent TEXT, revoked INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS refresh_tokens_session ON refresh_tokens(session_id);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS mfa_factors (
  id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  friendly_name TEXT NOT NULL DEFAULT '', factor_type TEXT NOT NULL, status TEXT NOT NULL,
  secret TEXT NOT NULL DEFAULT '', phone TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, last_challenged_at INTEGER);
CREATE INDEX IF NOT EXISTS mfa_factors_user ON mfa_factors(user_id);
CREATE TABLE IF NOT EXISTS mfa_challenges (
  id TEXT PRIMARY KEY, factor_id TEXT NOT NULL REFERENCES mfa_factors(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL, verified_at INTEGER, ip_address TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS mfa_webauthn_credentials (
  factor_id TEXT PRIMARY KEY REFERENCES mfa_factors(id) ON DELETE CASCADE,
  credential TEXT NOT NULL, aaguid TEXT);
CREATE UNIQUE INDEX IF NOT EXISTS mfa_webauthn_credentials_id
  ON mfa_webauthn_credentials(json_extract(credential, '$.id'));
CREATE TABLE IF NOT EXISTS mfa_webauthn_sessions (
  challenge_id TEXT PRIMARY KEY REFERENCES mfa_challenges(id) ON DELETE CASCADE,
  session_data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS mfa_session_factors (
  session_id TEXT PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
  factor_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS identities (
  id TEXT PRIMARY KEY, provider_id TEXT NOT NULL,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  identity_data TEXT NOT NULL, provider TEXT NOT NULL, email TEXT NOT NULL DEFAULT '',
  last_sign_in_at INTEGER, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
  UNIQUE (provider_id, provider));
CREATE INDEX IF NOT EXISTS identities_user ON identities(user_id);
CREATE TABLE IF NOT EXISTS flow_state (
  id TEXT PRIMARY KEY, user_id TEXT, auth_code TEXT UNIQUE,
  authentication_method TEXT NOT NULL, code_challenge TEXT, code_challenge_method TEXT,
  provider_type TEXT NOT NULL, provider_access_token TEXT NOT NULL DEFAULT '',
  provider_refresh_token TEXT NOT NULL DEFAULT '', auth_code_issued_at INTEGER, referrer TEXT,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS provider_codes (
  code TEXT PRIMARY KEY, provider TEXT NOT NULL, profile TEXT NOT NULL,
  access_token TEXT NOT NULL, refresh_token TEXT NOT NULL, created_at INTEGER NOT NULL);
";

pub struct Db {
    conn: Mutex<Connection>,
}

impl From<rusqlite::Error> for ApiError {
    fn from(error: rusqlite::Error) -> ApiError {
        ApiError::internal(format!("database error: {error}"))
    }
}

impl Db {
    pub fn open(path: Option<&Path>) -> rusqlite::Result<Db> {
        let conn = match path {
            Some(path) => {
                let conn = Connection::open(path)?;
                conn.pragma_update(None, "journal_mode", "WAL")?;
                conn.pragma_update(None, "synchronous", "NORMAL")?;
                conn
            }
            None => Connection::open_in_memory()?,
        };
        conn.execute_batch(SCHEMA)?;
        conn.execute_batch(crate::one_time_token::SCHEMA)?;
        crate::pending_changes::migrate(&conn)?;
        conn.execute_batch(crate::linking::SCHEMA)?;
        crate::user_columns::migrate(&conn)?;
        conn.execute_batch(crate::oauth_server::SCHEMA)?;
        Ok(Db {
            conn: Mutex::new(conn),
        })
    }

    /// Runs `work` on the connection; everything it does is one unit under the lock.
    pub fn run<T>(&self, work: impl FnOnce(&mut Connection) -> T) -> T {
        let mut conn = self
            .conn
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        work(&mut conn)
    }
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: Uuid,
    pub aud: String,
    pub role: String,
    pub email: String,
    pub phone: String,
    pub password_hash: Option<String>,
    pub email_confirmed_at: Option<i64>,
    pub phone_confirmed_at: Option<i64>,
    pub app_metadata: Value,
    pub user_metadata: Value,
    pub is_anonymous: bool,
    pub banned_until: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_sign_in_at: Option<i64>,
    /// GoTrue's `invited_at` (see `user_columns`).
    pub invited_at: Option<i64>,
    /// Set once the user was soft-deleted by the admin API.
    pub deleted_at: Option<i64>,
    /// The user's MFA factors, loaded with the user as GoTrue loads them (eagerly).
    pub factors: Vec<crate::mfa::Factor>,
    /// External (provider) identities, oldest first; filled by the lookups below.
    pub identities: Vec<crate::identity::Identity>,
    /// An email or phone change waiting for its confirmation, and the reauthentication nonce.
    pub pending: crate::pending_changes::PendingChanges,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub id: Uuid,
    pub user_id: Uuid,
    pub created_at: i64,
    pub updated_at: i64,
    pub refreshed_at: Option<i64>,
    pub not_after: Option<i64>,
    pub aal: String,
    pub amr: Value,
    /// Set for sessions issuing v2 refresh tokens.
    pub hmac_key: Option<Vec<u8>>,
    pub counter: i64,
    pub oauth_client_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct RefreshTokenRow {
    pub id: i64,
    pub token: String,
    pub user_id: Uuid,
    pub session_id: Option<Uuid>,
    pub parent: Option<String>,
    pub revoked: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

fn uuid_col(row: &Row, index: usize) -> rusqlite::Result<Uuid> {
    let text: String = row.get(index)?;
    Uuid::parse_str(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn json_col(row: &Row, index: usize) -> rusqlite::Result<Value> {
    let text: String = row.get(index)?;
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

const USER_COLUMNS: &str = "id, aud, role, email, phone, password_hash, email_confirmed_at, \
    phone_confirmed_at, app_metadata, user_metadata, is_anonymous, banned_until, created_at, \
    updated_at, last_sign_in_at, invited_at, deleted_at";

fn user_from_row(row: &Row) -> rusqlite::Result<User> {
    Ok(User {
        id: uuid_col(row, 0)?,
        aud: row.get(1)?,
        role: row.get(2)?,
        email: row.get(3)?,
        phone: row.get(4)?,
        password_hash: row.get(5)?,
        email_confirmed_at: row.get(6)?,
        phone_confirmed_at: row.get(7)?,
        app_metadata: json_col(row, 8)?,
        user_metadata: json_col(row, 9)?,
        is_anonymous: row.get(10)?,
        banned_until: row.get(11)?,
        created_at: row.get(12)?,
        updated_at: row.get(13)?,
        last_sign_in_at: row.get(14)?,
        invited_at: row.get(15)?,
        deleted_at: row.get(16)?,
        factors: Vec::new(),
        identities: Vec::new(),
        pending: Default::default(),
    })
}

/// The user with its external identities.
fn with_identities(conn: &Connection, user: Option<User>) -> rusqlite::Result<Option<User>> {
    let Some(mut user) = user else {
        return Ok(None);
    };
    user.identities = crate::identity::for_user(conn, user.id)?;
    user.pending = crate::pending_changes::load(conn, user.id)?;
    Ok(Some(user))
}

const SESSION_COLUMNS: &str = "id, user_id, created_at, updated_at, refreshed_at, not_after, aal, \
    amr, hmac_key, counter, oauth_client_id";

fn session_from_row(row: &Row) -> rusqlite::Result<Session> {
    Ok(Session {
        id: uuid_col(row, 0)?,
        user_id: uuid_col(row, 1)?,
        created_at: row.get(2)?,
        updated_at: row.get(3)?,
        refreshed_at: row.get(4)?,
        not_after: row.get(5)?,
        aal: row.get(6)?,
        amr: json_col(row, 7)?,
        hmac_key: row.get(8)?,
        counter: row.get(9)?,
        oauth_client_id: row.get(10)?,
    })
}

const TOKEN_COLUMNS: &str =
    "id, token, user_id, session_id, parent, revoked, created_at, updated_at";

fn token_from_row(row: &Row) -> rusqlite::Result<RefreshTokenRow> {
    let session: Option<String> = row.get(3)?;
    Ok(RefreshTokenRow {
        id: row.get(0)?,
        token: row.get(1)?,
        user_id: uuid_col(row, 2)?,
        session_id: session.and_then(|s| Uuid::parse_str(&s).ok()),
        parent: row.get(4)?,
        revoked: row.get(5)?,
        created_at: row.get(6)?,
        updated_at: row.get(7)?,
    })
}

pub fn insert_user(conn: &Connection, user: &User) -> rusqlite::Result<()> {
    conn.execute(
        &format!("INSERT INTO users ({USER_COLUMNS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17)"),
        params![
            user.id.to_string(),
            user.aud,
            user.role,
            user.email,
            user.phone,
            user.password_hash,
            user.email_confirmed_at,
            user.phone_confirmed_at,
            user.app_metadata.to_string(),
            user.user_metadata.to_string(),
            user.is_anonymous,
            user.banned_until,
            user.created_at,
            user.updated_at,
            user.last_sign_in_at,
            user.invited_at,
            user.deleted_at,
        ],
    )?;
    Ok(())
}

pub fn user_by_id(conn: &Connection, id: Uuid) -> rusqlite::Result<Option<User>> {
    let user = conn
        .query_row(
            &format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"),
            [id.to_string()],
            user_from_row,
        )
        .optional()?;
    with_identities(conn, user)?
        .map(|user| crate::mfa::with_factors(conn, user))
        .transpose()
}

pub fn user_by_email(conn: &Connection, email: &str) -> rusqlite::Result<Option<User>> {
    let user = conn
        .query_row(
            &format!("SELECT {USER_COLUMNS} FROM users WHERE email = ?1 AND email <> ''"),
            [email],
            user_from_row,
        )
        .optional()?;
    with_identities(conn, user)?
        .map(|user| crate::mfa::with_factors(conn, user))
        .transpose()
}

pub fn user_by_phone(conn: &Connection, phone: &str) -> rusqlite::Result<Option<User>> {
    let user = conn
        .query_row(
            &format!("SELECT {USER_COLUMNS} FROM users WHERE phone = ?1 AND phone <> ''"),
            [phone],
            user_from_row,
        )
        .optional()?;
    with_identities(conn, user)?
        .map(|user| crate::mfa::with_factors(conn, user))
        .transpose()
}

pub fn all_users(conn: &Connection) -> rusqlite::Result<Vec<User>> {
    let mut statement = conn.prepare(&format!(
        "SELECT {USER_COLUMNS} FROM users ORDER BY created_at"
    ))?;
    let rows = statement.query_map([], user_from_row)?;
    let users = rows.collect::<rusqlite::Result<Vec<User>>>()?;
    users
        .into_iter()
        .map(|mut user| {
            user.identities = crate::identity::for_user(conn, user.id)?;
            user.pending = crate::pending_changes::load(conn, user.id)?;
            crate::mfa::with_factors(conn, user)
        })
        .collect()
}

pub fn set_banned_until(
    conn: &Connection,
    user: Uuid,
    until: Option<i64>,
    now: i64,
) -> rusqlite::Result<bool> {
    let changed = conn.execute(
        "UPDATE users SET banned_until = ?2, updated_at = ?3 WHERE id = ?1",
        params![user.to_string(), until, now],
    )?;
    Ok(changed == 1)
}

pub fn update_user_metadata(
    conn: &Connection,
    user: Uuid,
    metadata: &Value,
    now: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET user_metadata = ?2, updated_at = ?3 WHERE id = ?1",
        params![user.to_string(), metadata.to_string(), now],
    )?;
    Ok(())
}

pub fn update_password(
    conn: &Connection,
    user: Uuid,
    password_hash: &str,
    now: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET password_hash = ?2, updated_at = ?3 WHERE id = ?1",
        params![user.to_string(), password_hash, now],
    )?;
    Ok(())
}

pub fn record_sign_in(conn: &Connection, user: Uuid, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET last_sign_in_at = ?2, updated_at = ?2 WHERE id = ?1",
        params![user.to_string(), now],
    )?;
    Ok(())
}

pub fn insert_session(conn: &Connection, session: &Session) -> rusqlite::Result<()> {
    conn.execute(
        &format!(
            "INSERT INTO sessions ({SESSION_COLUMNS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)"
        ),
        params![
            session.id.to_string(),
            session.user_id.to_string(),
            session.created_at,
            session.updated_at,
            session.refreshed_at,
            session.not_after,
            session.aal,
            session.amr.to_string(),
            session.hmac_key,
            session.counter,
            session.oauth_client_id,
        ],
    )?;
    Ok(())
}

pub fn session_by_id(conn: &Connection, id: Uuid) -> rusqlite::Result<Option<Session>> {
    conn.query_row(
        &format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE id = ?1"),
        [id.to_string()],
        session_from_row,
    )
    .optional()
}

pub fn sessions(conn: &Connection, user: Option<Uuid>) -> rusqlite::Result<Vec<Session>> {
    let mut statement = conn.prepare(&format!(
        "SELECT {SESSION_COLUMNS} FROM sessions WHERE ?1 IS NULL OR user_id = ?1 ORDER BY created_at"
    ))?;
    let rows = statement.query_map([user.map(|u| u.to_string())], session_from_row)?;
    rows.collect()
}

pub fn mark_session_refreshed(
    conn: &Connection,
    id: Uuid,
    counter: i64,
    now: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE sessions SET refreshed_at = ?2, updated_at = ?2, counter = ?3 WHERE id = ?1",
        params![id.to_string(), now, counter],
    )?;
    Ok(())
}

/// Gives a session its v2 refresh-token key and counter (the legacy → v2 upgrade).
pub fn set_refresh_token_key(
    conn: &Connection,
    id: Uuid,
    key: &[u8],
    counter: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE sessions SET hmac_key = ?2, counter = ?3 WHERE id = ?1",
        params![id.to_string(), key, counter],
    )?;
    Ok(())
}

/// Confirms the user's email (or phone) now.
pub fn confirm_user(conn: &Connection, id: Uuid, email: bool, now: i64) -> rusqlite::Result<()> {
    let column = if email {
        "email_confirmed_at"
    } else {
        "phone_confirmed_at"
    };
    conn.execute(
        &format!("UPDATE users SET {column} = ?2, updated_at = ?2 WHERE id = ?1"),
        params![id.to_string(), now],
    )?;
    Ok(())
}

/// Ends a session at `not_after` (GoTrue sets it for SSO sessions).
pub fn set_session_not_after(conn: &Connection, id: Uuid, not_after: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE sessions SET not_after = ?2 WHERE id = ?1",
        params![id.to_string(), not_after],
    )?;
    Ok(())
}

pub fn delete_session(conn: &Connection, id: Uuid) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM sessions WHERE id = ?1", [id.to_string()])?;
    Ok(())
}

/// Deletes the user's sessions, all of them or all but `keep`.
pub fn delete_user_sessions(
    conn: &Connection,
    user: Uuid,
    keep: Option<Uuid>,
) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM sessions WHERE user_id = ?1 AND (?2 IS NULL OR id <> ?2)",
        params![user.to_string(), keep.map(|k| k.to_string())],
    )?;
    Ok(())
}

pub fn insert_refresh_token(
    conn: &Connection,
    token: &str,
    user: Uuid,
    session: Uuid,
    parent: Option<&str>,
    now: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO refresh_tokens (token, user_id, session_id, parent, revoked, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, 0, ?5, ?5)",
        params![token, user.to_string(), session.to_string(), parent, now],
    )?;
    Ok(())
}

pub fn refresh_token(conn: &Connection, token: &str) -> rusqlite::Result<Option<RefreshTokenRow>> {
    conn.query_row(
        &format!("SELECT {TOKEN_COLUMNS} FROM refresh_tokens WHERE token = ?1"),
        [token],
        token_from_row,
    )
    .optional()
}

/// The session's newest token that is not revoked: the head of its chain.
pub fn active_refresh_token(
    conn: &Connection,
    session: Uuid,
) -> rusqlite::Result<Option<RefreshTokenRow>> {
    conn.query_row(
        &format!(
            "SELECT {TOKEN_COLUMNS} FROM refresh_tokens WHERE session_id = ?1 AND revoked = 0 \
             ORDER BY id DESC LIMIT 1"
        ),
        [session.to_string()],
        token_from_row,
    )
    .optional()
}

pub fn session_refresh_tokens(
    conn: &Connection,
    session: Uuid,
) -> rusqlite::Result<Vec<RefreshTokenRow>> {
    let mut statement = conn.prepare(&format!(
        "SELECT {TOKEN_COLUMNS} FROM refresh_tokens WHERE session_id = ?1 ORDER BY id"
    ))?;
    let rows = statement.query_map([session.to_string()], token_from_row)?;
    rows.collect()
}

pub fn revoke_refresh_token(conn: &Connection, id: i64, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE refresh_tokens SET revoked = 1, updated_at = ?2 WHERE id = ?1",
        params![id, now],
    )?;
    Ok(())
}

/// GoTrue's `RevokeTokenFamily`: every live token of the session is revoked (and touched).
pub fn revoke_token_family(conn: &Connection, session: Uuid, now: i64) -> rusqlite::Result<usize> {
    conn.execute(
        "UPDATE refresh_tokens SET revoked = 1, updated_at = ?2 WHERE session_id = ?1 AND revoked = 0",
        params![session.to_string(), now],
    )
}

/// Moves a session's times and its refresh tokens' times `micros` into the past.
pub fn age_session(conn: &Connection, session: Uuid, micros: i64) -> rusqlite::Result<bool> {
    let id = session.to_string();
    let found = conn.execute(
        "UPDATE sessions SET created_at = created_at - ?2, updated_at = updated_at - ?2, \
         refreshed_at = refreshed_at - ?2, not_after = not_after - ?2 WHERE id = ?1",
        params![id, micros],
    )?;
    conn.execute(
        "UPDATE refresh_tokens SET created_at = created_at - ?2, updated_at = updated_at - ?2 \
         WHERE session_id = ?1",
        params![id, micros],
    )?;
    Ok(found > 0)
}

pub fn delete_refresh_token(conn: &Connection, id: i64) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM refresh_tokens WHERE id = ?1", [id])?;
    Ok(())
}

pub fn setting(conn: &Connection, name: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    conn.query_row(
        "SELECT value FROM settings WHERE name = ?1",
        [name],
        |row| row.get(0),
    )
    .optional()
}

pub fn put_setting(conn: &Connection, name: &str, value: &[u8]) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO settings (name, value) VALUES (?1, ?2) \
         ON CONFLICT(name) DO UPDATE SET value = excluded.value",
        params![name, value],
    )?;
    Ok(())
}

/// Structural rules that must hold after any request, good or bad. Returns the broken ones.
pub fn invariant_violations(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let checks = [
        (
            "a refresh token belongs to another user than its session",
            "SELECT COUNT(*) FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id \
             WHERE s.user_id <> t.user_id",
        ),
        (
            "a refresh token points at a missing session",
            "SELECT COUNT(*) FROM refresh_tokens t WHERE session_id IS NOT NULL AND \
             NOT EXISTS (SELECT 1 FROM sessions s WHERE s.id = t.session_id)",
        ),
        (
            "a refresh token's parent is not a token of the same session",
            "SELECT COUNT(*) FROM refresh_tokens t WHERE parent IS NOT NULL AND NOT EXISTS \
             (SELECT 1 FROM refresh_tokens p WHERE p.token = t.parent AND p.session_id IS t.session_id)",
        ),
        (
            "a session belongs to a missing user",
            "SELECT COUNT(*) FROM sessions s WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = s.user_id)",
        ),
        ("a session counter is negative", "SELECT COUNT(*) FROM sessions WHERE counter < 0"),
    ];
    let mut broken = Vec::new();
    for (rule, sql) in checks {
        let count: i64 = conn.query_row(sql, [], |row| row.get(0))?;
        if count > 0 {
            broken.push(format!("{rule} ({count})"));
        }
    }
    Ok(broken)
}

pub fn update_app_metadata(
    conn: &Connection,
    user: Uuid,
    metadata: &Value,
    now: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET app_metadata = ?2, updated_at = ?3 WHERE id = ?1",
        params![user.to_string(), metadata.to_string(), now],
    )?;
    Ok(())
}

/// Removes the user's password (GoTrue's `RemoveUnconfirmedIdentities`).
pub fn clear_password(conn: &Connection, user: Uuid, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE users SET password_hash = NULL, updated_at = ?2 WHERE id = ?1",
        params![user.to_string(), now],
    )?;
    Ok(())
}

/// One page of the users in `aud`, newest first (GoTrue's `FindUsersInAudience` with its
/// default sort), with how many there are in all. `filter` is a Postgres LIKE pattern inside
/// `%…%` as GoTrue builds it: matched case-sensitively against the email (`LIKE`, here a
/// GLOB of the same pattern since SQLite's LIKE ignores ASCII case) and case-insensitively
/// against `user_metadata.full_name` (`ILIKE`; SQLite folds ASCII letters only).
pub fn users_page(
    conn: &Connection,
    aud: &str,
    filter: &str,
    limit: u64,
    offset: u64,
) -> rusqlite::Result<(Vec<User>, u64)> {
    let pattern = format!("%{filter}%");
    let glob = like_to_glob(&pattern);
    let condition = "aud = ?1 AND (?2 = '' OR email GLOB ?4 OR \
         COALESCE(json_extract(user_metadata, '$.full_name'), '') LIKE ?3 ESCAPE '\\')";
    let total: i64 = conn.query_row(
        &format!("SELECT COUNT(*) FROM users WHERE {condition}"),
        params![aud, filter, pattern, glob],
        |row| row.get(0),
    )?;
    let mut statement = conn.prepare(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE {condition} \
         ORDER BY created_at DESC, rowid DESC LIMIT ?5 OFFSET ?6"
    ))?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let offset = i64::try_from(offset).unwrap_or(i64::MAX);
    let rows = statement.query_map(
        params![aud, filter, pattern, glob, limit, offset],
        user_from_row,
    )?;
    let users = rows.collect::<rusqlite::Result<Vec<User>>>()?;
    let users = users
        .into_iter()
        .map(|mut user| {
            user.identities = crate::identity::for_user(conn, user.id)?;
            user.pending = crate::pending_changes::load(conn, user.id)?;
            crate::mfa::with_factors(conn, user)
        })
        .collect::<rusqlite::Result<Vec<User>>>()?;
    Ok((users, total.max(0) as u64))
}

/// A Postgres LIKE pattern (`%`, `_`, `\\` escaping the next character) as an SQLite GLOB
/// pattern, which matches case-sensitively as Postgres' LIKE does.
fn like_to_glob(pattern: &str) -> String {
    let mut glob = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        let literal = match c {
            '%' => {
                glob.push('*');
                continue;
            }
            '_' => {
                glob.push('?');
                continue;
            }
            '\\' => chars.next().unwrap_or('\\'),
            c => c,
        };
        match literal {
            '*' | '?' | '[' => {
                glob.push('[');
                glob.push(literal);
                glob.push(']');
            }
            c => glob.push(c),
        }
    }
    glob
}

/// Deletes the user and, by cascade, its sessions, tokens, factors and identities.
pub fn delete_user(conn: &Connection, id: Uuid) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM users WHERE id = ?1", [id.to_string()])?;
    Ok(())
}

/// Sets one of the user's plain columns (`role`, `email`, `phone`, `is_anonymous`); the
/// column name comes from this crate, never from a request.
pub fn set_user_column(
    conn: &Connection,
    id: Uuid,
    column: &'static str,
    value: &dyn rusqlite::ToSql,
    now: i64,
) -> rusqlite::Result<()> {
    debug_assert!(matches!(
        column,
        "role" | "email" | "phone" | "is_anonymous"
    ));
    conn.execute(
        &format!("UPDATE users SET {column} = ?2, updated_at = ?3 WHERE id = ?1"),
        params![id.to_string(), value, now],
    )?;
    Ok(())
}
