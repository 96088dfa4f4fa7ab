//! `/factors`: enrolling, challenging, verifying and unenrolling MFA factors, with GoTrue's
//! checks in GoTrue's order and its answers (`api/mfa.go`, `updateMFASessionAndClaims` in
//! `api/token.go`). TOTP factors, and WebAuthn factors when they are on
//! (`routes/mfa_webauthn.rs`); phone factors are answered as a GoTrue with them disabled (its
//! default) answers.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{Extensions, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use axum::{Json, Router};
use rusqlite::Connection;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{authenticate, json_body, peer_ip, Authenticated, Shared};
use crate::db::{self, Session, User};
use crate::errors::ApiError;
use crate::mfa::{self, Challenge, Factor, AAL2, PHONE, TOTP, WEBAUTHN};
use crate::state::{token_response, AppState};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/factors", post(enroll))
        .route("/factors/{factor_id}", delete(unenroll))
        .route("/factors/{factor_id}/challenge", post(challenge))
        .route("/factors/{factor_id}/verify", post(verify))
}

pub(super) fn unprocessable(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

fn unknown_factor_type() -> ApiError {
    ApiError::bad_request(
        "validation_failed",
        "factor_type needs to be totp, phone, or webauthn",
    )
}

/// `requireAuthentication` then `requireNotAnonymous`, as every `/factors` route starts.
/// GoTrue reads `is_anonymous` from the token's claims; here it comes from the user, which
/// is the same thing on this server (an anonymous user cannot become a permanent one here).
fn authenticated(state: &AppState, headers: &HeaderMap) -> Result<Authenticated, ApiError> {
    let auth = authenticate(state, headers)?;
    if auth.user.is_anonymous {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "no_authorization",
            "Anonymous user not allowed to perform these actions",
        ));
    }
    Ok(auth)
}

/// `loadFactor`: the factor named in the path, if the user owns it.
fn owned_factor(state: &AppState, user: &User, factor_id: &str) -> Result<Factor, ApiError> {
    let id = Uuid::parse_str(factor_id).map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "validation_failed",
            "factor_id must be an UUID",
        )
    })?;
    state
        .db
        .run(|conn| mfa::factor_of_user(conn, user.id, id))?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "mfa_factor_not_found",
                "Factor not found",
            )
        })
}

// ---- Enroll ---------------------------------------------------------------------------------

/// Go leaves a field it reads as `null` empty; serde would refuse it, hence the options.
#[derive(Deserialize)]
pub struct EnrollParams {
    #[serde(default)]
    friendly_name: Option<String>,
    #[serde(default)]
    factor_type: Option<String>,
    #[serde(default)]
    issuer: Option<String>,
}

pub async fn enroll(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let auth = authenticated(&state, &headers)?;
    let Some(session) = auth.session else {
        return Err(ApiError::internal(
            "A valid session and a registered user are required to enroll a factor",
        ));
    };
    let params: EnrollParams = json_body(body).await?;
    let config = &state.config.mfa;
    match params.factor_type.as_deref().unwrap_or_default() {
        PHONE => Err(unprocessable(
            "mfa_phone_enroll_not_enabled",
            "MFA enroll is disabled for Phone",
        )),
        WEBAUTHN if !config.webauthn_enroll_enabled => Err(unprocessable(
            "mfa_webauthn_enroll_not_enabled",
            "MFA enroll is disabled for WebAuthn",
        )),
        WEBAUTHN => super::mfa_webauthn::enroll(
            &state,
            &auth.user,
            &session,
            &params.friendly_name.unwrap_or_default(),
        ),
        TOTP if !config.totp_enroll_enabled => Err(unprocessable(
            "mfa_totp_enroll_not_enabled",
            "MFA enroll is disabled for TOTP",
        )),
        TOTP => enroll_totp(&state, &auth.user, &session, params),
        _ => Err(unknown_factor_type()),
    }
}

fn enroll_totp(
    state: &AppState,
    user: &User,
    session: &Session,
    params: EnrollParams,
) -> Result<Response, ApiError> {
    let issuer = match params.issuer.filter(|issuer| !issuer.is_empty()) {
        Some(issuer) => issuer,
        None => site_host(&state.config.site_url)
            .ok_or_else(|| ApiError::internal("site url is improperly formatted"))?,
    };
    let friendly_name = params.friendly_name.unwrap_or_default();
    let now = state.now_micros();
    let factor = state.db.run(|conn| -> Result<Factor, ApiError> {
        check_new_factor(conn, state, user, session, &friendly_name, now)?;
        // pquerna/otp refuses to make a key without an issuer or an account name (the email).
        if issuer.is_empty() || user.email.is_empty() {
            return Err(ApiError::internal("Error generating QR Code"));
        }
        let factor = Factor::new(user, &friendly_name, TOTP, crate::totp::new_secret(), now);
        mfa::insert_factor(conn, &factor)?;
        Ok(factor)
    })?;
    let uri = crate::totp::otpauth_uri(&issuer, &user.email, &factor.secret);
    Ok(Json(json!({
        "id": factor.id,
        "type": TOTP,
        "friendly_name": factor.friendly_name,
        "totp": {
            "qr_code": crate::totp::qr_code_svg(),
            "secret": factor.secret,
            "uri": uri,
        },
    }))
    .into_response())
}

