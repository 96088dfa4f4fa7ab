//! `POST /token`: the password and refresh-token grants, with GoTrue's rotation and reuse
//! rules (legacy chains and v2 counters) and its session checks.

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{Extensions, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rusqlite::Connection;
use serde::Deserialize;
use serde_json::Value;

use super::{json_body, peer_ip, Shared};
use crate::db::{self, RefreshTokenRow, Session, User};
use crate::errors::ApiError;
use crate::refresh_token::{is_well_formed, V2Token, LEGACY_LEN};
use crate::state::{is_banned, start_session, token_response, AppState};
use crate::traffic::CONTENTION_LIMIT;

pub async fn token(
    State(state): State<Shared>,
    RawQuery(query): RawQuery,
    extensions: Extensions,
    body: Body,
) -> Result<Response, ApiError> {
    // The limiter runs before the body is read, for every grant.
    if !state.rate_limiter.allow(peer_ip(&extensions)) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "over_request_rate_limit",
            "Request rate limit reached",
        ));
    }
    match super::query_param(query.as_deref(), "grant_type")
        .unwrap_or_default()
        .as_str()
    {
        "password" => password_grant(&state, json_body(body).await?),
        "refresh_token" => refresh_grant(&state, json_body(body).await?).await,
        _ => Err(ApiError::bad_request(
            "invalid_credentials",
            "unsupported_grant_type",
        )),
    }
}

#[derive(Deserialize)]
pub struct PasswordParams {
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    password: String,
}

fn password_grant(state: &AppState, params: PasswordParams) -> Result<Response, ApiError> {
    let invalid = || ApiError::bad_request("invalid_credentials", "Invalid login credentials");
    if params.email.is_empty() && params.phone.is_empty() {
        return Err(ApiError::bad_request(
            "validation_failed",
            "missing email or phone",
        ));
    }
    let now = state.now_micros();
    let body = state.db.run(|conn| -> Result<Value, ApiError> {
        let tx = conn.transaction()?;
        let user = if params.email.is_empty() {
            db::user_by_phone(&tx, &params.phone)?
        } else {
            db::user_by_email(&tx, &params.email.to_lowercase())?
        }
        .ok_or_else(invalid)?;
        let hash = user.password_hash.as_deref().ok_or_else(invalid)?;
        if !crate::hash::check_password(hash, &params.password) {
            return Err(invalid());
        }
        if is_banned(&user, now) {
            return Err(ApiError::bad_request("user_banned", "User is banned"));
        }
        if !params.email.is_empty() && user.email_confirmed_at.is_none() {
            return Err(ApiError::bad_request(
                "email_not_confirmed",
                "Email not confirmed",
            ));
        }
        if params.email.is_empty() && user.phone_confirmed_at.is_none() {
            return Err(ApiError::bad_request(
                "phone_not_confirmed",
                "Phone not confirmed",
            ));
        }
        let (session, refresh_token) = start_session(&tx, state, &user, "password", None)?;
        let user = db::user_by_id(&tx, user.id)?.unwrap_or(user);
        tx.commit()?;
        Ok(token_response(state, &user, &session, &refresh_token))
    })?;
    Ok(Json(body).into_response())
}

#[derive(Deserialize)]
pub struct RefreshParams {
    #[serde(default)]
    refresh_token: String,
}

fn not_found() -> ApiError {
    ApiError::bad_request(
        "refresh_token_not_found",
        "Invalid Refresh Token: Refresh Token Not Found",
    )
}

fn already_used() -> ApiError {
    ApiError::bad_request(
        "refresh_token_already_used",
        "Invalid Refresh Token: Already Used",
    )
}

fn session_expired(detail: &str) -> ApiError {
    ApiError::bad_request(
        "session_expired",
        format!("Invalid Refresh Token: Session Expired{detail}"),
    )
}

/// What a successful refresh hands out, and how it came to be (for the `sb-auth-*` headers).
struct Issued {
    user: User,
    session: Session,
    refresh_token: String,
    reuse_cause: Option<&'static str>,
    rotated: bool,
}

/// The result of the transaction: an answer, and whether to commit even though it failed.
type Outcome = (Result<Issued, ApiError>, bool);

