//! Sessions and users as GoTrue sends them, parsed once at the HTTP boundary.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::AuthError;
use crate::recorder::json_error;
use crate::secret::Token;
use crate::tokens::fingerprint;

#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub access_token: Token,
    #[serde(default = "bearer")]
    pub token_type: String,
    #[serde(default)]
    pub expires_in: i64,
    /// Unix seconds; equals the access token's `exp`.
    pub expires_at: i64,
    pub refresh_token: Token,
    pub user: User,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_token: Option<Token>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_refresh_token: Option<Token>,
}

fn bearer() -> String {
    "bearer".into()
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("access_token", &fingerprint(&self.access_token))
            .field("refresh_token", &fingerprint(&self.refresh_token))
            .field("expires_at", &self.expires_at)
            .field("user", &self.user.id)
            .finish()
    }
}

/// GoTrue's user object. Metadata and identities are free-form by design.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    #[serde(default)]
    pub aud: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub app_metadata: Map<String, Value>,
    #[serde(default)]
    pub user_metadata: Map<String, Value>,
    #[serde(default)]
    pub identities: Vec<Value>,
    #[serde(default)]
    pub is_anonymous: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sign_in_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_confirmed_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub banned_until: Option<String>,
    /// An email change waiting for its confirmation (GoTrue's `new_email`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_change_sent_at: Option<String>,
    /// A phone change waiting for its code (GoTrue's `new_phone`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_phone: Option<String>,
    /// The user's MFA factors, verified or not (GoTrue omits the key when there are none).
    /// Free-form like `identities`; `client::mfa::Factor` reads them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub factors: Vec<Value>,
}

/// What a successful sign-in or refresh hands back.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthResponse {
    pub user: User,
    pub session: Session,
}

/// The latest time the engine believes a server about: 9999-12-31T23:59:59Z, the end of the
/// range every clock here (chrono, JavaScript's `Date`, RFC 3339) can show. Later or negative
/// times are a broken or hostile server, and `expires_at * 1000` would overflow.
pub const LATEST_PLAUSIBLE_UNIX_SECS: i64 = 253_402_300_799;

pub fn is_plausible_unix_secs(secs: i64) -> bool {
    (1..=LATEST_PLAUSIBLE_UNIX_SECS).contains(&secs)
}

/// The token response, read the way auth-js reads it: no `access_token` means no session
/// (`SessionMissing`); a missing `expires_at` is filled from `expires_in`. Times are
/// range-checked: an `expires_at` out of range falls back to the access token's `exp`, then
/// to `expires_in`; none usable is an invalid answer.
pub fn session_from_token_response(body: &[u8], now: i64) -> Result<Session, AuthError> {
    // The usual answer (GoTrue's: every field there, `expires_at` in range) is read straight
    // into the session, without building a JSON tree first (a refresh's hot path). Any other
    // answer takes the tree, whose rules decide. Where both read a body they give the same
    // session, but the direct read skips unknown fields unchecked, so it also accepts bodies
    // the tree refuses (a number out of range, a lone surrogate or a byte that is not UTF-8 in
    // a field it skips), as auth-js's `JSON.parse` does; the recorder's redaction reads
    // the tokens of such a body the same loose way (`recorder::TokenFields`).
    if let Ok(session) = serde_json::from_slice::<Session>(body) {
        if is_plausible_unix_secs(session.expires_at) {
            return Ok(session);
        }
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        AuthError::InvalidTokenResponse(format!("the body is not JSON ({})", json_error(&e)))
    })?;
    session_from_token_json(value, now)
}

