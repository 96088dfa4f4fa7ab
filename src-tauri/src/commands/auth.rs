//! Sign in and sign out: thin adapters over the engine; failures also go to the live log.

use serde::Deserialize;
use session_engine::{Credentials, SignOutScope};
use tauri::State;

use crate::commands::session::logged;
use crate::error::Error;
use crate::inspector::Inspector;
use crate::views::SessionView;

#[tauri::command]
pub async fn auth_sign_in_password(
    inspector: State<'_, Inspector>,
    email: String,
    password: String,
) -> Result<SessionView, Error> {
    let result = async {
        let email = email.trim().to_string();
        if email.is_empty() || password.is_empty() {
            return Err(Error::InvalidInput(
                "Enter both an email address and a password.".into(),
            ));
        }
        let active = inspector.active().await?;
        let response = active
            .client
            .sign_in_with_password(Credentials::Email { email, password })
            .await?;
        Ok(SessionView::of(&response.session))
    }
    .await;
    logged(&inspector.log, "signIn", result)
}

#[tauri::command]
pub async fn auth_sign_in_anonymously(
    inspector: State<'_, Inspector>,
) -> Result<SessionView, Error> {
    let result = async {
        let active = inspector.active().await?;
        let response = active.client.sign_in_anonymously().await?;
        Ok(SessionView::of(&response.session))
    }
    .await;
    logged(&inspector.log, "signInAnonymously", result)
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Scope {
    Global,
    Local,
    Others,
}

/// Signs out with the Supabase clients' scopes: `global` ends every session of the user,
/// `local` this one, `others` all but this one (which stays current).
#[tauri::command]
pub async fn auth_sign_out(inspector: State<'_, Inspector>, scope: Scope) -> Result<(), Error> {
    let result = async {
        let scope = match scope {
            Scope::Global => SignOutScope::Global,
            Scope::Local => SignOutScope::Local,
            Scope::Others => SignOutScope::Others,
        };
        let active = inspector.active().await?;
        Ok(active.client.sign_out(scope).await?)
    }
    .await;
    logged(&inspector.log, "signOut", result)
}