/// GoTrue's `validateFactors`, each statement on its own (the expired factors it deletes
/// stay deleted whatever it answers).
pub(super) fn check_new_factor(
    conn: &Connection,
    state: &AppState,
    user: &User,
    session: &Session,
    friendly_name: &str,
    now: i64,
) -> Result<(), ApiError> {
    mfa::delete_expired_factors(conn, now)?;
    let factors = mfa::factors_of(conn, user.id)?;
    // An empty name is a name like any other: a second unnamed factor conflicts too.
    if factors.iter().any(|f| f.friendly_name == friendly_name) {
        return Err(unprocessable(
            "mfa_factor_name_conflict",
            format!(
                "A factor with the friendly name {friendly_name:?} for this user already exists"
            ),
        ));
    }
    let verified = factors.iter().filter(|f| f.is_verified()).count();
    let limits = &state.config.mfa;
    // GoTrue says "verified" in both messages, though the first limit counts every factor.
    let too_many = || {
        unprocessable(
            "too_many_enrolled_mfa_factors",
            "Maximum number of verified factors reached, unenroll to continue",
        )
    };
    if factors.len() >= limits.max_enrolled_factors as usize {
        return Err(too_many());
    }
    if verified >= limits.max_verified_factors as usize {
        return Err(too_many());
    }
    if verified > 0 && session.aal != AAL2 {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "insufficient_aal",
            "AAL2 required to enroll a new factor",
        ));
    }
    Ok(())
}

/// The host (with its port) of an absolute URL, as Go's `url.ParseRequestURI(..).Host`;
/// `None` when it is not a URL at all, an empty host when it has none.
fn site_host(site_url: &str) -> Option<String> {
    let (scheme, rest) = site_url.split_once(':')?;
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return None;
    }
    let Some(authority) = rest.strip_prefix("//") else {
        return Some(String::new());
    };
    let authority = authority.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    Some(host.to_string())
}

// ---- Challenge ------------------------------------------------------------------------------

/// `ChallengeFactor`'s switch: the factor's type must be verifiable.
fn check_verifiable(state: &AppState, factor: &Factor) -> Result<(), ApiError> {
    match factor.factor_type.as_str() {
        TOTP if state.config.mfa.totp_verify_enabled => Ok(()),
        TOTP => Err(unprocessable(
            "mfa_totp_verify_not_enabled",
            "MFA verification is disabled for TOTP",
        )),
        PHONE => Err(unprocessable(
            "mfa_phone_verify_not_enabled",
            "MFA verification is disabled for Phone",
        )),
        WEBAUTHN if state.config.mfa.webauthn_verify_enabled => Ok(()),
        WEBAUTHN => Err(unprocessable(
            "mfa_webauthn_verify_not_enabled",
            "MFA verification is disabled for WebAuthn",
        )),
        _ => Err(unknown_factor_type()),
    }
}

/// `POST /factors/{id}/challenge`. A TOTP challenge reads no body; a WebAuthn one does. Any factor of the user can
/// be challenged, verified or not, at any aal.
pub async fn challenge(
    State(state): State<Shared>,
    Path(factor_id): Path<String>,
    headers: HeaderMap,
    extensions: Extensions,
    body: Body,
) -> Result<Response, ApiError> {
    let auth = authenticated(&state, &headers)?;
    let factor = owned_factor(&state, &auth.user, &factor_id)?;
    check_verifiable(&state, &factor)?;
    if factor.factor_type == WEBAUTHN {
        let ip = peer_ip(&extensions).to_string();
        return super::mfa_webauthn::challenge(&state, &auth.user, &factor, ip, body).await;
    }
    let challenge = Challenge {
        id: Uuid::new_v4(),
        factor_id: factor.id,
        created_at: state.now_micros(),
        verified_at: None,
        ip_address: peer_ip(&extensions).to_string(),
    };
    state
        .db
        .run(|conn| mfa::insert_challenge(conn, &challenge))?;
    let expires_at = challenge
        .expires_at(mfa::challenge_expiry(state.config.mfa.challenge_expiry))
        .div_euclid(1_000_000);
    Ok(Json(json!({
        "id": challenge.id,
        "type": factor.factor_type,
        "expires_at": expires_at,
    }))
    .into_response())
}

