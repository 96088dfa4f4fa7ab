//! `PUT /user`, in the order of GoTrue's `UserUpdate` (`user.go`): the parameters are checked,
//! then the MFA, anonymity, duplicate and password rules; then, in one transaction, the
//! password, `data` (merged into `user_metadata`, a `null` value removing its key), the email
//! change and the phone change. Messages go to the inbox once the transaction committed.
//!
//! Not done here: `app_metadata` (admin only; every caller of this route is a user, so it is
//! refused as GoTrue refuses non-admins), SSO users (this server has none), and PKCE
//! email-change links (refused as `/otp` refuses them).

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;

use super::account::check_password_strength;
use super::change_verify::{apply_email_change, apply_phone_change, reloaded};
use super::{authenticate, json_body, Authenticated, Shared};
use crate::addresses::{validate_email, validate_phone};
use crate::db::{self, User};
use crate::errors::ApiError;
use crate::inbox::InboxMessage;
use crate::mailer::{send_email_change, send_phone_change};
use crate::state::{user_json, AppState};

#[derive(Deserialize)]
pub struct UserUpdate {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    current_password: Option<String>,
    #[serde(default)]
    data: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    app_metadata: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    code_challenge: Option<String>,
    #[serde(default)]
    code_challenge_method: Option<String>,
}

/// How recent a session must be for a password change without a nonce when
/// `SECURITY_UPDATE_PASSWORD_REQUIRE_REAUTHENTICATION` is on (GoTrue's 24 hours).
const RECENT_SESSION_MICROS: i64 = 24 * 3600 * 1_000_000;

/// GoTrue's `InvalidNonceMessage`.
pub const INVALID_NONCE: &str = "Nonce has expired or is invalid";

fn unprocessable(code: &'static str, message: &str) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

pub async fn update_user(
    State(state): State<Shared>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let auth = authenticate(&state, &headers)?;
    let update: UserUpdate = json_body(body).await?;
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    // `validateUserUpdateParams`.
    let mut email = text(&update.email);
    if !email.is_empty() {
        email = validate_email(&email)?;
    }
    let mut phone = text(&update.phone);
    if !phone.is_empty() {
        phone = validate_phone(&phone)?;
        // Only the SMS channel: WhatsApp needs Twilio, which this server does not emulate.
        if !matches!(text(&update.channel).as_str(), "" | "sms") {
            return Err(ApiError::bad_request(
                "validation_failed",
                super::otp::INVALID_CHANNEL,
            ));
        }
    }
    if let Some(password) = &update.password {
        check_password_strength(password)?;
    }
    if update.app_metadata.is_some() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "not_admin",
            "Updating app_metadata requires admin privileges",
        ));
    }
    let user = &auth.user;
    let new_password = update.password.as_deref().filter(|p| !p.is_empty());
    let changes_email = !email.is_empty() && email != user.email;
    let changes_phone = !phone.is_empty() && phone != user.phone;
    let has_mfa = user.factors.iter().any(|f| f.is_verified());
    let aal2 = auth
        .session
        .as_ref()
        .is_some_and(|s| s.aal == crate::mfa::AAL2);
    if has_mfa && !aal2 && (new_password.is_some() || changes_email || changes_phone) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "insufficient_aal",
            "AAL2 session is required to update email or password when MFA is enabled.",
        ));
    }
    if user.is_anonymous && new_password.is_some() && email.is_empty() && phone.is_empty() {
        return Err(unprocessable(
            "validation_failed",
            "Updating password of an anonymous user without an email or phone is not allowed",
        ));
    }
    if changes_email || changes_phone {
        check_not_taken(
            &state,
            user,
            changes_email.then_some(&email),
            changes_phone.then_some(&phone),
        )?;
    }
    if update.password.is_some() {
        check_reauthentication(&state, &auth, text(&update.nonce).as_str())?;
    }
    if let Some(password) = new_password {
        check_current_password(&state, &auth, text(&update.current_password).as_str())?;
        let same = user
            .password_hash
            .as_deref()
            .is_some_and(|hash| crate::hash::check_password(hash, password));
        if same {
            return Err(unprocessable(
                "same_password",
                "New password should be different from the old password.",
            ));
        }
    }
    if changes_email {
        super::otp::check_pkce(&update.code_challenge_method, &update.code_challenge)?;
    }
    let redirect_to = crate::redirect::referrer(&state, query.as_deref(), &headers);
    let now = state.now_micros();
    let (user, messages) = state
        .db
        .run(|conn| -> Result<(User, Vec<InboxMessage>), ApiError> {
            let tx = conn.transaction()?;
            let mut messages = Vec::new();
            if let Some(password) = &update.password {
                // GoTrue stores whatever was sent (an empty password included: it passed the
                // strength check only if the policy allows it, which ours never does).
                // GoTrue's `UpdatePassword`: the outstanding tokens are revoked and every
                // other session of the user ends (all of them when the token carries no
                // session).
                crate::token_revocation::update_password(
                    &tx,
                    auth.user.id,
                    &crate::hash::hash_password(password),
                    auth.session.as_ref().map(|s| s.id),
                    now,
                )?;
            }
            if let Some(data) = update.data {
                let mut metadata = auth
                    .user
                    .user_metadata
                    .as_object()
                    .cloned()
                    .unwrap_or_default();
                for (key, value) in data {
                    if value.is_null() {
                        metadata.remove(&key);
                    } else {
                        metadata.insert(key, value);
                    }
                }
                db::update_user_metadata(&tx, auth.user.id, &Value::Object(metadata), now)?;
            }
            if changes_email {
                let current = reloaded(&tx, auth.user.id)?;
                if current.is_anonymous && state.config.autoconfirm {
                    // An anonymous user adding an email under autoconfirm is signing up:
                    // GoTrue applies the change at once; permanent users always confirm.
                    crate::pending_changes::set_change_address(
                        &tx,
                        current.id,
                        Some(&email),
                        None,
                    )?;
                    apply_email_change(&tx, &state, &reloaded(&tx, current.id)?)?;
                } else {
                    messages.extend(send_email_change(
                        &tx,
                        &state,
                        &current,
                        &email,
                        &redirect_to,
                    )?);
                }
            }
            if changes_phone {
                let current = reloaded(&tx, auth.user.id)?;
                if state.config.phone_autoconfirm {
                    crate::pending_changes::set_change_address(
                        &tx,
                        current.id,
                        None,
                        Some(&phone),
                    )?;
                    apply_phone_change(&tx, &state, &reloaded(&tx, current.id)?)?;
                } else {
                    // A test number's code is never sent (nothing for the inbox).
                    messages
                        .extend(send_phone_change(&tx, &state, &current, &phone)?.into_message());
                }
            }
            let user = reloaded(&tx, auth.user.id)?;
            tx.commit()?;
            Ok((user, messages))
        })?;
    for message in messages {
        state.inbox.deliver(message);
    }
    Ok(Json(user_json(&user)).into_response())
}

