//! Sessions in the OS keyring, through keyring-core. Each OS has its own order of stores
//! (`KEYRINGS_HERE`, and one small `platform_store` per OS that makes them): on Linux the Secret
//! Service (gnome-keyring, KWallet) first, the kernel keyring (a store of our own over keyutils,
//! see kernel_keyring) as a fallback that says plainly it does not survive a reboot; on macOS the
//! login keychain; on Windows Credential Manager. Memory when there is no keyring at all.
//! Everything past the choice of store is the same code on every OS.
//!
//! A keyring entry larger than the backend takes in one secret (Windows Credential Manager caps
//! a secret at 2,560 bytes; a session with user metadata can exceed that) is sealed instead:
//! AES-256-GCM with a random key that lives in the keyring, the ciphertext in the app's data
//! folder (0700, files 0600), written atomically and bound to its profile and save counter (see
//! `seal`). No token is ever written in plain text.

mod jwt_secret;
#[cfg(target_os = "linux")]
mod kernel_keyring;
mod seal;
/// The durable replacement of a file (temp file, fsync, rename, fsync the folder), for the
/// app's other files that must never be seen half-written.
pub use seal::write_atomically;

use std::path::PathBuf;
use std::sync::Arc;

use keyring_core::{CredentialStore, Entry};
use serde::{Deserialize, Serialize};
use session_engine::{MemoryStore, Session, SessionStore, StorageError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub enum Backend {
    SecretService,
    KernelKeyring,
    /// The user's login keychain (macOS).
    MacosKeychain,
    /// Generic credentials in Credential Manager (Windows).
    WindowsCredentialManager,
    /// No keyring could be used: sessions last as long as the app runs.
    Memory,
}

/// The most bytes Windows Credential Manager keeps in one credential's blob
/// (CRED_MAX_CREDENTIAL_BLOB_SIZE, 5 * 512); windows-native-keyring-store refuses larger ones.
pub const WINDOWS_CREDENTIAL_BLOB_MAX: usize = 5 * 512;

/// The keyrings this build can use, best first (`Vault::open` tries them in this order).
#[cfg(target_os = "linux")]
const KEYRINGS_HERE: &[Backend] = &[Backend::SecretService, Backend::KernelKeyring];
#[cfg(target_os = "macos")]
const KEYRINGS_HERE: &[Backend] = &[Backend::MacosKeychain];
#[cfg(target_os = "windows")]
const KEYRINGS_HERE: &[Backend] = &[Backend::WindowsCredentialManager];
#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
const KEYRINGS_HERE: &[Backend] = &[];

impl Backend {
    /// The largest keyring entry the vault writes for a session (the whole inline envelope,
    /// as stored); a session that does not fit is sealed, and its entry only names the file.
    pub fn inline_limit(self) -> usize {
        match self {
            Backend::SecretService => 64 * 1024,
            Backend::KernelKeyring => 16 * 1024,
            // The keychain documents no small cap but is made for small secrets: a session
            // past 16 KiB is sealed, as on the kernel keyring.
            Backend::MacosKeychain => 16 * 1024,
            Backend::WindowsCredentialManager => WINDOWS_CREDENTIAL_BLOB_MAX,
            Backend::Memory => usize::MAX,
        }
    }

    /// What the user should know about where their tokens are.
    pub fn notice(self) -> Option<&'static str> {
        match self {
            Backend::SecretService | Backend::MacosKeychain | Backend::WindowsCredentialManager => {
                None
            }
            Backend::KernelKeyring => Some("No Secret Service (gnome-keyring, KWallet) was found: sessions are kept in the kernel keyring and will not survive a reboot."),
            Backend::Memory => Some("No OS keyring is available: sessions are kept in memory only and are lost when the app quits."),
        }
    }
}

/// What the keyring entry for a profile holds.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Envelope {
    /// `counter` carries the last sealed save's counter over (0: never sealed), so a sealed
    /// save that follows continues the count and an older sealed file never opens again.
    Inline {
        session: Box<Session>,
        #[serde(default)]
        counter: u64,
    },
    /// The session is in `<sealed_dir>/<file>`, encrypted with the profile's key and bound
    /// to `counter`, which grows with every sealed save. `None`: a file from before counters
    /// (no version byte, no binding), opened once and rewritten by the next save.
    Sealed {
        file: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        counter: Option<u64>,
    },
}

