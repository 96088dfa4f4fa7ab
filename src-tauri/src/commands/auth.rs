//! Sign in and sign out.

use secrecy::{ExposeSecret as _, SecretString};
use session_engine::{Credentials, SignOutScope};
use tauri::State;

use super::logged;
use crate::error::Error;
use crate::inspector::Inspector;
use crate::oauth::PendingOAuth;
use crate::views::SessionView;

#[tauri::command]
pub async fn auth_sign_in_password(
    inspector: State<'_, Inspector>,
    email: String,
    // Wiped from memory when the command ends.
    password: SecretString,
) -> Result<SessionView, Error> {
    let result = async {
        let credentials = Credentials::email(&email, password.expose_secret())?;
        let response = inspector
            .active()
            .await?
            .client
            .sign_in_with_password(credentials)
            .await?;
        Ok(SessionView::of(&response.session))
    };
    logged(&inspector.log, "signIn", result.await)
}

#[tauri::command]
pub async fn auth_sign_in_anonymously(
    inspector: State<'_, Inspector>,
) -> Result<SessionView, Error> {
    let result = async {
        let response = inspector
            .active()
            .await?
            .client
            .sign_in_anonymously()
            .await?;
        Ok(SessionView::of(&response.session))
    };
    logged(&inspector.log, "signInAnonymously", result.await)
}

/// `global` ends every session of the user, `local` this one, `others` all but this one.
#[tauri::command]
pub async fn auth_sign_out(
    inspector: State<'_, Inspector>,
    pending: State<'_, PendingOAuth>,
    scope: SignOutScope,
) -> Result<(), Error> {
    // A link (or sign-in) still waiting for the browser would sign the user back in when its
    // callback came after SIGNED_OUT; with `others` this session stays, and so may its link.
    if scope != SignOutScope::Others {
        pending.cancel();
    }
    let result = async { Ok(inspector.active().await?.client.sign_out(scope).await?) };
    logged(&inspector.log, "signOut", result.await)
}

/// "End it now": ends a session whose refresh token was rejected, here only (no request: the
/// server already refused the token). SIGNED_OUT follows in the live log.
#[tauri::command]
pub async fn auth_end_session(
    inspector: State<'_, Inspector>,
    pending: State<'_, PendingOAuth>,
) -> Result<(), Error> {
    pending.cancel();
    inspector.active().await?.client.end_session_now().await;
    Ok(())
}
