//! What the desktop app and its command line (`session-inspector-cli`) must agree on, in one
//! place so that they cannot disagree: the app's identifier (it names the app's folders and
//! its keyring service), where its files are (`folders`), and the model of its settings file
//! with the profiles in it (`settings`, `file`).
//!
//! No Tauri here. The app writes the settings through tauri-plugin-store; the command line
//! only ever reads them (`file::read_settings`), since the running app keeps them in memory
//! and would overwrite any other writer's change.

pub mod file;
pub mod folders;
pub mod settings;

pub use file::{read_settings, SettingsFileError, BACKUP_KEY, SETTINGS_KEY, STORE_FILE};
pub use folders::{Folders, IDENTIFIER, SEALED_FOLDER};
pub use settings::{
    Backend, HistoryEntry, LogLayout, Profile, Settings, BUILT_IN_PROFILE, CLAIMS_KEPT,
    RETRY_BUDGET,
};
