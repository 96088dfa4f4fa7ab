//! `/user/identities`: manual linking and unlinking, as GoTrue's `api/identity.go` does them.
//!
//! Both routes sit behind GoTrue's `requireAuthentication` and then
//! `requireManualLinkingEnabled`: without a valid Bearer token the answer is GoTrue's 401, with
//! one but manual linking off (the default) it is `manual_linking_disabled`.
//!
//! `GET /user/identities/authorize?provider=…` starts the OAuth flow of `/authorize` for the
//! signed-in user; the callback then links the provider's identity to that user
//! ([`link_to_user`]) instead of signing in by it, and ends the flow as a sign-in does (a
//! session for the user). `DELETE /user/identities/{identity_id}` removes an identity.

use axum::extract::{Path, RawQuery, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use rusqlite::{params, Connection};
use serde_json::{json, Value};
use uuid::Uuid;

use super::fake_provider::ProviderGrant;
use super::oauth::{identity_data, set_providers, start_flow, Failure};
use super::{authenticate, Authenticated, Shared};
use crate::db::{self, User};
use crate::errors::ApiError;
use crate::identity::{self, Identity};
use crate::redirect::Values;
use crate::state::{has_email_identity, AppState};

pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/user/identities/authorize", get(authorize))
        .route("/user/identities/{identity_id}", delete(unlink))
}

/// GoTrue's `requireAuthentication`, then `requireManualLinkingEnabled`.
fn linking_user(state: &AppState, headers: &HeaderMap) -> Result<Authenticated, ApiError> {
    let signed_in = authenticate(state, headers)?;
    if !state.config.manual_linking {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "manual_linking_disabled",
            "Manual linking is disabled",
        ));
    }
    Ok(signed_in)
}

/// GoTrue's `LinkIdentity`: the provider's URL as JSON with `skip_http_redirect=true` (what
/// auth-js asks for), else a redirect to it.
async fn authorize(
    State(state): State<Shared>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let signed_in = linking_user(&state, &headers)?;
    let query = Values::parse(query.as_deref().unwrap_or(""));
    let url = start_flow(&state, &query, &headers, Some(signed_in.user.id))?;
    if query.get("skip_http_redirect") == "true" {
        return Ok(Json(json!({ "url": url })).into_response());
    }
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(value) = HeaderValue::from_str(&url) {
        response.headers_mut().insert(LOCATION, value);
    }
    Ok(response)
}

/// GoTrue's `linkIdentityToUser`. The error's flag says whether the transaction is kept.
pub(crate) fn link_to_user(
    tx: &Connection,
    state: &AppState,
    target: Uuid,
    provider: &str,
    grant: &ProviderGrant,
) -> Result<User, (Failure, bool)> {
    let fail = |error: ApiError| (Failure::Api(error), false);
    let db_fail = |error: rusqlite::Error| (Failure::from(error), false);
    let now = state.now_micros();
    let user = db::user_by_id(tx, target)
        .map_err(db_fail)?
        .ok_or_else(|| {
            fail(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "user_not_found",
                "Linking target user not found",
            ))
        })?;
    if let Some(existing) =
        identity::by_provider_id(tx, &grant.subject, provider).map_err(db_fail)?
    {
        let message = if existing.user_id == user.id {
            "Identity is already linked"
        } else {
            "Identity is already linked to another user"
        };
        return Err(fail(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "identity_already_exists",
            message,
        )));
    }
    let data = identity_data(state, provider, grant);
    let linked = Identity::new(user.id, provider, data, now);
    identity::insert(tx, &linked).map_err(db_fail)?;
    let keep_email = has_email_identity(&user) && !user.email.is_empty();
    if user.email.is_empty() {
        // An anonymous (or phone) user takes the provider's email. GoTrue sends a confirmation
        // mail when the provider has not verified it; this server refuses as GoTrue does then
        // but sends none (its mailer handles sign-up links only).
        let taken = db::user_by_email(tx, &linked.email)
            .map_err(db_fail)?
            .is_some();
        if taken {
            return Err(fail(ApiError::bad_request(
                "email_exists",
                "A user with this email address has already been registered",
            )));
        }
        promote_email(tx, state, &user, &linked.email, grant.email_verified, now)
            .map_err(db_fail)?;
        if !grant.email_verified {
            return Err((
                Failure::Api(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "email_not_confirmed",
                    format!(
                        "Unverified email with {provider}. A confirmation email has been sent to your {provider} email"
                    ),
                )),
                true,
            ));
        }
        // GoTrue's `User.Confirm`: confirmed now, `email_verified: true`, one-time tokens
        // used up.
        let promoted = db::user_by_id(tx, user.id)
            .map_err(db_fail)?
            .ok_or_else(|| fail(ApiError::internal("the linked user vanished")))?;
        super::verify::confirm_email(tx, state, &promoted).map_err(db_fail)?;
        tx.execute(
            "UPDATE users SET is_anonymous = 0 WHERE id = ?1",
            [user.id.to_string()],
        )
        .map_err(db_fail)?;
    }
    set_providers(tx, user.id, keep_email, now).map_err(db_fail)?;
    db::user_by_id(tx, user.id)
        .map_err(db_fail)?
        .ok_or_else(|| fail(ApiError::internal("the linked user vanished")))
}

