//! Linked identities (auth-js's `getUserIdentities`, `linkIdentity`, `unlinkIdentity`): the
//! user's identities, linking another provider through the same browser flow as an OAuth
//! sign-in (`auth_oauth_wait` and `auth_oauth_cancel` wait for it and stop it), and unlinking
//! one. GoTrue answers `manual_linking_disabled` unless the project allows manual linking.

use tauri::{AppHandle, Runtime, State};

use super::logged;
use crate::error::Error;
use crate::identities::IdentitiesView;
use crate::inspector::Inspector;
use crate::oauth::{OAuthStarted, PendingOAuth};

/// The user's identities as the server lists them now (`GET /user`), and which of them the
/// current access token's `amr` says it was signed in with.
#[tauri::command]
pub async fn identities_list(inspector: State<'_, Inspector>) -> Result<IdentitiesView, Error> {
    let result = async {
        let active = inspector.active().await?;
        let identities = active.client.get_user_identities().await?;
        Ok(IdentitiesView::of(
            &identities,
            active.client.current_session().as_ref(),
        ))
    };
    logged(&inspector.log, "identities", result.await)
}

/// Starts linking `provider` and opens the system browser on it.
#[tauri::command]
pub async fn identities_link_start<R: Runtime>(
    app: AppHandle<R>,
    inspector: State<'_, Inspector>,
    pending: State<'_, PendingOAuth>,
    provider: String,
) -> Result<OAuthStarted, Error> {
    let result = async {
        let active = inspector.active().await?;
        pending.link(&app, &active.client, &provider).await
    };
    logged(&inspector.log, "linkIdentity", result.await)
}

/// `DELETE /user/identities/{identity_id}`.
#[tauri::command]
pub async fn identities_unlink(
    inspector: State<'_, Inspector>,
    identity_id: String,
) -> Result<(), Error> {
    let result = async {
        Ok(inspector
            .active()
            .await?
            .client
            .unlink_identity(&identity_id)
            .await?)
    };
    logged(&inspector.log, "unlinkIdentity", result.await)
}
