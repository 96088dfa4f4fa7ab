//! `POST /verify` (a code with its email or phone, or a link's token hash → a session) and
//! `GET /verify` (the emailed link opened in a browser → a redirect carrying the session or
//! the error), as GoTrue's `verify.go` does them for the implicit flow. A successful
//! verification uses up every one-time token the user holds, confirms what it proved, and
//! signs in with `amr` method `otp` whatever the type (GoTrue's `issueRefreshToken(…,
//! models.OTP, …)`; the other method names are for PKCE, which this server does not do).

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use rusqlite::Connection;
use serde::Deserialize;
use serde_json::{json, Value};

use super::change_verify::{
    apply_phone_change, verify_email_change, EmailChangeOutcome, SINGLE_CONFIRMATION_ACCEPTED,
};
use super::{json_body, query_param, Shared};
use crate::addresses::{validate_email, validate_phone};
use crate::db::{self, User};
use crate::errors::ApiError;
use crate::one_time_token::{self as ott, Slot};
use crate::pending_changes as pending;
use crate::state::{is_banned, start_session, token_response, AppState};

/// The `amr` method of a session a verification starts.
pub const AMR_METHOD: &str = "otp";

#[derive(Deserialize)]
pub struct VerifyParams {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    token_hash: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    redirect_to: Option<String>,
}

/// How the user is found: by the hash alone, or by address and the hash of address + code.
enum Lookup {
    TokenHash,
    Email(String),
    Phone(String),
}

fn bad(message: &str) -> ApiError {
    ApiError::bad_request("validation_failed", message)
}

fn token_invalid() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "otp_expired",
        "Token has expired or is invalid",
    )
}

fn link_invalid() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "otp_expired",
        "Email link is invalid or has expired",
    )
}

fn banned() -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "user_banned", "User is banned")
}

fn expired(sent_at: i64, lifetime: std::time::Duration, now: i64) -> bool {
    now > sent_at + lifetime.as_micros() as i64
}

pub async fn verify_post(State(state): State<Shared>, body: Body) -> Result<Response, ApiError> {
    let params: VerifyParams = json_body(body).await?;
    let text = |v: Option<String>| v.unwrap_or_default();
    let kind = text(params.kind);
    let (token, hash) = (text(params.token), text(params.token_hash));
    let (email, phone) = (text(params.email), text(params.phone));
    if kind.is_empty() {
        return Err(bad("Verify requires a verification type"));
    }
    if token.is_empty() == hash.is_empty() {
        return Err(bad("Verify requires either a token or a token hash"));
    }
    let (lookup, hash) = if !token.is_empty() {
        if !phone.is_empty() && email.is_empty() {
            let phone = validate_phone(&phone)?;
            let hash = ott::token_hash(&phone, &token);
            (Lookup::Phone(phone), hash)
        } else if !email.is_empty() && phone.is_empty() {
            let email = validate_email(&email).map_err(|_| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    "Invalid email format",
                )
            })?;
            let hash = ott::token_hash(&email, &token);
            (Lookup::Email(email), hash)
        } else {
            return Err(bad(
                "Only an email address or phone number should be provided on verify",
            ));
        }
    } else {
        if !email.is_empty()
            || !phone.is_empty()
            || params.redirect_to.is_some_and(|r| !r.is_empty())
        {
            return Err(bad("Only the token_hash and type should be provided"));
        }
        (Lookup::TokenHash, hash)
    };
    let body = state.db.run(|conn| -> Result<Value, ApiError> {
        let tx = conn.transaction()?;
        let (user, kind) = match &lookup {
            Lookup::TokenHash => by_token_hash(&tx, &state, &hash, &kind)?,
            Lookup::Email(address) | Lookup::Phone(address) => {
                by_address(&tx, &state, &kind, &hash, address)?
            }
        };
        let body = match sign_in_verified(&tx, &state, &user, kind, &hash)? {
            Verified::Session(body) => body,
            // GoTrue's answer to the first of two email-change confirmations: no session.
            Verified::FirstOfTwo => json!({"msg": SINGLE_CONFIRMATION_ACCEPTED, "code": "200"}),
        };
        tx.commit()?;
        Ok(body)
    })?;
    Ok(Json(body).into_response())
}