/// GoTrue's `DeleteIdentity`.
async fn unlink(
    State(state): State<Shared>,
    Path(identity_id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let Authenticated { user, .. } = linking_user(&state, &headers)?;
    let id = Uuid::parse_str(&identity_id).map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "validation_failed",
            "identity_id must be an UUID",
        )
    })?;
    let rendered = crate::state::user_json(&user);
    let identities = rendered["identities"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if identities.len() <= 1 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "single_identity_not_deletable",
            "User must have at least 1 identity after unlinking",
        ));
    }
    let Some(target) = identities
        .iter()
        .find(|identity| identity["identity_id"] == json!(id))
    else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "identity_not_found",
            "Identity doesn't exist",
        ));
    };
    let now = state.now_micros();
    let removing_email = target["provider"] == "email";
    state.db.run(|conn| -> Result<(), ApiError> {
        let tx = conn.transaction()?;
        if !removing_email {
            tx.execute("DELETE FROM identities WHERE id = ?1", [id.to_string()])?;
        }
        let current =
            db::user_by_id(&tx, user.id)?.ok_or_else(|| ApiError::internal("the user vanished"))?;
        let keep_email = !removing_email && has_email_identity(&current);
        update_email_from_identities(&tx, &state, &current, keep_email, now)?;
        set_providers(&tx, user.id, keep_email, now)?;
        tx.commit()?;
        Ok(())
    })?;
    Ok(Json(json!({})))
}

/// GoTrue's `UpdateUserEmailFromIdentities`: the user keeps an email some identity still has;
/// otherwise the best remaining identity's (verified first, then unverified, then none;
/// oldest first) that no other user holds becomes it, confirmed only when verified or with
/// autoconfirm on.
fn update_email_from_identities(
    tx: &Connection,
    state: &AppState,
    user: &User,
    keep_email: bool,
    now: i64,
) -> Result<(), ApiError> {
    if keep_email || user.identities.iter().any(|i| i.email == user.email) {
        return Ok(());
    }
    let rank = |i: &Identity| match (
        i.email.is_empty(),
        i.identity_data["email_verified"] == true,
    ) {
        (true, _) => 2,
        (false, false) => 1,
        (false, true) => 0,
    };
    let mut candidates: Vec<&Identity> = user.identities.iter().collect();
    candidates.sort_by_key(|i| (rank(i), i.created_at, i.id.to_string()));
    let mut chosen = None;
    for candidate in candidates {
        let holder = match candidate.email.as_str() {
            "" => None,
            email => db::user_by_email(tx, email)?,
        };
        if holder.is_none_or(|holder| holder.id == user.id) {
            chosen = Some(candidate);
            break;
        }
    }
    let Some(primary) = chosen else {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "email_conflict_identity_not_deletable",
            "Unable to unlink identity due to email conflict",
        ));
    };
    let verified = primary.identity_data["email_verified"] == true;
    Ok(promote_email(
        tx,
        state,
        user,
        &primary.email,
        verified,
        now,
    )?)
}

/// The end of GoTrue's `UpdateUserEmailFromIdentities`: `email` becomes the user's, every
/// token and pending change issued for the old one is dropped (`ClearAllPendingTokens`), and
/// unless the identity verified it (or autoconfirm covers it) the email is unconfirmed with
/// `user_metadata.email_verified: false`.
fn promote_email(
    tx: &Connection,
    state: &AppState,
    user: &User,
    email: &str,
    verified: bool,
    now: i64,
) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE users SET email = ?2, updated_at = ?3 WHERE id = ?1",
        params![user.id.to_string(), email, now],
    )?;
    crate::token_revocation::clear_all_pending(tx, user.id)?;
    if email.is_empty() || (!verified && !state.config.autoconfirm) {
        // GoTrue only takes the confirmation away here; an email that was unconfirmed stays
        // so even when the promoted identity vouches for it.
        tx.execute(
            "UPDATE users SET email_confirmed_at = NULL WHERE id = ?1",
            [user.id.to_string()],
        )?;
        let mut metadata = user.user_metadata.as_object().cloned().unwrap_or_default();
        metadata.insert("email_verified".into(), json!(false));
        db::update_user_metadata(tx, user.id, &Value::Object(metadata), now)?;
    }
    Ok(())
}
