//! The other ways in: a one-time code (email or SMS), a link pasted from an email, OAuth in the
//! system browser, and the built-in demo's inbox where its codes and links arrive. A new session
//! reaches the window through the live log (`SIGNED_IN`); the answers here are for the panel.

use secrecy::{ExposeSecret as _, SecretString};
use session_engine::client::otp::{OtpKind, OtpRecipient, OtpSent};
use session_engine::{AuthClient, SignInMethods};
use tauri::{AppHandle, Runtime, State};

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

/// `POST /otp`: sends a code (and, for email, a magic link) to `recipient`.
#[tauri::command]
pub async fn auth_otp_send(
    inspector: State<'_, Inspector>,
    recipient: String,
    create_user: bool,
) -> Result<OtpSent, Error> {
    let result = async {
        let to = OtpRecipient::parse(&recipient)?;
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
    recipient: String,
    code: SecretString,
    kind: OtpKind,
) -> Result<SessionView, Error> {
    let result = async {
        let to = OtpRecipient::parse(&recipient)?;
        let client = inspector.active().await?.client.clone();
        let response = client.verify_otp(&to, code.expose_secret(), kind).await?;
        Ok(SessionView::of(&response.session))
    };
    logged(&inspector.log, "verifyCode", result.await)
}

/// A magic or confirmation link pasted from an email: verified by its token hash (the link
/// itself is never opened, which would use it up).
#[tauri::command]
pub async fn auth_email_link_verify(
    inspector: State<'_, Inspector>,
    link: SecretString,
) -> Result<SessionView, Error> {
    let result = async {
        let (token_hash, kind) = AuthClient::parse_email_link(link.expose_secret())?;
        let client = inspector.active().await?.client.clone();
        let response = client.verify_token_hash(&token_hash, kind).await?;
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
        let client = inspector.active().await?.client.clone();
        pending.start(&app, &client, &provider).await
    };
    logged(&inspector.log, "oauthStart", result.await)
}

/// Waits for the browser to come back to the loopback callback, then exchanges the code.
#[tauri::command]
pub async fn auth_oauth_wait(
    inspector: State<'_, Inspector>,
    pending: State<'_, PendingOAuth>,
) -> Result<SessionView, Error> {
    logged(&inspector.log, "oauthSignIn", pending.finish().await)
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
) -> Result<Option<Vec<local_gotrue::InboxMessage>>, Error> {
    let active = inspector.active().await?;
    Ok(active.demo_server.as_ref().map(crate::demo::inbox))
}
