//! GoTrue's flow states (`models/flow_state.go`): one per `/authorize`, its id the `state` the
//! provider hands back. A PKCE flow state also holds the code challenge and, once the provider
//! has answered, the user, the provider's tokens and the auth code `/token?grant_type=pkce`
//! trades for a session.

use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, Row};
use uuid::Uuid;

/// GoTrue's `FLOW_STATE_EXPIRY_DURATION` default (and minimum): 300 s from creation.
pub const FLOW_STATE_EXPIRY: Duration = Duration::from_secs(300);

/// RFC 7636's bounds on a code challenge, as GoTrue checks them.
pub const MIN_CODE_CHALLENGE: usize = 43;
pub const MAX_CODE_CHALLENGE: usize = 128;

/// GoTrue's `PKCEInvalidCodeChallengeError`.
pub const CHALLENGE_MISMATCH: &str = "code challenge does not match previously saved code verifier";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChallengeMethod {
    S256,
    Plain,
}

impl ChallengeMethod {
    /// GoTrue's `ParseCodeChallengeMethod`: either name, any case.
    pub fn parse(name: &str) -> Option<ChallengeMethod> {
        match name.to_ascii_lowercase().as_str() {
            "s256" => Some(ChallengeMethod::S256),
            "plain" => Some(ChallengeMethod::Plain),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ChallengeMethod::S256 => "s256",
            ChallengeMethod::Plain => "plain",
        }
    }
}

#[derive(Debug, Clone)]
pub struct FlowState {
    pub id: Uuid,
    pub user_id: Option<Uuid>,
    pub auth_code: Option<String>,
    /// `oauth` for `/authorize`.
    pub authentication_method: String,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub provider_type: String,
    pub provider_access_token: String,
    pub provider_refresh_token: String,
    pub auth_code_issued_at: Option<i64>,
    /// Where the browser goes back to (the checked `redirect_to`).
    pub referrer: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl FlowState {
    /// GoTrue's `NewFlowState`: PKCE fields (and a UUID auth code) only with a challenge.
    pub fn new(
        provider: &str,
        method: &str,
        challenge: Option<(&str, ChallengeMethod)>,
        referrer: &str,
        now: i64,
    ) -> FlowState {
        FlowState {
            id: Uuid::new_v4(),
            user_id: None,
            auth_code: challenge.map(|_| Uuid::new_v4().to_string()),
            authentication_method: method.to_string(),
            code_challenge: challenge.map(|(c, _)| c.to_string()),
            code_challenge_method: challenge.map(|(_, m)| m.as_str().to_string()),
            provider_type: provider.to_string(),
            provider_access_token: String::new(),
            provider_refresh_token: String::new(),
            auth_code_issued_at: None,
            referrer: (!referrer.is_empty()).then(|| referrer.to_string()),
            created_at: now,
            updated_at: now,
        }
    }

    pub fn is_pkce(&self) -> bool {
        self.code_challenge
            .as_deref()
            .is_some_and(|c| !c.is_empty())
    }

    /// GoTrue's `IsExpired`: counted from creation (from the code's issue for magic links).
    pub fn is_expired(&self, now: i64) -> bool {
        let start = match self.auth_code_issued_at {
            Some(issued) if self.authentication_method == "magiclink" => issued,
            _ => self.created_at,
        };
        now > start + FLOW_STATE_EXPIRY.as_micros() as i64
    }

    /// GoTrue's `VerifyPKCE`, comparing in constant time.
    pub fn verify(&self, verifier: &str) -> Result<(), &'static str> {
        let (Some(challenge), Some(method)) = (&self.code_challenge, &self.code_challenge_method)
        else {
            return Err("PKCE verification not applicable for implicit flow");
        };
        let expected = match ChallengeMethod::parse(method) {
            Some(ChallengeMethod::S256) => s256(verifier),
            Some(ChallengeMethod::Plain) => verifier.to_string(),
            None => return Err("code challenge method not supported"),
        };
        if constant_time_eq(challenge.as_bytes(), expected.as_bytes()) {
            Ok(())
        } else {
            Err(CHALLENGE_MISMATCH)
        }
    }
}

