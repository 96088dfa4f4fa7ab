//! Account changes, as auth-js apps make them: a forgotten password (`POST /recover`; the code
//! or link is then verified by the sign-in commands, which announces `PASSWORD_RECOVERY`), and
//! for the signed-in user a new email (confirmed by code or link, to one or both addresses), a
//! new password (with the reauthentication nonce or the current password when the project asks
//! for one), and sending those messages again: each a few lines over the engine's operation.
//! The user's new values, codes and nonces only come in; the changed user reaches the card
//! through the live log (`USER_UPDATED`, or `SIGNED_IN` when an email change is applied).

use secrecy::{ExposeSecret as _, SecretString};
use tauri::State;

use super::logged;
use crate::error::Error;
use crate::inspector::Inspector;
use crate::views::{EmailChangeView, UserView};

/// `POST /recover`: GoTrue mails a password-reset code and link to `email` (and answers the
/// same for an address it does not know). No `redirect_to`: the link is pasted back here.
#[tauri::command]
pub async fn auth_reset_password(
    inspector: State<'_, Inspector>,
    email: String,
) -> Result<(), Error> {
    let result = async {
        if !email.contains('@') {
            return Err(Error::InvalidInput("Enter an email address.".into()));
        }
        let active = inspector.active().await?;
        Ok(active.client.reset_password_for_email(&email, None).await?)
    };
    logged(&inspector.log, "resetPassword", result.await)
}

/// `PUT /user {email}`: GoTrue mails the confirmation (to the new address and, with secure
/// email change, to the current one); the user's `newEmail` shows it is pending.
#[tauri::command]
pub async fn account_change_email(
    inspector: State<'_, Inspector>,
    email: String,
) -> Result<UserView, Error> {
    let result = async {
        let active = inspector.active().await?;
        Ok(UserView::of(&active.client.change_email(&email).await?))
    };
    logged(&inspector.log, "changeEmail", result.await)
}

/// `PUT /user {password, nonce?, current_password?}`: the nonce is the code
/// `account_reauthenticate` sent, for projects that ask for it (GoTrue's
/// `reauthentication_needed` says so); the current password for projects that require it
/// (`current_password_required`).
#[tauri::command]
pub async fn account_change_password(
    inspector: State<'_, Inspector>,
    password: SecretString,
    nonce: Option<SecretString>,
    current_password: Option<SecretString>,
) -> Result<UserView, Error> {
    let result = async {
        let active = inspector.active().await?;
        let user = active
            .client
            .change_password(password, nonce, current_password)
            .await?;
        Ok(UserView::of(&user))
    };
    logged(&inspector.log, "changePassword", result.await)
}

/// `GET /reauthenticate`: GoTrue sends the signed-in user the nonce a password change needs.
#[tauri::command]
pub async fn account_reauthenticate(inspector: State<'_, Inspector>) -> Result<(), Error> {
    let result = async { Ok(inspector.active().await?.client.reauthenticate().await?) };
    logged(&inspector.log, "reauthenticate", result.await)
}

/// `POST /resend {type: email_change}` for the signed-in user (GoTrue finds the pending change
/// by the current address, and sends its messages again).
#[tauri::command]
pub async fn account_resend_email_change(inspector: State<'_, Inspector>) -> Result<(), Error> {
    let result = async {
        Ok(inspector
            .active()
            .await?
            .client
            .resend_email_change()
            .await?)
    };
    logged(&inspector.log, "resendEmailChange", result.await)
}

/// `POST /verify {type: email_change}` with the code sent to `email` (either address).
#[tauri::command]
pub async fn account_confirm_email_change(
    inspector: State<'_, Inspector>,
    email: String,
    code: SecretString,
) -> Result<EmailChangeView, Error> {
    let result = async {
        let active = inspector.active().await?;
        let confirmation = active
            .client
            .confirm_email_change_code(&email, code.expose_secret())
            .await?;
        Ok(EmailChangeView::of(confirmation))
    };
    logged(&inspector.log, "confirmEmailChange", result.await)
}

/// The same with the link pasted from either email: verified by its token hash, only when it
/// is this project's (as `auth_email_link_verify`).
#[tauri::command]
pub async fn account_confirm_email_change_link(
    inspector: State<'_, Inspector>,
    link: SecretString,
) -> Result<EmailChangeView, Error> {
    let result = async {
        let active = inspector.active().await?;
        let confirmation = active
            .client
            .confirm_email_change_link(link.expose_secret())
            .await?;
        Ok(EmailChangeView::of(confirmation))
    };
    logged(&inspector.log, "confirmEmailChange", result.await)
}
