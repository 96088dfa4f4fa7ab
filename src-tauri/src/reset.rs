//! Reset all data: the app forgets everything it keeps, locally, and opens as a fresh install
//! would, in place. Nothing is sent to any server: sessions are not signed out there (their
//! refresh tokens stay usable until they are used, revoked, or their session ends), only
//! forgotten here.
//!
//! What goes, in this order: every profile's keyring entries (session, sealing key, JWT
//! secret: `Vault::forget_profile`, which owns their names) and the built-in demo's session
//! (named after its database's key), then the sealed session files, the settings and the
//! history file, the demo's folder, and the log files. The keyring goes first and alone: if any of
//! it cannot be removed, or the demo session's name cannot be read, nothing else is touched, so
//! every profile still listed (and the demo's database that names its session) can be reset
//! again and no secret is left behind that nothing names. What was not removed is said, part
//! by part, in the error.
//!
//! The profiles are read inside the closed profile's turn, from the settings and from the
//! unreadable settings `settings::load` kept aside; if either lists profiles whose ids cannot
//! be read, the reset refuses and removes nothing (`ResetError::SettingsUnreadable`). They are
//! checked once before the profile is closed as well, so that refusal leaves it open.
//!
//! A build without the built-in demo cannot name a demo session left by a build that had one:
//! it keeps the demo's folder and says so in its answer (`ResetDone::kept`).
//!
//! Kept: the current log file is emptied rather than deleted (the log plugin holds it open and
//! appends to it), exports in the Downloads folder (the user's files), and the window's web
//! cache in the data folder.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use session_engine::StorageError;
use session_vault::Vault;
use tauri::{AppHandle, Manager as _, Runtime};
use ts_rs::TS;

use crate::error::Error;
use crate::inspector::{Active, Inspector};
use crate::profiles::Status;
use crate::settings::{self, Profile, ProfileName, SettingsError};

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
    /// The settings file (profiles, the last profile) and the history file.
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

/// Why a part was not removed. The OS's and the keyring's own words stay in the log file, as
/// for every internal failure (`error.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The keyring refused.
    Keyring,
    /// The file or folder could not be deleted (or the log emptied).
    File,
    /// The settings store refused.
    Settings,
    /// The demo session's name could not be read from its database, which is kept.
    NameUnread,
    /// Left alone because the keyring could not be emptied first.
    NotAttempted,
    /// The removal itself stopped (a panic): what it reached is unknown.
    Interrupted,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reason::Keyring => "the keyring refused; the log file says why",
            Reason::File => "it could not be deleted; the log file says why",
            Reason::Settings => "the settings store refused; the log file says why",
            Reason::NameUnread => {
                "its name could not be read from the demo's database, which is kept for the next try"
            }
            Reason::NotAttempted => "not attempted, the keyring came first",
            Reason::Interrupted => "the removal stopped unexpectedly",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotRemoved {
    pub part: Part,
    pub reason: Reason,
}

/// What a reset deliberately left, said in its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// A demo database left by a build with the demo, in a build without it: its session's
    /// keyring name comes from that database, which this build cannot open.
    DemoFolder,
}

