//! `POST /resend`, as GoTrue's `resend.go`: a sign-up confirmation (`signup`), a phone
//! confirmation code (`sms`), or the pending email or phone change's messages again
//! (`email_change`, `phone_change`), within the usual resend limit. Unknown addresses, and
//! users with nothing to confirm, get the same `{}` as a sent message, so the route tells no
//! one who has an account.

use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{json_body, Shared};
use crate::addresses::{validate_email, validate_phone};
use crate::db;
use crate::errors::ApiError;
use crate::inbox::{InboxKind, InboxMessage};
use crate::mailer::{send_email, send_email_change, send_phone_change, send_sms, Texted};

#[derive(Deserialize)]
pub struct ResendParams {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    code_challenge: Option<String>,
    #[serde(default)]
    code_challenge_method: Option<String>,
}

fn bad(message: &str) -> ApiError {
    ApiError::bad_request("validation_failed", message)
}

pub async fn resend(
    State(state): State<Shared>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let params: ResendParams = json_body(body).await?;
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let (kind, email, phone) = (text(&params.kind), text(&params.email), text(&params.phone));
    // `ResendConfirmationParams.Validate`, in its order.
    match kind.as_str() {
        "signup" | "email_change" => {
            super::otp::check_pkce(&params.code_challenge_method, &params.code_challenge)?
        }
        "sms" | "phone_change" => {}
        _ => {
            return Err(bad(
                "Missing one of these types: signup, email_change, sms, phone_change",
            ))
        }
    }
    if email.is_empty() && kind == "signup" {
        return Err(bad("Type provided requires an email address"));
    }
    if phone.is_empty() && kind == "sms" {
        return Err(bad("Type provided requires a phone number"));
    }
    let (email, phone) = match (email.is_empty(), phone.is_empty()) {
        (false, false) => {
            return Err(bad(
                "Only an email address or phone number should be provided.",
            ))
        }
        (false, true) => (validate_email(&email)?, phone),
        (true, false) => (email, validate_phone(&phone)?),
        (true, true) => return Err(bad("Missing email address or phone number")),
    };
    let redirect_to = crate::redirect::referrer(&state, query.as_deref(), &headers);
    let (messages, answer) =
        state
            .db
            .run(|conn| -> Result<(Vec<InboxMessage>, Value), ApiError> {
                let tx = conn.transaction()?;
                let user = if email.is_empty() {
                    db::user_by_phone(&tx, &phone)?
                } else {
                    db::user_by_email(&tx, &email)?
                };
                let Some(user) = user else {
                    return Ok((Vec::new(), json!({})));
                };
                let mut answer = json!({});
                // GoTrue answers an SMS send's message id (`test-otp` for a test number).
                let mut text = |texted: Texted| {
                    answer = texted.answer();
                    texted.into_message().into_iter().collect::<Vec<_>>()
                };
                let pending = &user.pending;
                let messages = match kind.as_str() {
                    "signup" if user.email_confirmed_at.is_none() => {
                        vec![send_email(
                            &tx,
                            &state,
                            &user,
                            InboxKind::Signup,
                            &redirect_to,
                        )?]
                    }
                    "sms" if user.phone_confirmed_at.is_none() => {
                        text(send_sms(&tx, &state, &user, &phone)?)
                    }
                    "email_change" if !pending.email_change.is_empty() => {
                        let new_email = pending.email_change.clone();
                        send_email_change(&tx, &state, &user, &new_email, &redirect_to)?
                    }
                    "phone_change" if !pending.phone_change.is_empty() => {
                        let new_phone = pending.phone_change.clone();
                        text(send_phone_change(&tx, &state, &user, &new_phone)?)
                    }
                    // Nothing to confirm: the same empty answer.
                    _ => Vec::new(),
                };
                tx.commit()?;
                Ok((messages, answer))
            })?;
    for message in messages {
        state.inbox.deliver(message);
    }
    Ok(Json(answer).into_response())
}
