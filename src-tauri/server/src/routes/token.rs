//! `POST /token`: the password and refresh-token grants, with GoTrue's rotation and reuse
//! rules (legacy chains and v2 counters) and its session checks; the PKCE grant
//! (`oauth::pkce_grant`).

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{Extensions, HeaderName, HeaderValue, StatusCode};
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
    headers: axum::http::HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let grant = super::query_param(query.as_deref(), "grant_type").unwrap_or_default();
    // An unknown grant is answered first; the limiter runs next, before the body is read.
    if !matches!(
        grant.as_str(),
        "password" | "refresh_token" | "pkce" | "id_token" | "web3"
    ) {
        return Err(ApiError::bad_request(
            "invalid_credentials",
            "unsupported_grant_type",
        ));
    }
    if !state.rate_limiter.allow(peer_ip(&extensions)) {
        return Err(ApiError::rate_limited());
    }
    if grant == "password" {
        password_grant(&state, json_body(body).await?)
    } else if grant == "pkce" {
        super::oauth::pkce_grant(&state, json_body(body).await?)
    } else if grant == "id_token" {
        super::id_token::id_token_grant(&state, &headers, json_body(body).await?)
    } else if grant == "web3" {
        Err(super::disabled::web3_disabled())
    } else {
        refresh_grant(&state, json_body(body).await?).await
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
    if !params.email.is_empty() && !params.phone.is_empty() {
        return Err(ApiError::bad_request(
            "validation_failed",
            "Only an email address or phone number should be provided on login.",
        ));
    }
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
        // GoTrue checks the ban before the password.
        if is_banned(&user, now) {
            return Err(ApiError::bad_request("user_banned", "User is banned"));
        }
        if !crate::hash::check_password(hash, &params.password) {
            return Err(invalid());
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
        let mut body = token_response(state, &user, &session, &refresh_token);
        // A password that passed when it was set but fails today's rules still signs in;
        // GoTrue says so beside the session.
        if let Err(weak) = super::account::check_password_strength(&params.password) {
            body["weak_password"] = serde_json::json!({
                "message": weak.message,
                "reasons": weak.weak_password_reasons.unwrap_or_default(),
            });
        }
        Ok(body)
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

/// What a successful refresh hands out.
struct Issued {
    user: User,
    session: Session,
    refresh_token: String,
}

/// The result of the transaction: an answer, and whether to commit even though it failed.
type Outcome = (Result<Issued, ApiError>, bool);

const USER_ID: &str = "sb-auth-user-id";
const SESSION_ID: &str = "sb-auth-session-id";
const REUSE: &str = "sb-auth-refresh-token-reuse";
const REUSE_CAUSE: &str = "sb-auth-refresh-token-reuse-cause";
const ROTATED: &str = "sb-auth-refresh-token-rotated";
const PREFIX: &str = "sb-auth-refresh-token-prefix";
const COUNTER: &str = "sb-auth-refresh-token-counter";

/// GoTrue's `sb-auth-*` headers, set as `RefreshTokenGrant` learns each fact, so an answer
/// that fails after the lookup carries them too. Clients ignore them; people debugging
/// rotation do not.
#[derive(Default)]
struct SbHeaders(Vec<(&'static str, String)>);

impl SbHeaders {
    fn set(&mut self, name: &'static str, value: impl ToString) {
        self.0.retain(|(n, _)| *n != name);
        self.0.push((name, value.to_string()));
    }

    fn apply(self, mut response: Response) -> Response {
        let headers = response.headers_mut();
        for (name, value) in self.0 {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(HeaderName::from_static(name), value);
            }
        }
        response
    }
}

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

    let mut headers = SbHeaders::default();
    let issued = state.db.run(|conn| -> Result<Issued, ApiError> {
        let tx = conn.transaction()?;
        let (result, commit) = if token.len() == LEGACY_LEN {
            refresh_legacy(&tx, state, &token, &mut headers)?
        } else {
            refresh_v2(&tx, state, &token, &mut headers)?
        };
        if commit {
            tx.commit()?;
        }
        result
    });
    let response = match issued {
        Ok(issued) => {
            let body = token_response(state, &issued.user, &issued.session, &issued.refresh_token);
            Json(body).into_response()
        }
        Err(error) => error.into_response(),
    };
    Ok(headers.apply(response))
}

fn user_banned() -> ApiError {
    ApiError::bad_request("user_banned", "Invalid Refresh Token: User Banned")
}

/// GoTrue's `Session.LastRefreshedAt`: the session's last refresh; before the first, the
/// refresh token's time when it is later than the session's creation.
fn last_refreshed_at(session: &Session, token_time: Option<i64>) -> i64 {
    match (session.refreshed_at, token_time) {
        (Some(refreshed), _) => refreshed,
        (None, Some(token_time)) if token_time > session.created_at => token_time,
        _ => session.created_at,
    }
}

/// Why a session is no longer valid: GoTrue's `SessionValidityReason`. (GoTrue's low-AAL
/// reason needs `SESSIONS_ALLOW_LOW_AAL`, a setting this server does not have.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SessionValidity {
    Valid,
    PastNotAfter,
    PastTimebox,
    TimedOut,
}

/// GoTrue's `Session.CheckValidity`: the session's `not_after`, the configured timebox and
/// inactivity timeout, in that order. Used by the refresh grant and the admin gate.
pub(crate) fn session_validity(
    state: &AppState,
    session: &Session,
    token_time: Option<i64>,
    now: i64,
) -> SessionValidity {
    let limits = state.session_limits();
    if session.not_after.is_some_and(|t| now > t) {
        return SessionValidity::PastNotAfter;
    }
    if let Some(timebox) = limits.timebox.filter(|t| !t.is_zero()) {
        if now > session.created_at + timebox.as_micros() as i64 {
            return SessionValidity::PastTimebox;
        }
    }
    if let Some(timeout) = limits.inactivity_timeout.filter(|t| !t.is_zero()) {
        if now > last_refreshed_at(session, token_time) + timeout.as_micros() as i64 {
            return SessionValidity::TimedOut;
        }
    }
    SessionValidity::Valid
}

/// `session_validity` as the error `RefreshTokenGrant` answers for it.
fn validity(
    state: &AppState,
    session: &Session,
    token_time: Option<i64>,
    now: i64,
) -> Result<(), ApiError> {
    match session_validity(state, session, token_time, now) {
        SessionValidity::Valid => Ok(()),
        SessionValidity::PastNotAfter | SessionValidity::PastTimebox => Err(session_expired("")),
        SessionValidity::TimedOut => Err(session_expired(" (Inactivity)")),
    }
}

/// The checks GoTrue makes once the user is known not to be banned: session lifetime, OAuth
/// client, single session per user.
fn check_session(
    conn: &Connection,
    state: &AppState,
    user: &User,
    session: &Session,
    token_time: Option<i64>,
) -> Result<(), ApiError> {
    let now = state.now_micros();
    validity(state, session, token_time, now)?;
    if session.oauth_client_id.is_some() {
        // Sessions issued to an OAuth client must authenticate the client on refresh; this
        // server accepts no client credentials, so it answers as GoTrue does without them.
        return Err(ApiError::oauth(
            "invalid_client",
            "Client authentication required for OAuth session",
        ));
    }
    if state.config.sessions.single_per_user {
        // Another valid session refreshed strictly later than this one wins; ended sessions
        // do not count, and a tie is not a loss.
        let this = last_refreshed_at(session, token_time);
        let newer = db::sessions(conn, Some(user.id))?.into_iter().any(|other| {
            other.id != session.id
                && validity(state, &other, None, now).is_ok()
                && last_refreshed_at(&other, None) > this
        });
        if newer {
            return Err(session_expired(" (Revoked by Newer Login)"));
        }
    }
    Ok(())
}

fn refresh_legacy(
    conn: &Connection,
    state: &AppState,
    token: &str,
    headers: &mut SbHeaders,
) -> Result<Outcome, ApiError> {
    let now = state.now_micros();
    let config = &state.config;
    let row = db::refresh_token(conn, token)?.ok_or_else(not_found)?;
    let user = db::user_by_id(conn, row.user_id)?.ok_or_else(not_found)?;
    headers.set(USER_ID, user.id);
    if is_banned(&user, now) {
        return Err(user_banned());
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
    headers.set(SESSION_ID, session.id);
    check_session(conn, state, &user, &session, Some(row.updated_at))?;

    let mut issued = None;
    if row.revoked {
        let active = db::active_refresh_token(conn, session_id)?;
        match active {
            // The parent of the head gets the head again, however late: the client lost
            // the answer that carried it.
            Some(active) if active.parent.as_deref() == Some(token) => issued = Some(active.token),
            // Outside the interval: the request fails; with rotation on, the whole family
            // is revoked first and that stands.
            _ if now > row.updated_at + config.reuse_interval.as_micros() as i64 => {
                if config.rotation_enabled {
                    db::revoke_token_family(conn, session_id, now)?;
                }
                return Ok((Err(already_used()), true));
            }
            // Inside the interval: swapped like an unused token.
            _ => {}
        }
    }
    let mut counter = session.counter;
    let refresh_token = match issued {
        Some(active) => active,
        // Every other accepted legacy token is swapped, whatever the rotation setting.
        None => {
            let child = swap(conn, &row, session_id, now)?;
            let token = if upgrades_to_v2(config, session_id) {
                let (token, new_counter) = upgrade(conn, &session, &child, now)?;
                counter = new_counter;
                headers.set(COUNTER, counter);
                token
            } else {
                child
            };
            headers.set(REUSE, "false");
            token
        }
    };
    headers.set(PREFIX, refresh_token.chars().take(5).collect::<String>());
    db::mark_session_refreshed(conn, session_id, counter, now)?;
    let session = db::session_by_id(conn, session_id)?.ok_or_else(not_found)?;
    Ok((
        Ok(Issued {
            user,
            session,
            refresh_token,
        }),
        true,
    ))
}

/// GoTrue's `REFRESH_TOKEN_UPGRADE_PERCENTAGE`: a share of the sessions, chosen by session
/// id. GoTrue seeds Go's `math/rand` with the id's CRC-32; this takes the id's SHA-256
/// instead, so the share is the same but not necessarily the same sessions.
fn upgrades_to_v2(config: &crate::Config, session: uuid::Uuid) -> bool {
    let percentage = config.refresh_token_upgrade_percentage;
    if config.refresh_token_format != crate::RefreshTokenFormat::V2 || percentage == 0 {
        return false;
    }
    let digest = crate::hash::sha256(session.as_bytes());
    percentage >= 100
        || u64::from_le_bytes(digest[..8].try_into().unwrap()) % 100 < u64::from(percentage)
}

/// Moves a legacy session to v2: the legacy child just issued is revoked, the session gets
/// its HMAC key (counter 0) or its next counter, and a v2 token is issued instead.
fn upgrade(
    conn: &Connection,
    session: &Session,
    legacy_child: &str,
    now: i64,
) -> rusqlite::Result<(String, i64)> {
    if let Some(child) = db::refresh_token(conn, legacy_child)? {
        db::revoke_refresh_token(conn, child.id, now)?;
    }
    let (key, counter) = match &session.hmac_key {
        Some(key) => (key.clone(), session.counter + 1),
        None => (crate::hash::random_bytes::<32>().to_vec(), 0),
    };
    db::set_refresh_token_key(conn, session.id, &key, counter)?;
    Ok((V2Token::encode(session.id, counter as u64, &key), counter))
}

/// Revokes `row` and issues its child. A row already revoked (a reuse inside the interval)
/// is written again too: GoTrue's `GrantRefreshTokenSwap` runs `UpdateOnly(token, "revoked")`
/// on every accepted token, and that always renews `updated_at`, so each accepted reuse
/// starts the token's reuse interval again.
fn swap(
    conn: &Connection,
    row: &RefreshTokenRow,
    session: uuid::Uuid,
    now: i64,
) -> rusqlite::Result<String> {
    db::revoke_refresh_token(conn, row.id, now)?;
    let child = crate::refresh_token::generate_legacy();
    db::insert_refresh_token(conn, &child, row.user_id, session, Some(&row.token), now)?;
    Ok(child)
}

fn refresh_v2(
    conn: &Connection,
    state: &AppState,
    token: &str,
    headers: &mut SbHeaders,
) -> Result<Outcome, ApiError> {
    let now = state.now_micros();
    let config = &state.config;
    let decoded = V2Token::decode(token).ok_or_else(not_found)?;
    let session = db::session_by_id(conn, decoded.session_id)?.ok_or_else(not_found)?;
    let key = session.hmac_key.clone().ok_or_else(not_found)?;
    if !decoded.signed_by(&key) {
        return Err(not_found());
    }
    let user = db::user_by_id(conn, session.user_id)?.ok_or_else(not_found)?;
    headers.set(USER_ID, user.id);
    if is_banned(&user, now) {
        return Err(user_banned());
    }
    headers.set(SESSION_ID, session.id);
    check_session(conn, state, &user, &session, None)?;

    let behind = session.counter - decoded.counter as i64;
    let counter = match behind {
        d if d < 0 => {
            return Err(ApiError::bad_request(
                "validation_failed",
                "Invalid Refresh Token: Not Issued By This Server",
            ))
        }
        0 => {
            headers.set(REUSE, "false");
            session.counter + 1
        }
        _ => {
            let window = config.reuse_interval.as_micros() as i64;
            let since_refresh = (now - last_refreshed_at(&session, None)).abs();
            let causes: Vec<&str> = [
                (since_refresh < window, "concurrent-refresh"),
                (behind == 1, "fail-to-save"),
                (config.allow_reuse, "always-allow"),
            ]
            .into_iter()
            .filter_map(|(applies, cause)| applies.then_some(cause))
            .collect();
            if !causes.is_empty() {
                headers.set(REUSE_CAUSE, causes.join(","));
                // Tolerated: the current token again, the counter stays.
                session.counter
            } else if config.rotation_enabled {
                db::delete_session(conn, session.id)?;
                headers.set(ROTATED, "true");
                return Ok((Err(already_used()), true));
            } else {
                return Ok((Err(already_used()), true));
            }
        }
    };
    db::mark_session_refreshed(conn, session.id, counter, now)?;
    headers.set(COUNTER, counter);
    let session = db::session_by_id(conn, session.id)?.ok_or_else(not_found)?;
    let refresh_token = V2Token::encode(session.id, counter as u64, &key);
    Ok((
        Ok(Issued {
            user,
            session,
            refresh_token,
        }),
        true,
    ))
}
