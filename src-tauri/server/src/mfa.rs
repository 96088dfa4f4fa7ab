//! MFA state as GoTrue keeps it (`models/factor.go`, `models/challenge.go`, the AMR claims of
//! `models/sessions.go`): factors and their challenges in SQLite, and what a factor does to a
//! session (its `aal`, its `amr`, the factor it was raised with). The rules that use them are
//! in `routes/mfa.rs`.

use std::fmt;
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::clock::{from_micros, rfc3339};
use crate::db::{Session, User};

pub const AAL1: &str = "aal1";
pub const AAL2: &str = "aal2";

/// Factor types (`factor_type`), and the AMR methods a verified challenge of each adds.
pub const TOTP: &str = "totp";
pub const PHONE: &str = "phone";
pub const WEBAUTHN: &str = "webauthn";
const AAL2_METHODS: [&str; 3] = [TOTP, "mfa/phone", "mfa/webauthn"];

pub const VERIFIED: &str = "verified";
pub const UNVERIFIED: &str = "unverified";

/// GoTrue's `MFA_FACTOR_EXPIRY_DURATION` (default and minimum): an unverified factor that was
/// never challenged is deleted this long after its creation, at the next enrollment.
pub const FACTOR_EXPIRY: Duration = Duration::from_secs(300);

/// GoTrue raises a configured challenge expiry below this to this.
pub const MIN_CHALLENGE_EXPIRY: Duration = Duration::from_secs(300);

/// How long challenges live under `configured`, as GoTrue reads its setting.
pub fn challenge_expiry(configured: Duration) -> Duration {
    configured.max(MIN_CHALLENGE_EXPIRY)
}

#[derive(Clone)]
pub struct Factor {
    pub id: Uuid,
    pub user_id: Uuid,
    pub friendly_name: String,
    pub factor_type: String,
    pub status: String,
    /// The TOTP secret, base32 (GoTrue stores it in the clear unless database encryption is
    /// configured).
    pub secret: String,
    pub phone: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_challenged_at: Option<i64>,
    /// A verified WebAuthn factor's authenticator AAGUID (GoTrue's `web_authn_aaguid`).
    pub web_authn_aaguid: Option<String>,
}

/// Never the secret.
impl fmt::Debug for Factor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Factor")
            .field("id", &self.id)
            .field("factor_type", &self.factor_type)
            .field("status", &self.status)
            .field("friendly_name", &self.friendly_name)
            .finish_non_exhaustive()
    }
}

impl Factor {
    pub fn is_verified(&self) -> bool {
        self.status == VERIFIED
    }

    /// A new unverified factor.
    pub fn new(
        user: &User,
        friendly_name: &str,
        factor_type: &str,
        secret: String,
        now: i64,
    ) -> Factor {
        Factor {
            id: Uuid::new_v4(),
            user_id: user.id,
            friendly_name: friendly_name.to_string(),
            factor_type: factor_type.to_string(),
            status: UNVERIFIED.to_string(),
            secret,
            phone: String::new(),
            created_at: now,
            updated_at: now,
            last_challenged_at: None,
            web_authn_aaguid: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Challenge {
    pub id: Uuid,
    pub factor_id: Uuid,
    pub created_at: i64,
    pub verified_at: Option<i64>,
    pub ip_address: String,
}

impl Challenge {
    /// When it stops being verifiable (Unix microseconds).
    pub fn expires_at(&self, expiry: Duration) -> i64 {
        self.created_at + expiry.as_micros() as i64
    }
}

/// A factor as GoTrue's user object lists it.
pub fn factor_json(factor: &Factor) -> Value {
    let mut body = json!({
        "id": factor.id,
        "created_at": rfc3339(from_micros(factor.created_at)),
        "updated_at": rfc3339(from_micros(factor.updated_at)),
        "status": factor.status,
        "factor_type": factor.factor_type,
        "phone": factor.phone,
        "last_challenged_at": factor.last_challenged_at.map(|t| rfc3339(from_micros(t))),
    });
    // `omitempty` in GoTrue.
    if !factor.friendly_name.is_empty() {
        body["friendly_name"] = json!(factor.friendly_name);
    }
    if let Some(aaguid) = &factor.web_authn_aaguid {
        body["web_authn_aaguid"] = json!(aaguid);
    }
    body
}

fn uuid_col(row: &Row, index: usize) -> rusqlite::Result<Uuid> {
    let text: String = row.get(index)?;
    Uuid::parse_str(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e))
    })
}