async fn refresh_grant(state: &AppState, params: RefreshParams) -> Result<Response, ApiError> {
    let token = params.refresh_token;
    if !is_well_formed(&token) {
        return Err(ApiError::bad_request(
            "validation_failed",
            "Refresh token is not valid",
        ));
    }
    // Find the session first (briefly), then serialize on it: concurrent refreshes of one
    // session run one at a time, and waiting longer than GoTrue's retry loop is a 409.
    let session_key = if token.len() == LEGACY_LEN {
        let row = state
            .db
            .run(|conn| db::refresh_token(conn, &token))?
            .ok_or_else(not_found)?;
        row.session_id.map(|s| s.to_string()).unwrap_or(row.token)
    } else {
        V2Token::decode(&token)
            .ok_or_else(not_found)?
            .session_id
            .to_string()
    };
    let _guard = state
        .session_locks
        .acquire(&session_key, CONTENTION_LIMIT)
        .await
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                "Too many concurrent token refresh requests on the same session or refresh token",
            )
        })?;

    let issued = state.db.run(|conn| -> Result<Issued, ApiError> {
        let tx = conn.transaction()?;
        let (result, commit) = if token.len() == LEGACY_LEN {
            refresh_legacy(&tx, state, &token)?
        } else {
            refresh_v2(&tx, state, &token)?
        };
        if commit {
            tx.commit()?;
        }
        result
    })?;
    let body = token_response(state, &issued.user, &issued.session, &issued.refresh_token);
    let mut response = Json(body).into_response();
    informational_headers(response.headers_mut(), &issued);
    Ok(response)
}

/// The checks GoTrue makes before rotating: ban, session lifetime, OAuth client, single session.
fn check_user_and_session(
    conn: &Connection,
    state: &AppState,
    user: &User,
    session: &Session,
    last_refresh: i64,
) -> Result<(), ApiError> {
    let now = state.now_micros();
    if is_banned(user, now) {
        return Err(ApiError::bad_request(
            "user_banned",
            "Invalid Refresh Token: User Banned",
        ));
    }
    let limits = &state.config.sessions;
    if session.not_after.is_some_and(|t| now > t) {
        return Err(session_expired(""));
    }
    if let Some(timebox) = limits.timebox {
        if now > session.created_at + timebox.as_micros() as i64 {
            return Err(session_expired(""));
        }
    }
    if let Some(timeout) = limits.inactivity_timeout {
        if now > last_refresh + timeout.as_micros() as i64 {
            return Err(session_expired(" (Inactivity)"));
        }
    }
    if session.oauth_client_id.is_some() {
        // Sessions issued to an OAuth client must authenticate the client on refresh; this
        // server accepts no client credentials, so it answers as GoTrue does without them.
        return Err(ApiError::oauth(
            "invalid_client",
            "Client authentication required for OAuth session",
        ));
    }
    if limits.single_per_user {
        let newest = db::sessions(conn, Some(user.id))?
            .into_iter()
            .max_by_key(|s| (s.refreshed_at.unwrap_or(s.created_at), s.created_at));
        if newest.is_some_and(|newest| newest.id != session.id) {
            return Err(session_expired(" (Revoked by Newer Login)"));
        }
    }
    Ok(())
}

fn refresh_legacy(conn: &Connection, state: &AppState, token: &str) -> Result<Outcome, ApiError> {
    let now = state.now_micros();
    let config = &state.config;
    let row = db::refresh_token(conn, token)?.ok_or_else(not_found)?;
    let user = db::user_by_id(conn, row.user_id)?.ok_or_else(not_found)?;
    if is_banned(&user, now) {
        return Err(ApiError::bad_request(
            "user_banned",
            "Invalid Refresh Token: User Banned",
        ));
    }
    let Some(session_id) = row.session_id else {
        // A token from before sessions existed: GoTrue deletes it.
        db::delete_refresh_token(conn, row.id)?;
        let error = ApiError::bad_request(
            "session_not_found",
            "Invalid Refresh Token: No Valid Session Found",
        );
        return Ok((Err(error), true));
    };
    let session = db::session_by_id(conn, session_id)?.ok_or_else(not_found)?;
    check_user_and_session(
        conn,
        state,
        &user,
        &session,
        session.refreshed_at.unwrap_or(row.updated_at),
    )?;

    let mut reuse_cause = None;
    let issued_token = if row.revoked {
        let active = db::active_refresh_token(conn, session_id)?;
        let reuse_window = config.reuse_interval.as_micros() as i64;
        match active {
            // The parent of the head gets the head again, however late: the client lost
            // the answer that carried it.
            Some(active) if active.parent.as_deref() == Some(token) => {
                reuse_cause = Some("fail-to-save");
                Some(active.token)
            }
            _ if config.allow_reuse => {
                reuse_cause = Some("always-allow");
                None
            }
            _ if now <= row.updated_at + reuse_window => {
                reuse_cause = Some("concurrent-refresh");
                None
            }
            _ => {
                if config.rotation_enabled {
                    db::revoke_token_family(conn, session_id, now)?;
                }
                // The revocation stands although the request fails.
                return Ok((Err(already_used()), true));
            }
        }
    } else {
        None
    };
    let (refresh_token, rotated) = match issued_token {
        Some(token) => (token, false),
        None if !config.rotation_enabled && !row.revoked => (row.token.clone(), false),
        None => (swap(conn, &row, session_id, now)?, true),
    };
    db::mark_session_refreshed(conn, session_id, session.counter, now)?;
    let session = db::session_by_id(conn, session_id)?.ok_or_else(not_found)?;
    Ok((
        Ok(Issued {
            user,
            session,
            refresh_token,
            reuse_cause,
            rotated,
        }),
        true,
    ))
}