/// GoTrue's `verifyTokenHash`: the user whose live token of the type's slot has this hash,
/// and the type to apply (`email` resolves to `signup` or `magiclink` by the slot).
fn by_token_hash(
    conn: &Connection,
    state: &AppState,
    hash: &str,
    kind: &str,
) -> Result<(User, &'static str), ApiError> {
    let slots: &[Slot] = match kind {
        "email" => &[Slot::Confirmation, Slot::Recovery],
        "signup" | "invite" => &[Slot::Confirmation],
        "recovery" | "magiclink" => &[Slot::Recovery],
        "email_change" => return by_email_change_hash(conn, state, hash),
        _ => return Err(bad("Invalid email verification type")),
    };
    let (user_id, slot, sent_at) = ott::find(conn, hash, slots)?.ok_or_else(link_invalid)?;
    let user = db::user_by_id(conn, user_id)?.ok_or_else(link_invalid)?;
    if is_banned(&user, state.now_micros()) {
        return Err(banned());
    }
    let kind = match (kind, slot) {
        ("email", Slot::Recovery) => "magiclink",
        ("email", Slot::Confirmation) => "signup",
        ("signup", _) => "signup",
        ("invite", _) => "invite",
        ("recovery", _) => "recovery",
        ("magiclink", _) => "magiclink",
        _ => return Err(bad("Unsupported verification type")),
    };
    if expired(sent_at, state.config.mailer_otp_exp, state.now_micros()) {
        return Err(link_invalid());
    }
    Ok((user, kind))
}

/// `verifyTokenHash` for `email_change`: the user either of whose email-change tokens is this
/// hash, within `MAILER_OTP_EXP` of `email_change_sent_at`.
fn by_email_change_hash(
    conn: &Connection,
    state: &AppState,
    hash: &str,
) -> Result<(User, &'static str), ApiError> {
    let user = pending::user_by_email_change_token(conn, hash)?.ok_or_else(link_invalid)?;
    if is_banned(&user, state.now_micros()) {
        return Err(banned());
    }
    let live = user
        .pending
        .email_change_sent_at
        .is_some_and(|sent_at| !expired(sent_at, state.config.mailer_otp_exp, state.now_micros()));
    if !live {
        return Err(link_invalid());
    }
    Ok((user, "email_change"))
}

/// GoTrue's `isOtpValid`: a stored hash (plain or `pkce_`), sent and not expired.
fn otp_valid(
    hash: &str,
    stored: &str,
    sent_at: Option<i64>,
    lifetime: std::time::Duration,
    now: i64,
) -> bool {
    let Some(sent_at) = sent_at else {
        return false;
    };
    !stored.is_empty()
        && !expired(sent_at, lifetime, now)
        && (stored == hash || stored == format!("pkce_{hash}"))
}

