//! WebAuthn factors on `/factors`, as GoTrue's `enrollWebAuthnFactor`,
//! `challengeWebAuthnFactor` and `verifyWebAuthnFactor` (`api/mfa.go`) answer: the
//! ceremonies themselves are in `webauthn.rs`. The common checks (authentication, owned
//! factor, enabled type) are made by `routes/mfa.rs` before it hands over.

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};
use uuid::Uuid;

use super::mfa::{challenge_not_found, check_new_factor, live_challenge, raise_session};
use super::{json_body, Authenticated, Shared};
use crate::db::{Session, User};
use crate::errors::ApiError;
use crate::mfa::{self, Challenge, Factor, WEBAUTHN};
use crate::state::AppState;
use crate::webauthn::{self, CeremonyError, RelyingParty, WebAuthnUser};

/// The AMR method a WebAuthn verification adds.
const METHOD: &str = "mfa/webauthn";

/// GoTrue's `WebAuthnParams`. A `credential_response` of `null` is kept apart from an absent
/// one: Go keeps `null` as raw JSON (and then fails to parse it), and says "required" only
/// when it is absent.
#[derive(Deserialize)]
pub struct WebAuthnParams {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "present")]
    credential_response: Option<Value>,
}

fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// GoTrue's `ChallengeFactorParams`: read (a malformed body is refused) but not used; the
/// relying party comes from the server's settings, whatever auth-js sends.
#[derive(Deserialize)]
#[allow(dead_code)]
struct ChallengeParams {
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    webauthn: Option<WebAuthnParams>,
}

/// What Go's error handler says of an error it does not know (go-webauthn's).
fn unexpected() -> ApiError {
    ApiError::internal("Unexpected failure, please check server logs for more information")
}

fn invalid(message: &'static str) -> ApiError {
    ApiError::bad_request("validation_failed", message)
}

fn relying_party(state: &AppState) -> RelyingParty<'_> {
    let config = &state.config.webauthn;
    RelyingParty {
        id: &config.rp_id,
        display_name: &config.rp_display_name,
        origins: &config.rp_origins,
    }
}

fn webauthn_user(user: &User) -> WebAuthnUser<'_> {
    WebAuthnUser {
        id: user.id,
        email: &user.email,
    }
}

/// `enrollWebAuthnFactor`: a new unverified factor; its credential comes with the first
/// verification.
pub fn enroll(
    state: &AppState,
    user: &User,
    session: &Session,
    friendly_name: &str,
) -> Result<Response, ApiError> {
    let now = state.now_micros();
    let factor = state.db.run(|conn| -> Result<Factor, ApiError> {
        check_new_factor(conn, state, user, session, friendly_name, now)?;
        let factor = Factor::new(user, friendly_name, WEBAUTHN, String::new(), now);
        mfa::insert_factor(conn, &factor)?;
        Ok(factor)
    })?;
    Ok(Json(json!({
        "id": factor.id,
        "type": WEBAUTHN,
        "friendly_name": factor.friendly_name,
    }))
    .into_response())
}

/// `challengeWebAuthnFactor`: an unverified factor gets creation options ("create"), which
/// exclude the user's registered credentials; a verified one gets request options
/// ("request"), which allow each of them.
pub async fn challenge(
    state: &AppState,
    user: &User,
    factor: &Factor,
    ip: String,
    body: Body,
) -> Result<Response, ApiError> {
    let _: ChallengeParams = json_body(body).await?;
    let rp = relying_party(state);
    webauthn::validate_config(&rp).map_err(|e| {
        tracing::warn!("WebAuthn configuration: {}", e.0);
        unexpected()
    })?;
    let credentials = state
        .db
        .run(|conn| mfa::webauthn_credentials_of(conn, user.id))?;
    let wuser = webauthn_user(user);
    let (kind, options, session) = if factor.is_verified() {
        let (options, session) =
            webauthn::begin_login(&rp, &wuser, &credentials, webauthn::new_challenge()).map_err(
                |e| {
                    tracing::warn!("WebAuthn login options: {}", e.0);
                    unexpected()
                },
            )?;
        ("request", options, session)
    } else {
        let (options, session) =
            webauthn::begin_registration(&rp, &wuser, &credentials, webauthn::new_challenge())
                .map_err(|e| {
                    tracing::warn!("WebAuthn registration options: {}", e.0);
                    ApiError::internal("Failed to generate WebAuthn registration data")
                })?;
        ("create", options, session)
    };
    let challenge = Challenge {
        id: Uuid::new_v4(),
        factor_id: factor.id,
        created_at: state.now_micros(),
        verified_at: None,
        ip_address: ip,
    };
    state.db.run(|conn| -> Result<(), ApiError> {
        let tx = conn.transaction()?;
        mfa::insert_challenge(&tx, &challenge)?;
        mfa::insert_webauthn_session(&tx, challenge.id, &session)?;
        tx.commit()?;
        Ok(())
    })?;
    let expires_at = challenge
        .expires_at(mfa::challenge_expiry(state.config.mfa.challenge_expiry))
        .div_euclid(1_000_000);
    Ok(Json(json!({
        "id": challenge.id,
        "type": WEBAUTHN,
        "expires_at": expires_at,
        "webauthn": {"type": kind, "credential_options": options},
    }))
    .into_response())
}

