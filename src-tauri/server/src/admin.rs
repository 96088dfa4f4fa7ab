//! The admin API's gate, as GoTrue's `requireAdminCredentials` and `requireAdmin` keep it: a
//! Bearer token verified by the server's keys whose `role` claim is one of the admin roles
//! (`JWT_ADMIN_ROLES`). A token that names a session (a user's own token with an admin role)
//! must still name a live one; the service-role key names none and skips that check.

use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;
use uuid::Uuid;

use crate::db;
use crate::errors::ApiError;
use crate::routes::bearer_claims;
use crate::state::AppState;

/// GoTrue's `audHeaderName`: a request may name the audience it works in.
pub const AUD_HEADER: &str = "x-jwt-aud";

/// GoTrue's `JWT_AUD` default: the audience of users made without one.
pub const DEFAULT_AUD: &str = "authenticated";

/// Who passed the gate: the verified claims.
pub struct Admin {
    pub claims: Value,
}

pub fn require_admin(state: &AppState, headers: &HeaderMap) -> Result<Admin, ApiError> {
    let claims = bearer_claims(state, headers)?;
    let session_id = claims["session_id"].as_str().unwrap_or_default();
    if !session_id.is_empty() && session_id != Uuid::nil().to_string() {
        check_session(state, &claims, session_id)?;
    }
    let role = claims["role"].as_str().unwrap_or_default();
    if state.config.admin_roles.iter().any(|admin| admin == role) {
        return Ok(Admin { claims });
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "not_admin",
        "User not allowed",
    ))
}

/// GoTrue's `maybeLoadUserOrSession` for a token with a session: its user and its session
/// must exist.
fn check_session(state: &AppState, claims: &Value, session_id: &str) -> Result<(), ApiError> {
    let forbidden = |code, message: &str| ApiError::new(StatusCode::FORBIDDEN, code, message);
    let sub = claims["sub"].as_str().unwrap_or_default();
    if sub.is_empty() {
        return Err(forbidden("bad_jwt", "invalid claim: missing sub claim"));
    }
    let user_id = Uuid::parse_str(sub)
        .map_err(|_| ApiError::bad_request("bad_jwt", "invalid claim: sub claim must be a UUID"))?;
    let session_id = Uuid::parse_str(session_id)
        .map_err(|_| forbidden("bad_jwt", "invalid claim: session_id claim must be a UUID"))?;
    state.db.run(|conn| {
        db::user_by_id(conn, user_id)?.ok_or_else(|| {
            forbidden(
                "user_not_found",
                "User from sub claim in JWT does not exist",
            )
        })?;
        db::session_by_id(conn, session_id)?.ok_or_else(|| {
            forbidden(
                "session_not_found",
                "Session from session_id claim in JWT does not exist",
            )
        })?;
        Ok(())
    })
}

/// GoTrue's `requestAud`: the `X-JWT-AUD` header, else the token's `aud`, else the default.
pub fn request_aud(admin: &Admin, headers: &HeaderMap) -> String {
    if let Some(aud) = headers
        .get(AUD_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
    {
        return aud.to_string();
    }
    let from_token = match &admin.claims["aud"] {
        Value::String(aud) => Some(aud.clone()),
        Value::Array(auds) => auds.first().and_then(Value::as_str).map(str::to_string),
        _ => None,
    };
    from_token
        .filter(|aud| !aud.is_empty())
        .unwrap_or_else(|| DEFAULT_AUD.to_string())
}
