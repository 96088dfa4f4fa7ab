//! Non-secret settings in tauri-plugin-store (`settings.json` in the app data folder):
//! profiles and the last profile. Tokens never go here; the webview has no `store:*`
//! permission and reads settings only through app commands. The file is written only when a
//! setting changes (the history of auth events has its own file: `history.rs`). The model,
//! the file's name and its keys are the `session-profiles` crate's, shared with the command
//! line, which only ever reads the file.

use tauri::{AppHandle, Runtime};
use tauri_plugin_store::StoreExt;

pub use session_profiles::{Backend, Profile, Settings, BUILT_IN_PROFILE, STORE_FILE};
use session_profiles::{BACKUP_KEY, SETTINGS_KEY as KEY};

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("the settings store failed: {0}")]
    Store(#[from] tauri_plugin_store::Error),
    #[error("the settings could not be encoded: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("the settings file could not be deleted: {0}")]
    Remove(std::io::Error),
    /// The history an earlier version kept in the settings could not be moved out, or the
    /// history file could not be deleted with the settings.
    #[error("{0}")]
    History(String),
    /// The settings list profiles whose ids cannot be read.
    #[error("the settings name profiles without a readable id")]
    Unreadable,
    /// The unreadable settings kept aside list profiles whose ids cannot be read.
    #[error("the unreadable settings kept aside name profiles without a readable id")]
    UnreadableBackup,
}

/// Every read-modify-write of the settings holds this, so that concurrent writers (profile
/// commands, the auto-refresh switch, start-up) cannot undo each other's changes.
static WRITING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Reads the settings; a missing value gives the defaults. A value that no longer parses is
/// kept under a backup key before the defaults take its place, so saved profiles are never
/// silently lost.
pub fn load<R: Runtime>(app: &AppHandle<R>) -> Result<Settings, SettingsError> {
    Ok(read(app)?.0)
}

/// The settings, and whether an unreadable value was just put aside (then they are saved even
/// unchanged, so the file holds the backup).
fn read<R: Runtime>(app: &AppHandle<R>) -> Result<(Settings, bool), SettingsError> {
    let store = app.store(STORE_FILE)?;
    let Some(value) = store.get(KEY) else {
        return Ok((Settings::default(), false));
    };
    match serde_json::from_value(value.clone()) {
        Ok(settings) => Ok((settings, false)),
        Err(error) => {
            tracing::warn!(%error, "unreadable settings kept under {BACKUP_KEY}; starting from defaults");
            store.set(BACKUP_KEY, value);
            Ok((Settings::default(), true))
        }
    }
}

/// A profile as the reset needs it: its id (which names its keyring entries) and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileName {
    pub id: String,
    pub name: String,
}

/// Every profile the settings name, for forgetting their keyring entries: the current value's
/// and those an unreadable earlier value (kept under the backup key by `load`) still lists.
/// Read leniently (only each profile's id and name), and an error rather than a guess when a
/// profile list or an id cannot be read: then the profiles whose secrets would be orphaned are
/// unknown.
pub fn every_profile<R: Runtime>(app: &AppHandle<R>) -> Result<Vec<ProfileName>, SettingsError> {
    let store = app.store(STORE_FILE)?;
    profiles_in(store.get(KEY), store.get(BACKUP_KEY))
}

fn profiles_in(
    current: Option<serde_json::Value>,
    backup: Option<serde_json::Value>,
) -> Result<Vec<ProfileName>, SettingsError> {
    let mut names = Vec::new();
    let lists = [
        (current, SettingsError::Unreadable),
        (backup, SettingsError::UnreadableBackup),
    ];
    for (value, unreadable) in lists {
        for name in listed_profiles(value.as_ref()).ok_or(unreadable)? {
            if !names.iter().any(|n: &ProfileName| n.id == name.id) {
                names.push(name);
            }
        }
    }
    Ok(names)
}

/// The id and name of each profile a settings value lists; None when the list or an id cannot
/// be read. A value with no list (or not an object) lists none.
fn listed_profiles(value: Option<&serde_json::Value>) -> Option<Vec<ProfileName>> {
    let profiles = match value.and_then(|v| v.get("profiles")) {
        None | Some(serde_json::Value::Null) => return Some(Vec::new()),
        Some(serde_json::Value::Array(profiles)) => profiles,
        Some(_) => return None,
    };
    profiles
        .iter()
        .map(|profile| {
            let id = profile.get("id")?.as_str()?.to_string();
            let name = profile.get("name").and_then(|n| n.as_str());
            Some(ProfileName {
                name: name.unwrap_or(&id).to_string(),
                id,
            })
        })
        .collect()
}

fn save<R: Runtime>(app: &AppHandle<R>, settings: &Settings) -> Result<(), SettingsError> {
    let store = app.store(STORE_FILE)?;
    store.set(KEY, serde_json::to_value(settings)?);
    Ok(store.save()?)
}

/// Changes the settings and saves them when they changed, as one step no other writer can
/// interleave with.
pub fn update<R: Runtime, T, E: From<SettingsError>>(
    app: &AppHandle<R>,
    change: impl FnOnce(&mut Settings) -> Result<T, E>,
) -> Result<T, E> {
    let _writing = WRITING.lock().unwrap_or_else(|p| p.into_inner());
    let (mut settings, put_aside) = read(app)?;
    let before = settings.clone();
    let result = change(&mut settings)?;
    if put_aside || settings != before {
        save(app, &settings)?;
    }
    Ok(result)
}

/// Empties the settings (profiles, the last profile) and deletes their file, as
/// one step no other writer can interleave with. The next `load` starts from the defaults.
pub fn erase<R: Runtime>(app: &AppHandle<R>) -> Result<(), SettingsError> {
    let _writing = WRITING.lock().unwrap_or_else(|p| p.into_inner());
    let store = app.store(STORE_FILE)?;
    store.clear();
    // Saved empty first: if the file cannot be deleted, what stays in it is nothing.
    store.save()?;
    let path = tauri_plugin_store::resolve_store_path(app, STORE_FILE)?;
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(SettingsError::Remove(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profiles_to_forget_include_those_only_the_unreadable_backup_lists() {
        let current = serde_json::json!({"profiles": [{"id": "a", "name": "A", "backend": {"kind": "builtIn"}}]});
        let backup = serde_json::json!({"profiles": [{"id": "b", "name": "B", "backend": 7}, {"id": "a"}, {"id": "c"}]});
        let names = profiles_in(Some(current.clone()), Some(backup)).unwrap();
        let ids: Vec<_> = names
            .iter()
            .map(|n| (n.id.as_str(), n.name.as_str()))
            .collect();
        assert_eq!(ids, [("a", "A"), ("b", "B"), ("c", "c")]);
        assert_eq!(profiles_in(None, None).unwrap(), vec![]);
        // A backup with no profile list names none.
        assert_eq!(
            profiles_in(Some(current.clone()), Some(serde_json::json!("junk")))
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn unreadable_settings_refuse_rather_than_guess_the_profiles() {
        let broken = serde_json::json!({"profiles": "not a list"});
        assert!(matches!(
            profiles_in(Some(broken.clone()), None),
            Err(SettingsError::Unreadable)
        ));
        assert!(matches!(
            profiles_in(None, Some(broken)),
            Err(SettingsError::UnreadableBackup)
        ));
        let no_id = serde_json::json!({"profiles": [{"name": "x"}]});
        assert!(matches!(
            profiles_in(None, Some(no_id)),
            Err(SettingsError::UnreadableBackup)
        ));
    }
}