impl Envelope {
    /// The last sealed save's counter.
    fn counter(&self) -> u64 {
        match self {
            Envelope::Inline { counter, .. } => *counter,
            Envelope::Sealed { counter, .. } => counter.unwrap_or(0),
        }
    }
}

pub struct Vault {
    /// One save or removal at a time: each reads the entry, then writes the file and entry.
    writing: std::sync::Mutex<()>,
    /// Profiles whose sealing key (`key:`) this vault has seen gone, and has not written since
    /// (see `nothing_sealed`). Knowledge of this vault alone: another process's is not shared.
    keyless: std::sync::Mutex<std::collections::HashSet<String>>,
    backend: Backend,
    store: Option<Arc<CredentialStore>>,
    memory: MemoryStore,
    /// Project JWT secrets when there is no keyring (see `jwt_secret`).
    jwt_secrets: std::sync::Mutex<std::collections::HashMap<String, secrecy::SecretString>>,
    service: String,
    /// Store options for every entry the vault makes (see `platform_store`).
    modifiers: Modifiers,
    sealed_dir: PathBuf,
    inline_limit: usize,
}

/// keyring-core entry modifiers (key, value), as a store takes them when building an entry.
type Modifiers = &'static [(&'static str, &'static str)];

fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, StorageError> {
    serde_json::to_vec(value).map_err(|e| StorageError::Backend(e.to_string()))
}

fn backend_error(error: keyring_core::Error) -> StorageError {
    StorageError::Backend(format!("the OS keyring refused: {error}"))
}

impl Vault {
    /// Writes, reads back and deletes a probe secret: a store that cannot do all three is no use.
    fn probe(&self, store: &Arc<CredentialStore>) -> bool {
        let Ok(entry) = self.entry(store, "probe") else {
            return false;
        };
        let ok =
            entry.set_secret(b"probe").is_ok() && entry.get_secret().is_ok_and(|s| s == b"probe");
        if let Err(error) = entry.delete_credential() {
            tracing::debug!(%error, "the keyring probe entry could not be deleted");
        }
        ok
    }

    /// Picks the best keyring that works here. Call off the async threads (it talks D-Bus on
    /// Linux).
    pub fn open(service: &str, sealed_dir: PathBuf) -> Vault {
        for &backend in KEYRINGS_HERE {
            match Vault::open_backend(backend, service, sealed_dir.clone()) {
                Ok(vault) => return vault,
                Err(error) => tracing::info!(?backend, %error, "keyring not usable"),
            }
        }
        tracing::warn!("no OS keyring: sessions are kept in memory only");
        Vault::in_memory(service, sealed_dir)
    }

    /// Uses one backend, or says why it cannot be used.
    pub fn open_backend(
        backend: Backend,
        service: &str,
        sealed_dir: PathBuf,
    ) -> Result<Vault, StorageError> {
        if backend == Backend::Memory {
            return Ok(Vault::in_memory(service, sealed_dir));
        }
        let (store, modifiers) = platform_store(backend)?;
        let mut vault = Vault::with_store(store.clone(), backend, service, sealed_dir);
        vault.modifiers = modifiers;
        if !vault.probe(&store) {
            return Err(StorageError::Backend(format!(
                "the {backend:?} keyring cannot store secrets here"
            )));
        }
        Ok(vault)
    }

    /// A vault over a given store (tests use keyring-core's mock store).
    pub fn with_store(
        store: Arc<CredentialStore>,
        backend: Backend,
        service: &str,
        sealed_dir: PathBuf,
    ) -> Vault {
        Vault {
            writing: std::sync::Mutex::default(),
            keyless: std::sync::Mutex::default(),
            backend,
            store: Some(store),
            memory: MemoryStore::new(),
            jwt_secrets: std::sync::Mutex::default(),
            service: service.to_string(),
            modifiers: &[],
            sealed_dir,
            inline_limit: backend.inline_limit(),
        }
    }

