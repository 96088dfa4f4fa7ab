//! `POST /signup` (email, phone or anonymous), `POST /logout`, `GET /user` (`PUT /user` is in
//! `user_update`).

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{Extensions, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{authenticate, json_body, Shared};
use crate::clock::{from_micros, rfc3339};
use crate::db;
use crate::errors::ApiError;
use crate::inbox::InboxKind;
use crate::mailer::{send_email, send_sms};
use crate::one_time_token::Slot;
use crate::state::{new_user, start_session, token_response, user_json, AppState};

#[derive(Deserialize)]
pub struct SignupParams {
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    data: Value,
}

const MIN_PASSWORD: usize = 6;

pub async fn signup(
    State(state): State<Shared>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    extensions: Extensions,
    body: Body,
) -> Result<Response, ApiError> {
    let mut params: SignupParams = json_body(body).await?;
    let anonymous = params.email.is_empty() && params.phone.is_empty();
    if anonymous && !state.config.anonymous_sign_ins {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "anonymous_provider_disabled",
            "Anonymous sign-ins are disabled",
        ));
    }
    if anonymous
        && !state
            .rate_limiter
            .allow_anonymous(super::peer_ip(&extensions))
    {
        return Err(ApiError::rate_limited());
    }
    if state.config.disable_signup {
        return Err(signup_disabled());
    }
    if !anonymous {
        validate_credentials(&mut params)?;
    }
    let password = (!anonymous).then_some(params.password.as_str());
    // GoTrue's `MAILER_AUTOCONFIRM` for email sign-ups, `SMS_AUTOCONFIRM` for phone ones.
    let autoconfirm = if params.email.is_empty() && !params.phone.is_empty() {
        state.config.phone_autoconfirm
    } else {
        state.config.autoconfirm
    };
    let user = new_user(
        &state,
        &params.email,
        &params.phone,
        password,
        params.data,
        anonymous,
        autoconfirm,
    );
    let redirect_to = crate::redirect::referrer(&state, query.as_deref(), &headers);
    let (body, message) = state.db.run(|conn| -> Result<_, ApiError> {
        let tx = conn.transaction()?;
        let taken = if user.email.is_empty() {
            db::user_by_phone(&tx, &user.phone)?
        } else {
            db::user_by_email(&tx, &user.email)?
        };
        let user = match taken {
            Some(existing) if is_confirmed(&existing, &user) => {
                // GoTrue says "already registered" only when sign-ups confirm themselves;
                // otherwise it answers a made-up unconfirmed user, so that sign-up cannot
                // tell who has an account.
                if state.config.autoconfirm || state.config.phone_autoconfirm {
                    return Err(ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "user_already_exists",
                        "User already registered",
                    ));
                }
                return Ok((obfuscated_user(&state, &user), None));
            }
            // Not confirmed yet: GoTrue leaves the user as it is (the claimed identity is
            // unproven) and confirms or re-sends the confirmation as for a new one.
            Some(existing) => {
                if autoconfirm {
                    db::confirm_user(&tx, existing.id, !user.email.is_empty(), state.now_micros())?;
                }
                db::user_by_id(&tx, existing.id)?.unwrap_or(existing)
            }
            None => {
                db::insert_user(&tx, &user)?;
                user
            }
        };
        let (body, message) = if anonymous || autoconfirm {
            let method = if anonymous { "anonymous" } else { "password" };
            let (session, refresh_token) = start_session(&tx, &state, &user, method, None)?;
            let user = db::user_by_id(&tx, user.id)?.unwrap_or(user);
            (
                token_response(&state, &user, &session, &refresh_token),
                None,
            )
        } else {
            // GoTrue's `sendConfirmation` / `sendPhoneConfirmation` in the sign-up's
            // transaction: within the resend limit (a refusal rolls the new user back), the
            // confirmation goes out and the answer is the unconfirmed user with its sent time.
            let message = if user.email.is_empty() {
                send_sms(&tx, &state, &user, &user.phone)?.into_message()
            } else {
                Some(send_email(
                    &tx,
                    &state,
                    &user,
                    InboxKind::Signup,
                    &redirect_to,
                )?)
            };
            let user = db::user_by_id(&tx, user.id)?.unwrap_or(user);
            let mut body = user_json(&user);
            // The sent time the confirmation slot now holds (a test number's code is never
            // sent, but GoTrue stamps the time all the same).
            let sent_at = crate::one_time_token::slot(&tx, user.id, Slot::Confirmation)?
                .map(|slot| rfc3339(from_micros(slot.sent_at)));
            body["confirmation_sent_at"] = json!(sent_at);
            (body, message)
        };
        tx.commit()?;
        Ok((body, message))
    })?;
    if let Some(message) = message {
        state.inbox.deliver(message);
    }
    Ok(Json(body).into_response())
}

