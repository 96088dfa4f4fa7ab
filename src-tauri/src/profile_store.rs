//! The session store an open profile's engine client writes through: the shared vault, until
//! the profile is closed. Copies of the client outlive the profile (a command that took one, a
//! refresh still in flight, the auto-refresh schedule), so closing cannot rely on them being
//! gone: `close` waits for a save or removal in progress and refuses every later one with
//! `StorageError::Closed`. Its wait is limited (a save can hang on a keyring's unlock prompt):
//! past the limit the store stays open and the close is refused. Reset all data and removing a
//! profile close the store before they forget the keyring, so no late save can put a session
//! back under a name nothing lists any more.

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use session_engine::{Session, SessionStore, StorageError};

pub struct ProfileStore {
    inner: Arc<dyn SessionStore>,
    state: Mutex<State>,
    /// Signalled when a write ends, for `close`.
    finished: Condvar,
}

struct State {
    /// True while the profile is open.
    open: bool,
    /// Saves and removals in progress.
    writers: usize,
}

/// A save or removal was still in progress when the close's time limit ran out (a keyring
/// waiting to be unlocked, say): the store is still open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StillWriting;

impl ProfileStore {
    pub fn new(inner: Arc<dyn SessionStore>) -> ProfileStore {
        ProfileStore {
            inner,
            state: Mutex::new(State {
                open: true,
                writers: 0,
            }),
            finished: Condvar::new(),
        }
    }

    /// Refuses every later save and removal, once the ones in progress have finished; when
    /// they have not within `limit`, nothing changes and the store stays open. Blocks while
    /// it waits (call it off the async threads).
    pub fn close(&self, limit: Duration) -> Result<(), StillWriting> {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (mut state, _) = self
            .finished
            .wait_timeout_while(state, limit, |state| state.writers > 0)
            .unwrap_or_else(|p| p.into_inner());
        if state.writers > 0 {
            return Err(StillWriting);
        }
        state.open = false;
        Ok(())
    }

    fn while_open<T>(
        &self,
        write: impl FnOnce(&dyn SessionStore) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if !state.open {
                return Err(StorageError::Closed);
            }
            state.writers += 1;
        }
        // Counted out even if the write panics.
        struct Writing<'a>(&'a ProfileStore);
        impl Drop for Writing<'_> {
            fn drop(&mut self) {
                let mut state = self.0.state.lock().unwrap_or_else(|p| p.into_inner());
                state.writers -= 1;
                self.0.finished.notify_all();
            }
        }
        let _writing = Writing(self);
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

    /// The vault's own check that what it drops is still unreadable, not the default removal.
    fn drop_unreadable(&self, profile: &str) -> Result<Option<Session>, StorageError> {
        self.while_open(|store| store.drop_unreadable(profile))
    }
}

/// What the tests of closing a profile share: a session, and a store whose saves hang the way a
/// keyring's unlock prompt does.
#[cfg(test)]
pub(crate) mod testing {
    use std::sync::{mpsc, Mutex};

    use session_engine::{MemoryStore, Session, SessionStore, StorageError};

    pub fn session() -> Session {
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

    /// Each save says it started, then waits until told to go on.
    pub struct Held {
        pub inner: MemoryStore,
        started: mpsc::SyncSender<()>,
        go: Mutex<mpsc::Receiver<()>>,
    }

    impl Held {
        /// The store, the signal that a save started, and the sender that lets it finish.
        pub fn new() -> (std::sync::Arc<Held>, mpsc::Receiver<()>, mpsc::Sender<()>) {
            let (started, saving) = mpsc::sync_channel(1);
            let (go, wait) = mpsc::channel();
            let held = Held {
                inner: MemoryStore::new(),
                started,
                go: Mutex::new(wait),
            };
            (std::sync::Arc::new(held), saving, go)
        }
    }

    /// Saves a session through `store` on a thread of its own, once `saving` says the held
    /// save has started writing (the store now has a writer in progress).
    pub fn save_in_background(
        store: std::sync::Arc<dyn SessionStore>,
        saving: &mpsc::Receiver<()>,
    ) -> std::thread::JoinHandle<Result<(), StorageError>> {
        let saver = std::thread::spawn(move || store.save("p", &session()));
        saving.recv().unwrap();
        saver
    }

    impl SessionStore for Held {
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
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use session_engine::MemoryStore;

    use super::testing::{save_in_background, session, Held};
    use super::*;

    #[test]
    fn after_close_a_save_does_not_reach_the_vault() {
        let vault = Arc::new(MemoryStore::new());
        let store = ProfileStore::new(vault.clone());
        store.save("p", &session()).unwrap();
        store.close(Duration::ZERO).unwrap();

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

    #[test]
    fn close_waits_for_a_save_in_progress() {
        let (slow, saving, go) = Held::new();
        let store = Arc::new(ProfileStore::new(slow.clone()));
        let saver = save_in_background(store.clone(), &saving);
        let (closed_tx, closed) = mpsc::channel();
        let closer = std::thread::spawn({
            let store = store.clone();
            move || {
                closed_tx.send(store.close(Duration::from_secs(5))).unwrap();
            }
        });
        assert!(
            closed.recv_timeout(Duration::from_millis(200)).is_err(),
            "close returned while a save was still writing"
        );
        go.send(()).unwrap();
        assert_eq!(closed.recv_timeout(Duration::from_secs(5)).unwrap(), Ok(()));
        assert_eq!(saver.join().unwrap(), Ok(()));
        closer.join().unwrap();
        // What was written before the close is there for the reset to forget.
        assert!(slow.inner.load("p").unwrap().is_some());
    }

    /// A store that judges before it drops (as the vault does): here, what it holds always
    /// reads back, so a drop keeps and returns it.
    struct Judging(MemoryStore);

    impl SessionStore for Judging {
        fn load(&self, profile: &str) -> Result<Option<Session>, StorageError> {
            self.0.load(profile)
        }
        fn save(&self, profile: &str, session: &Session) -> Result<(), StorageError> {
            self.0.save(profile, session)
        }
        fn remove(&self, profile: &str) -> Result<(), StorageError> {
            self.0.remove(profile)
        }
        fn drop_unreadable(&self, profile: &str) -> Result<Option<Session>, StorageError> {
            self.0.load(profile)
        }
    }

    #[test]
    fn dropping_an_unreadable_session_is_the_inner_stores_judgement_until_close() {
        let inner = Arc::new(Judging(MemoryStore::new()));
        inner.save("p", &session()).unwrap();
        let store = ProfileStore::new(inner.clone());
        assert_eq!(store.drop_unreadable("p"), Ok(Some(session())));
        assert!(inner.load("p").unwrap().is_some(), "not removed by default");
        store.close(Duration::ZERO).unwrap();
        assert_eq!(store.drop_unreadable("p"), Err(StorageError::Closed));
    }

    #[test]
    fn a_close_that_runs_out_of_time_leaves_the_store_open() {
        let (slow, saving, go) = Held::new();
        let store = Arc::new(ProfileStore::new(slow.clone()));
        let saver = save_in_background(store.clone(), &saving);

        let began = std::time::Instant::now();
        assert_eq!(store.close(Duration::from_millis(100)), Err(StillWriting));
        assert!(began.elapsed() < Duration::from_secs(5), "the close hung");

        go.send(()).unwrap();
        assert_eq!(saver.join().unwrap(), Ok(()));
        // Still open: the profile it belongs to goes on (a later write lands).
        assert_eq!(store.remove("p"), Ok(()));
        assert_eq!(store.close(Duration::ZERO), Ok(()));
        assert_eq!(store.remove("p"), Err(StorageError::Closed));
    }
}