/// GoTrue's `IsDuplicatedEmail` / `IsDuplicatedPhone` against another user.
fn check_not_taken(
    state: &AppState,
    user: &User,
    email: Option<&String>,
    phone: Option<&String>,
) -> Result<(), ApiError> {
    state.db.run(|conn| {
        if let Some(email) = email {
            // Another user's identity with the address counts first, then another user's
            // email (this server has one audience and no linking domains).
            let by_identity = crate::identity::with_email(conn, &email.to_lowercase())?
                .iter()
                .any(|identity| identity.user_id != user.id);
            if by_identity
                || db::user_by_email(conn, email)?.is_some_and(|other| other.id != user.id)
            {
                return Err(unprocessable(
                    "email_exists",
                    "A user with this email address has already been registered",
                ));
            }
        }
        if let Some(phone) = phone {
            if db::user_by_phone(conn, phone)?.is_some_and(|other| other.id != user.id) {
                return Err(unprocessable(
                    "phone_exists",
                    "A user with this phone number has already been registered",
                ));
            }
        }
        Ok(())
    })
}

/// GoTrue's `SECURITY_UPDATE_PASSWORD_REQUIRE_CURRENT_PASSWORD` rule: with it on, a user who
/// has a password sets a new one only with the current one, unless the session is a recovery
/// one (an `amr` entry `recovery`, GoTrue's `Session.IsRecovery`). Both refusals carry the
/// same message in GoTrue; only the code tells them apart.
fn check_current_password(
    state: &AppState,
    auth: &Authenticated,
    current: &str,
) -> Result<(), ApiError> {
    const MESSAGE: &str = "Current password required when setting new password.";
    let Some(hash) = auth.user.password_hash.as_deref() else {
        return Ok(());
    };
    let recovery = auth.session.as_ref().is_some_and(|session| {
        session.amr.as_array().is_some_and(|claims| {
            claims
                .iter()
                .any(|claim| claim["method"].as_str() == Some("recovery"))
        })
    });
    if !state.config.require_current_password || recovery {
        return Ok(());
    }
    if current.is_empty() {
        return Err(ApiError::bad_request("current_password_required", MESSAGE));
    }
    if !crate::hash::check_password(hash, current) {
        return Err(ApiError::bad_request("current_password_invalid", MESSAGE));
    }
    Ok(())
}

/// GoTrue's `SECURITY_UPDATE_PASSWORD_REQUIRE_REAUTHENTICATION` rule: with it on, a password
/// change from a session older than 24 hours (or from a token without a session) needs the
/// nonce `/reauthenticate` sent, which it uses up (`verifyReauthentication`).
fn check_reauthentication(
    state: &AppState,
    auth: &Authenticated,
    nonce: &str,
) -> Result<(), ApiError> {
    if !state.config.secure_password_change {
        return Ok(());
    }
    let now = state.now_micros();
    let recent = auth
        .session
        .as_ref()
        .is_some_and(|s| now <= s.created_at + RECENT_SESSION_MICROS);
    if recent {
        return Ok(());
    }
    if nonce.is_empty() {
        return Err(ApiError::bad_request(
            "reauthentication_needed",
            "Password update requires reauthentication",
        ));
    }
    let user = &auth.user;
    let (address, lifetime) = if !user.email.is_empty() {
        (user.email.as_str(), state.config.mailer_otp_exp)
    } else if !user.phone.is_empty() {
        (user.phone.as_str(), state.config.sms_otp_exp)
    } else {
        return Err(unprocessable(
            "reauthentication_not_valid",
            "Reauthentication requires an email or a phone number",
        ));
    };
    let changes = &user.pending;
    let hash = crate::one_time_token::token_hash(address, nonce);
    let valid = !changes.reauthentication_token.is_empty()
        && changes.reauthentication_token == hash
        && changes
            .reauthentication_sent_at
            .is_some_and(|sent_at| now <= sent_at + lifetime.as_micros() as i64);
    if !valid {
        return Err(unprocessable("reauthentication_not_valid", INVALID_NONCE));
    }
    state.db.run(|conn| -> Result<(), ApiError> {
        // Checked against the snapshot above; the conditional update makes a concurrent
        // request with the same nonce lose.
        if !crate::pending_changes::use_reauthentication(conn, user.id, &hash)? {
            return Err(unprocessable("reauthentication_not_valid", INVALID_NONCE));
        }
        Ok(crate::one_time_token::clear_all(conn, user.id)?)
    })
}