    fn in_memory(service: &str, sealed_dir: PathBuf) -> Vault {
        Vault {
            writing: std::sync::Mutex::default(),
            keyless: std::sync::Mutex::default(),
            backend: Backend::Memory,
            store: None,
            memory: MemoryStore::new(),
            jwt_secrets: std::sync::Mutex::default(),
            service: service.to_string(),
            modifiers: &[],
            sealed_dir,
            inline_limit: usize::MAX,
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Seal a session whose keyring entry (the whole inline envelope, as stored) would be
    /// larger than `bytes` (tests use 0 to exercise sealing everywhere).
    pub fn set_inline_limit(&mut self, bytes: usize) {
        self.inline_limit = bytes;
    }

    fn entry(&self, store: &Arc<CredentialStore>, user: &str) -> Result<Entry, StorageError> {
        let entry = if self.modifiers.is_empty() {
            Entry::new_in_store(store, &self.service, user)
        } else {
            let modifiers = self.modifiers.iter().copied().collect();
            Entry::new_in_store_with_modifiers(store, &self.service, user, &modifiers)
        };
        entry.map_err(backend_error)
    }

    fn sealed_file(profile: &str) -> String {
        // Profile names are the app's own ids, but keep the file name safe whatever they are.
        let safe: String = profile
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!("{safe}.sealed")
    }

    fn profile_key(
        &self,
        store: &Arc<CredentialStore>,
        profile: &str,
        create: bool,
    ) -> Result<Option<[u8; 32]>, StorageError> {
        let entry = self.entry(store, &format!("key:{profile}"))?;
        match entry.get_secret() {
            Ok(key) => key.try_into().map(Some).map_err(|_| {
                StorageError::Corrupt("the profile's sealing key has the wrong length".into())
            }),
            Err(keyring_core::Error::NoEntry) if create => {
                let key = seal::random_key();
                self.key_written(profile);
                entry.set_secret(&key).map_err(backend_error)?;
                Ok(Some(key))
            }
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(error) => Err(backend_error(error)),
        }
    }

    /// A new sealing key, replacing any old one: a count that starts again must not open
    /// files sealed under an earlier count.
    fn fresh_key(
        &self,
        store: &Arc<CredentialStore>,
        profile: &str,
    ) -> Result<[u8; 32], StorageError> {
        let key = seal::random_key();
        self.key_written(profile);
        self.entry(store, &format!("key:{profile}"))?
            .set_secret(&key)
            .map_err(backend_error)?;
        Ok(key)
    }
}

/// A backend this build has no store for (another OS's keyring).
fn not_here(backend: Backend) -> StorageError {
    StorageError::Backend(format!(
        "the {backend:?} keyring is not available on this OS"
    ))
}

/// The store for one of Linux's keyrings, and the modifiers its entries take (none).
#[cfg(target_os = "linux")]
fn platform_store(backend: Backend) -> Result<(Arc<CredentialStore>, Modifiers), StorageError> {
    let store: Arc<CredentialStore> = match backend {
        Backend::SecretService => {
            zbus_secret_service_keyring_store::Store::new().map_err(backend_error)?
        }
        // Not linux-keyutils-keyring-store's Store: see kernel_keyring for why.
        Backend::KernelKeyring => kernel_keyring::Store::new().map_err(backend_error)?,
        other @ (Backend::MacosKeychain | Backend::WindowsCredentialManager | Backend::Memory) => {
            return Err(not_here(other))
        }
    };
    Ok((store, &[]))
}

/// The login keychain (the default of the crate's `keychain` store), no modifiers.
#[cfg(target_os = "macos")]
fn platform_store(backend: Backend) -> Result<(Arc<CredentialStore>, Modifiers), StorageError> {
    let store: Arc<CredentialStore> = match backend {
        Backend::MacosKeychain => {
            apple_native_keyring_store::keychain::Store::new().map_err(backend_error)?
        }
        other @ (Backend::SecretService
        | Backend::KernelKeyring
        | Backend::WindowsCredentialManager
        | Backend::Memory) => return Err(not_here(other)),
    };
    Ok((store, &[]))
}

/// Credential Manager, with every credential kept on this computer only (`Local`): the store's
/// default (`Enterprise`) roams with a roaming profile, which would carry a refresh token to
/// two computers at once. A sealed file's key is such an entry, so the app keeps sealed files
/// in its local (not roaming) data folder too: file and key stay on the same computer.
#[cfg(target_os = "windows")]
fn platform_store(backend: Backend) -> Result<(Arc<CredentialStore>, Modifiers), StorageError> {
    let store: Arc<CredentialStore> = match backend {
        Backend::WindowsCredentialManager => {
            windows_native_keyring_store::Store::new().map_err(backend_error)?
        }
        other @ (Backend::SecretService
        | Backend::KernelKeyring
        | Backend::MacosKeychain
        | Backend::Memory) => return Err(not_here(other)),
    };
    Ok((store, &[("persistence", "Local")]))
}

/// An OS with no keyring store in this build: sessions stay in memory.
#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
fn platform_store(backend: Backend) -> Result<(Arc<CredentialStore>, Modifiers), StorageError> {
    Err(not_here(backend))
}

/// How many times a load reads the keyring entry when what it names does not open and the entry
/// has changed meanwhile (another process saving).
const LOAD_READS: usize = 3;

/// What a load found, judged against the keyring entry read again.
enum Loaded {
    Found(Option<Box<Session>>),
    /// Unreadable, and the entry was the same bytes when read again after the judgement.
    Unreadable(String),
    /// Unreadable at every read, and the entry different at every read: another process keeps
    /// saving it.
    Changing(String),
}

impl Vault {
    /// The keyring entry's bytes for the profile now, if any.
    fn entry_bytes(
        &self,
        store: &Arc<CredentialStore>,
        profile: &str,
    ) -> Result<Option<Vec<u8>>, StorageError> {
        match self
            .entry(store, &format!("session:{profile}"))?
            .get_secret()
        {
            Ok(bytes) => Ok(Some(bytes)),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(error) => Err(backend_error(error)),
        }
    }

    fn envelope(bytes: &[u8]) -> Result<Envelope, StorageError> {
        serde_json::from_slice(bytes)
            .map_err(|e| StorageError::Corrupt(format!("the keyring entry is not a session ({e})")))
    }

    /// What the keyring holds for the profile now, if anything readable.
    fn current_envelope(
        &self,
        store: &Arc<CredentialStore>,
        profile: &str,
    ) -> Result<Option<Envelope>, StorageError> {
        self.entry_bytes(store, profile)?
            .map(|bytes| Vault::envelope(&bytes))
            .transpose()
    }

    /// The session a keyring entry's bytes stand for.
    fn open_entry(
        &self,
        store: &Arc<CredentialStore>,
        profile: &str,
        bytes: &[u8],
    ) -> Result<Session, StorageError> {
        match Vault::envelope(bytes)? {
            Envelope::Inline { session, counter } => {
                // A sealed save stopped between writing its file and updating the entry left
                // a file one count ahead: that session is the newer one.
                let Some(next) = counter.checked_add(1) else {
                    return Ok(*session);
                };
                match self.open_sealed(store, profile, &Vault::sealed_file(profile), Some(next)) {
                    Ok(newer) => Ok(newer),
                    // No file, or one that does not open at the next count: the inline copy is
                    // the current session.
                    Err(StorageError::Corrupt(_)) => Ok(*session),
                    // A file that cannot be read now (or its key): it may be the newer session.
                    // Say so rather than return the older one, which the next inline save would
                    // keep while deleting the newer file.
                    Err(error) => Err(error),
                }
            }
            Envelope::Sealed { file, counter } => self.open_sealed(store, profile, &file, counter),
        }
    }

    /// Loads the profile's session. Nothing here is locked against other processes: between
    /// reading the entry and the file or key it names, another process's save can replace all
    /// three, so what does not open counts as unreadable only if the entry read again is the
    /// same bytes; when it changed, the new entry is judged instead.
    fn settle(&self, store: &Arc<CredentialStore>, profile: &str) -> Result<Loaded, StorageError> {
        let mut bytes = self.entry_bytes(store, profile)?;
        let mut reads = 1;
        loop {
            let Some(judged) = bytes else {
                return Ok(Loaded::Found(None));
            };
            let why = match self.open_entry(store, profile, &judged) {
                Ok(session) => return Ok(Loaded::Found(Some(Box::new(session)))),
                Err(StorageError::Corrupt(why)) => why,
                Err(error) => return Err(error),
            };
            bytes = self.entry_bytes(store, profile)?;
            if bytes.as_deref() == Some(judged.as_slice()) {
                return Ok(Loaded::Unreadable(why));
            }
            if reads == LOAD_READS {
                return Ok(Loaded::Changing(why));
            }
            reads += 1;
        }
    }

    fn open_sealed(
        &self,
        store: &Arc<CredentialStore>,
        profile: &str,
        file: &str,
        counter: Option<u64>,
    ) -> Result<Session, StorageError> {
        // The keyring says which file; it must be this profile's own, in the sealed folder.
        if file != Vault::sealed_file(profile) {
            return Err(StorageError::Corrupt(format!(
                "the keyring names an unexpected sealed file name ({file:?})"
            )));
        }
        // The file before the key: when there is no file (a load finding no save one ahead,
        // the usual case) the keyring is not asked at all.
        let sealed = match std::fs::read(self.sealed_dir.join(file)) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(StorageError::Corrupt(
                    "the sealed session file is missing".into(),
                ))
            }
            // Unreadable now is not unreadable for ever: say so, and delete nothing.
            Err(e) => {
                return Err(StorageError::Backend(format!(
                    "the sealed session file cannot be read ({e})"
                )))
            }
        };
        let key = self
            .profile_key(store, profile, false)?
            .ok_or_else(|| StorageError::Corrupt("the sealed session's key is missing".into()))?;
        let plain = match counter {
            None => seal::open_unversioned(&key, &sealed)?,
            // The file may be one save ahead of the keyring: a save that was stopped between
            // writing the file and updating the entry. Anything older is a rollback.
            Some(counter) => seal::open(&key, profile, counter, &sealed)
                .or_else(|e| match counter.checked_add(1) {
                    Some(next) => seal::open(&key, profile, next, &sealed),
                    None => Err(e),
                })
                .map_err(|_| {
                    StorageError::Corrupt(
                        "the sealed session file does not match the keyring: tampered, an older copy put back, or another profile's file"
                            .into(),
                    )
                })?,
        };
        serde_json::from_slice(&plain).map_err(|e| {
            StorageError::Corrupt(format!("the sealed session is not a session ({e})"))
        })
    }