const FACTOR_COLUMNS: &str = "id, user_id, friendly_name, factor_type, status, secret, phone, \
    created_at, updated_at, last_challenged_at";

/// [`FACTOR_COLUMNS`] and the WebAuthn credential's AAGUID, for a `SELECT .. FROM mfa_factors`.
const FACTOR_SELECT: &str = "id, user_id, friendly_name, factor_type, status, secret, phone, \
    created_at, updated_at, last_challenged_at, (SELECT w.aaguid FROM mfa_webauthn_credentials w \
    WHERE w.factor_id = mfa_factors.id)";

fn factor_from_row(row: &Row) -> rusqlite::Result<Factor> {
    Ok(Factor {
        id: uuid_col(row, 0)?,
        user_id: uuid_col(row, 1)?,
        friendly_name: row.get(2)?,
        factor_type: row.get(3)?,
        status: row.get(4)?,
        secret: row.get(5)?,
        phone: row.get(6)?,
        created_at: row.get(7)?,
        updated_at: row.get(8)?,
        last_challenged_at: row.get(9)?,
        web_authn_aaguid: row.get(10)?,
    })
}

const CHALLENGE_COLUMNS: &str = "id, factor_id, created_at, verified_at, ip_address";

fn challenge_from_row(row: &Row) -> rusqlite::Result<Challenge> {
    Ok(Challenge {
        id: uuid_col(row, 0)?,
        factor_id: uuid_col(row, 1)?,
        created_at: row.get(2)?,
        verified_at: row.get(3)?,
        ip_address: row.get(4)?,
    })
}

/// The user with its factors, oldest first.
pub fn with_factors(conn: &Connection, mut user: User) -> rusqlite::Result<User> {
    user.factors = factors_of(conn, user.id)?;
    Ok(user)
}

pub fn factors_of(conn: &Connection, user: Uuid) -> rusqlite::Result<Vec<Factor>> {
    let mut statement = conn.prepare(&format!(
        "SELECT {FACTOR_SELECT} FROM mfa_factors WHERE user_id = ?1 ORDER BY created_at, rowid"
    ))?;
    let rows = statement.query_map([user.to_string()], factor_from_row)?;
    rows.collect()
}

pub fn insert_factor(conn: &Connection, factor: &Factor) -> rusqlite::Result<()> {
    conn.execute(
        &format!(
            "INSERT INTO mfa_factors ({FACTOR_COLUMNS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"
        ),
        params![
            factor.id.to_string(),
            factor.user_id.to_string(),
            factor.friendly_name,
            factor.factor_type,
            factor.status,
            factor.secret,
            factor.phone,
            factor.created_at,
            factor.updated_at,
            factor.last_challenged_at,
        ],
    )?;
    Ok(())
}

/// The factor `id` if `user` owns it (GoTrue's `FindOwnedFactorByID`).
pub fn factor_of_user(conn: &Connection, user: Uuid, id: Uuid) -> rusqlite::Result<Option<Factor>> {
    conn.query_row(
        &format!("SELECT {FACTOR_SELECT} FROM mfa_factors WHERE id = ?1 AND user_id = ?2"),
        [id.to_string(), user.to_string()],
        factor_from_row,
    )
    .optional()
}

/// Sets a factor's `friendly_name` or `phone` (GoTrue's `UpdateFriendlyName`, `UpdatePhone`);
/// the column name comes from this crate, never from a request.
pub fn update_factor_column(
    conn: &Connection,
    id: Uuid,
    column: &'static str,
    value: &str,
    now: i64,
) -> rusqlite::Result<()> {
    debug_assert!(matches!(column, "friendly_name" | "phone"));
    conn.execute(
        &format!("UPDATE mfa_factors SET {column} = ?2, updated_at = ?3 WHERE id = ?1"),
        params![id.to_string(), value, now],
    )?;
    Ok(())
}

