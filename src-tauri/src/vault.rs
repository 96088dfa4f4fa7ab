//! The OS-keyring vault every profile's sessions are kept in, opened (and its keyring probed)
//! once, on first use.

use std::path::PathBuf;
use std::sync::Arc;

use session_profiles::SEALED_FOLDER;
use session_vault::Vault;
use tauri::{AppHandle, Manager, Runtime};

use crate::error::Error;
use crate::inspector::Inspector;

/// Where sealed session files are kept (the vault opens it, Reset all data removes it): the
/// app's *local* data folder, never one that roams with a Windows profile (`%APPDATA%`), since
/// a sealed file's key is a Credential Manager entry kept on this computer only. On Linux and
/// macOS the local and the roaming data folder are the same folder.
pub fn sealed_folder<R: Runtime>(app: &AppHandle<R>) -> Result<PathBuf, Error> {
    Ok(app.path().app_local_data_dir()?.join(SEALED_FOLDER))
}

/// The vault, and which keyring it found.
pub type OpenVault = (Arc<Vault>, session_vault::Backend);

/// The shared vault: sealed files for large sessions in [`sealed_folder`].
pub async fn open<R: Runtime>(
    app: &AppHandle<R>,
    inspector: &Inspector,
) -> Result<OpenVault, Error> {
    let identifier = app.config().identifier.clone();
    let sealed = sealed_folder(app)?;
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
