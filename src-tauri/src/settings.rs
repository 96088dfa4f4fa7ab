//! Non-secret settings in tauri-plugin-store (`settings.json` in the app data folder):
//! profiles, the last profile and the log's layout. Tokens never go here; the webview has no `store:*`
//! permission and reads settings only through app commands. The file is written only when a
//! setting changes (the history of auth events has its own file: `history.rs`).

use serde::{Deserialize, Serialize};
use session_engine::protocol::DEFAULT_EXPIRY_MARGIN;
use tauri::{AppHandle, Runtime};
use tauri_plugin_store::StoreExt;

use crate::history::HistoryEntry;

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

pub const STORE_FILE: &str = "settings.json";
const KEY: &str = "settings";
pub const BUILT_IN_PROFILE: &str = "built-in-demo";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Backend {
    /// The local GoTrue-compatible server the app starts itself.
    BuiltIn,
    /// A real project: its URL and anon (publishable) key.
    Project {
        project_url: String,
        anon_key: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub id: String,
    pub name: String,
    pub backend: Backend,
    /// Off by default: an inspector shows the session as it is unless told otherwise.
    #[serde(default)]
    pub auto_refresh: bool,
    #[serde(default = "default_margin")]
    pub refresh_margin_secs: u64,
}

fn default_margin() -> u64 {
    DEFAULT_EXPIRY_MARGIN.as_secs()
}

impl Profile {
    /// A real project, signed out, auto-refresh off.
    pub fn project(id: String, name: String, project_url: String, anon_key: String) -> Profile {
        Profile {
            id,
            name,
            backend: Backend::Project {
                project_url,
                anon_key,
            },
            auto_refresh: false,
            refresh_margin_secs: default_margin(),
        }
    }

    /// The auto-refresh setting this profile was saved with.
    pub fn auto_refresh_setting(&self) -> session_engine::auto_refresh::Setting {
        session_engine::auto_refresh::Setting {
            enabled: self.auto_refresh,
            margin: std::time::Duration::from_secs(self.refresh_margin_secs),
        }
    }

    pub fn built_in() -> Profile {
        Profile {
            id: BUILT_IN_PROFILE.into(),
            name: "Built-in demo".into(),
            backend: Backend::BuiltIn,
            auto_refresh: false,
            refresh_margin_secs: default_margin(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    #[serde(default)]
    pub profiles: Vec<Profile>,
    #[serde(default)]
    pub last_profile: Option<String>,
    /// Where an earlier version kept the history: read once, moved to the history file
    /// (`history::migrate`), never written again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<HistoryEntry>,
    /// How the window lays out the live log.
    #[serde(default)]
    pub layout: crate::layout::LogLayout,
}

impl Settings {
    /// The profile to open at start-up: the last one used, else the first, else the built-in
    /// demo. With a built-in server the demo profile is put first whenever it is missing (a
    /// first launch, or settings written by a build without the demo). Without one
    /// (`with_built_in` false) a saved built-in profile is kept but passed over, and with no
    /// project there is none.
    pub fn active_profile(&mut self, with_built_in: bool) -> Option<Profile> {
        if with_built_in && self.profile(BUILT_IN_PROFILE).is_none() {
            self.profiles.insert(0, Profile::built_in());
        }
        let opens = |p: &&Profile| with_built_in || p.backend != Backend::BuiltIn;
        let wanted = self.last_profile.clone();
        let profile = self
            .profiles
            .iter()
            .filter(opens)
            .find(|p| Some(&p.id) == wanted.as_ref())
            .or_else(|| self.profiles.iter().find(opens))?
            .clone();
        self.last_profile = Some(profile.id.clone());
        Some(profile)
    }

    /// The profile to open when the active one, `removed`, is removed: the built-in demo when
    /// this build has it and it is saved, else the first other project (none when it was the
    /// last). Only a saved profile is ever named.
    pub fn after_removing(&self, removed: &str, with_built_in: bool) -> Option<String> {
        if with_built_in && self.profile(BUILT_IN_PROFILE).is_some() {
            return Some(BUILT_IN_PROFILE.to_string());
        }
        self.profiles
            .iter()
            .find(|p| p.id != removed && p.backend != Backend::BuiltIn)
            .map(|p| p.id.clone())
    }

    pub fn profile(&self, id: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.id == id)
    }

    pub fn profile_mut(&mut self, id: &str) -> Option<&mut Profile> {
        self.profiles.iter_mut().find(|p| p.id == id)
    }
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

const BACKUP_KEY: &str = "settings-unreadable-backup";

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
    fn with_no_profiles_the_built_in_demo_is_created_and_remembered() {
        let mut settings = Settings::default();
        assert_eq!(settings.active_profile(true).unwrap().id, BUILT_IN_PROFILE);
        assert_eq!(settings.last_profile.as_deref(), Some(BUILT_IN_PROFILE));
        assert_eq!(settings.profiles.len(), 1);
    }

    fn project(id: &str) -> Profile {
        Profile::project(
            id.into(),
            id.into(),
            format!("https://{id}.supabase.co"),
            "k".into(),
        )
    }

    #[test]
    fn without_the_built_in_server_a_first_launch_opens_nothing_and_creates_nothing() {
        let mut settings = Settings::default();
        assert_eq!(settings.active_profile(false), None);
        assert_eq!(settings, Settings::default());
    }

    #[test]
    fn without_the_built_in_server_a_saved_demo_profile_is_kept_and_passed_over() {
        let mut settings = Settings {
            profiles: vec![Profile::built_in(), project("a"), project("b")],
            last_profile: Some(BUILT_IN_PROFILE.into()),
            ..Settings::default()
        };
        assert_eq!(settings.active_profile(false).unwrap().id, "a");
        assert_eq!(settings.profiles.len(), 3, "the demo profile stays");
        // The last project used still wins.
        settings.last_profile = Some("b".into());
        assert_eq!(settings.active_profile(false).unwrap().id, "b");
        // Only the demo profile saved: nothing opens, nothing is lost.
        let mut only_demo = Settings {
            profiles: vec![Profile::built_in()],
            last_profile: Some(BUILT_IN_PROFILE.into()),
            ..Settings::default()
        };
        assert_eq!(only_demo.active_profile(false), None);
        assert_eq!(only_demo.profiles, vec![Profile::built_in()]);
        assert_eq!(only_demo.last_profile.as_deref(), Some(BUILT_IN_PROFILE));
    }

    #[test]
    fn removing_the_active_profile_opens_the_demo_or_else_another_project() {
        let settings = Settings {
            profiles: vec![Profile::built_in(), project("a"), project("b")],
            ..Settings::default()
        };
        assert_eq!(
            settings.after_removing("a", true).as_deref(),
            Some(BUILT_IN_PROFILE)
        );
        assert_eq!(settings.after_removing("a", false).as_deref(), Some("b"));
        assert_eq!(settings.after_removing("b", false).as_deref(), Some("a"));
        let last = Settings {
            profiles: vec![Profile::built_in(), project("a")],
            ..Settings::default()
        };
        assert_eq!(last.after_removing("a", false), None);
    }

    #[test]
    fn settings_from_a_build_without_the_demo_get_the_demo_profile_back() {
        // Written by a build without the demo: one project, no built-in profile.
        let mut settings = Settings {
            profiles: vec![project("a")],
            last_profile: Some("a".into()),
            ..Settings::default()
        };
        // A build with the demo still opens the project last used, with the demo to pick.
        assert_eq!(settings.active_profile(true).unwrap().id, "a");
        assert_eq!(settings.profiles, vec![Profile::built_in(), project("a")]);
        // Removing the project then opens a profile that exists: the demo.
        assert_eq!(
            settings.after_removing("a", true).as_deref(),
            Some(BUILT_IN_PROFILE)
        );
        // Opening it again adds nothing more.
        settings.active_profile(true);
        assert_eq!(settings.profiles.len(), 2);
    }

    #[test]
    fn after_removing_names_only_a_saved_profile() {
        let no_demo = Settings {
            profiles: vec![project("a"), project("b")],
            ..Settings::default()
        };
        assert_eq!(no_demo.after_removing("a", true).as_deref(), Some("b"));
        let only = Settings {
            profiles: vec![project("a")],
            ..Settings::default()
        };
        assert_eq!(only.after_removing("a", true), None);
    }

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
