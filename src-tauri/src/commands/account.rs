//! Account changes, as auth-js apps make them: a forgotten password (`POST /recover`; the code
//! or link is then verified by the sign-in commands, which announces `PASSWORD_RECOVERY`), and
//! for the signed-in user a new email (confirmed by code or link, to one or both addresses), a
//! new password (with the reauthentication nonce when the project asks for one), and sending
//! those messages again. The user's new values, codes and nonces only come in; the changed
//! user reaches the card through the live log (`USER_UPDATED`, or `SIGNED_IN` when an email
//! change is applied).

use secrecy::{ExposeSecret as _, SecretString};
use serde::Serialize;
use session_engine::{AuthError, EmailChangeConfirmation, ResendKind, UserAttributes};
use tauri::State;
use ts_rs::TS;

use super::logged;
use crate::error::Error;
use crate::inspector::Inspector;
use crate::views::{SessionView, UserView};

/// What confirming an email change came to.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase", tag = "outcome")]
pub enum EmailChangeView {
    /// One address confirmed; GoTrue's message asks for the other (secure email change).
    #[serde(rename_all = "camelCase")]
    FirstOfTwo { message: String },
    /// Applied (both addresses confirmed, or one when secure email change is off or the
    /// project confirms emails itself): the session now carries the new email.
    Applied { session: Box<SessionView> },
}

impl EmailChangeView {
    fn of(confirmation: EmailChangeConfirmation) -> EmailChangeView {
        match confirmation {
            EmailChangeConfirmation::FirstOfTwo { message } => {
                EmailChangeView::FirstOfTwo { message }
            }
            EmailChangeConfirmation::Applied(response) => EmailChangeView::Applied {
                session: Box::new(SessionView::of(&response.session)),
            },
        }
    }
}

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
        let client = inspector.active().await?.client.clone();
        Ok(client.reset_password_for_email(&email, None).await?)
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
        let email = email.trim();
        if !email.contains('@') {
            return Err(Error::InvalidInput("Enter the new email address.".into()));
        }
        let client = inspector.active().await?.client.clone();
        let attributes = UserAttributes {
            email: Some(email.to_string()),
            ..UserAttributes::default()
        };
        Ok(UserView::of(&client.update_user(attributes).await?))
    };
    logged(&inspector.log, "changeEmail", result.await)
}

/// `PUT /user {password, nonce?}`: the nonce is the code `account_reauthenticate` sent, for
/// projects that ask for it (GoTrue's `reauthentication_needed` says so).
#[tauri::command]
pub async fn account_change_password(
    inspector: State<'_, Inspector>,
    password: SecretString,
    nonce: Option<SecretString>,
) -> Result<UserView, Error> {
    let result = async {
        // An empty password is never sent: GoTrue would read it as "no change" on some
        // versions and as a weak password on others.
        if password.expose_secret().is_empty() {
            return Err(Error::InvalidInput("Enter the new password.".into()));
        }
        let nonce = nonce.filter(|n| !n.expose_secret().trim().is_empty());
        let client = inspector.active().await?.client.clone();
        let attributes = UserAttributes {
            password: Some(password),
            nonce,
            ..UserAttributes::default()
        };
        Ok(UserView::of(&client.update_user(attributes).await?))
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
        let client = inspector.active().await?.client.clone();
        let session = client.current_session().ok_or(AuthError::SessionMissing)?;
        Ok(client
            .resend(ResendKind::EmailChange, &session.user.email)
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
        let client = inspector.active().await?.client.clone();
        let confirmation = client
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
        let client = inspector.active().await?.client.clone();
        let confirmation = client
            .confirm_email_change_link(link.expose_secret())
            .await?;
        Ok(EmailChangeView::of(confirmation))
    };
    logged(&inspector.log, "confirmEmailChange", result.await)
}