// ---- Verify ---------------------------------------------------------------------------------

#[derive(Deserialize)]
pub struct VerifyParams {
    /// Absent or `null` is the nil UUID in GoTrue, a challenge that is never found.
    #[serde(default)]
    challenge_id: Option<Uuid>,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    webauthn: Option<super::mfa_webauthn::WebAuthnParams>,
}

/// `POST /factors/{id}/verify`: a right code for a live challenge of this factor verifies the
/// factor (if it was not yet), raises the caller's session to aal2 with a new access token and
/// a new refresh token, ends the user's other aal1 sessions and drops the user's other
/// unverified factors of the type.
pub async fn verify(
    State(state): State<Shared>,
    Path(factor_id): Path<String>,
    headers: HeaderMap,
    extensions: Extensions,
    body: Body,
) -> Result<Response, ApiError> {
    let auth = authenticated(&state, &headers)?;
    let factor = owned_factor(&state, &auth.user, &factor_id)?;
    let params: VerifyParams = json_body(body).await?;
    let code = params.code.unwrap_or_default();
    if code.is_empty() && factor.factor_type != WEBAUTHN {
        return Err(ApiError::bad_request(
            "validation_failed",
            "Code needs to be non-empty",
        ));
    }
    let ip = peer_ip(&extensions).to_string();
    if factor.factor_type == WEBAUTHN {
        // GoTrue's verify answers this with the enroll code (`VerifyFactor`).
        if !state.config.mfa.webauthn_verify_enabled {
            return Err(unprocessable(
                "mfa_webauthn_enroll_not_enabled",
                "MFA verification is disabled for WebAuthn",
            ));
        }
        let challenge_id = params.challenge_id.unwrap_or_default();
        return super::mfa_webauthn::verify(
            &state,
            &auth,
            &factor,
            challenge_id,
            &ip,
            params.webauthn,
        )
        .await;
    }
    check_verifiable(&state, &factor)?;
    let challenge = live_challenge(
        &state,
        &factor,
        params.challenge_id.unwrap_or_default(),
        &ip,
    )?;
    if !crate::totp::is_valid(&code, &factor.secret, state.now().timestamp()) {
        return Err(unprocessable(
            "mfa_verification_failed",
            "Invalid TOTP code entered",
        ));
    }
    let body = state.db.run(|conn| -> Result<Value, ApiError> {
        let tx = conn.transaction()?;
        // A concurrent verification of the same challenge came first: answered as a used
        // challenge is (see `live_challenge`).
        if !mfa::mark_challenge_verified(&tx, challenge.id, state.now_micros())? {
            return Err(challenge_used());
        }
        let body = raise_session(&tx, &state, &auth, &factor, TOTP)?;
        tx.commit()?;
        Ok(body)
    })?;
    Ok(Json(body).into_response())
}

/// What GoTrue answers for a challenge already used (and for one from another address).
pub(super) fn challenge_used() -> ApiError {
    unprocessable(
        "mfa_ip_address_mismatch",
        "Challenge and verify IP addresses mismatch.",
    )
}

/// What GoTrue answers for a challenge that is not (or no longer) there.
pub(super) fn challenge_not_found() -> ApiError {
    unprocessable(
        "mfa_factor_not_found",
        "MFA factor with the provided challenge ID not found",
    )
}

/// GoTrue's `validateChallenge`: the challenge must belong to the factor, be unused and come
/// from the same address, and be unexpired (an expired one is deleted).
pub(super) fn live_challenge(
    state: &AppState,
    factor: &Factor,
    challenge_id: Uuid,
    ip: &str,
) -> Result<Challenge, ApiError> {
    let expiry = mfa::challenge_expiry(state.config.mfa.challenge_expiry);
    let now = state.now_micros();
    state.db.run(|conn| {
        let challenge =
            mfa::challenge_of_factor(conn, factor.id, challenge_id)?.ok_or_else(challenge_not_found)?;
        // A used challenge gets the address mismatch answer too, as in GoTrue.
        if challenge.verified_at.is_some() || challenge.ip_address != ip {
            return Err(challenge_used());
        }
        if now > challenge.expires_at(expiry) {
            mfa::delete_challenge(conn, challenge.id)?;
            return Err(unprocessable(
                "mfa_challenge_expired",
                format!(
                    "MFA challenge {} has expired, verify against another challenge or create a new challenge.",
                    challenge.id
                ),
            ));
        }
        Ok(challenge)
    })
}

