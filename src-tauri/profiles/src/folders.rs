//! Where the app keeps its files. Tauri names an app's folders after its identifier: the data
//! folder is `dirs::data_dir()/<identifier>` and the local data folder
//! `dirs::data_local_dir()/<identifier>` (tauri's `path/desktop.rs`, when the configuration
//! sets no `appDirectoriesOverride`, which ours does not: a test checks both facts against
//! `tauri.conf.json`). The same folders on Linux and macOS; on Windows the data folder roams
//! with the user's profile and the local one stays on this computer.

use std::path::{Path, PathBuf};

use crate::file::STORE_FILE;

/// The app's identifier, as `tauri.conf.json` declares it: the name of its folders and the
/// service its keyring entries are filed under.
pub const IDENTIFIER: &str = "dev.sessioninspector.app";

/// The sealed sessions' folder (sessions too large for one keyring entry), in the local data
/// folder: a sealed file's key is a keyring entry kept on this computer only, so the file
/// must never roam with a Windows profile.
pub const SEALED_FOLDER: &str = "sessions";

/// The app's two data folders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folders {
    /// Settings, history, logs, the built-in demo's database.
    pub data: PathBuf,
    /// Sealed sessions.
    pub local_data: PathBuf,
}

impl Folders {
    /// The folders the app uses for this user, as Tauri resolves them; `None` when the OS
    /// names no data folder (no home directory).
    pub fn of_user() -> Option<Folders> {
        Some(Folders {
            data: dirs::data_dir()?.join(IDENTIFIER),
            local_data: dirs::data_local_dir()?.join(IDENTIFIER),
        })
    }

    /// One folder standing for both (tests, and a copy of the app's folder elsewhere).
    pub fn at(folder: impl AsRef<Path>) -> Folders {
        let folder = folder.as_ref().to_path_buf();
        Folders {
            data: folder.clone(),
            local_data: folder,
        }
    }

    /// The settings file tauri-plugin-store keeps (a relative store path is resolved
    /// against the app data folder).
    pub fn settings_file(&self) -> PathBuf {
        self.data.join(STORE_FILE)
    }

    /// Where the vault keeps sealed sessions.
    pub fn sealed_folder(&self) -> PathBuf {
        self.local_data.join(SEALED_FOLDER)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The app's configuration, the one source of its identifier.
    const TAURI_CONF: &str = include_str!("../../../tauri.conf.json");

    #[test]
    fn the_identifier_is_the_one_tauri_conf_json_declares() {
        let conf: serde_json::Value = serde_json::from_str(TAURI_CONF).unwrap();
        assert_eq!(conf["identifier"], IDENTIFIER);
    }

    #[test]
    fn the_app_folders_are_not_overridden_in_tauri_conf_json() {
        // With `app.appDirectoriesOverride` set, Tauri would resolve other folders than
        // `Folders::of_user`.
        let conf: serde_json::Value = serde_json::from_str(TAURI_CONF).unwrap();
        assert!(conf["app"].get("appDirectoriesOverride").is_none());
    }

    #[test]
    fn one_folder_holds_the_settings_and_the_sealed_sessions() {
        let folders = Folders::at("/tmp/x");
        assert_eq!(folders.settings_file(), Path::new("/tmp/x/settings.json"));
        assert_eq!(folders.sealed_folder(), Path::new("/tmp/x/sessions"));
    }
}
