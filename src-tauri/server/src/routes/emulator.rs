//! `/_emulator/*`: the control surface for tests and the playground, apart from GoTrue's
//! routes (no API key, no faults, not counted). It can see and change everything.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{json_body_or_empty as json_body, Shared};
use crate::clock::{from_micros, rfc3339};
use crate::config::{RateLimit, SigningAlgorithm};
use crate::db;
use crate::errors::ApiError;
use crate::jwt::alg_name;
use crate::state::{new_user, start_session, token_response, user_json};
use crate::traffic::Fault;

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/users", post(create_user).get(list_users))
        .route("/users/{id}/ban", post(ban_user).delete(unban_user))
        .route("/sessions", get(list_sessions).post(create_session))
        .route("/sessions/{id}", delete(delete_session))
        .route("/sessions/{id}/hold", post(hold_session))
        .route("/sessions/{id}/age", post(age_session))
        .route(
            "/sessions-policy",
            put(set_session_policy)
                .get(session_policy)
                .delete(reset_session_policy),
        )
        .route("/outage", post(start_outage).get(outage).delete(end_outage))
        .route("/requests", get(request_counts).delete(reset_requests))
        .route(
            "/faults",
            post(add_fault).get(list_faults).delete(clear_faults),
        )
        .route("/clock", put(set_clock).get(clock))
        .route("/rate-limit", put(set_rate_limit))
        .route("/keys", get(keys))
        .route("/signing-keys/rotate", post(rotate_signing_key))
        .route("/invariants", get(invariants))
        .route("/inbox", get(inbox).delete(clear_inbox))
}

fn not_found(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("{what} not found"),
    )
}

#[derive(Deserialize)]
struct NewUser {
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    password: Option<String>,
    #[serde(default)]
    user_metadata: Value,
    #[serde(default)]
    app_metadata: Option<Value>,
    #[serde(default)]
    anonymous: bool,
    #[serde(default = "yes")]
    confirmed: bool,
}

fn yes() -> bool {
    true
}

async fn create_user(State(state): State<Shared>, body: Body) -> Result<Response, ApiError> {
    let params: NewUser = json_body(body).await?;
    let mut user = new_user(
        &state,
        &params.email,
        &params.phone,
        params.password.as_deref(),
        params.user_metadata,
        params.anonymous,
        params.confirmed,
    );
    if let Some(app_metadata) = params.app_metadata.filter(Value::is_object) {
        user.app_metadata = app_metadata;
    }
    state
        .db
        .run(|conn| db::insert_user(conn, &user))
        .map_err(|e| {
            ApiError::new(
                StatusCode::CONFLICT,
                "user_already_exists",
                format!("cannot create user: {e}"),
            )
        })?;
    Ok((StatusCode::CREATED, Json(user_json(&user))).into_response())
}

async fn list_users(State(state): State<Shared>) -> Result<Json<Value>, ApiError> {
    let users = state.db.run(|conn| db::all_users(conn))?;
    Ok(Json(json!(users.iter().map(user_json).collect::<Vec<_>>())))
}

#[derive(Deserialize)]
struct Ban {
    /// How long; a century when absent.
    seconds: Option<u64>,
}

async fn ban_user(
    State(state): State<Shared>,
    Path(id): Path<Uuid>,
    body: Body,
) -> Result<Response, ApiError> {
    let ban: Ban = json_body(body).await?;
    let now = state.now_micros();
    let until =
        now + Duration::from_secs(ban.seconds.unwrap_or(100 * 365 * 86_400)).as_micros() as i64;
    let found = state
        .db
        .run(|conn| db::set_banned_until(conn, id, Some(until), now))?;
    if !found {
        return Err(not_found("user"));
    }
    Ok(Json(json!({"banned_until": rfc3339(from_micros(until))})).into_response())
}

async fn unban_user(
    State(state): State<Shared>,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    let now = state.now_micros();
    match state
        .db
        .run(|conn| db::set_banned_until(conn, id, None, now))?
    {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(not_found("user")),
    }
}

async fn list_sessions(State(state): State<Shared>) -> Result<Json<Value>, ApiError> {
    let listing = state.db.run(|conn| -> rusqlite::Result<Vec<Value>> {
        let mut out = Vec::new();
        for session in db::sessions(conn, None)? {
            let tokens = db::session_refresh_tokens(conn, session.id)?;
            out.push(json!({
                "id": session.id,
                "user_id": session.user_id,
                "created_at": rfc3339(from_micros(session.created_at)),
                "refreshed_at": session.refreshed_at.map(|t| rfc3339(from_micros(t))),
                "aal": session.aal,
                "format": if session.hmac_key.is_some() { "v2" } else { "legacy" },
                "counter": session.counter,
                "oauth_client_id": session.oauth_client_id,
                "refresh_tokens": tokens.iter().map(|t| json!({
                    "token": t.token,
                    "parent": t.parent,
                    "revoked": t.revoked,
                    "created_at": rfc3339(from_micros(t.created_at)),
                    "updated_at": rfc3339(from_micros(t.updated_at)),
                })).collect::<Vec<_>>(),
            }));
        }
        Ok(out)
    })?;
    Ok(Json(json!(listing)))
}

