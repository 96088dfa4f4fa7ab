//! Multi-factor authentication with TOTP, as auth-js's `mfa` API does it: `enroll`,
//! `challenge`, `verify` (the session raised to aal2 is saved, made current, then
//! `MFA_CHALLENGE_VERIFIED`), `challengeAndVerify`, `unenroll`, `listFactors` and
//! `getAuthenticatorAssuranceLevel`. Calls go out with the current session, loaded as
//! `get_session` loads it (auth-js's `_useSession`).
//!
//! A TOTP secret is as good as the factor: it and its URI are `SecretString`s here, never
//! logged (the recorder hides them in the exchange too), and the server's `qr_code` is not
//! kept (the window draws its own from the URI).

use reqwest::Method;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use ts_rs::TS;
use zeroize::Zeroizing;

use super::AuthClient;
use crate::error::AuthError;
use crate::events::AuthEventKind;
use crate::http::Call;
use crate::protocol::{AAL1, AAL2, FACTOR_TYPE_TOTP, FACTOR_VERIFIED};
use crate::recorder::json_error;
use crate::session::{session_from_token_response, Session, User};

/// A factor as GoTrue lists it in the user object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Factor {
    pub id: String,
    /// `totp`, `phone` or `webauthn`.
    pub factor_type: String,
    pub friendly_name: Option<String>,
    /// `verified` or `unverified`.
    pub status: String,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
}

impl Factor {
    /// Reads one entry of a user's `factors`; `None` when it lacks an id, a type or a status.
    pub fn from_json(value: &Value) -> Option<Factor> {
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_string);
        Some(Factor {
            id: text("id")?,
            factor_type: text("factor_type")?,
            friendly_name: text("friendly_name"),
            status: text("status")?,
            created_at: text("created_at"),
            updated_at: text("updated_at"),
        })
    }

    /// The factors of `user`, in the server's order, verified or not (auth-js's
    /// `listFactors().all`); unreadable entries are left out.
    pub fn all_of(user: &User) -> Vec<Factor> {
        user.factors.iter().filter_map(Factor::from_json).collect()
    }

    pub fn is_verified(&self) -> bool {
        self.status == FACTOR_VERIFIED
    }
}

/// A TOTP factor just enrolled (unverified until a challenge of it is verified). The secret
/// and the `otpauth://` URI are what an authenticator app is given; `Debug` hides both.
#[derive(Debug)]
pub struct TotpEnrollment {
    pub factor_id: String,
    pub friendly_name: Option<String>,
    pub secret: SecretString,
    pub uri: SecretString,
}

/// A challenge to answer with a code before `expires_at` (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct MfaChallenge {
    pub id: String,
    pub factor_id: String,
    pub expires_at: i64,
}

/// One entry of the access token's `amr` claim: how and when the session was authenticated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AmrEntry {
    pub method: String,
    pub timestamp: i64,
}

/// auth-js's `getAuthenticatorAssuranceLevel`: `current` is the access token's `aal`; `next`
/// is `aal2` when the user has a verified factor, else `current`. `current: aal1` with
/// `next: aal2` means the session can (and the app may require it to) step up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AssuranceLevel {
    pub current: Option<String>,
    pub next: Option<String>,
    pub current_authentication_methods: Vec<AmrEntry>,
}

impl AssuranceLevel {
    /// The user has a verified factor this session has not used yet.
    pub fn needs_step_up(&self) -> bool {
        self.current.as_deref() == Some(AAL1) && self.next.as_deref() == Some(AAL2)
    }

    /// From a session, without a request: its access token's claims and its user's factors
    /// as they were when the session was issued.
    pub fn of(session: &Session) -> AssuranceLevel {
        let claims = crate::tokens::decode_jwt(&session.access_token)
            .map(|jwt| jwt.claims)
            .unwrap_or_default();
        let current = claims
            .get("aal")
            .and_then(Value::as_str)
            .filter(|aal| !aal.is_empty())
            .map(str::to_string);
        let next = if Factor::all_of(&session.user)
            .iter()
            .any(Factor::is_verified)
        {
            Some(AAL2.to_string())
        } else {
            current.clone()
        };
        let current_authentication_methods = claims
            .get("amr")
            .and_then(Value::as_array)
            .map(|entries| entries.iter().filter_map(amr_entry).collect())
            .unwrap_or_default();
        AssuranceLevel {
            current,
            next,
            current_authentication_methods,
        }
    }
}

/// GoTrue writes `{method, timestamp}`; an access-token hook may write RFC 8176's bare
/// method names, read here with timestamp 0 (GoTrue itself reads them as "now").
fn amr_entry(value: &Value) -> Option<AmrEntry> {
    match value {
        Value::String(method) => Some(AmrEntry {
            method: method.clone(),
            timestamp: 0,
        }),
        Value::Object(entry) => Some(AmrEntry {
            method: entry.get("method")?.as_str()?.to_string(),
            timestamp: entry.get("timestamp").and_then(Value::as_i64).unwrap_or(0),
        }),
        _ => None,
    }
}