/// `session_from_token_response` for a body already read as JSON.
pub fn session_from_token_json(value: Value, now: i64) -> Result<Session, AuthError> {
    let Value::Object(mut object) = value else {
        return Err(AuthError::InvalidTokenResponse(
            "the body is not a JSON object".into(),
        ));
    };
    let Some(access_token) = object.get("access_token").and_then(Value::as_str) else {
        return Err(AuthError::SessionMissing);
    };
    let given = object.get("expires_at").and_then(Value::as_i64);
    let from_expires_in = object
        .get("expires_in")
        .and_then(Value::as_i64)
        .and_then(|secs| now.checked_add(secs));
    let from_exp = || {
        crate::tokens::decode_jwt(access_token)
            .ok()
            .and_then(|jwt| jwt.expires_at())
    };
    let expires_at = match given {
        Some(at) => Some(at).filter(|t| is_plausible_unix_secs(*t)),
        // As auth-js: no `expires_at`, so now + `expires_in`.
        None => from_expires_in.filter(|t| is_plausible_unix_secs(*t)),
    }
    .or_else(|| from_exp().filter(|t| is_plausible_unix_secs(*t)))
    .or_else(|| from_expires_in.filter(|t| is_plausible_unix_secs(*t)))
    .ok_or_else(|| {
        AuthError::InvalidTokenResponse(
            "its expiry (expires_at, expires_in, the access token's exp) is missing or out of range"
                .into(),
        )
    })?;
    object.insert("expires_at".into(), Value::from(expires_at));
    serde_json::from_value(Value::Object(object))
        .map_err(|e| AuthError::InvalidTokenResponse(json_error(&e)))
}

