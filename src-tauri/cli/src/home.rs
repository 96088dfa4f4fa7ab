//! The app's side of things, as the command line sees it: its folders, its profiles (read,
//! never written: the running app keeps the settings in memory and would overwrite a
//! change), and its vault in the OS keyring.

use std::path::PathBuf;
use std::sync::Arc;

use session_engine::{ClientConfig, Session, SessionStore, StorageError};
use session_profiles::{read_settings, Backend, Folders, Profile, Settings, IDENTIFIER};
use session_vault::{Backend as Keyring, Vault};

use crate::error::CliError;
use crate::output::Output;

pub struct Home {
    folders: Folders,
    /// Whether a keyring the app in a desktop session would not use is accepted.
    keyring_any: bool,
    /// Where a note about the keyring goes.
    notes: Output,
}

impl Home {
    /// The app's own folders, or `data_dir` standing for both (tests, another copy).
    pub fn new(
        data_dir: Option<PathBuf>,
        keyring_any: bool,
        notes: Output,
    ) -> Result<Home, CliError> {
        let folders = match data_dir {
            Some(folder) => Folders::at(folder),
            None => Folders::of_user().ok_or(CliError::NoDataFolder)?,
        };
        Ok(Home {
            folders,
            keyring_any,
            notes,
        })
    }

    pub fn settings_file(&self) -> PathBuf {
        self.folders.settings_file()
    }

    pub fn settings(&self) -> Result<Settings, CliError> {
        Ok(read_settings(&self.settings_file())?)
    }

    /// The profile with this id, or else the one with this name (the name of exactly one).
    /// The vault as the engine's store, saving only while the settings list the profile.
    pub fn store(&self, vault: &Arc<Vault>, profile: &Profile) -> Arc<AppStore> {
        Arc::new(AppStore {
            vault: vault.clone(),
            settings_file: self.settings_file(),
            profile_id: profile.id.clone(),
        })
    }

    pub fn profile(&self, wanted: &str) -> Result<Profile, CliError> {
        find_profile(&self.settings()?, wanted)
    }

    /// The app's vault: the same keyring service and sealed folder the app uses. A vault
    /// with no keyring behind it would hold nothing the app saved and lose what is saved in
    /// it, so it is refused. So is the kernel keyring, the fallback when no Secret Service
    /// answers (SSH, cron), unless `keyring_any`: the app in a desktop session would not look
    /// there, and it forgets everything at reboot.
    pub async fn vault(&self) -> Result<Arc<Vault>, CliError> {
        let sealed = self.folders.sealed_folder();
        let vault = tokio::task::spawn_blocking(move || Vault::open(IDENTIFIER, sealed)).await?;
        let backend = vault.backend();
        let notice = backend.notice().unwrap_or_default();
        match backend {
            Keyring::Memory => return Err(CliError::NoKeyring(notice.to_string())),
            Keyring::KernelKeyring if !self.keyring_any => {
                return Err(CliError::NotTheAppsKeyring(notice.to_string()))
            }
            Keyring::KernelKeyring => self.notes.note(notice),
            _ => {}
        }
        Ok(Arc::new(vault))
    }
}

fn find_profile(settings: &Settings, wanted: &str) -> Result<Profile, CliError> {
    if let Some(profile) = settings.profile(wanted) {
        return Ok(profile.clone());
    }
    let named: Vec<&Profile> = settings
        .profiles
        .iter()
        .filter(|p| p.name == wanted)
        .collect();
    match named.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(CliError::UnknownProfile(wanted.to_string())),
        many => Err(CliError::AmbiguousProfile {
            name: wanted.to_string(),
            count: many.len(),
        }),
    }
}

/// How the app's client for a project profile is configured. The built-in demo's server
/// lives inside the app, so it cannot be reached from here.
pub fn project_config(profile: &Profile) -> Result<ClientConfig, CliError> {
    match &profile.backend {
        Backend::Project {
            project_url,
            anon_key,
        } => Ok(config(project_url, anon_key)),
        Backend::BuiltIn => Err(CliError::BuiltInProfile),
    }
}

/// A client configuration as the app makes one (its short retry budget included).
pub fn config(project_url: &str, anon_key: &str) -> ClientConfig {
    let mut config = ClientConfig::new(project_url, anon_key);
    config.retry_budget = session_profiles::RETRY_BUDGET;
    config
}