#[derive(Deserialize)]
struct EnrollAnswer {
    id: String,
    #[serde(rename = "type")]
    factor_type: String,
    #[serde(default)]
    friendly_name: Option<String>,
    totp: Option<TotpAnswer>,
}

/// `qr_code` is left unread.
#[derive(Deserialize)]
struct TotpAnswer {
    secret: SecretString,
    uri: SecretString,
}

#[derive(Deserialize)]
struct ChallengeAnswer {
    id: String,
    expires_at: i64,
}

/// A factor id goes into the request's path: only a UUID (what GoTrue's ids are) is sent, so
/// no text can change which route is called.
fn factor_path_id(factor_id: &str) -> Result<String, AuthError> {
    uuid::Uuid::parse_str(factor_id.trim())
        .map(|id| id.hyphenated().to_string())
        .map_err(|_| {
            AuthError::InvalidInput(
                "the factor id is not a UUID: pass the `id` of a factor from mfa_list_factors \
                 or mfa_enroll_totp"
                    .into(),
            )
        })
}

impl AuthClient {
    /// auth-js's `listFactors`: the user's factors from `GET /user` (all of them, verified or
    /// not; `Factor::is_verified` tells them apart).
    pub async fn mfa_list_factors(&self) -> Result<Vec<Factor>, AuthError> {
        let user = self.get_user(None).await?;
        Ok(Factor::all_of(&user))
    }

    /// `POST /factors` for a TOTP factor. The factor stays unverified (and does not count
    /// for the assurance level) until a challenge of it is verified. `issuer` defaults, on
    /// the server, to the host of its site URL.
    pub async fn mfa_enroll_totp(
        &self,
        friendly_name: Option<&str>,
        issuer: Option<&str>,
    ) -> Result<TotpEnrollment, AuthError> {
        let session = self.session_for_mfa().await?;
        let mut body = json!({"factor_type": FACTOR_TYPE_TOTP});
        if let Some(name) = friendly_name {
            body["friendly_name"] = json!(name);
        }
        if let Some(issuer) = issuer {
            body["issuer"] = json!(issuer);
        }
        let answer = self
            .inner
            .http
            .send(Call {
                method: Method::POST,
                path: "/factors",
                query: &[],
                body: Some(&body),
                bearer: Some(&session.access_token),
            })
            .await?;
        // The body holds the secret: wiped once read.
        let raw = Zeroizing::new(answer.body);
        let answer: EnrollAnswer = serde_json::from_slice(&raw)
            .map_err(|e| AuthError::InvalidMfaAnswer(format!("enrollment: {}", json_error(&e))))?;
        let totp = match (answer.factor_type.as_str(), answer.totp) {
            (FACTOR_TYPE_TOTP, Some(totp)) => totp,
            (other, _) => {
                return Err(AuthError::InvalidMfaAnswer(format!(
                    "the enrollment answered a factor of type {other:?} without a TOTP secret"
                )))
            }
        };
        tracing::info!(factor = %answer.id, "TOTP factor enrolled, unverified until a challenge is verified");
        Ok(TotpEnrollment {
            factor_id: answer.id,
            friendly_name: answer.friendly_name.filter(|name| !name.is_empty()),
            secret: totp.secret,
            uri: totp.uri,
        })
    }

    /// `POST /factors/{id}/challenge`: a challenge to verify before it expires.
    pub async fn mfa_challenge(&self, factor_id: &str) -> Result<MfaChallenge, AuthError> {
        let factor_id = factor_path_id(factor_id)?;
        let session = self.session_for_mfa().await?;
        let path = format!("/factors/{factor_id}/challenge");
        // auth-js sends its parameters as the body; GoTrue reads none for TOTP.
        let body = json!({"factorId": factor_id});
        let answer = self
            .inner
            .http
            .send(Call {
                method: Method::POST,
                path: &path,
                query: &[],
                body: Some(&body),
                bearer: Some(&session.access_token),
            })
            .await?;
        let answer: ChallengeAnswer = serde_json::from_slice(&answer.body)
            .map_err(|e| AuthError::InvalidMfaAnswer(format!("challenge: {}", json_error(&e))))?;
        Ok(MfaChallenge {
            id: answer.id,
            factor_id,
            expires_at: answer.expires_at,
        })
    }