    /// Remembers that the profile's key is not in the keyring (this vault just deleted it, or
    /// found none).
    fn key_gone(&self, profile: &str) {
        let mut keyless = self.keyless.lock().unwrap_or_else(|p| p.into_inner());
        keyless.insert(profile.to_string());
    }

    /// Forgets that the profile had no key: called before writing one, so a write that fails
    /// half way leaves this vault asking the keyring again.
    fn key_written(&self, profile: &str) {
        let mut keyless = self.keyless.lock().unwrap_or_else(|p| p.into_inner());
        keyless.remove(profile);
    }

    /// Whether an inline save over `previous` can leave the keyring's `key:` entry alone: there
    /// is nothing sealed of this profile to remove. True only when all three hold:
    /// - the entry it replaced was inline, so no completed sealed save is current;
    /// - this vault has seen the key gone and written none since. Another process can make a
    ///   key only in a sealed save, which writes the key, then the sealed file, then the entry:
    ///   finished, its entry is sealed (the first point fails); stopped after its file, the file
    ///   or its temporary is there (the last point fails); stopped before any file, its key
    ///   sealed nothing, so nothing can be opened with it (the next save that seals uses it,
    ///   and removing the profile deletes it);
    /// - the sealed folder holds neither the profile's sealed file nor a temporary of one: a
    ///   save stopped between its file and its entry leaves a file one count ahead that `load`
    ///   would prefer to this newer inline session, so it must go (with its key).
    ///
    /// Anything unsure (the folder cannot be listed) answers no, and the save removes as before.
    ///
    /// Two assumptions, not checked (nothing here can see them broken):
    /// - One sealed folder per keyring service. Every process that writes this service's entries
    ///   seals into the same folder, or the third point looks in the wrong place: a killed
    ///   sealed save of a process using another folder leaves a file one count ahead there,
    ///   with its key kept here, and that process's next load prefers it to this newer inline
    ///   session. (The CLI given a `--data-dir` other than the app's folder is that case.)
    /// - No sealed save of another process is between its key and its file. If one is, this
    ///   save finds no file and keeps the key, then that process writes its file (one count
    ///   ahead of this save's counter) and, killed before its entry, leaves a file later loads
    ///   prefer to this session. Deleting the key on every inline save would make that file
    ///   unopenable, but costs a keyring round trip per save and still races that process (its
    ///   finished save would then name a file whose key is gone). Without a lock shared between
    ///   processes some window is left; this one needs a save killed at that exact moment.
    fn nothing_sealed(&self, profile: &str, previous: Option<&Envelope>) -> bool {
        if !matches!(previous, Some(Envelope::Inline { .. })) {
            return false;
        }
        let keyless = self.keyless.lock().unwrap_or_else(|p| p.into_inner());
        if !keyless.contains(profile) {
            return false;
        }
        drop(keyless);
        matches!(
            seal::any_copy(&self.sealed_dir, &Vault::sealed_file(profile)),
            Ok(false)
        )
    }

