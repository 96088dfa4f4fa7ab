//! The OS-keyring vault every profile's sessions are kept in, opened (and its keyring probed)
//! once, on first use.

use std::sync::Arc;

use session_vault::Vault;
use tauri::{AppHandle, Manager, Runtime};

use crate::error::Error;
use crate::inspector::Inspector;

/// The sealed sessions' folder, in the app data folder.
pub const SEALED_FOLDER: &str = "sessions";

/// The vault, and which keyring it found.
pub type OpenVault = (Arc<Vault>, session_vault::Backend);

/// The shared vault: sealed files for large sessions under the app data folder's `sessions/`.
pub async fn open<R: Runtime>(
    app: &AppHandle<R>,
    inspector: &Inspector,
) -> Result<OpenVault, Error> {
    let identifier = app.config().identifier.clone();
    let sealed = app.path().app_data_dir()?.join(SEALED_FOLDER);
    inspector
        .vault
        .get_or_try_init(|| async move {
            let vault =
                tokio::task::spawn_blocking(move || Vault::open(&identifier, sealed)).await?;
            let keyring = vault.backend();
            tracing::info!(?keyring, "session vault opened");
            Ok::<_, Error>((Arc::new(vault), keyring))
        })
        .await
        .cloned()
}