    /// `POST /factors/{id}/verify` with the code: the answer is the session raised to aal2
    /// (new access and refresh tokens, the factor verified in its user). It is saved, made
    /// current, then `MFA_CHALLENGE_VERIFIED` is sent, as auth-js's `_verify`. A refused code
    /// or challenge changes nothing here.
    pub async fn mfa_verify(
        &self,
        factor_id: &str,
        challenge_id: &str,
        code: &str,
    ) -> Result<Session, AuthError> {
        let factor_id = factor_path_id(factor_id)?;
        let session = self.session_for_mfa().await?;
        let path = format!("/factors/{factor_id}/verify");
        let body = json!({"challenge_id": challenge_id.trim(), "code": code});
        let answer = self
            .inner
            .http
            .send(Call {
                method: Method::POST,
                path: &path,
                query: &[],
                body: Some(&body),
                bearer: Some(&session.access_token),
            })
            .await?;
        let raised = session_from_token_response(&answer.body, self.now_secs())?;
        self.adopt(
            raised.clone(),
            AuthEventKind::MfaChallengeVerified,
            Some(answer.exchange_id),
            crate::events::Cause::MfaStepUp,
        )
        .await?;
        tracing::info!(factor = %factor_id, "MFA challenge verified: the session is at aal2");
        Ok(raised)
    }

    /// auth-js's `challengeAndVerify`: a challenge, then its verification with `code`.
    pub async fn mfa_challenge_and_verify(
        &self,
        factor_id: &str,
        code: &str,
    ) -> Result<Session, AuthError> {
        let challenge = self.mfa_challenge(factor_id).await?;
        self.mfa_verify(factor_id, &challenge.id, code).await
    }

    /// `DELETE /factors/{id}`. A verified factor can only be unenrolled from an aal2 session
    /// (GoTrue answers `insufficient_aal` otherwise). As in auth-js the session is not
    /// touched: its access token keeps saying aal2 and its user keeps listing the factor
    /// until the next refresh, whose tokens the server issues at aal1.
    pub async fn mfa_unenroll(&self, factor_id: &str) -> Result<(), AuthError> {
        let factor_id = factor_path_id(factor_id)?;
        let session = self.session_for_mfa().await?;
        let path = format!("/factors/{factor_id}");
        self.inner
            .http
            .send(Call {
                method: Method::DELETE,
                path: &path,
                query: &[],
                body: None,
                bearer: Some(&session.access_token),
            })
            .await?;
        tracing::info!(factor = %factor_id, "MFA factor unenrolled");
        Ok(())
    }

    /// auth-js's `getAuthenticatorAssuranceLevel()` for the current session, without a
    /// request; `None` without a session.
    pub fn assurance_level(&self) -> Option<AssuranceLevel> {
        self.current_session().as_ref().map(AssuranceLevel::of)
    }

    /// The session an MFA call is made with (as `account.rs`'s calls load theirs): after
    /// start-up, refreshed first when its access token is about to expire.
    async fn session_for_mfa(&self) -> Result<Session, AuthError> {
        let _ = self.initialize().await;
        self.load_session().await?.ok_or(AuthError::SessionMissing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factors_are_read_from_the_user_and_unreadable_ones_skipped() {
        let user: User = serde_json::from_value(json!({
            "id": "u1",
            "factors": [
                {"id": "f1", "factor_type": "totp", "status": "verified", "friendly_name": "phone",
                 "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"},
                {"id": "f2", "factor_type": "totp", "status": "unverified"},
                {"factor_type": "totp"}
            ]
        }))
        .unwrap();
        let factors = Factor::all_of(&user);
        assert_eq!(factors.len(), 2);
        assert!(factors[0].is_verified() && !factors[1].is_verified());
        assert_eq!(factors[0].friendly_name.as_deref(), Some("phone"));
        assert_eq!(factors[1].created_at, None);
    }

    #[test]
    fn amr_entries_are_objects_or_bare_method_names() {
        assert_eq!(
            amr_entry(&json!({"method": "totp", "timestamp": 7})),
            Some(AmrEntry {
                method: "totp".into(),
                timestamp: 7
            })
        );
        assert_eq!(amr_entry(&json!("pwd")).unwrap().method, "pwd");
        assert_eq!(amr_entry(&json!(3)), None);
    }

    #[test]
    fn only_a_uuid_is_put_in_a_path() {
        assert!(factor_path_id(" 0b8d4d9e-8d4a-4a6e-9d6e-2f1f3c9f0a11 ").is_ok());
        for bad in ["../token", "x/verify", "", "0b8d4d9e"] {
            assert!(
                matches!(factor_path_id(bad), Err(AuthError::InvalidInput(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn an_enrollment_hides_its_secret_and_uri_from_debug() {
        let enrollment = TotpEnrollment {
            factor_id: "f1".into(),
            friendly_name: None,
            secret: "JBSWY3DPEHPK3PXP".into(),
            uri: "otpauth://totp/x:y?secret=JBSWY3DPEHPK3PXP".into(),
        };
        let shown = format!("{enrollment:?}");
        assert!(
            !shown.contains("JBSWY3DP") && !shown.contains("otpauth"),
            "{shown}"
        );
    }
}