#[derive(Deserialize)]
struct NewSession {
    user_id: Uuid,
    #[serde(default)]
    oauth_client_id: Option<String>,
    /// Ends the session this many seconds from now, as GoTrue's `not_after` ends an SSO
    /// session.
    #[serde(default)]
    not_after_seconds: Option<u32>,
}

/// Signs a user in without a password (for example an OAuth client's session).
async fn create_session(State(state): State<Shared>, body: Body) -> Result<Response, ApiError> {
    let params: NewSession = json_body(body).await?;
    let body = state.db.run(|conn| -> Result<Value, ApiError> {
        let user = db::user_by_id(conn, params.user_id)?.ok_or_else(|| not_found("user"))?;
        let (mut session, token) =
            start_session(conn, &state, &user, "oauth", params.oauth_client_id)?;
        if let Some(seconds) = params.not_after_seconds {
            let not_after = state.now_micros() + i64::from(seconds) * 1_000_000;
            db::set_session_not_after(conn, session.id, not_after)?;
            session.not_after = Some(not_after);
        }
        Ok(token_response(&state, &user, &session, &token))
    })?;
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn delete_session(
    State(state): State<Shared>,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    state.db.run(|conn| db::delete_session(conn, id))?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct Hold {
    ms: u64,
}

/// Holds the session's refresh lock for `ms` milliseconds, as a stuck concurrent refresh
/// would; answers once the lock is held.
async fn hold_session(
    State(state): State<Shared>,
    Path(id): Path<Uuid>,
    body: Body,
) -> Result<Response, ApiError> {
    let hold: Hold = json_body(body).await?;
    let guard = state
        .session_locks
        .acquire(&id.to_string(), Duration::from_secs(30))
        .await
        .ok_or_else(|| ApiError::new(StatusCode::CONFLICT, "conflict", "session lock busy"))?;
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(hold.ms)).await;
        drop(guard);
    });
    Ok(StatusCode::ACCEPTED.into_response())
}

#[derive(Deserialize)]
struct Age {
    seconds: f64,
}

/// Ten years: the most any duration the control surface takes may be.
const TEN_YEARS: f64 = 10.0 * 365.0 * 86_400.0;

fn seconds(value: f64, name: &str) -> Result<Duration, ApiError> {
    if !value.is_finite() || !(0.0..=TEN_YEARS).contains(&value) {
        return Err(ApiError::bad_request(
            "validation_failed",
            format!("{name} must be from 0 to ten years"),
        ));
    }
    Ok(Duration::from_secs_f64(value))
}

/// Makes a session `seconds` older (its creation, last refresh and refresh tokens), as if
/// that time had passed for it alone: past a timebox, an inactivity timeout or the reuse
/// interval without moving the server's clock.
async fn age_session(
    State(state): State<Shared>,
    Path(id): Path<Uuid>,
    body: Body,
) -> Result<StatusCode, ApiError> {
    let age: Age = json_body(body).await?;
    match state.age_session(id, seconds(age.seconds, "seconds")?)? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(not_found("session")),
    }
}

#[derive(Deserialize)]
struct SessionPolicy {
    /// GoTrue's `SESSIONS_TIMEBOX`; none when absent or 0.
    timebox_seconds: Option<f64>,
    /// GoTrue's `SESSIONS_INACTIVITY_TIMEOUT`; none when absent or 0.
    inactivity_timeout_seconds: Option<f64>,
}

/// Sets the session timebox and inactivity timeout of the running server.
async fn set_session_policy(
    State(state): State<Shared>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let policy: SessionPolicy = json_body(body).await?;
    let timebox = policy
        .timebox_seconds
        .map(|s| seconds(s, "timebox_seconds"))
        .transpose()?;
    let inactivity = policy
        .inactivity_timeout_seconds
        .map(|s| seconds(s, "inactivity_timeout_seconds"))
        .transpose()?;
    state.set_session_policy(timebox, inactivity);
    Ok(session_policy(State(state)).await)
}

async fn session_policy(State(state): State<Shared>) -> Json<Value> {
    let limits = state.session_limits();
    let secs = |d: Option<Duration>| d.filter(|d| !d.is_zero()).map(|d| d.as_secs_f64());
    Json(json!({
        "timebox_seconds": secs(limits.timebox),
        "inactivity_timeout_seconds": secs(limits.inactivity_timeout),
    }))
}