impl fmt::Display for Kept {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kept::DemoFolder => f.write_str(
                "The built-in demo's folder was kept: this build has no built-in demo, so it \
                 cannot read the name of that demo's session in the keyring to forget it. A \
                 build with the demo can reset it.",
            ),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ResetError {
    #[error("The active profile is still busy with a request; nothing was removed. Try again in a moment.")]
    InUse,
    #[error("The settings list profiles that cannot be read, so it is not known which keyring entries are theirs; nothing was removed.")]
    SettingsUnreadable(#[source] SettingsError),
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

/// A reset that ran to the end, as the window gets it.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ResetDone {
    /// The profile that opened afterwards (the built-in demo, in a build with it); none when
    /// there is nothing to open or it could not open.
    pub status: Option<Status>,
    /// Why the profile that should have opened did not (the demo server did not start, say).
    pub not_opened: Option<String>,
    /// What was deliberately kept, for people.
    pub kept: Vec<String>,
    /// The first `seq` of the live log after the reset: every item before it (the history
    /// the reset forgot) goes from the window; what the reopened profile sent since stays.
    pub log_from: u64,
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
    pub fn profile(profile: &ProfileName) -> KeyringName {
        KeyringName {
            name: profile.id.clone(),
            part: Part::Keyring {
                profile: profile.name.clone(),
            },
        }
    }
}

/// Where the app keeps its files.
#[derive(Debug, Clone)]
pub struct Folders {
    pub sealed: PathBuf,
    /// The demo's folder; None when it is kept (see [`Kept::DemoFolder`]).
    pub demo: Option<PathBuf>,
    pub logs: PathBuf,
}

impl Folders {
    pub fn of<R: Runtime>(app: &AppHandle<R>) -> Result<Folders, Error> {
        let data = app.path().app_data_dir()?;
        Ok(Folders {
            sealed: crate::vault::sealed_folder(app)?,
            demo: Some(data.join(crate::demo::FOLDER)),
            logs: app.path().app_log_dir()?,
        })
    }

    /// The parts after the keyring, in the order they go.
    fn parts(&self) -> Vec<Part> {
        let mut parts = vec![Part::SealedFiles, Part::Settings];
        if self.demo.is_some() {
            parts.push(Part::DemoDatabase);
        }
        parts.push(Part::Logs);
        parts
    }
}

/// Removes every name's entries; what could not be removed, by part.
pub fn forget_keyring(keyring: &dyn Keyring, names: &[KeyringName]) -> Vec<NotRemoved> {
    names
        .iter()
        .filter_map(|n| {
            let error = keyring.forget_profile(&n.name).err()?;
            tracing::warn!(part = %n.part, %error, "a keyring entry could not be removed");
            Some(NotRemoved {
                part: n.part.clone(),
                reason: Reason::Keyring,
            })
        })
        .collect()
}

/// The parts after the keyring, each reported not attempted.
pub fn after_keyring(folders: &Folders) -> Vec<NotRemoved> {
    every(folders.parts(), Reason::NotAttempted)
}

fn every(parts: impl IntoIterator<Item = Part>, reason: Reason) -> Vec<NotRemoved> {
    parts
        .into_iter()
        .map(|part| NotRemoved { part, reason })
        .collect()
}

/// Removes the sealed files, the settings (`erase_settings`), the demo's folder (unless kept)
/// and the log files (the current one emptied); what could not be removed, by part.
pub fn remove_files(
    folders: &Folders,
    erase_settings: impl FnOnce() -> Result<(), SettingsError>,
) -> Vec<NotRemoved> {
    let mut not_removed = Vec::new();
    let mut note = |part: Part, reason: Reason, result: Result<(), String>| {
        if let Err(error) = result {
            tracing::warn!(%part, %error, "part of the data could not be removed");
            not_removed.push(NotRemoved { part, reason });
        }
    };
    let text = |e: std::io::Error| e.to_string();
    note(
        Part::SealedFiles,
        Reason::File,
        remove_folder(&folders.sealed).map_err(text),
    );
    note(
        Part::Settings,
        Reason::Settings,
        erase_settings().map_err(|e| e.to_string()),
    );
    if let Some(demo) = &folders.demo {
        note(
            Part::DemoDatabase,
            Reason::File,
            remove_folder(demo).map_err(text),
        );
    }
    note(
        Part::Logs,
        Reason::File,
        empty_logs(&folders.logs).map_err(text),
    );
    not_removed
}

/// The keyring first; the files only when it is empty of every name and no name was left
/// unread (`unread`: the parts whose keyring names could not be read).
pub fn remove_all(
    keyring: &dyn Keyring,
    names: &[KeyringName],
    unread: Vec<NotRemoved>,
    folders: &Folders,
    erase_settings: impl FnOnce() -> Result<(), SettingsError>,
) -> Vec<NotRemoved> {
    let mut failed = unread;
    failed.extend(forget_keyring(keyring, names));
    if !failed.is_empty() {
        failed.extend(after_keyring(folders));
        return failed;
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

/// What the removal did: what it could not remove, and what it kept on purpose.
struct Removal {
    not_removed: Vec<NotRemoved>,
    kept: Vec<Kept>,
    log_from: u64,
}

/// Resets all data and opens the last profile again as a fresh install would (the built-in
/// demo, in a build with it). The answer says whether one opened; a reset that ran is never
/// reported as failed because the profile afterwards did not open.
pub async fn reset<R: Runtime>(
    app: &AppHandle<R>,
    inspector: &Inspector,
) -> Result<ResetDone, Error> {
    let folders = Folders::of(app)?;
    // Checked before the profile is closed too, so this refusal leaves it open and untouched.
    profiles_to_forget(app)?;
    let (vault, _) = crate::vault::open(app, inspector).await?;
    let (worker, log) = (app.clone(), inspector.log.clone());
    let outcome = inspector
        .reopen_after(app, move |closed| async move {
            let mut removal = remove(worker, vault, folders, closed).await?;
            // Read before the profile reopens, so its first items come at or after it.
            removal.log_from = log.upcoming_seq();
            Ok::<_, ResetError>(removal)
        })
        .await;
    let Removal {
        not_removed,
        kept,
        log_from,
    } = outcome.ok_or(ResetError::InUse)??;
    if !not_removed.is_empty() {
        tracing::warn!(parts = not_removed.len(), "the reset left data behind");
        return Err(ResetError::Incomplete { not_removed }.into());
    }
    tracing::info!(kept = kept.len(), "all data reset");
    let (status, not_opened) = match crate::profiles::status(app, inspector).await {
        Ok(status) => (Some(status), None),
        Err(Error::NoProfile) => (None, None),
        Err(error) => (None, Some(error.public_message())),
    };
    Ok(ResetDone {
        status,
        not_opened,
        kept: kept.iter().map(ToString::to_string).collect(),
        log_from,
    })
}

/// The removal itself, while no profile is open (`closed` was the active one).
async fn remove<R: Runtime>(
    app: AppHandle<R>,
    vault: Arc<Vault>,
    mut folders: Folders,
    closed: Option<Active>,
) -> Result<Removal, ResetError> {
    let profiles = profiles_to_forget(&app)?;
    let mut names: Vec<KeyringName> = profiles.iter().map(KeyringName::profile).collect();
    let (mut unread, mut kept) = (Vec::new(), Vec::new());
    let demo = folders.demo.clone().unwrap_or_default();
    match demo_session_name(closed, &demo).await {
        DemoName::Named(name) => names.push(name),
        DemoName::NoDatabase => {}
        DemoName::NotInThisBuild => {
            folders.demo = None;
            kept.push(Kept::DemoFolder);
        }
        // Treated as a keyring failure: the database that names it stays for the next try.
        DemoName::Unread => unread.push(NotRemoved {
            part: Part::DemoSession,
            reason: Reason::NameUnread,
        }),
    }
    let every_part: Vec<Part> = names
        .iter()
        .map(|n| n.part.clone())
        .chain(folders.parts())
        .collect();
    let removed = tokio::task::spawn_blocking(move || {
        let erase = || {
            settings::erase(&app)?;
            crate::history::erase(&app)
        };
        remove_all(&*vault, &names, unread, &folders, erase)
    })
    .await;
    let not_removed = removed.unwrap_or_else(|error| {
        tracing::error!(%error, "the reset stopped");
        every(every_part, Reason::Interrupted)
    });
    Ok(Removal {
        not_removed,
        kept,
        log_from: 0,
    })
}

/// Every profile the settings (and the unreadable settings kept aside) list, whose keyring
/// entries the reset forgets; refused when one's id cannot be read.
fn profiles_to_forget<R: Runtime>(app: &AppHandle<R>) -> Result<Vec<ProfileName>, ResetError> {
    settings::every_profile(app).map_err(|error| {
        tracing::error!(%error, "the reset refused: the settings cannot be read");
        ResetError::SettingsUnreadable(error)
    })
}

/// The built-in demo's session name, or why there is none.
enum DemoName {
    Named(KeyringName),
    /// No demo database: no demo session can exist.
    NoDatabase,
    /// A demo database, in a build without the demo: it cannot be opened to read the name.
    NotInThisBuild,
    /// The demo's database could not be opened (the error is in the log).
    Unread,
}

/// The name the built-in demo's session is kept under: named after its database's key (see
/// `demo::store_key`), so it is read from the running demo server, which is stopped here, or
/// from one started on its database for the purpose when another profile was open.
async fn demo_session_name(closed: Option<Active>, folder: &Path) -> DemoName {
    let built_in = Profile::built_in();
    let name_of = |server: crate::demo::Server| {
        let name = crate::demo::store_key(&built_in, Some(&server));
        // Not waited for: the server stops its listener; its database closes with the last
        // request still being answered (see the note in ARCHITECTURE.md).
        server.shutdown();
        DemoName::Named(KeyringName {
            name,
            part: Part::DemoSession,
        })
    };
    if let Some(server) = closed.and_then(|mut active| active.demo_server.take()) {
        return name_of(server);
    }
    if !folder.join(crate::demo::DATABASE).exists() {
        return DemoName::NoDatabase;
    }
    if !crate::demo::AVAILABLE {
        return DemoName::NotInThisBuild;
    }
    match crate::demo::start(folder).await {
        Ok(server) => name_of(server),
        Err(error) => {
            tracing::warn!(%error, "the demo session's name could not be read");
            DemoName::Unread
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use secrecy::SecretString;
    use session_engine::SessionStore as _;
    use session_vault::Backend;

    use super::*;
    use crate::profile_store::testing::session;

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
            demo: Some(root.join("demo")),
            logs: root.join("logs"),
        };
        for dir in [&folders.sealed, &demo(&folders), &folders.logs] {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(folders.sealed.join("project-1.sealed"), b"sealed").unwrap();
        std::fs::write(demo(&folders).join(crate::demo::DATABASE), b"db").unwrap();
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

    fn demo(folders: &Folders) -> PathBuf {
        folders.demo.clone().unwrap()
    }

    fn names() -> Vec<KeyringName> {
        let mut names: Vec<_> = [Profile::built_in(), project("project-1", "Prod")]
            .into_iter()
            .map(|p| {
                KeyringName::profile(&ProfileName {
                    id: p.id,
                    name: p.name,
                })
            })
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

        let left = remove_all(&vault, &names(), vec![], &folders, || {
            erased.set(true);
            Ok(())
        });

        assert_eq!(left, vec![]);
        assert!(erased.get(), "the settings were not erased");
        for name in ["project-1", "built-in-demo:kid1"] {
            assert_eq!(vault.load(name).unwrap(), None, "{name}'s session");
        }
        assert!(vault.load_jwt_secret("project-1").unwrap().is_none());
        assert!(!folders.sealed.exists() && !demo(&folders).exists());
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
        assert_eq!(
            remove_all(&vault, &names(), vec![], &folders, || Ok(())),
            vec![]
        );
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

        let left = remove_all(&Refusing("project-1"), &names(), vec![], &folders, || {
            erased.set(true);
            Ok(())
        });

        assert_eq!(
            left[0],
            NotRemoved {
                part: Part::Keyring {
                    profile: "Prod".into()
                },
                reason: Reason::Keyring,
            }
        );
        assert_eq!(&left[1..], after_keyring(&folders).as_slice());
        assert!(
            !erased.get(),
            "the settings still list the profile to reset again"
        );
        assert!(folders.sealed.join("project-1.sealed").exists());
        assert!(demo(&folders).join(crate::demo::DATABASE).exists());
        let message = Error::from(ResetError::Incomplete { not_removed: left }).public_message();
        assert!(
            message.contains(
                "the keyring entries of \"Prod\" (the keyring refused; the log file says why)"
            ) && message.contains("the settings and history (not attempted"),
            "{message}"
        );
        // The keyring's own words stay in the log file.
        assert!(!message.contains("locked"), "{message}");
    }

    #[test]
    fn a_file_that_cannot_go_is_reported_and_the_rest_still_goes() {
        let root = tempfile::tempdir().unwrap();
        let folders = folders(root.path());
        // The current log file's name taken by a folder: it cannot be emptied.
        let current = folders.logs.join("session-inspector.log");
        std::fs::remove_file(&current).unwrap();
        std::fs::create_dir(&current).unwrap();

        let left = remove_all(&Refusing("none"), &names(), vec![], &folders, || {
            Err(SettingsError::Remove(std::io::Error::other(
                "/home/ada/.local/share/settings.json: busy",
            )))
        });

        let parts: Vec<_> = left.iter().map(|n| n.part.clone()).collect();
        assert_eq!(parts, [Part::Settings, Part::Logs]);
        assert!(!folders.sealed.exists() && !demo(&folders).exists());
        let message = Error::from(ResetError::Incomplete { not_removed: left }).public_message();
        assert!(
            !message.contains("/home") && !message.contains("busy"),
            "{message}"
        );
    }

    #[test]
    fn a_demo_session_name_that_cannot_be_read_keeps_everything_like_a_keyring_failure() {
        let root = tempfile::tempdir().unwrap();
        let folders = folders(root.path());
        let unread = vec![NotRemoved {
            part: Part::DemoSession,
            reason: Reason::NameUnread,
        }];
        let erased = Cell::new(false);

        let left = remove_all(
            &Refusing("none"),
            &names(),
            unread.clone(),
            &folders,
            || {
                erased.set(true);
                Ok(())
            },
        );

        assert_eq!(left[0], unread[0]);
        assert_eq!(&left[1..], after_keyring(&folders).as_slice());
        assert!(!erased.get());
        // The database that names the demo's session stays, so a later reset can forget it.
        assert!(demo(&folders).join(crate::demo::DATABASE).exists());
    }

    #[test]
    fn a_kept_demo_folder_stays_while_everything_else_goes() {
        let root = tempfile::tempdir().unwrap();
        let mut folders = folders(root.path());
        let kept = folders.demo.take().unwrap();

        let left = remove_all(&Refusing("none"), &names(), vec![], &folders, || Ok(()));

        assert_eq!(left, vec![]);
        assert!(kept.join(crate::demo::DATABASE).exists());
        assert!(!folders.sealed.exists());
        assert!(!after_keyring(&folders)
            .iter()
            .any(|n| n.part == Part::DemoDatabase));
    }
}
