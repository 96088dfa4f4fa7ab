//! `GET /reauthenticate`, as GoTrue's `reauthenticate.go`: the signed-in user is sent a nonce
//! (to the email, or to the phone when there is no email) that a password change takes when
//! `SECURITY_UPDATE_PASSWORD_REQUIRE_REAUTHENTICATION` is on. The answer is `{}`; the nonce is
//! in the inbox.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::{authenticate, Shared};
use crate::errors::ApiError;
use crate::mailer::send_reauthentication;

pub async fn reauthenticate(
    State(state): State<Shared>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let auth = authenticate(&state, &headers)?;
    let user = &auth.user;
    if user.email.is_empty() && user.phone.is_empty() {
        return Err(ApiError::bad_request(
            "validation_failed",
            "Reauthentication requires the user to have an email or a phone number",
        ));
    }
    let unconfirmed =
        |code, message: &str| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message);
    if !user.email.is_empty() {
        // GoTrue's `IsConfirmed`: the email.
        if user.email_confirmed_at.is_none() {
            return Err(unconfirmed(
                "email_not_confirmed",
                "Please verify your email first.",
            ));
        }
    } else if user.phone_confirmed_at.is_none() {
        return Err(unconfirmed(
            "phone_not_confirmed",
            "Please verify your phone first.",
        ));
    }
    let texted = state.db.run(|conn| -> Result<_, ApiError> {
        let tx = conn.transaction()?;
        let texted = send_reauthentication(&tx, &state, user)?;
        tx.commit()?;
        Ok(texted)
    })?;
    // GoTrue's answer: the SMS message id when there is one (`test-otp`), else `{}`.
    let answer = texted.answer();
    if let Some(message) = texted.into_message() {
        state.inbox.deliver(message);
    }
    Ok(Json(answer).into_response())
}