/// GoTrue's `verifyUserAndToken`: the user with this address whose token of the type's slot
/// is this hash and not expired.
fn by_address(
    conn: &Connection,
    state: &AppState,
    kind: &str,
    hash: &str,
    address: &str,
) -> Result<(User, &'static str), ApiError> {
    let user = match kind {
        "phone_change" => pending::user_by_phone_change(conn, address)?,
        "email_change" => {
            pending::user_for_email_change(conn, address, hash, state.config.secure_email_change)?
        }
        "sms" => db::user_by_phone(conn, address)?,
        _ => db::user_by_email(conn, address)?,
    }
    .ok_or_else(token_invalid)?;
    let now = state.now_micros();
    if is_banned(&user, now) {
        return Err(banned());
    }
    let matches = |slot: Slot, lifetime| -> rusqlite::Result<bool> {
        Ok(ott::slot(conn, user.id, slot)?.is_some_and(|stored| {
            let live = stored
                .token_hash
                .is_some_and(|expected| expected == hash || expected == format!("pkce_{hash}"));
            live && !expired(stored.sent_at, lifetime, now)
        }))
    };
    // GoTrue's `verifyUserAndToken`: a number's configured test OTP is accepted whenever it
    // is given, sent or not, expired or not (compared through its hash, which is what the
    // request's code became).
    let test_code = crate::mailer::test_otp(state, address);
    if test_code.is_some_and(|code| ott::token_hash(address, code) == hash) {
        match kind {
            "sms" => return Ok((user, "sms")),
            "phone_change" => return Ok((user, "phone_change")),
            _ => {}
        }
    }
    let email_life = state.config.mailer_otp_exp;
    let changes = &user.pending;
    let kind = match kind {
        "email_change"
            if otp_valid(
                hash,
                &changes.email_change_token_current,
                changes.email_change_sent_at,
                email_life,
                now,
            ) || otp_valid(
                hash,
                &changes.email_change_token_new,
                changes.email_change_sent_at,
                email_life,
                now,
            ) =>
        {
            "email_change"
        }
        "phone_change"
            if otp_valid(
                hash,
                &changes.phone_change_token,
                changes.phone_change_sent_at,
                state.config.sms_otp_exp,
                now,
            ) =>
        {
            "phone_change"
        }
        "email" if matches(Slot::Confirmation, email_life)? => "signup",
        "email" if matches(Slot::Recovery, email_life)? => "magiclink",
        "signup" if matches(Slot::Confirmation, email_life)? => "signup",
        "invite" if matches(Slot::Confirmation, email_life)? => "invite",
        "recovery" if matches(Slot::Recovery, email_life)? => "recovery",
        "magiclink" if matches(Slot::Recovery, email_life)? => "magiclink",
        "sms" if matches(Slot::Confirmation, state.config.sms_otp_exp)? => "sms",
        _ => return Err(token_invalid()),
    };
    Ok((user, kind))
}

/// What a verification ends in.
enum Verified {
    /// The token response of the new session.
    Session(Value),
    /// The first of two email-change confirmations: no session yet.
    FirstOfTwo,
}

/// Applies what a verified type proves (`signupVerify`, `recoverVerify`, `smsVerify`,
/// `emailChangeVerify`) and starts the session. `hash` is the verified token's hash (which
/// side of an email change it confirms).
fn sign_in_verified(
    conn: &Connection,
    state: &AppState,
    user: &User,
    kind: &str,
    hash: &str,
) -> Result<Verified, ApiError> {
    match kind {
        "email_change" => {
            if verify_email_change(conn, state, user, hash)? == EmailChangeOutcome::FirstOfTwo {
                return Ok(Verified::FirstOfTwo);
            }
        }
        "phone_change" => apply_phone_change(conn, state, user)?,
        "signup" | "invite" => confirm_email(conn, state, user)?,
        "recovery" | "magiclink" => {
            ott::clear_all(conn, user.id)?;
            if user.email_confirmed_at.is_none() {
                confirm_email(conn, state, user)?;
            }
        }
        "sms" => confirm_phone(conn, state, user)?,
        _ => return Err(bad("Unsupported verification type")),
    }
    let user = db::user_by_id(conn, user.id)?.ok_or_else(|| ApiError::internal("user vanished"))?;
    let (session, refresh_token) = start_session(conn, state, &user, AMR_METHOD, None)?;
    let user = db::user_by_id(conn, user.id)?.unwrap_or(user);
    Ok(Verified::Session(token_response(
        state,
        &user,
        &session,
        &refresh_token,
    )))
}

/// GoTrue's `User.Confirm`: the email is confirmed now, `email_verified: true` joins the user
/// metadata, and every one-time token of the user is used up.
pub(crate) fn confirm_email(
    conn: &Connection,
    state: &AppState,
    user: &User,
) -> rusqlite::Result<()> {
    let now = state.now_micros();
    db::confirm_user(conn, user.id, true, now)?;
    let mut metadata = user.user_metadata.as_object().cloned().unwrap_or_default();
    metadata.insert("email_verified".into(), json!(true));
    db::update_user_metadata(conn, user.id, &Value::Object(metadata), now)?;
    ott::clear_all(conn, user.id)
}