    /// Removes a profile's sealed file, the temporary files of sealed saves that were killed
    /// before their rename, and its key (a session that moved back inline, or signed out).
    fn remove_sealed(
        &self,
        store: &Arc<CredentialStore>,
        profile: &str,
    ) -> Result<(), StorageError> {
        match self
            .entry(store, &format!("key:{profile}"))?
            .delete_credential()
        {
            Ok(()) | Err(keyring_core::Error::NoEntry) => self.key_gone(profile),
            Err(error) => return Err(backend_error(error)),
        }
        let file = Vault::sealed_file(profile);
        match std::fs::remove_file(self.sealed_dir.join(&file)) {
            Ok(()) => {}
            // No such file; or no sealed folder at all (something else in its place).
            Err(e) if seal::is_absent(&e) => {}
            Err(e) => {
                return Err(StorageError::Backend(format!(
                    "cannot delete the sealed session file: {e}"
                )))
            }
        }
        seal::remove_temporaries(&self.sealed_dir, &file).map_err(|e| {
            StorageError::Backend(format!(
                "cannot delete a stopped save's temporary sealed file: {e}"
            ))
        })
    }
}

impl SessionStore for Vault {
    fn load(&self, profile: &str) -> Result<Option<Session>, StorageError> {
        let Some(store) = &self.store else {
            return self.memory.load(profile);
        };
        match self.settle(store, profile)? {
            Loaded::Found(session) => Ok(session.map(|s| *s)),
            Loaded::Unreadable(why) | Loaded::Changing(why) => Err(StorageError::Corrupt(why)),
        }
    }