/// The session a profile has stored, if any (off the async threads: a keyring can block).
pub async fn stored_session(
    vault: &Arc<Vault>,
    profile: &Profile,
) -> Result<Option<Session>, CliError> {
    let (vault, key) = (vault.clone(), profile.project_store_key());
    Ok(tokio::task::spawn_blocking(move || vault.load(&key)).await??)
}

/// What a profile's keyring slot holds.
pub enum Slot {
    Empty,
    // Boxed: a session is far larger than the other variants.
    Session(Box<Session>),
    /// Something that is not a session (a missing sealed file, say): saving over it repairs
    /// it, so this is no failure for a command that saves or lists.
    Unreadable(String),
}

/// The profile's slot, unreadable contents included (off the async threads).
pub async fn slot(vault: &Arc<Vault>, profile: &Profile) -> Result<Slot, CliError> {
    match stored_session(vault, profile).await {
        Ok(Some(session)) => Ok(Slot::Session(Box::new(session))),
        Ok(None) => Ok(Slot::Empty),
        Err(CliError::Storage(StorageError::Corrupt(reason))) => Ok(Slot::Unreadable(reason)),
        Err(error) => Err(error),
    }
}

/// Saves `session` as the profile's, where the app will find it (while its settings still
/// list the profile).
pub async fn save_session(
    store: &Arc<AppStore>,
    profile: &Profile,
    session: Session,
) -> Result<(), CliError> {
    let (store, key) = (store.clone(), profile.project_store_key());
    let saved = tokio::task::spawn_blocking(move || store.save(&key, &session)).await?;
    saved.map_err(|error| CliError::from(error).for_profile(profile))
}

/// The vault as the engine's session store, saving only while the app's settings list the
/// profile: after the app removed it (or Reset all data), a save would bring its session back
/// into the keyring under a profile nothing lists. The settings are read again before each
/// save: a small file, and saves are rare.
pub struct AppStore {
    vault: Arc<Vault>,
    settings_file: PathBuf,
    /// The profile whose slot this is (the store is told its keyring name, not its id).
    profile_id: String,
}

impl AppStore {
    fn still_listed(&self) -> Result<(), StorageError> {
        match read_settings(&self.settings_file) {
            Ok(settings) if settings.profile(&self.profile_id).is_some() => Ok(()),
            Ok(_) => Err(StorageError::Closed),
            Err(error) => Err(StorageError::Backend(format!(
                "the app's settings could not be read to check the profile before saving: {error}"
            ))),
        }
    }
}

impl SessionStore for AppStore {
    fn load(&self, profile: &str) -> Result<Option<Session>, StorageError> {
        self.vault.load(profile)
    }

    fn save(&self, profile: &str, session: &Session) -> Result<(), StorageError> {
        self.still_listed()?;
        self.vault.save(profile, session)
    }

    fn remove(&self, profile: &str) -> Result<(), StorageError> {
        self.vault.remove(profile)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        let project = |id: &str, name: &str| {
            Profile::project(
                id.into(),
                name.into(),
                "https://x.supabase.co".into(),
                "k".into(),
            )
        };
        Settings {
            profiles: vec![
                Profile::built_in(),
                project("p1", "Prod"),
                project("p2", "Staging"),
                project("p3", "Staging"),
            ],
            ..Settings::default()
        }
    }

    #[test]
    fn a_profile_is_found_by_id_then_by_a_name_only_it_has() {
        assert_eq!(find_profile(&settings(), "p2").unwrap().id, "p2");
        assert_eq!(find_profile(&settings(), "Prod").unwrap().id, "p1");
        assert!(matches!(
            find_profile(&settings(), "Staging"),
            Err(CliError::AmbiguousProfile { count: 2, .. })
        ));
        assert!(matches!(
            find_profile(&settings(), "nope"),
            Err(CliError::UnknownProfile(_))
        ));
    }

    #[test]
    fn the_built_in_demo_cannot_be_reached_from_the_command_line() {
        assert!(matches!(
            project_config(&Profile::built_in()),
            Err(CliError::BuiltInProfile)
        ));
        let project = find_profile(&settings(), "p1").unwrap();
        let config = project_config(&project).unwrap();
        assert_eq!(config.retry_budget, session_profiles::RETRY_BUDGET);
    }
}
