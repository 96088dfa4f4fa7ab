//! Where sessions are kept between runs: a trait with load / save / remove of a whole session
//! per profile. The in-memory store lives here; the OS-keyring store is the `session-vault`
//! crate.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::session::Session;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StorageError {
    #[error("{0}")]
    Backend(String),
    #[error("the stored session is unreadable: {0}")]
    Corrupt(String),
    /// The blocking task that ran the storage call panicked or was cancelled.
    #[error("the storage task did not finish: {0}")]
    Task(String),
    /// The store was closed (its profile is no longer open): nothing was saved or removed.
    #[error("this profile was closed; its session was not changed")]
    Closed,
}

/// Implementations may block (an OS keyring does); the engine calls them off its async threads
/// unless `blocks` says they never do.
pub trait SessionStore: Send + Sync + 'static {
    fn load(&self, profile: &str) -> Result<Option<Session>, StorageError>;
    fn save(&self, profile: &str, session: &Session) -> Result<(), StorageError>;
    fn remove(&self, profile: &str) -> Result<(), StorageError>;

    /// Drops the profile's stored session after `load` found it unreadable (`Corrupt`). A store
    /// that other processes write too must drop only what is still unreadable: by now another
    /// process may have saved a new session, which is returned instead and kept. The default
    /// (a store only this process writes) removes whatever is stored.
    fn drop_unreadable(&self, profile: &str) -> Result<Option<Session>, StorageError> {
        self.remove(profile).map(|()| None)
    }

    /// Whether a call can block its thread. A store that never does (memory) is called in
    /// place: the hop to the blocking pool and back costs more than the call itself. Keep the
    /// default `true` for any store that can ever wait (an OS keyring, a wrapper that can be
    /// closed or waits on a lock another thread holds): a blocking call in place stalls the
    /// async thread and every task on it.
    fn blocks(&self) -> bool {
        true
    }
}

#[derive(Default)]
pub struct MemoryStore {
    sessions: Mutex<HashMap<String, Session>>,
    failing: Mutex<Option<String>>,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// Makes every call fail with `message` (or work again with `None`), for tests.
    pub fn set_failing(&self, message: Option<&str>) {
        *self.failing.lock().unwrap_or_else(|p| p.into_inner()) = message.map(str::to_string);
    }

    fn check(&self) -> Result<(), StorageError> {
        match &*self.failing.lock().unwrap_or_else(|p| p.into_inner()) {
            Some(message) => Err(StorageError::Backend(message.clone())),
            None => Ok(()),
        }
    }

    fn sessions(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl SessionStore for MemoryStore {
    fn load(&self, profile: &str) -> Result<Option<Session>, StorageError> {
        self.check()?;
        Ok(self.sessions().get(profile).cloned())
    }

    fn save(&self, profile: &str, session: &Session) -> Result<(), StorageError> {
        self.check()?;
        self.sessions().insert(profile.to_string(), session.clone());
        Ok(())
    }

    fn remove(&self, profile: &str) -> Result<(), StorageError> {
        self.check()?;
        self.sessions().remove(profile);
        Ok(())
    }

    fn blocks(&self) -> bool {
        false
    }
}