/// Deletes the factor and its challenges.
pub fn delete_factor(conn: &Connection, id: Uuid) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM mfa_factors WHERE id = ?1", [id.to_string()])?;
    Ok(())
}

pub fn mark_factor_verified(conn: &Connection, id: Uuid, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE mfa_factors SET status = ?2, updated_at = ?3 WHERE id = ?1",
        params![id.to_string(), VERIFIED, now],
    )?;
    Ok(())
}

/// GoTrue's `DeleteUnverifiedFactors`: the user's unverified factors of one type.
pub fn delete_unverified_factors(
    conn: &Connection,
    user: Uuid,
    factor_type: &str,
) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM mfa_factors WHERE user_id = ?1 AND status = ?2 AND factor_type = ?3",
        params![user.to_string(), UNVERIFIED, factor_type],
    )?;
    Ok(())
}

/// GoTrue's `DeleteExpiredFactors`, run before each enrollment: every user's unverified
/// factors that were never challenged and are older than [`FACTOR_EXPIRY`]. (GoTrue asks the
/// database's clock; this asks the server's, which tests can move.)
pub fn delete_expired_factors(conn: &Connection, now: i64) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM mfa_factors WHERE status <> ?1 AND created_at + ?2 < ?3 AND NOT EXISTS \
         (SELECT 1 FROM mfa_challenges c WHERE c.factor_id = mfa_factors.id)",
        params![VERIFIED, FACTOR_EXPIRY.as_micros() as i64, now],
    )
}

/// Stores a challenge and notes it on its factor (`last_challenged_at`).
pub fn insert_challenge(conn: &Connection, challenge: &Challenge) -> rusqlite::Result<()> {
    conn.execute(
        &format!("INSERT INTO mfa_challenges ({CHALLENGE_COLUMNS}) VALUES (?1,?2,?3,?4,?5)"),
        params![
            challenge.id.to_string(),
            challenge.factor_id.to_string(),
            challenge.created_at,
            challenge.verified_at,
            challenge.ip_address,
        ],
    )?;
    conn.execute(
        "UPDATE mfa_factors SET last_challenged_at = ?2 WHERE id = ?1",
        params![challenge.factor_id.to_string(), challenge.created_at],
    )?;
    Ok(())
}

/// The challenge `id` of `factor` (GoTrue's `FindChallengeByID`).
pub fn challenge_of_factor(
    conn: &Connection,
    factor: Uuid,
    id: Uuid,
) -> rusqlite::Result<Option<Challenge>> {
    conn.query_row(
        &format!("SELECT {CHALLENGE_COLUMNS} FROM mfa_challenges WHERE id = ?1 AND factor_id = ?2"),
        [id.to_string(), factor.to_string()],
        challenge_from_row,
    )
    .optional()
}

/// Marks an unused challenge used; `false` when it was used (or deleted) meanwhile, so one
/// challenge verifies once even when two verifications of it run at the same time. Stricter
/// than GoTrue, whose `Verify` updates whatever it read before.
pub fn mark_challenge_verified(conn: &Connection, id: Uuid, now: i64) -> rusqlite::Result<bool> {
    let changed = conn.execute(
        "UPDATE mfa_challenges SET verified_at = ?2 WHERE id = ?1 AND verified_at IS NULL",
        params![id.to_string(), now],
    )?;
    Ok(changed == 1)
}

/// Deletes a challenge as its verification uses it; `false` when it was gone already (the
/// WebAuthn counterpart of [`mark_challenge_verified`]).
pub fn use_challenge(conn: &Connection, id: Uuid) -> rusqlite::Result<bool> {
    let deleted = conn.execute("DELETE FROM mfa_challenges WHERE id = ?1", [id.to_string()])?;
    Ok(deleted == 1)
}

