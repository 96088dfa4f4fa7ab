//! The session store an open profile's engine client writes through: the shared vault, until
//! the profile is closed. Copies of the client outlive the profile (a command that took one, a
//! refresh still in flight, the auto-refresh schedule), so closing cannot rely on them being
//! gone: `close` waits for a save or removal in progress and refuses every later one with
//! `StorageError::Closed`. Reset all data closes the store before it forgets the keyring, so
//! no late save can put a session back under a name nothing lists any more.

use std::sync::{Arc, RwLock};

use session_engine::{Session, SessionStore, StorageError};

pub struct ProfileStore {
    inner: Arc<dyn SessionStore>,
    /// True while the profile is open. Writers hold the read lock for the whole write, so the
    /// write lock (`close`) waits for them.
    open: RwLock<bool>,
}

impl ProfileStore {
    pub fn new(inner: Arc<dyn SessionStore>) -> ProfileStore {
        ProfileStore {
            inner,
            open: RwLock::new(true),
        }
    }

    /// Refuses every later save and removal, once the ones in progress have finished. Blocks
    /// while they run (call it off the async threads).
    pub fn close(&self) {
        *self.open.write().unwrap_or_else(|p| p.into_inner()) = false;
    }

    fn while_open<T>(
        &self,
        write: impl FnOnce(&dyn SessionStore) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let open = self.open.read().unwrap_or_else(|p| p.into_inner());
        if !*open {
            return Err(StorageError::Closed);
        }
        write(&*self.inner)
    }
}

impl SessionStore for ProfileStore {
    fn load(&self, profile: &str) -> Result<Option<Session>, StorageError> {
        self.inner.load(profile)
    }

    fn save(&self, profile: &str, session: &Session) -> Result<(), StorageError> {
        self.while_open(|store| store.save(profile, session))
    }

    fn remove(&self, profile: &str) -> Result<(), StorageError> {
        self.while_open(|store| store.remove(profile))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use session_engine::MemoryStore;

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

    #[test]
    fn after_close_a_save_does_not_reach_the_vault() {
        let vault = Arc::new(MemoryStore::new());
        let store = ProfileStore::new(vault.clone());
        store.save("p", &session()).unwrap();
        store.close();

        vault.remove("p").unwrap();
        assert_eq!(store.save("p", &session()), Err(StorageError::Closed));
        assert_eq!(
            vault.load("p").unwrap(),
            None,
            "the late save reached the vault"
        );
        vault.save("p", &session()).unwrap();
        assert_eq!(store.remove("p"), Err(StorageError::Closed));
        assert!(
            vault.load("p").unwrap().is_some(),
            "the late removal reached the vault"
        );
    }

    /// A store whose saves wait until told to go on.
    struct Slow {
        inner: MemoryStore,
        started: mpsc::SyncSender<()>,
        go: std::sync::Mutex<mpsc::Receiver<()>>,
    }

    impl SessionStore for Slow {
        fn load(&self, profile: &str) -> Result<Option<Session>, StorageError> {
            self.inner.load(profile)
        }
        fn save(&self, profile: &str, session: &Session) -> Result<(), StorageError> {
            self.started.send(()).unwrap();
            self.go.lock().unwrap().recv().unwrap();
            self.inner.save(profile, session)
        }
        fn remove(&self, profile: &str) -> Result<(), StorageError> {
            self.inner.remove(profile)
        }
    }

    #[test]
    fn close_waits_for_a_save_in_progress() {
        let (started, saving) = mpsc::sync_channel(1);
        let (go, wait) = mpsc::channel();
        let slow = Arc::new(Slow {
            inner: MemoryStore::new(),
            started,
            go: std::sync::Mutex::new(wait),
        });
        let store = Arc::new(ProfileStore::new(slow.clone()));
        let saver = std::thread::spawn({
            let store = store.clone();
            move || store.save("p", &session())
        });
        saving.recv().unwrap();
        let (closed_tx, closed) = mpsc::channel();
        let closer = std::thread::spawn({
            let store = store.clone();
            move || {
                store.close();
                closed_tx.send(()).unwrap();
            }
        });
        assert!(
            closed.recv_timeout(Duration::from_millis(200)).is_err(),
            "close returned while a save was still writing"
        );
        go.send(()).unwrap();
        closed.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(saver.join().unwrap(), Ok(()));
        closer.join().unwrap();
        // What was written before the close is there for the reset to forget.
        assert!(slow.inner.load("p").unwrap().is_some());
    }
}