/// Back to the limits the server was started with.
async fn reset_session_policy(State(state): State<Shared>) -> StatusCode {
    state.reset_session_policy();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct NewOutage {
    seconds: f64,
}

/// The server goes down for `seconds`: GoTrue's routes close every connection unanswered,
/// then answer again by themselves.
async fn start_outage(State(state): State<Shared>, body: Body) -> Result<Response, ApiError> {
    let outage: NewOutage = json_body(body).await?;
    state.outage.start(seconds(outage.seconds, "seconds")?);
    Ok((StatusCode::CREATED, outage_view(&state)).into_response())
}

async fn outage(State(state): State<Shared>) -> Json<Value> {
    outage_view(&state)
}

fn outage_view(state: &crate::state::AppState) -> Json<Value> {
    let remaining = state.outage.remaining();
    Json(json!({
        "down": remaining.is_some(),
        "remaining_ms": remaining.map(|r| r.as_millis() as u64),
    }))
}

async fn end_outage(State(state): State<Shared>) -> StatusCode {
    state.outage.end();
    StatusCode::NO_CONTENT
}

async fn request_counts(State(state): State<Shared>) -> Json<Value> {
    let counts = state.requests.snapshot();
    let total: u64 = counts.values().sum();
    Json(json!({"total": total, "routes": counts}))
}

async fn reset_requests(State(state): State<Shared>) -> StatusCode {
    state.requests.reset();
    StatusCode::NO_CONTENT
}

async fn add_fault(State(state): State<Shared>, body: Body) -> Result<Response, ApiError> {
    let fault: Fault = json_body(body).await?;
    if let Some(status) = fault.status {
        StatusCode::from_u16(status)
            .map_err(|_| ApiError::bad_request("validation_failed", "status must be 100-999"))?;
    }
    state.faults.push(fault);
    Ok((StatusCode::CREATED, Json(json!(state.faults.pending()))).into_response())
}

async fn list_faults(State(state): State<Shared>) -> Json<Value> {
    Json(json!(state.faults.pending()))
}

async fn clear_faults(State(state): State<Shared>) -> StatusCode {
    state.faults.clear();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct Skew {
    skew_seconds: f64,
}

async fn set_clock(State(state): State<Shared>, body: Body) -> Result<Json<Value>, ApiError> {
    let skew: Skew = json_body(body).await?;
    if !skew.skew_seconds.is_finite() || skew.skew_seconds.abs() > 10.0 * 365.0 * 86_400.0 {
        return Err(ApiError::bad_request(
            "validation_failed",
            "skew_seconds must be within ten years",
        ));
    }
    state.clock.set_skew_ms((skew.skew_seconds * 1000.0) as i64);
    Ok(clock(State(state)).await)
}

async fn clock(State(state): State<Shared>) -> Json<Value> {
    Json(json!({"now": rfc3339(state.now()), "skew_ms": state.clock.skew_ms()}))
}

#[derive(Deserialize)]
struct RateLimitSetting {
    enabled: bool,
    per_five_minutes: Option<u32>,
    burst: Option<u32>,
}

async fn set_rate_limit(State(state): State<Shared>, body: Body) -> Result<StatusCode, ApiError> {
    let setting: RateLimitSetting = json_body(body).await?;
    let defaults = RateLimit::default();
    state.rate_limiter.set(setting.enabled.then(|| {
        RateLimit {
            per_five_minutes: setting
                .per_five_minutes
                .unwrap_or(defaults.per_five_minutes),
            burst: setting.burst.unwrap_or(defaults.burst),
        }
    }));
    Ok(StatusCode::NO_CONTENT)
}

async fn keys(State(state): State<Shared>) -> Json<Value> {
    Json(json!({"anon_key": state.anon_key, "service_role_key": state.service_role_key}))
}

#[derive(Deserialize)]
struct Rotation {
    /// `hs256`, `es256`, `es512`, `rs256`, `rs512` or `eddsa`; the current one when absent.
    algorithm: Option<String>,
    /// Drop the keys published so far (tokens they signed stop verifying).
    #[serde(default)]
    retire_previous: bool,
}

/// Rotates the access-token signing key: a new key of the algorithm signs from now on, and
/// the JWKS lists it beside the previous ones. Rotated keys live in memory only.
async fn rotate_signing_key(
    State(state): State<Shared>,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let rotation: Rotation = json_body(body).await?;
    let algorithm = match rotation.algorithm.as_deref() {
        None => state.keys.algorithm(),
        Some(name) => SigningAlgorithm::from_name(name).ok_or_else(|| {
            ApiError::bad_request(
                "validation_failed",
                "algorithm must be one of hs256, es256, es512, rs256, rs512, eddsa",
            )
        })?,
    };
    let kid = state.keys.rotate(algorithm, rotation.retire_previous);
    Ok(Json(json!({"alg": alg_name(algorithm), "kid": kid})))
}

async fn invariants(State(state): State<Shared>) -> Result<Json<Value>, ApiError> {
    let violations = state.db.run(|conn| db::invariant_violations(conn))?;
    Ok(Json(json!({"violations": violations})))
}

/// What the server has sent (codes, links), oldest first; `?to=` keeps one recipient's.
async fn inbox(
    State(state): State<Shared>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Json<Value> {
    let messages = match super::query_param(query.as_deref(), "to") {
        Some(to) => state.inbox.to(&to),
        None => state.inbox.all(),
    };
    Json(json!(messages))
}

async fn clear_inbox(State(state): State<Shared>) -> StatusCode {
    state.inbox.clear();
    StatusCode::NO_CONTENT
}