    fn save(&self, profile: &str, session: &Session) -> Result<(), StorageError> {
        let Some(store) = &self.store else {
            return self.memory.save(profile, session);
        };
        let _writing = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        let previous = match self.current_envelope(store, profile) {
            Ok(previous) => previous,
            // Unreadable: overwritten by this newer session, counting from the start.
            Err(StorageError::Corrupt(_)) => None,
            // The keyring cannot be read now: change nothing rather than restart the count.
            Err(error) => return Err(error),
        };
        let last = previous.as_ref().map_or(0, Envelope::counter);
        let inline = to_json(&Envelope::Inline {
            session: Box::new(session.clone()),
            counter: last,
        })?;
        // The limit is on what the keyring stores: the whole envelope, not the bare session.
        let sealed = inline.len() > self.inline_limit;
        let bytes = if !sealed {
            inline
        } else {
            let counter = last.checked_add(1).ok_or_else(|| {
                StorageError::Backend("the sealed session's save counter is exhausted".into())
            })?;
            let key = if previous.is_none() {
                self.fresh_key(store, profile)?
            } else {
                match self.profile_key(store, profile, true) {
                    Ok(key) => key.expect("created when missing"),
                    // Not a key (the wrong length): it opens nothing, so it is replaced rather
                    // than failing this save and every later one.
                    Err(StorageError::Corrupt(_)) => self.fresh_key(store, profile)?,
                    Err(error) => return Err(error),
                }
            };
            let file = Vault::sealed_file(profile);
            let ciphertext = seal::seal(&key, profile, counter, &to_json(session)?)?;
            seal::write_atomically(&self.sealed_dir, &file, &ciphertext)?;
            to_json(&Envelope::Sealed {
                file,
                counter: Some(counter),
            })?
        };
        self.entry(store, &format!("session:{profile}"))?
            .set_secret(&bytes)
            .map_err(backend_error)?;
        if !sealed && !self.nothing_sealed(profile, previous.as_ref()) {
            // Inline now: a sealed copy and its key (from a move back inline, or one a crash
            // left behind) are stale secrets.
            if let Err(error) = self.remove_sealed(store, profile) {
                tracing::warn!(%error, "a stale sealed session could not be removed");
            }
        }
        Ok(())
    }

