//! `POST /otp` (a code by email or SMS, signing the user up first when allowed),
//! `POST /magiclink` (the older email-only form) and `POST /recover` (a password reset
//! email), in GoTrue's order of checks (`otp.go`, `magic_link.go`, `recover.go`, and the
//! part of `signup.go` they go through for a new user). Every answer that sends something is
//! `{}`; what was sent is in the inbox.
//!
//! Not done here: PKCE (`code_challenge`), which needs flow states this server does not keep
//! (refused with a validation error rather than silently sending an implicit-flow link), and
//! GoTrue's per-IP and per-hour send limits (`RATE_LIMIT_OTP`, `RATE_LIMIT_EMAIL_SENT`); the
//! per-user resend limit is kept.

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rusqlite::Connection;
use serde::Deserialize;
use serde_json::{json, Value};

use super::verify::{confirm_email, confirm_phone};
use super::{json_body, Shared};
use crate::addresses::{validate_email, validate_phone};
use crate::db::{self, User};
use crate::errors::ApiError;
use crate::inbox::{InboxKind, InboxMessage};
use crate::mailer::{send_email, send_sms, Texted};
use crate::state::{new_user, AppState};

#[derive(Deserialize)]
pub struct OtpParams {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    /// Absent or `null`: true, as GoTrue defaults it.
    #[serde(default)]
    create_user: Option<bool>,
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    code_challenge_method: Option<String>,
    #[serde(default)]
    code_challenge: Option<String>,
}

#[derive(Deserialize)]
pub struct MagicLinkParams {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    code_challenge_method: Option<String>,
    #[serde(default)]
    code_challenge: Option<String>,
}

#[derive(Deserialize)]
pub struct RecoverParams {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    code_challenge_method: Option<String>,
    #[serde(default)]
    code_challenge: Option<String>,
}

/// GoTrue's answer when a text channel other than SMS is asked for (WhatsApp needs Twilio).
pub(crate) const INVALID_CHANNEL: &str =
    "Invalid channel, supported values are 'sms' or 'whatsapp'. \
    'whatsapp' is only supported if Twilio or Twilio Verify is used as the provider.";

fn bad(message: &str) -> ApiError {
    ApiError::bad_request("validation_failed", message)
}

fn text(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or_default()
}

/// GoTrue's `validatePKCEParams`, then this server's refusal of PKCE itself.
pub(crate) fn check_pkce(
    method: &Option<String>,
    challenge: &Option<String>,
) -> Result<(), ApiError> {
    let (method, challenge) = (text(method), text(challenge));
    if method.is_empty() != challenge.is_empty() {
        return Err(bad(
            "PKCE flow requires code_challenge_method and code_challenge",
        ));
    }
    if !challenge.is_empty() {
        // Deviation: GoTrue would keep a flow state and send a `pkce_` link to exchange at
        // `/token?grant_type=pkce`; this server has no flow states for emailed links.
        return Err(bad(
            "local-gotrue does not support PKCE for one-time codes and links; send them without code_challenge",
        ));
    }
    Ok(())
}

fn metadata(data: Option<Value>) -> Value {
    data.filter(Value::is_object).unwrap_or_else(|| json!({}))
}

/// Answers `{}` once the message has been delivered (after its transaction committed).
fn delivered(state: &AppState, message: Option<InboxMessage>) -> Response {
    if let Some(message) = message {
        state.inbox.deliver(message);
    }
    Json(json!({})).into_response()
}

pub async fn otp(
    State(state): State<Shared>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let params: OtpParams = json_body(body).await?;
    let (email, phone) = (text(&params.email), text(&params.phone));
    if !email.is_empty() && !phone.is_empty() {
        return Err(bad(
            "Only an email address or phone number should be provided",
        ));
    }
    if !email.is_empty() && !text(&params.channel).is_empty() {
        return Err(bad("Channel should only be specified with Phone OTP"));
    }
    check_pkce(&params.code_challenge_method, &params.code_challenge)?;
    if !params.create_user.unwrap_or(true) && !user_exists(&state, email, phone)? {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "otp_disabled",
            "Signups not allowed for otp",
        ));
    }
    if !email.is_empty() {
        let redirect_to = crate::redirect::referrer(&state, query.as_deref(), &headers);
        let message = email_sign_in(&state, email, metadata(params.data), &redirect_to)?;
        return Ok(delivered(&state, message));
    }
    if !phone.is_empty() {
        let texted = sms_sign_in(&state, phone, text(&params.channel), metadata(params.data))?;
        let answer = texted.as_ref().map_or_else(|| json!({}), Texted::answer);
        delivered(&state, texted.and_then(Texted::into_message));
        return Ok(Json(answer).into_response());
    }
    Err(bad("One of email or phone must be set"))
}

/// GoTrue's `shouldCreateUser` with `create_user: false`: whether the address belongs to a
/// user. An address that does not validate counts as unknown (GoTrue answers `otp_disabled`
/// for it too); with neither address there is nothing to look up.
fn user_exists(state: &AppState, email: &str, phone: &str) -> Result<bool, ApiError> {
    let found = state.db.run(|conn| -> rusqlite::Result<Option<bool>> {
        if !email.is_empty() {
            let Ok(email) = validate_email(email) else {
                return Ok(Some(false));
            };
            return Ok(Some(db::user_by_email(conn, &email)?.is_some()));
        }
        if !phone.is_empty() {
            let Ok(phone) = validate_phone(phone) else {
                return Ok(Some(false));
            };
            return Ok(Some(db::user_by_phone(conn, &phone)?.is_some()));
        }
        Ok(None)
    })?;
    Ok(found.unwrap_or(true))
}

