//! Reset all data: the app forgets everything it keeps, locally, and opens as a fresh install
//! would, in place. Nothing is sent to any server: sessions are not signed out there (their
//! refresh tokens stay valid until they expire or are revoked), only forgotten here.
//!
//! What goes, in this order: every profile's keyring entries (session, sealing key, JWT
//! secret: `Vault::forget_profile`, which owns their names) and the built-in demo's session
//! (named after its database's key), then the sealed session files, the settings with the
//! history, the demo's database, and the log files. The keyring goes first and alone: if any
//! of it cannot be removed, nothing else is touched, so every profile still listed can be
//! reset again and no secret is left behind that no profile names. What was not removed is
//! said, part by part, in the error.
//!
//! Kept: the current log file is emptied rather than deleted (the log plugin holds it open and
//! appends to it), exports in the Downloads folder (the user's files), and the window's web
//! cache in the data folder.

use std::fmt;
use std::path::{Path, PathBuf};

use session_engine::StorageError;
use session_vault::Vault;
use tauri::{AppHandle, Manager as _, Runtime};

use crate::error::Error;
use crate::inspector::{Active, Inspector};
use crate::settings::{self, Profile};

/// A part of the app's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// A profile's session, sealing key and project JWT secret in the keyring.
    Keyring {
        profile: String,
    },
    /// The built-in demo's session in the keyring (named after its database).
    DemoSession,
    SealedFiles,
    /// The settings file: profiles, the last profile, the history.
    Settings,
    DemoDatabase,
    Logs,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Part::Keyring { profile } => write!(f, "the keyring entries of \"{profile}\""),
            Part::DemoSession => f.write_str("the built-in demo's session in the keyring"),
            Part::SealedFiles => f.write_str("the sealed session files"),
            Part::Settings => f.write_str("the settings and history"),
            Part::DemoDatabase => f.write_str("the built-in demo's database"),
            Part::Logs => f.write_str("the log files"),
        }
    }
}

/// Why a part was not removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    Keyring(String),
    File(String),
    /// Left alone because the keyring could not be emptied first.
    NotAttempted,
    /// The removal itself stopped (a panic): what it reached is unknown.
    Interrupted,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Keyring(why) | Reason::File(why) => f.write_str(why),
            Reason::NotAttempted => f.write_str("not attempted, the keyring came first"),
            Reason::Interrupted => f.write_str("the removal stopped unexpectedly"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotRemoved {
    pub part: Part,
    pub reason: Reason,
}

#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    #[error("The active profile is still busy with a request; nothing was removed. Try again in a moment.")]
    InUse,
    #[error("Reset stopped part way. Not removed: {}.", list(.not_removed))]
    Incomplete { not_removed: Vec<NotRemoved> },
}

fn list(parts: &[NotRemoved]) -> String {
    parts
        .iter()
        .map(|n| format!("{} ({})", n.part, n.reason))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The keyring as the reset sees it (the vault; a failing one in tests).
pub trait Keyring: Send + Sync {
    fn forget_profile(&self, name: &str) -> Result<(), StorageError>;
}

impl Keyring for Vault {
    fn forget_profile(&self, name: &str) -> Result<(), StorageError> {
        Vault::forget_profile(self, name)
    }
}

/// The names the keyring keeps the app's secrets under, and the part each belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyringName {
    pub name: String,
    pub part: Part,
}

impl KeyringName {
    /// A profile's own entries (its session, for a project, and its JWT secret).
    pub fn profile(profile: &Profile) -> KeyringName {
        KeyringName {
            name: profile.id.clone(),
            part: Part::Keyring {
                profile: profile.name.clone(),
            },
        }
    }
}

/// The demo's folder in the data folder and its database, as `activation` and `demo` open them.
const DEMO_FOLDER: &str = "demo";
const DEMO_DATABASE: &str = "auth.sqlite";