pub fn user_from_body(body: &[u8]) -> Result<User, AuthError> {
    serde_json::from_slice(body).map_err(|e| {
        AuthError::InvalidTokenResponse(format!("not a user object ({})", json_error(&e)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: &str =
        r#"{"id":"u1","aud":"authenticated","role":"authenticated","email":"a@b.co"}"#;

    #[test]
    fn the_direct_read_and_the_tree_agree_on_a_gotrue_answer() {
        let body = serde_json::json!({
            "access_token": "eyJhbGciOiJIUzI1NiJ9.e30.sig", "token_type": "bearer",
            "expires_in": 3600, "expires_at": 1_900_000_000, "refresh_token": "r3fr3sh",
            "user": {"id": "u1", "aud": "authenticated", "email": "a@b.co",
                "app_metadata": {"provider": "email", "providers": ["email"]},
                "user_metadata": {"n": 1.5}, "identities": [{"id": "i1", "identity_data": {}}]},
        })
        .to_string();
        let direct = session_from_token_response(body.as_bytes(), 1_000).unwrap();
        let tree = session_from_token_json(serde_json::from_str(&body).unwrap(), 1_000).unwrap();
        assert_eq!(direct, tree);
        assert_eq!(direct.expires_at, 1_900_000_000);
    }

    /// The direct read and the tree, each on its own.
    fn both_reads(body: &Value, now: i64) -> [Result<Session, AuthError>; 2] {
        let text = body.to_string();
        [
            session_from_token_response(text.as_bytes(), now),
            session_from_token_json(body.clone(), now),
        ]
    }

    #[test]
    fn the_direct_read_and_the_tree_agree_on_answers_off_the_usual_shape() {
        let jwt_exp = |exp: i64| {
            use base64::Engine;
            let part = |json: Value| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json.to_string())
            };
            format!(
                "{}.{}.sig",
                part(serde_json::json!({"alg": "HS256"})),
                part(serde_json::json!({"exp": exp}))
            )
        };
        let usual = serde_json::json!({
            "access_token": jwt_exp(1_900_000_000), "token_type": "bearer", "expires_in": 3600,
            "expires_at": 1_900_000_000, "refresh_token": "r3fr3sh", "user": {"id": "u1"},
        });
        let with = |key: &str, value: Value| {
            let mut body = usual.clone();
            body[key] = value;
            body
        };
        let without = |key: &str| {
            let mut body = usual.clone();
            body.as_object_mut().unwrap().remove(key);
            body
        };
        let cases = [
            ("no expires_at, an expires_in", without("expires_at")),
            (
                "expires_at out of range, a JWT exp",
                with("expires_at", Value::from(i64::MAX)),
            ),
            ("expires_at negative", with("expires_at", Value::from(-5))),
            ("no user", without("user")),
            ("provider tokens null", {
                let mut body = with("provider_token", Value::Null);
                body["provider_refresh_token"] = Value::Null;
                body
            }),
            (
                "provider tokens given",
                with("provider_token", Value::from("pt")),
            ),
            (
                "weak_password present",
                with("weak_password", serde_json::json!({"reasons": ["length"]})),
            ),
            ("no token_type", without("token_type")),
        ];
        for (case, body) in cases {
            let [direct, tree] = both_reads(&body, 1_000);
            assert_eq!(direct, tree, "{case}");
        }
        let [direct, _] = both_reads(&without("expires_at"), 1_000);
        assert_eq!(direct.unwrap().expires_at, 4_600);
        let [direct, _] = both_reads(&with("expires_at", Value::from(i64::MAX)), 1_000);
        assert_eq!(direct.unwrap().expires_at, 1_900_000_000, "from the JWT");
    }

    #[test]
    fn the_direct_read_accepts_what_it_skips_unchecked() {
        // What no JSON tree reads, in fields the session does not keep: accepted, as auth-js
        // does (the recorder's tests prove these bodies are still redacted).
        let usual =
            r#""access_token":"at","expires_at":2000000000,"refresh_token":"rt","user":{"id":"u1""#;
        for body in [
            format!(r#"{{{usual}}},"weak_password":1e400}}"#).into_bytes(),
            format!(r#"{{{usual},"confirmation_sent_at":"\udc00"}}}}"#).into_bytes(),
            [
                format!(r#"{{{usual},"confirmation_sent_at":"caf"#).as_bytes(),
                b"\xe9\"}}",
            ]
            .concat(),
        ] {
            assert!(serde_json::from_slice::<Value>(&body).is_err());
            let session = session_from_token_response(&body, 0).unwrap();
            assert_eq!(session.refresh_token, "rt");
        }
    }

    #[test]
    fn a_token_response_becomes_a_session() {
        let body = format!(
            r#"{{"access_token":"at","token_type":"bearer","expires_in":3600,"expires_at":200,"refresh_token":"rt","user":{USER}}}"#
        );
        let session = session_from_token_response(body.as_bytes(), 100).unwrap();
        assert_eq!(
            (session.expires_at, session.user.email.as_str()),
            (200, "a@b.co")
        );
    }

    #[test]
    fn a_missing_expires_at_is_computed_from_expires_in() {
        let body = format!(
            r#"{{"access_token":"at","expires_in":60,"refresh_token":"rt","user":{USER}}}"#
        );
        assert_eq!(
            session_from_token_response(body.as_bytes(), 1000)
                .unwrap()
                .expires_at,
            1060
        );
    }

    #[test]
    fn an_answer_without_a_session_is_session_missing() {
        assert_eq!(
            session_from_token_response(br#"{"user":{}}"#, 0),
            Err(AuthError::SessionMissing)
        );
        assert!(matches!(
            session_from_token_response(b"<html>", 0),
            Err(AuthError::InvalidTokenResponse(_))
        ));
        assert!(matches!(
            session_from_token_response(br#"{"access_token":"x"}"#, 0),
            Err(AuthError::InvalidTokenResponse(_))
        ));
    }

    #[test]
    fn debug_shows_fingerprints_not_tokens() {
        let body = format!(
            r#"{{"access_token":"secret-access","expires_at":1,"refresh_token":"secret-refresh","user":{USER}}}"#
        );
        let session = session_from_token_response(body.as_bytes(), 0).unwrap();
        let printed = format!("{session:?}");
        assert!(!printed.contains("secret-access") && !printed.contains("secret-refresh"));
    }
}