pub fn delete_challenge(conn: &Connection, id: Uuid) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM mfa_challenges WHERE id = ?1", [id.to_string()])?;
    Ok(())
}

/// GoTrue's `CalculateAALAndAMR`: aal2 as soon as one method is a second factor.
pub fn aal_of(amr: &Value) -> &'static str {
    let second_factor = amr.as_array().is_some_and(|entries| {
        entries.iter().any(|entry| {
            entry["method"]
                .as_str()
                .is_some_and(|m| AAL2_METHODS.contains(&m))
        })
    });
    if second_factor {
        AAL2
    } else {
        AAL1
    }
}

/// GoTrue's `AddClaimToSession` followed by `UpdateAALAndAssociatedFactor`: the method joins
/// the session's AMR (one entry per method; a method already there gets the new time), the
/// entries are ordered most recent first, the session's aal follows, and the factor is noted
/// as the one the session was raised with.
pub fn add_amr_claim(
    conn: &Connection,
    session: &Session,
    method: &str,
    factor: Uuid,
    now_secs: i64,
) -> rusqlite::Result<()> {
    let mut entries: Vec<Value> = session
        .amr
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|entry| entry["method"] != method)
        .collect();
    entries.push(json!({"method": method, "timestamp": now_secs}));
    // Stable, so entries of the same second keep the order they were added in.
    entries.sort_by_key(|entry| std::cmp::Reverse(entry["timestamp"].as_i64().unwrap_or(0)));
    let amr = Value::Array(entries);
    conn.execute(
        "UPDATE sessions SET amr = ?2, aal = ?3 WHERE id = ?1",
        params![session.id.to_string(), amr.to_string(), aal_of(&amr)],
    )?;
    conn.execute(
        "INSERT INTO mfa_session_factors (session_id, factor_id) VALUES (?1, ?2) \
         ON CONFLICT(session_id) DO UPDATE SET factor_id = excluded.factor_id",
        params![session.id.to_string(), factor.to_string()],
    )?;
    Ok(())
}

/// GoTrue's `DowngradeSessionsToAAL1`: the sessions raised with this factor lose its method
/// from their AMR, go back to aal1 and forget the factor. Other sessions are left alone.
pub fn downgrade_sessions_of_factor(conn: &Connection, factor: &Factor) -> rusqlite::Result<()> {
    let method = match factor.factor_type.as_str() {
        PHONE => "mfa/phone",
        WEBAUTHN => "mfa/webauthn",
        _ => TOTP,
    };
    let mut statement = conn.prepare(
        "SELECT s.id, s.amr FROM sessions s JOIN mfa_session_factors f ON f.session_id = s.id \
         WHERE f.factor_id = ?1 AND s.user_id = ?2",
    )?;
    let sessions = statement
        .query_map([factor.id.to_string(), factor.user_id.to_string()], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (id, amr) in sessions {
        let entries: Vec<Value> = serde_json::from_str::<Value>(&amr)
            .ok()
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
            .into_iter()
            .filter(|entry| entry["method"] != method)
            .collect();
        conn.execute(
            "UPDATE sessions SET amr = ?2, aal = ?3 WHERE id = ?1",
            params![id, Value::Array(entries).to_string(), AAL1],
        )?;
        conn.execute(
            "DELETE FROM mfa_session_factors WHERE session_id = ?1",
            [id],
        )?;
    }
    Ok(())
}

/// GoTrue's `InvalidateSessionsWithAALLessThan(aal2)`: every session of the user still at
/// aal1 ends (their refresh tokens go with them).
pub fn end_sessions_below_aal2(conn: &Connection, user: Uuid) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM sessions WHERE user_id = ?1 AND aal < ?2",
        params![user.to_string(), AAL2],
    )
}