/// Where the app keeps its files.
#[derive(Debug, Clone)]
pub struct Folders {
    pub sealed: PathBuf,
    pub demo: PathBuf,
    pub logs: PathBuf,
}

impl Folders {
    pub fn of<R: Runtime>(app: &AppHandle<R>) -> Result<Folders, Error> {
        let data = app.path().app_data_dir()?;
        Ok(Folders {
            sealed: data.join(crate::vault::SEALED_FOLDER),
            demo: data.join(DEMO_FOLDER),
            logs: app.path().app_log_dir()?,
        })
    }
}

/// Removes every name's entries; what could not be removed, by part.
pub fn forget_keyring(keyring: &dyn Keyring, names: &[KeyringName]) -> Vec<NotRemoved> {
    names
        .iter()
        .filter_map(|n| {
            keyring
                .forget_profile(&n.name)
                .err()
                .map(|error| NotRemoved {
                    part: n.part.clone(),
                    reason: Reason::Keyring(error.to_string()),
                })
        })
        .collect()
}

/// The parts after the keyring, each reported not attempted.
pub fn after_keyring() -> Vec<NotRemoved> {
    [
        Part::SealedFiles,
        Part::Settings,
        Part::DemoDatabase,
        Part::Logs,
    ]
    .into_iter()
    .map(|part| NotRemoved {
        part,
        reason: Reason::NotAttempted,
    })
    .collect()
}

/// Removes the sealed files, the settings (`erase_settings`), the demo's database and the log
/// files (the current one emptied); what could not be removed, by part.
pub fn remove_files(
    folders: &Folders,
    erase_settings: impl FnOnce() -> Result<(), String>,
) -> Vec<NotRemoved> {
    let mut not_removed = Vec::new();
    let mut note = |part: Part, result: Result<(), String>| {
        if let Err(why) = result {
            not_removed.push(NotRemoved {
                part,
                reason: Reason::File(why),
            });
        }
    };
    let text = |e: std::io::Error| e.to_string();
    note(
        Part::SealedFiles,
        remove_folder(&folders.sealed).map_err(text),
    );
    note(Part::Settings, erase_settings());
    note(
        Part::DemoDatabase,
        remove_folder(&folders.demo).map_err(text),
    );
    note(Part::Logs, empty_logs(&folders.logs).map_err(text));
    not_removed
}

/// The keyring first; the files only when it is empty of every name.
pub fn remove_all(
    keyring: &dyn Keyring,
    names: &[KeyringName],
    folders: &Folders,
    erase_settings: impl FnOnce() -> Result<(), String>,
) -> Vec<NotRemoved> {
    let failed = forget_keyring(keyring, names);
    if !failed.is_empty() {
        return failed.into_iter().chain(after_keyring()).collect();
    }
    remove_files(folders, erase_settings)
}