/// RFC 7636's S256: base64url (no padding) of the verifier's SHA-256.
pub fn s256(verifier: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(crate::hash::sha256(verifier.as_bytes()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// GoTrue's `isValidCodeChallenge`: the length, then the characters. `None` when valid.
pub fn challenge_problem(challenge: &str) -> Option<String> {
    if !(MIN_CODE_CHALLENGE..=MAX_CODE_CHALLENGE).contains(&challenge.len()) {
        return Some(format!(
            "code challenge has to be between {MIN_CODE_CHALLENGE} and {MAX_CODE_CHALLENGE} characters"
        ));
    }
    let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b'-');
    if !challenge.bytes().all(allowed) {
        return Some(
            "code challenge can only contain alphanumeric characters, hyphens, periods, underscores and tildes"
                .into(),
        );
    }
    None
}

const COLUMNS: &str = "id, user_id, auth_code, authentication_method, code_challenge, \
    code_challenge_method, provider_type, provider_access_token, provider_refresh_token, \
    auth_code_issued_at, referrer, created_at, updated_at";

fn from_row(row: &Row) -> rusqlite::Result<FlowState> {
    let uuid = |text: String, index: usize| {
        Uuid::parse_str(&text).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(
                index,
                rusqlite::types::Type::Text,
                Box::new(e),
            )
        })
    };
    let user: Option<String> = row.get(1)?;
    Ok(FlowState {
        id: uuid(row.get(0)?, 0)?,
        user_id: user.map(|u| uuid(u, 1)).transpose()?,
        auth_code: row.get(2)?,
        authentication_method: row.get(3)?,
        code_challenge: row.get(4)?,
        code_challenge_method: row.get(5)?,
        provider_type: row.get(6)?,
        provider_access_token: row.get(7)?,
        provider_refresh_token: row.get(8)?,
        auth_code_issued_at: row.get(9)?,
        referrer: row.get(10)?,
        created_at: row.get(11)?,
        updated_at: row.get(12)?,
    })
}

pub fn insert(conn: &Connection, flow: &FlowState) -> rusqlite::Result<()> {
    conn.execute(
        &format!(
            "INSERT INTO flow_state ({COLUMNS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)"
        ),
        params![
            flow.id.to_string(),
            flow.user_id.map(|u| u.to_string()),
            flow.auth_code,
            flow.authentication_method,
            flow.code_challenge,
            flow.code_challenge_method,
            flow.provider_type,
            flow.provider_access_token,
            flow.provider_refresh_token,
            flow.auth_code_issued_at,
            flow.referrer,
            flow.created_at,
            flow.updated_at,
        ],
    )?;
    Ok(())
}

pub fn by_id(conn: &Connection, id: Uuid) -> rusqlite::Result<Option<FlowState>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM flow_state WHERE id = ?1"),
        [id.to_string()],
        from_row,
    )
    .optional()
}

pub fn by_auth_code(conn: &Connection, auth_code: &str) -> rusqlite::Result<Option<FlowState>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM flow_state WHERE auth_code = ?1"),
        [auth_code],
        from_row,
    )
    .optional()
}

/// The provider answered for a PKCE flow: who signed in, the provider's tokens, and when the
/// auth code was handed out.
pub fn record_sign_in(
    conn: &Connection,
    id: Uuid,
    user: Uuid,
    provider_access_token: &str,
    provider_refresh_token: &str,
    now: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE flow_state SET user_id = ?2, provider_access_token = ?3, \
         provider_refresh_token = ?4, auth_code_issued_at = ?5, updated_at = ?5 WHERE id = ?1",
        params![
            id.to_string(),
            user.to_string(),
            provider_access_token,
            provider_refresh_token,
            now
        ],
    )?;
    Ok(())
}

/// The flow is over: it and its linking target (`linking.rs`) are gone.
pub fn delete(conn: &Connection, id: Uuid) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM flow_state WHERE id = ?1", [id.to_string()])?;
    crate::linking::forget(conn, id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_is_rfc_7636s_example() {
        // RFC 7636, Appendix B.
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn a_flow_state_expires_300_s_after_creation() {
        let flow = FlowState::new("github", "oauth", None, "", 0);
        assert!(!flow.is_expired(FLOW_STATE_EXPIRY.as_micros() as i64));
        assert!(flow.is_expired(FLOW_STATE_EXPIRY.as_micros() as i64 + 1));
    }

    #[test]
    fn challenges_are_checked_for_length_then_characters() {
        assert!(challenge_problem(&"a".repeat(42))
            .unwrap()
            .contains("between 43 and 128"));
        assert!(challenge_problem(&"a".repeat(129)).is_some());
        assert!(challenge_problem(&format!("{}+", "a".repeat(43)))
            .unwrap()
            .contains("alphanumeric"));
        assert_eq!(challenge_problem(&"a-._~".repeat(9)), None);
    }
}
