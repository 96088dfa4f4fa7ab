//! The settings file as tauri-plugin-store writes it: one JSON object of store keys, the
//! settings under `SETTINGS_KEY`. The app reads and writes it through the plugin; this is the
//! read-only way for everything else (the command line), with the same model.

use std::path::Path;

use crate::settings::Settings;

/// The store's file name, in the app data folder.
pub const STORE_FILE: &str = "settings.json";
/// The store key the settings are kept under.
pub const SETTINGS_KEY: &str = "settings";
/// Where the app keeps a settings value it could not read, before starting from the defaults.
pub const BACKUP_KEY: &str = "settings-unreadable-backup";

#[derive(Debug, thiserror::Error)]
pub enum SettingsFileError {
    #[error("the app's settings file {path} could not be read: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// Not a store file, or settings in a shape this version does not know.
    #[error("the app's settings file {path} is not readable as settings: {source}")]
    Unreadable {
        path: String,
        source: serde_json::Error,
    },
}

/// The settings in the store file at `path`. No file, or no settings in it, is the defaults
/// (the app has not saved any yet); a file that cannot be read is an error, never a guess.
pub fn read_settings(path: &Path) -> Result<Settings, SettingsFileError> {
    let shown = || path.display().to_string();
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Settings::default()),
        Err(source) => {
            return Err(SettingsFileError::Read {
                path: shown(),
                source,
            })
        }
    };
    let unreadable = |source| SettingsFileError::Unreadable {
        path: shown(),
        source,
    };
    let mut store: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes).map_err(unreadable)?;
    match store.remove(SETTINGS_KEY) {
        None => Ok(Settings::default()),
        Some(value) => serde_json::from_value(value).map_err(unreadable),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{Profile, BUILT_IN_PROFILE};

    fn write(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join(STORE_FILE);
        std::fs::write(&path, text).unwrap();
        (folder, path)
    }

    #[test]
    fn a_store_file_with_settings_gives_its_profiles() {
        let text = serde_json::json!({
            SETTINGS_KEY: {"profiles": [{"id": BUILT_IN_PROFILE, "name": "Built-in demo", "backend": {"kind": "builtIn"}}], "lastProfile": BUILT_IN_PROFILE},
            "other-key": 1
        });
        let (_folder, path) = write(&serde_json::to_string_pretty(&text).unwrap());
        let settings = read_settings(&path).unwrap();
        assert_eq!(settings.profiles, vec![Profile::built_in()]);
        assert_eq!(settings.last_profile.as_deref(), Some(BUILT_IN_PROFILE));
    }

    #[test]
    fn no_file_or_no_settings_is_the_defaults() {
        let folder = tempfile::tempdir().unwrap();
        assert_eq!(
            read_settings(&folder.path().join(STORE_FILE)).unwrap(),
            Settings::default()
        );
        let (_folder, path) = write("{}");
        assert_eq!(read_settings(&path).unwrap(), Settings::default());
    }

    #[test]
    fn an_unreadable_file_is_an_error_naming_the_file() {
        for text in ["not json", "[1]", r#"{"settings": {"profiles": "x"}}"#] {
            let (_folder, path) = write(text);
            let error = read_settings(&path).unwrap_err();
            assert!(
                matches!(error, SettingsFileError::Unreadable { .. }),
                "{text}"
            );
            assert!(error.to_string().contains("settings.json"), "{error}");
        }
    }
}