/// Revokes `row` and issues its child.
fn swap(
    conn: &Connection,
    row: &RefreshTokenRow,
    session: uuid::Uuid,
    now: i64,
) -> rusqlite::Result<String> {
    if !row.revoked {
        db::revoke_refresh_token(conn, row.id, now)?;
    }
    let child = crate::refresh_token::generate_legacy();
    db::insert_refresh_token(conn, &child, row.user_id, session, Some(&row.token), now)?;
    Ok(child)
}

fn refresh_v2(conn: &Connection, state: &AppState, token: &str) -> Result<Outcome, ApiError> {
    let now = state.now_micros();
    let config = &state.config;
    let decoded = V2Token::decode(token).ok_or_else(not_found)?;
    let session = db::session_by_id(conn, decoded.session_id)?.ok_or_else(not_found)?;
    let key = session.hmac_key.clone().ok_or_else(not_found)?;
    if !decoded.signed_by(&key) {
        return Err(not_found());
    }
    let user = db::user_by_id(conn, session.user_id)?.ok_or_else(not_found)?;
    let last_refresh = session.refreshed_at.unwrap_or(session.created_at);
    check_user_and_session(conn, state, &user, &session, last_refresh)?;

    let behind = session.counter - decoded.counter as i64;
    let (counter, reuse_cause) = match behind {
        d if d < 0 => {
            return Err(ApiError::bad_request(
                "validation_failed",
                "Invalid Refresh Token: Not Issued By This Server",
            ))
        }
        0 => (session.counter + 1, None),
        1 => (session.counter, Some("fail-to-save")),
        _ if now < last_refresh + config.reuse_interval.as_micros() as i64 => {
            (session.counter, Some("concurrent-refresh"))
        }
        _ if config.allow_reuse => (session.counter, Some("always-allow")),
        _ => {
            if config.rotation_enabled {
                db::delete_session(conn, session.id)?;
            }
            return Ok((Err(already_used()), true));
        }
    };
    db::mark_session_refreshed(conn, session.id, counter, now)?;
    let session = db::session_by_id(conn, session.id)?.ok_or_else(not_found)?;
    let refresh_token = V2Token::encode(session.id, counter as u64, &key);
    Ok((
        Ok(Issued {
            user,
            session,
            refresh_token,
            reuse_cause,
            rotated: reuse_cause.is_none(),
        }),
        true,
    ))
}

/// GoTrue's `sb-auth-*` headers on refresh answers; clients ignore them, people debugging
/// rotation do not.
fn informational_headers(headers: &mut HeaderMap, issued: &Issued) {
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    };
    set("sb-auth-user-id", issued.user.id.to_string());
    set("sb-auth-session-id", issued.session.id.to_string());
    if issued.session.hmac_key.is_some() {
        set(
            "sb-auth-refresh-token-counter",
            issued.session.counter.to_string(),
        );
    } else {
        set(
            "sb-auth-refresh-token-prefix",
            issued.refresh_token.chars().take(5).collect(),
        );
    }
    set(
        "sb-auth-refresh-token-reuse",
        issued.reuse_cause.is_some().to_string(),
    );
    if let Some(cause) = issued.reuse_cause {
        set("sb-auth-refresh-token-reuse-cause", cause.to_string());
    }
    set("sb-auth-refresh-token-rotated", issued.rotated.to_string());
}
