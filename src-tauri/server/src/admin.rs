//! The admin API's gate, as GoTrue's `requireAdminCredentials` and `requireAdmin` keep it: a
//! Bearer token verified by the server's keys whose `role` claim is one of the admin roles
//! (`JWT_ADMIN_ROLES`). A token that names a session (a user's own token with an admin role)
//! must still name a live one; the service-role key names none and skips that check.

use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;
use uuid::Uuid;

use crate::errors::ApiError;
use crate::routes::token::{session_validity, SessionValidity};
use crate::routes::{bearer_claims, load_user_or_session};
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
    if claims_session_id(&claims).is_some() {
        check_session(state, &claims)?;
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

/// The `session_id` claim when it names a session: absent, empty and the nil UUID name none
/// (GoTrue's service-role tokens carry none). `bearer_claims` already refused a non-string one.
pub(crate) fn claims_session_id(claims: &Value) -> Option<&str> {
    claims["session_id"]
        .as_str()
        .filter(|id| !id.is_empty() && *id != Uuid::nil().to_string())
}

/// GoTrue's `requireAdminCredentials` for a token with a session: `maybeLoadUserOrSession`
/// and then `Session.CheckValidity` (no refresh token time: the session's own).
fn check_session(state: &AppState, claims: &Value) -> Result<(), ApiError> {
    let loaded = load_user_or_session(state, claims)?;
    let valid = loaded.session.is_none_or(|session| {
        session_validity(state, &session, None, state.now_micros()) == SessionValidity::Valid
    });
    if !valid {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "session_expired",
            "Session is no longer valid",
        ));
    }
    Ok(())
}

/// GoTrue's `requestAud` for an admin: the `X-JWT-AUD` header, else the configured audience.
/// The token's own `aud` is never used: GoTrue ignores it for admin roles (the anon and
/// service-role keys never had one). This server's configured audience is GoTrue's default.
pub fn request_aud(headers: &HeaderMap) -> String {
    headers
        .get(AUD_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .map_or_else(|| DEFAULT_AUD.to_string(), str::to_string)
}