/// GoTrue's `User.ConfirmPhone`.
pub(crate) fn confirm_phone(
    conn: &Connection,
    state: &AppState,
    user: &User,
) -> rusqlite::Result<()> {
    db::confirm_user(conn, user.id, false, state.now_micros())?;
    ott::clear_all(conn, user.id)
}

/// `GET /verify?token=<hash>&type=…&redirect_to=…`: the link from an email. GoTrue answers a
/// missing type or token with a JSON error, and everything after that with a 303 to the
/// redirect: the session (or the error) in the fragment.
pub async fn verify_get(
    State(state): State<Shared>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let token = query_param(query.as_deref(), "token").unwrap_or_default();
    let kind = query_param(query.as_deref(), "type").unwrap_or_default();
    let redirect_to = crate::redirect::referrer(&state, query.as_deref(), &headers);
    if kind.is_empty() {
        return Err(bad("Verify requires a verification type"));
    }
    if token.is_empty() {
        return Err(bad("Verify requires a token or a token hash"));
    }
    let outcome = state
        .db
        .run(|conn| -> Result<(Verified, &'static str), ApiError> {
            let tx = conn.transaction()?;
            let (user, kind) = by_token_hash(&tx, &state, &token, &kind)?;
            // `sms` cannot come back from a token hash; `by_token_hash` refused it.
            let verified = sign_in_verified(&tx, &state, &user, kind, &token)?;
            tx.commit()?;
            Ok((verified, kind))
        });
    let location = match outcome {
        // GoTrue's `prepRedirectURL`: the message in the fragment, no session.
        Ok((Verified::FirstOfTwo, _)) => {
            let fragment = form_urlencoded::Serializer::new(String::new())
                .append_pair("message", SINGLE_CONFIRMATION_ACCEPTED)
                .append_pair("sb", "")
                .finish();
            let base = redirect_to.split('#').next().unwrap_or(&redirect_to);
            format!("{base}#{fragment}")
        }
        Ok((Verified::Session(body), kind)) => {
            let text = |key: &str| match &body[key] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            // Go's `url.Values.Encode`: keys in alphabetical order.
            let fragment = form_urlencoded::Serializer::new(String::new())
                .append_pair("access_token", &text("access_token"))
                .append_pair("expires_at", &text("expires_at"))
                .append_pair("expires_in", &text("expires_in"))
                .append_pair("refresh_token", &text("refresh_token"))
                .append_pair("sb", "")
                .append_pair("token_type", &text("token_type"))
                .append_pair("type", kind)
                .finish();
            format!("{redirect_to}#{fragment}")
        }
        Err(error) => error_redirect(&redirect_to, &error).ok_or(error)?,
    };
    Ok((StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response())
}

/// GoTrue's `prepErrorRedirectURL` for the implicit flow: the redirect's own fragment is
/// replaced by `error` (the OAuth name of the status, when it has one), `error_code`,
/// `error_description` and `sb`. `None` when the redirect is not a URL (the error is then
/// answered as JSON).
fn error_redirect(redirect_to: &str, error: &ApiError) -> Option<String> {
    url::Url::parse(redirect_to).ok()?;
    let oauth_name = match error.status.as_u16() {
        400 => Some("invalid_request"),
        401 => Some("unauthorized_client"),
        403 => Some("access_denied"),
        500 => Some("server_error"),
        503 => Some("temporarily_unavailable"),
        _ => None,
    };
    let mut fragment = form_urlencoded::Serializer::new(String::new());
    if let Some(name) = oauth_name {
        fragment.append_pair("error", name);
    }
    fragment
        .append_pair("error_code", error.code)
        .append_pair("error_description", &error.message)
        .append_pair("sb", "");
    let base = redirect_to.split('#').next().unwrap_or(redirect_to);
    Some(format!("{base}#{}", fragment.finish()))
}