fn remove_folder(folder: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(folder) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Deletes the rotated log files and empties the current one, which the log plugin keeps open
/// in append mode (so its next line goes at the start of the emptied file).
fn empty_logs(folder: &Path) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(folder) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        other => other?,
    };
    let current = crate::logging::current_file(folder);
    for entry in entries {
        let path = entry?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        if !name.is_some_and(|n| crate::logging::is_log_file(&n)) {
            continue;
        }
        if path == current {
            std::fs::OpenOptions::new()
                .write(true)
                .open(&path)?
                .set_len(0)?;
        } else {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(())
}

/// Resets all data and opens the built-in demo again, as a fresh install shows it.
pub async fn reset<R: Runtime>(app: &AppHandle<R>, inspector: &Inspector) -> Result<(), Error> {
    let profiles = settings::load(app)?.profiles;
    let folders = Folders::of(app)?;
    let (vault, _) = crate::vault::open(app, inspector).await?;
    let worker = app.clone();
    let outcome = inspector
        .reopen_after(app, move |closed| async move {
            let mut names: Vec<KeyringName> = profiles.iter().map(KeyringName::profile).collect();
            let mut not_removed = Vec::new();
            match demo_session_name(closed, &folders.demo).await {
                Ok(Some(name)) => names.push(name),
                Ok(None) => {}
                // Its session only ever worked on the database removed below: left, but dead.
                Err(reason) => not_removed.push(NotRemoved {
                    part: Part::DemoSession,
                    reason,
                }),
            }
            let removed = tokio::task::spawn_blocking(move || {
                let erase = || settings::erase(&worker).map_err(|e| e.to_string());
                remove_all(&*vault, &names, &folders, erase)
            })
            .await;
            match removed {
                Ok(list) => not_removed.extend(list),
                Err(error) => {
                    tracing::error!(%error, "the reset stopped");
                    not_removed.push(NotRemoved {
                        part: Part::Settings,
                        reason: Reason::Interrupted,
                    });
                }
            }
            not_removed
        })
        .await;
    let not_removed = outcome.ok_or(ResetError::InUse)?;
    if not_removed.is_empty() {
        tracing::info!("all data reset");
        Ok(())
    } else {
        tracing::warn!(parts = not_removed.len(), "the reset left data behind");
        Err(ResetError::Incomplete { not_removed }.into())
    }
}

/// The name the built-in demo's session is kept under: named after its database's key (see
/// `demo::store_key`), so it is read from the running demo server, which is stopped here, or
/// from one started on its database for the purpose when another profile was open.
async fn demo_session_name(
    closed: Option<Active>,
    folder: &Path,
) -> Result<Option<KeyringName>, Reason> {
    let built_in = Profile::built_in();
    let name_of = |server: crate::demo::Server| {
        let name = crate::demo::store_key(&built_in, Some(&server));
        server.shutdown();
        KeyringName {
            name,
            part: Part::DemoSession,
        }
    };
    if let Some(server) = closed.and_then(|mut active| active.demo_server.take()) {
        return Ok(Some(name_of(server)));
    }
    if !folder.join(DEMO_DATABASE).exists() {
        return Ok(None);
    }
    match crate::demo::start(folder).await {
        Ok(server) => Ok(Some(name_of(server))),
        Err(error) => Err(Reason::Keyring(format!(
            "its name could not be read: {}",
            error.public_message()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use secrecy::SecretString;
    use session_engine::{Session, SessionStore as _};
    use session_vault::Backend;

    use super::*;

    fn session() -> Session {
        serde_json::from_value(serde_json::json!({
            "access_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJl",
            "token_type": "bearer",
            "expires_in": 3600,
            "expires_at": 2_000_000_000,
            "refresh_token": "abcdefghijkl",
            "user": {"id": "u1", "email": "a@b.co"},
        }))
        .unwrap()
    }

    fn project(id: &str, name: &str) -> Profile {
        Profile::project(
            id.into(),
            name.into(),
            "https://x.supabase.co".into(),
            "k".into(),
        )
    }

    /// An app data folder with every kind of file the reset removes, and one it must keep.
    fn folders(root: &Path) -> Folders {
        let folders = Folders {
            sealed: root.join("sessions"),
            demo: root.join("demo"),
            logs: root.join("logs"),
        };
        for dir in [&folders.sealed, &folders.demo, &folders.logs] {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(folders.sealed.join("project-1.sealed"), b"sealed").unwrap();
        std::fs::write(folders.demo.join(DEMO_DATABASE), b"db").unwrap();
        std::fs::write(folders.logs.join("session-inspector.log"), b"lines").unwrap();
        std::fs::write(
            folders
                .logs
                .join("session-inspector_2025-01-01_10-00-00.log"),
            b"older lines",
        )
        .unwrap();
        std::fs::write(folders.logs.join("someone-else.txt"), b"not ours").unwrap();
        folders
    }

    fn names() -> Vec<KeyringName> {
        let mut names: Vec<_> = [Profile::built_in(), project("project-1", "Prod")]
            .iter()
            .map(KeyringName::profile)
            .collect();
        names.push(KeyringName {
            name: "built-in-demo:kid1".into(),
            part: Part::DemoSession,
        });
        names
    }

    #[test]
    fn every_profiles_secrets_and_the_apps_files_are_removed() {
        let root = tempfile::tempdir().unwrap();
        let folders = folders(root.path());
        let vault = Vault::open_backend(Backend::Memory, "test", folders.sealed.clone()).unwrap();
        for name in ["project-1", "built-in-demo:kid1"] {
            vault.save(name, &session()).unwrap();
        }
        vault
            .save_jwt_secret("project-1", &SecretString::from("jwt-secret"))
            .unwrap();
        let erased = Cell::new(false);

        let left = remove_all(&vault, &names(), &folders, || {
            erased.set(true);
            Ok(())
        });

        assert_eq!(left, vec![]);
        assert!(erased.get(), "the settings were not erased");
        for name in ["project-1", "built-in-demo:kid1"] {
            assert_eq!(vault.load(name).unwrap(), None, "{name}'s session");
        }
        assert!(vault.load_jwt_secret("project-1").unwrap().is_none());
        assert!(!folders.sealed.exists() && !folders.demo.exists());
        let current = folders.logs.join("session-inspector.log");
        assert_eq!(
            std::fs::read(&current).unwrap(),
            b"",
            "the current log is emptied"
        );
        let mut kept: Vec<_> = std::fs::read_dir(&folders.logs)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        kept.sort();
        assert_eq!(kept, ["session-inspector.log", "someone-else.txt"]);
        // Again, on nothing: nothing to report.
        assert_eq!(remove_all(&vault, &names(), &folders, || Ok(())), vec![]);
    }

    /// A keyring that refuses to delete one name.
    struct Refusing(&'static str);

    impl Keyring for Refusing {
        fn forget_profile(&self, name: &str) -> Result<(), StorageError> {
            if name == self.0 {
                Err(StorageError::Backend(
                    "the OS keyring refused: locked".into(),
                ))
            } else {
                Ok(())
            }
        }
    }

    #[test]
    fn a_keyring_failure_stops_before_any_file_and_says_what_is_left() {
        let root = tempfile::tempdir().unwrap();
        let folders = folders(root.path());
        let erased = Cell::new(false);

        let left = remove_all(&Refusing("project-1"), &names(), &folders, || {
            erased.set(true);
            Ok(())
        });

        assert_eq!(
            left[0],
            NotRemoved {
                part: Part::Keyring {
                    profile: "Prod".into()
                },
                reason: Reason::Keyring("the OS keyring refused: locked".into()),
            }
        );
        assert_eq!(&left[1..], after_keyring().as_slice());
        assert!(
            !erased.get(),
            "the settings still list the profile to reset again"
        );
        assert!(folders.sealed.join("project-1.sealed").exists());
        assert!(folders.demo.join(DEMO_DATABASE).exists());
        let message = ResetError::Incomplete { not_removed: left }.to_string();
        assert!(
            message.contains("the keyring entries of \"Prod\" (the OS keyring refused: locked)")
                && message.contains("the settings and history (not attempted"),
            "{message}"
        );
    }

    #[test]
    fn a_file_that_cannot_go_is_reported_and_the_rest_still_goes() {
        let root = tempfile::tempdir().unwrap();
        let folders = folders(root.path());
        // The current log file's name taken by a folder: it cannot be emptied.
        let current = folders.logs.join("session-inspector.log");
        std::fs::remove_file(&current).unwrap();
        std::fs::create_dir(&current).unwrap();

        let left = remove_all(&Refusing("none"), &names(), &folders, || {
            Err("the settings file could not be deleted: busy".into())
        });

        let parts: Vec<_> = left.iter().map(|n| n.part.clone()).collect();
        assert_eq!(parts, [Part::Settings, Part::Logs]);
        assert!(!folders.sealed.exists() && !folders.demo.exists());
    }
}