/// The successful verification, in the caller's transaction (after it used the challenge):
/// the factor verified, the session raised with `method` (`updateMFASessionAndClaims`), then
/// the user's aal1 sessions end and the other unverified factors of the type go. The
/// answer's user is read before those factors go, as GoTrue reads it.
pub(super) fn raise_session(
    conn: &Connection,
    state: &AppState,
    auth: &Authenticated,
    factor: &Factor,
    method: &str,
) -> Result<Value, ApiError> {
    let now = state.now();
    let micros = now.timestamp_micros();
    if !factor.is_verified() {
        mfa::mark_factor_verified(conn, factor.id, micros)?;
    }
    let session = auth
        .session
        .as_ref()
        .ok_or_else(|| ApiError::internal("Cannot read SessionId claim as UUID"))?;
    let session = db::session_by_id(conn, session.id)?
        .ok_or_else(|| ApiError::internal("session vanished"))?;
    mfa::add_amr_claim(conn, &session, method, factor.id, now.timestamp())?;
    let refresh_token = next_refresh_token(conn, &session, micros)?;
    let session = db::session_by_id(conn, session.id)?
        .ok_or_else(|| ApiError::internal("session vanished"))?;
    let user =
        db::user_by_id(conn, auth.user.id)?.ok_or_else(|| ApiError::internal("user vanished"))?;
    let body = token_response(state, &user, &session, &refresh_token);
    mfa::end_sessions_below_aal2(conn, user.id)?;
    mfa::delete_unverified_factors(conn, user.id, &factor.factor_type)?;
    Ok(body)
}

/// The refresh token the raised session gets. v2: the counter steps by two, so the token
/// issued before (at aal1) is not the one just before the current token and gets no
/// "fail-to-save" tolerance; the session's last refresh time is not touched. Legacy: the
/// session's live token is swapped for a child, as a refresh swaps it (and, as GoTrue's
/// `createRefreshToken`, the user's last sign-in is now).
fn next_refresh_token(conn: &Connection, session: &Session, now: i64) -> Result<String, ApiError> {
    if let Some(key) = &session.hmac_key {
        let counter = session.counter + 2;
        db::set_refresh_token_key(conn, session.id, key, counter)?;
        return Ok(crate::refresh_token::V2Token::encode(
            session.id,
            counter as u64,
            key,
        ));
    }
    // GoTrue takes the oldest live token of the session; a session has one live token here,
    // the head of its chain.
    let live = db::active_refresh_token(conn, session.id)?
        .ok_or_else(|| ApiError::internal("Refresh Token not found"))?;
    db::revoke_refresh_token(conn, live.id, now)?;
    let child = crate::refresh_token::generate_legacy();
    db::insert_refresh_token(
        conn,
        &child,
        live.user_id,
        session.id,
        Some(&live.token),
        now,
    )?;
    db::record_sign_in(conn, live.user_id, now)?;
    Ok(child)
}

// ---- Unenroll -------------------------------------------------------------------------------

/// `DELETE /factors/{id}`: a verified factor needs an aal2 session. The sessions raised with
/// it go back to aal1 (their tokens say so from their next refresh); `{id}` answers.
pub async fn unenroll(
    State(state): State<Shared>,
    Path(factor_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let auth = authenticated(&state, &headers)?;
    let factor = owned_factor(&state, &auth.user, &factor_id)?;
    let Some(session) = auth.session else {
        return Err(ApiError::internal(
            "A valid session and factor are required to unenroll a factor",
        ));
    };
    if factor.is_verified() && session.aal != AAL2 {
        return Err(unprocessable(
            "insufficient_aal",
            "AAL2 required to unenroll verified factor",
        ));
    }
    state.db.run(|conn| -> Result<(), ApiError> {
        let tx = conn.transaction()?;
        mfa::delete_factor(&tx, factor.id)?;
        mfa::downgrade_sessions_of_factor(&tx, &factor)?;
        tx.commit()?;
        Ok(())
    })?;
    Ok(Json(json!({"id": factor.id})).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issuer_is_the_site_urls_host_as_go_reads_it() {
        assert_eq!(
            site_host("http://127.0.0.1:3000").as_deref(),
            Some("127.0.0.1:3000")
        );
        assert_eq!(
            site_host("https://user@app.example.com/path?q").as_deref(),
            Some("app.example.com")
        );
        assert_eq!(site_host("mailto:someone").as_deref(), Some(""));
        assert_eq!(site_host("not a url"), None);
        assert_eq!(site_host(""), None);
    }
}