/// `verifyWebAuthnFactor`: the parameters, the live challenge, then the ceremony its
/// `type` names, which must be the one the challenge was made for. A response that does not
/// parse is a 400; a failed registration check is Go's unknown-error 500, a failed assertion
/// check GoTrue's own 500. The ceremony runs on a blocking thread (it parses CBOR and
/// verifies signatures). Then, in one transaction: the challenge is deleted (used; if it
/// was gone already, a concurrent verification used it and this one fails), a new factor
/// keeps the credential or the credential an assertion used is updated, and the session is
/// raised as a TOTP verification raises it, with `mfa/webauthn`.
///
/// Stricter than GoTrue: GoTrue picks the ceremony by the client's `type` alone, lets a
/// challenge verify twice when two verifications race, stores a credential id already
/// registered (§7.1 step 22), and never stores what an assertion changed (so the sign
/// counter check of §7.2 step 21 never sees a counter).
pub async fn verify(
    state: &Shared,
    auth: &Authenticated,
    factor: &Factor,
    challenge_id: Uuid,
    ip: &str,
    params: Option<WebAuthnParams>,
) -> Result<Response, ApiError> {
    let Some(params) = params else {
        return Err(invalid("WebAuthn config required"));
    };
    let kind = params.kind.unwrap_or_default();
    if kind != "create" && kind != "request" {
        return Err(invalid("WebAuthn type must be create or request"));
    }
    let Some(response) = params.credential_response else {
        return Err(invalid("credential_response required"));
    };
    webauthn::validate_config(&relying_party(state)).map_err(|e| {
        tracing::warn!("WebAuthn configuration: {}", e.0);
        unexpected()
    })?;
    let challenge = live_challenge(state, factor, challenge_id, ip)?;
    let (session, credentials) = state.db.run(|conn| -> Result<_, ApiError> {
        let session = mfa::webauthn_session_of(conn, challenge.id)?;
        let credentials = mfa::webauthn_credentials_of(conn, auth.user.id)?;
        Ok((session, credentials))
    })?;
    // Every challenge of a WebAuthn factor is made with its session data.
    let session = session.ok_or_else(unexpected)?;
    let registering = kind == "create";
    let ceremony = {
        let state = state.clone();
        let user = auth.user.clone();
        let now = state.now().timestamp();
        move || {
            run_ceremony(
                &state,
                &user,
                registering,
                &session,
                &credentials,
                &response,
                now,
            )
        }
    };
    let credential = tokio::task::spawn_blocking(ceremony)
        .await
        .map_err(|_| unexpected())??;
    let body = state.db.run(|conn| -> Result<Value, ApiError> {
        let tx = conn.transaction()?;
        if !mfa::use_challenge(&tx, challenge.id)? {
            return Err(challenge_not_found());
        }
        if registering {
            // A create challenge is only made for an unverified factor; one verified
            // meanwhile (by a concurrent registration) keeps its credential.
            if factor.is_verified()
                || mfa::factor_of_user(&tx, auth.user.id, factor.id)?
                    .is_none_or(|current| current.is_verified())
            {
                tracing::info!("webauthn: the factor was verified meanwhile");
                return Err(unexpected());
            }
            if mfa::webauthn_credential_exists(&tx, &credential.id)? {
                tracing::info!("webauthn: the credential id is already registered");
                return Err(unexpected());
            }
            mfa::save_webauthn_credential(&tx, factor.id, &credential, state.now_micros())?;
        } else {
            mfa::update_webauthn_credential(&tx, auth.user.id, &credential)?;
        }
        let body = raise_session(&tx, state, auth, factor, METHOD)?;
        tx.commit()?;
        Ok(body)
    })?;
    Ok((StatusCode::OK, Json(body)).into_response())
}

/// Parses and checks the client's response: a registration (`registering`) or an assertion.
fn run_ceremony(
    state: &AppState,
    user: &User,
    registering: bool,
    session: &webauthn::SessionData,
    credentials: &[webauthn::Credential],
    response: &Value,
    now: i64,
) -> Result<webauthn::Credential, ApiError> {
    let rp = relying_party(state);
    let wuser = webauthn_user(user);
    let parse_failed = |e: CeremonyError| {
        tracing::info!("{e}");
        invalid("Invalid credential_response")
    };
    if registering {
        let registration = webauthn::parse_registration(response).map_err(parse_failed)?;
        webauthn::finish_registration(&rp, session, &wuser, &registration, now).map_err(|e| {
            tracing::info!("{e}");
            unexpected()
        })
    } else {
        let assertion = webauthn::parse_assertion(response).map_err(parse_failed)?;
        webauthn::finish_login(&rp, session, &wuser, credentials, &assertion).map_err(|e| {
            tracing::info!("{e}");
            ApiError::internal("Failed to validate WebAuthn MFA response")
        })
    }
}