/// `POST /magiclink`.
pub async fn magic_link(
    State(state): State<Shared>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let params: MagicLinkParams = json_body(body).await.map_err(|error| {
        // GoTrue reads this body with its own decoder and its own words.
        let detail = error
            .message
            .strip_prefix("Could not parse request body as JSON: ")
            .unwrap_or(&error.message)
            .to_string();
        ApiError::bad_request(
            "bad_json",
            format!("Could not read verification params: {detail}"),
        )
    })?;
    check_magic_link_email(text(&params.email))?;
    check_pkce(&params.code_challenge_method, &params.code_challenge)?;
    let redirect_to = crate::redirect::referrer(&state, query.as_deref(), &headers);
    let message = email_sign_in(
        &state,
        text(&params.email),
        metadata(params.data),
        &redirect_to,
    )?;
    Ok(delivered(&state, message))
}

fn check_magic_link_email(email: &str) -> Result<String, ApiError> {
    if email.is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "Password recovery requires an email",
        ));
    }
    validate_email(email)
}

/// GoTrue's `MagicLink`: a confirmed user gets a magic link; anyone else is signed up first
/// (an existing unconfirmed user is kept as is), then confirmed and sent a magic link with
/// autoconfirm, or sent a sign-up confirmation without.
fn email_sign_in(
    state: &AppState,
    email: &str,
    data: Value,
    redirect_to: &str,
) -> Result<Option<InboxMessage>, ApiError> {
    let email = check_magic_link_email(email)?;
    state.db.run(|conn| {
        let tx = conn.transaction()?;
        let existing = db::user_by_email(&tx, &email)?;
        let message = match existing {
            Some(user) if user.email_confirmed_at.is_some() => {
                send_email(&tx, state, &user, InboxKind::Magiclink, redirect_to)?
            }
            existing => {
                let user = sign_up(&tx, state, existing, || {
                    new_user(state, &email, "", None, data, false, false)
                })?;
                if state.config.autoconfirm {
                    confirm_email(&tx, state, &user)?;
                    send_email(&tx, state, &user, InboxKind::Magiclink, redirect_to)?
                } else {
                    send_email(&tx, state, &user, InboxKind::Signup, redirect_to)?
                }
            }
        };
        tx.commit()?;
        Ok(Some(message))
    })
}

/// GoTrue's `SmsOtp`: the code goes to a user with a confirmed phone; anyone else is signed
/// up first (confirmed at once with phone autoconfirm) and sent the same code.
fn sms_sign_in(
    state: &AppState,
    phone: &str,
    channel: &str,
    data: Value,
) -> Result<Option<Texted>, ApiError> {
    let phone = validate_phone(phone)?;
    // The built-in SMS provider is not Twilio, so only plain SMS is offered.
    if !matches!(channel, "" | "sms") {
        return Err(bad(INVALID_CHANNEL));
    }
    state.db.run(|conn| {
        let tx = conn.transaction()?;
        let existing = db::user_by_phone(&tx, &phone)?;
        let user = match existing {
            Some(user) if user.phone_confirmed_at.is_some() => user,
            existing => {
                let user = sign_up(&tx, state, existing, || {
                    new_user(state, "", &phone, None, data, false, false)
                })?;
                if state.config.phone_autoconfirm {
                    confirm_phone(&tx, state, &user)?;
                }
                user
            }
        };
        // GoTrue answers the message id `sendPhoneConfirmation` returns: `test-otp` for a test
        // number, none otherwise (a real provider's id is lost to a shadowed variable).
        let texted = send_sms(&tx, state, &user, &phone)?;
        tx.commit()?;
        Ok(Some(texted))
    })
}

/// The part of GoTrue's `Signup` a one-time code goes through: refused when sign-ups are off,
/// otherwise the unconfirmed user as it is, or a new one. (GoTrue gives the new user a random
/// password, and with autoconfirm also starts a session nobody receives; this server does
/// neither, which no client can tell apart.)
fn sign_up(
    conn: &Connection,
    state: &AppState,
    existing: Option<User>,
    create: impl FnOnce() -> User,
) -> Result<User, ApiError> {
    if state.config.disable_signup {
        return Err(super::account::signup_disabled());
    }
    match existing {
        Some(user) => Ok(user),
        None => {
            let user = create();
            db::insert_user(conn, &user)?;
            Ok(user)
        }
    }
}

/// `POST /recover`: a password-reset email to a known address; an unknown one gets the same
/// `{}` and nothing is sent.
pub async fn recover(
    State(state): State<Shared>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let params: RecoverParams = json_body(body).await?;
    let email = text(&params.email);
    if email.is_empty() {
        return Err(bad("Password recovery requires an email"));
    }
    let email = validate_email(email)?;
    check_pkce(&params.code_challenge_method, &params.code_challenge)?;
    let redirect_to = crate::redirect::referrer(&state, query.as_deref(), &headers);
    let message = state
        .db
        .run(|conn| -> Result<Option<InboxMessage>, ApiError> {
            let tx = conn.transaction()?;
            let Some(user) = db::user_by_email(&tx, &email)? else {
                return Ok(None);
            };
            let message = send_email(&tx, &state, &user, InboxKind::Recovery, &redirect_to)?;
            tx.commit()?;
            Ok(Some(message))
        })?;
    Ok(delivered(&state, message))
}
