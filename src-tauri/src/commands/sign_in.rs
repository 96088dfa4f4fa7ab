//! The other ways in: a one-time code (email or SMS), a link pasted from an email, OAuth in the
//! system browser, and the built-in demo's inbox where its codes and links arrive. A new session
//! reaches the window through the live log (`SIGNED_IN`); the answers here are for the panel.

use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use session_engine::client::otp::{OtpKind, OtpRecipient, OtpSent};
use session_engine::{AuthError, SignInMethods};
use tauri::{AppHandle, Runtime, State};
use ts_rs::TS;

use super::logged;
use crate::error::Error;
use crate::inspector::Inspector;
use crate::oauth::{OAuthStarted, PendingOAuth};
use crate::views::SessionView;

/// What the project lets a user sign in with (`GET /settings`).
#[tauri::command]
pub async fn auth_sign_in_methods(inspector: State<'_, Inspector>) -> Result<SignInMethods, Error> {
    let result = async { Ok(inspector.active().await?.client.sign_in_methods().await?) };
    logged(&inspector.log, "signInMethods", result.await)
}

/// Which form a code was asked for in: the recipient must be of that kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum OtpChannel {
    Email,
    Phone,
}

/// The recipient as typed, refused when it is not what the form asks for (an email address
/// typed into the phone form would otherwise be sent an email code).
fn recipient_for(channel: OtpChannel, typed: &str) -> Result<OtpRecipient, Error> {
    let to = OtpRecipient::parse(typed)?;
    match (channel, &to) {
        (OtpChannel::Email, OtpRecipient::Email(_))
        | (OtpChannel::Phone, OtpRecipient::Phone(_)) => Ok(to),
        (OtpChannel::Email, _) => Err(Error::InvalidInput("Enter an email address.".into())),
        (OtpChannel::Phone, _) => Err(Error::InvalidInput(
            "Enter a phone number (with its country code, e.g. +15551234567).".into(),
        )),
    }
}

/// `POST /otp`: sends a code (and, for email, a magic link) to `recipient`.
#[tauri::command]
pub async fn auth_otp_send(
    inspector: State<'_, Inspector>,
    channel: OtpChannel,
    recipient: String,
    create_user: bool,
) -> Result<OtpSent, Error> {
    let result = async {
        let to = recipient_for(channel, &recipient)?;
        Ok(inspector
            .active()
            .await?
            .client
            .sign_in_with_otp(&to, create_user)
            .await?)
    };
    logged(&inspector.log, "sendCode", result.await)
}

/// `POST /verify` with the code the user typed.
#[tauri::command]
pub async fn auth_otp_verify(
    inspector: State<'_, Inspector>,
    channel: OtpChannel,
    recipient: String,
    code: SecretString,
    kind: OtpKind,
) -> Result<SessionView, Error> {
    let result = async {
        let to = recipient_for(channel, &recipient)?;
        let active = inspector.active().await?;
        let response = active
            .client
            .verify_otp(&to, code.expose_secret(), kind)
            .await?;
        Ok(SessionView::of(&response.session))
    };
    logged(&inspector.log, "verifyCode", result.await)
}

/// A magic or confirmation link pasted from an email: verified by its token hash (the link
/// itself is never opened, which would use it up), and only when it is this project's.
#[tauri::command]
pub async fn auth_email_link_verify(
    inspector: State<'_, Inspector>,
    link: SecretString,
) -> Result<SessionView, Error> {
    let result = async {
        let active = inspector.active().await?;
        let response = active
            .client
            .verify_email_link(link.expose_secret())
            .await?;
        Ok(SessionView::of(&response.session))
    };
    logged(&inspector.log, "verifyLink", result.await)
}

/// Starts an OAuth sign-in with PKCE and opens the system browser on it.
#[tauri::command]
pub async fn auth_oauth_start<R: Runtime>(
    app: AppHandle<R>,
    inspector: State<'_, Inspector>,
    pending: State<'_, PendingOAuth>,
    provider: String,
) -> Result<OAuthStarted, Error> {
    let result = async {
        let active = inspector.active().await?;
        pending.start(&app, &active.client, &provider).await
    };
    logged(&inspector.log, "oauthStart", result.await)
}

/// Waits for the browser to come back to the loopback callback, then exchanges the code.
#[tauri::command]
pub async fn auth_oauth_wait(
    inspector: State<'_, Inspector>,
    pending: State<'_, PendingOAuth>,
) -> Result<SessionView, Error> {
    match pending.finish().await {
        // A cancel the user asked for (or a profile switch) is not a failure worth a log row.
        Err(Error::Auth(AuthError::OAuthCancelled)) => Err(AuthError::OAuthCancelled.into()),
        result => logged(&inspector.log, "oauthSignIn", result),
    }
}

#[tauri::command]
pub fn auth_oauth_cancel(pending: State<'_, PendingOAuth>) {
    pending.cancel();
}

/// The built-in demo server's inbox (its emails and text messages), newest first; `None` for
/// a real project, whose mail goes to real inboxes.
#[tauri::command]
pub async fn demo_inbox(
    inspector: State<'_, Inspector>,
) -> Result<Option<Vec<crate::demo::InboxMessage>>, Error> {
    let active = inspector.active().await?;
    Ok(active.demo_server.as_ref().map(crate::demo::inbox))
}