/// GoTrue's answer to every sign-up (password, anonymous, one-time code) when sign-ups are
/// disabled.
pub(crate) fn signup_disabled() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "signup_disabled",
        "Signups not allowed for this instance",
    )
}

/// Whether the existing user is confirmed for the channel this sign-up uses.
fn is_confirmed(existing: &db::User, signing_up: &db::User) -> bool {
    if signing_up.email.is_empty() {
        existing.phone_confirmed_at.is_some()
    } else {
        existing.email_confirmed_at.is_some()
    }
}

/// GoTrue's `sanitizeUser`: a fresh id, nothing confirmed, no identities, only what the
/// request itself sent.
fn obfuscated_user(state: &AppState, signing_up: &db::User) -> Value {
    let provider = if signing_up.email.is_empty() {
        "phone"
    } else {
        "email"
    };
    let now = state
        .now()
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let mut user = user_json(signing_up);
    user["id"] = json!(uuid::Uuid::new_v4());
    user["role"] = json!("");
    user["identities"] = json!([]);
    user["app_metadata"] = json!({"provider": provider, "providers": [provider]});
    for field in [
        "email_confirmed_at",
        "phone_confirmed_at",
        "confirmed_at",
        "last_sign_in_at",
    ] {
        if user.get(field).is_some() {
            user[field] = Value::Null;
        }
    }
    user["confirmation_sent_at"] = json!(now);
    user["created_at"] = json!(now);
    user["updated_at"] = json!(now);
    user
}

fn validate_credentials(params: &mut SignupParams) -> Result<(), ApiError> {
    // `SignupParams.validate`, in its order: a password, its strength, one address only; then
    // `validateEmail` or `validatePhone` (the number is kept as digits, E.164 without `+`).
    if params.password.is_empty() {
        return Err(ApiError::bad_request(
            "validation_failed",
            "Signup requires a valid password",
        ));
    }
    check_password_strength(&params.password)?;
    if !params.email.is_empty() && !params.phone.is_empty() {
        return Err(ApiError::bad_request(
            "validation_failed",
            "Only an email address or phone number should be provided on signup.",
        ));
    }
    if !params.email.is_empty() {
        crate::addresses::validate_email(&params.email)?;
    } else {
        params.phone = crate::addresses::validate_phone(&params.phone)?;
    }
    Ok(())
}

/// GoTrue's minimum length rule, answered as its 422 `weak_password` with the reason.
pub(crate) fn check_password_strength(password: &str) -> Result<(), ApiError> {
    if password.chars().count() >= MIN_PASSWORD {
        return Ok(());
    }
    let mut error = ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "weak_password",
        format!("Password should be at least {MIN_PASSWORD} characters."),
    );
    error.weak_password_reasons = Some(vec!["length"]);
    Err(error)
}

pub async fn logout(
    State(state): State<Shared>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let auth = authenticate(&state, &headers)?;
    // Absent or empty means global, as GoTrue reads it.
    let scope = super::query_param(query.as_deref(), "scope")
        .filter(|scope| !scope.is_empty())
        .unwrap_or_else(|| "global".into());
    if !matches!(scope.as_str(), "global" | "local" | "others") {
        return Err(ApiError::bad_request(
            "validation_failed",
            format!("Unsupported logout scope {scope:?}"),
        ));
    }
    sign_out(&state, auth.user.id, auth.session.map(|s| s.id), &scope)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn sign_out(
    state: &AppState,
    user: uuid::Uuid,
    session: Option<uuid::Uuid>,
    scope: &str,
) -> rusqlite::Result<()> {
    state.db.run(|conn| match (scope, session) {
        // A token without a session id is always a global sign-out.
        ("local", Some(session)) => db::delete_session(conn, session),
        ("others", Some(session)) => db::delete_user_sessions(conn, user, Some(session)),
        _ => db::delete_user_sessions(conn, user, None),
    })
}

pub async fn user(State(state): State<Shared>, headers: HeaderMap) -> Result<Response, ApiError> {
    let auth = authenticate(&state, &headers)?;
    Ok(Json(user_json(&auth.user)).into_response())
}