/// A verified WebAuthn factor's credential (GoTrue's `SaveWebAuthnCredential`): the
/// credential as JSON, and its AAGUID as a UUID.
pub fn save_webauthn_credential(
    conn: &Connection,
    factor: Uuid,
    credential: &crate::webauthn::Credential,
    now: i64,
) -> rusqlite::Result<()> {
    let json = serde_json::to_string(credential)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    conn.execute(
        "INSERT INTO mfa_webauthn_credentials (factor_id, credential, aaguid) VALUES (?1, ?2, ?3) \
         ON CONFLICT(factor_id) DO UPDATE SET credential = excluded.credential, \
         aaguid = excluded.aaguid",
        params![
            factor.to_string(),
            json,
            credential.aaguid_uuid().map(|id| id.to_string())
        ],
    )?;
    conn.execute(
        "UPDATE mfa_factors SET updated_at = ?2 WHERE id = ?1",
        params![factor.to_string(), now],
    )?;
    Ok(())
}

/// Whether a credential with this id (base64url) is registered, for any user (§7.1 step 22;
/// GoTrue does not check, see `routes/mfa_webauthn.rs`). The unique index
/// `mfa_webauthn_credentials_id` backs it.
pub fn webauthn_credential_exists(conn: &Connection, id: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM mfa_webauthn_credentials \
         WHERE json_extract(credential, '$.id') = ?1)",
        [id],
        |row| row.get(0),
    )
}

/// Stores what an assertion changed of the user's credential it used (counter, clone warning,
/// flags), on whichever of the user's factors holds it; the factor's `updated_at` stays, as
/// GoTrue's. GoTrue keeps only a registration's credential (see `routes/mfa_webauthn.rs`).
pub fn update_webauthn_credential(
    conn: &Connection,
    user: Uuid,
    credential: &crate::webauthn::Credential,
) -> rusqlite::Result<usize> {
    let json = serde_json::to_string(credential)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    let changed = conn.execute(
        "UPDATE mfa_webauthn_credentials SET credential = ?3 \
         WHERE json_extract(credential, '$.id') = ?2 AND factor_id IN \
         (SELECT id FROM mfa_factors WHERE user_id = ?1 AND factor_type = ?4)",
        params![user.to_string(), credential.id, json, WEBAUTHN],
    )?;
    Ok(changed)
}

/// GoTrue's `User.WebAuthnCredentials()`: the credentials of the user's verified WebAuthn
/// factors, oldest factor first.
pub fn webauthn_credentials_of(
    conn: &Connection,
    user: Uuid,
) -> rusqlite::Result<Vec<crate::webauthn::Credential>> {
    let mut statement = conn.prepare(
        "SELECT w.credential FROM mfa_webauthn_credentials w JOIN mfa_factors f \
         ON f.id = w.factor_id WHERE f.user_id = ?1 AND f.status = ?2 AND f.factor_type = ?3 \
         ORDER BY f.created_at, f.rowid",
    )?;
    let rows = statement.query_map(params![user.to_string(), VERIFIED, WEBAUTHN], |row| {
        row.get::<_, String>(0)
    })?;
    let mut credentials = Vec::new();
    for json in rows {
        let json = json?;
        let credential = serde_json::from_str(&json).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })?;
        credentials.push(credential);
    }
    Ok(credentials)
}

/// Stores what a WebAuthn challenge remembers (GoTrue's `web_authn_session_data` column).
pub fn insert_webauthn_session(
    conn: &Connection,
    challenge: Uuid,
    session: &crate::webauthn::SessionData,
) -> rusqlite::Result<()> {
    let json = serde_json::to_string(session)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    conn.execute(
        "INSERT INTO mfa_webauthn_sessions (challenge_id, session_data) VALUES (?1, ?2)",
        params![challenge.to_string(), json],
    )?;
    Ok(())
}

/// What a WebAuthn challenge remembers; `None` for a challenge made without it.
pub fn webauthn_session_of(
    conn: &Connection,
    challenge: Uuid,
) -> rusqlite::Result<Option<crate::webauthn::SessionData>> {
    let json: Option<String> = conn
        .query_row(
            "SELECT session_data FROM mfa_webauthn_sessions WHERE challenge_id = ?1",
            [challenge.to_string()],
            |row| row.get(0),
        )
        .optional()?;
    json.map(|json| {
        serde_json::from_str(&json).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })
    })
    .transpose()
}