    fn remove(&self, profile: &str) -> Result<(), StorageError> {
        let Some(store) = &self.store else {
            return self.memory.remove(profile);
        };
        let _writing = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        self.remove_all(store, profile)
    }

    /// Judges the entry again (this process's saves held off) and removes it only if it is
    /// still unreadable, the same bytes before and after the judgement. A session another
    /// process saved since is returned, not removed. Left open: that process writing its entry
    /// between this check and the removal (the keyring has no compare-and-delete).
    fn drop_unreadable(&self, profile: &str) -> Result<Option<Session>, StorageError> {
        let Some(store) = &self.store else {
            return self.memory.drop_unreadable(profile);
        };
        let _writing = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        match self.settle(store, profile)? {
            Loaded::Found(session) => Ok(session.map(|s| *s)),
            Loaded::Unreadable(_) => self.remove_all(store, profile).map(|()| None),
            Loaded::Changing(why) => Err(StorageError::Backend(format!(
                "the stored session keeps changing (another process is saving it), left as it is: {why}"
            ))),
        }
    }
}

impl Vault {
    /// The session entry, then its sealed file and key. Call with `writing` held.
    fn remove_all(&self, store: &Arc<CredentialStore>, profile: &str) -> Result<(), StorageError> {
        match self
            .entry(store, &format!("session:{profile}"))?
            .delete_credential()
        {
            Ok(()) | Err(keyring_core::Error::NoEntry) => {}
            Err(error) => return Err(backend_error(error)),
        }
        self.remove_sealed(store, profile)
    }
}

impl Vault {
    /// Removes every keyring entry and file the vault keeps under `profile`: the session
    /// (`session:`), its sealing key (`key:`), its sealed file and any stopped save's
    /// temporary, and the project JWT secret (`jwt-secret:`). Nothing kept is fine. The
    /// session goes first, so a failure part way never leaves a session that names a file
    /// or key already gone as if it could still be read.
    pub fn forget_profile(&self, profile: &str) -> Result<(), StorageError> {
        SessionStore::remove(self, profile)?;
        self.remove_jwt_secret(profile)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_file_from_before_counters_still_opens_once() {
        use aes_gcm::aead::{Aead, KeyInit};
        let key = seal::random_key();
        let nonce = [7u8; 12];
        let ciphertext = aes_gcm::Aes256Gcm::new((&key).into())
            .encrypt(aes_gcm::Nonce::from_slice(&nonce), b"{}".as_slice())
            .unwrap();
        let old = [nonce.as_slice(), &ciphertext].concat();
        assert_eq!(seal::open_unversioned(&key, &old).unwrap(), b"{}");
        let envelope: Envelope =
            serde_json::from_str(r#"{"kind":"sealed","file":"p.sealed"}"#).unwrap();
        assert!(matches!(envelope, Envelope::Sealed { counter: None, .. }));
    }
}
