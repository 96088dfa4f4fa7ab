//! The running inspector: which profile is active (published to the commands, which wait for
//! start-up to finish), switching profiles, the auto-refresh switch, the shared vault and the
//! live log bus. Opening a profile is `activation`'s job.

use std::sync::Arc;
use std::time::Duration;

use session_engine::auto_refresh::Setting as AutoRefresh;
use session_engine::AuthClient;
use tauri::async_runtime::JoinHandle;
use tauri::{AppHandle, Manager as _, Runtime};
use tokio::sync::{watch, Mutex};

use crate::activation::activate;
use crate::error::Error;
use crate::live_log::LogBus;
use crate::profile_store::{ProfileStore, StillWriting};
use crate::settings::{self, Profile};
use crate::vault::OpenVault;

/// How long a command waits for start-up before saying the inspector is still starting.
const START_WAIT: Duration = Duration::from_secs(30);
/// How long closing a profile waits for commands still using it to finish, and then for a
/// save in progress (a keyring's unlock prompt can hold one indefinitely).
pub(crate) const CLOSE_WAIT: Duration = Duration::from_secs(10);

/// An open profile: its engine client, and what lives exactly as long as it is active.
pub struct Active {
    pub profile: Profile,
    pub client: AuthClient,
    pub keyring: session_vault::Backend,
    pub vault: Arc<session_vault::Vault>,
    /// Kept alive as long as the profile is active.
    pub demo_server: Option<crate::demo::Server>,
    /// The auto-refresh switch; its tasks (the schedule, the history recorder) end when this
    /// sender is dropped with the profile.
    pub auto_refresh: watch::Sender<AutoRefresh>,
    /// The store the engine client saves through; closed with the profile.
    pub(crate) store: Arc<ProfileStore>,
    /// The auto-refresh schedule and the history recorder.
    pub(crate) tasks: std::sync::Mutex<Vec<JoinHandle<()>>>,
}

impl Active {
    /// Stops everything that could still write for this profile: its store refuses every
    /// later save (a copy of the client a command still holds, a refresh in flight), once a
    /// save in progress has finished, then its tasks are aborted and awaited (the history
    /// recorder writes no more into the settings). When a save is still in progress after
    /// `limit`, nothing is stopped and the profile can go on as it was.
    pub async fn close(&self, limit: Duration) -> Result<(), StillWriting> {
        let store = self.store.clone();
        match tokio::task::spawn_blocking(move || store.close(limit)).await {
            Ok(closed) => closed?,
            Err(error) => {
                tracing::error!(%error, "closing the profile's store stopped");
                return Err(StillWriting);
            }
        }
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|p| p.into_inner()));
        for task in tasks {
            task.abort();
            let _ = task.await;
        }
        Ok(())
    }
}

/// Start-up's outcome: `None` while starting, then the open profile or why there is none.
type Published = Option<Result<Arc<Active>, Unopened>>;

/// Why no profile is open.
#[derive(Debug, Clone)]
pub enum Unopened {
    /// No profile to open (no project yet, in a build without the built-in demo).
    NoProfile,
    /// The profile could not be opened: why, for people.
    Failed(String),
}

/// Managed state: the active profile once started (or why it could not start), the vault
/// (opened once: every profile shares it, so a memory-only vault keeps sessions across
/// switches and a removal reaches the keyring that holds the entry), and the log bus. Cheap to
/// clone, so long-lived tasks can hold it.
#[derive(Clone)]
pub struct Inspector {
    state: watch::Sender<Published>,
    switching: Arc<Mutex<()>>,
    pub(crate) vault: Arc<tokio::sync::OnceCell<OpenVault>>,
    pub log: LogBus,
}

impl Default for Inspector {
    fn default() -> Self {
        Inspector {
            state: watch::channel(None).0,
            switching: Arc::default(),
            vault: Arc::default(),
            log: LogBus::default(),
        }
    }
}

/// What start-up (or a reopen) publishes for the commands: the opened profile, or why none is.
fn published(opened: Result<Active, Error>) -> Result<Arc<Active>, Unopened> {
    opened.map(Arc::new).map_err(|e| match e {
        Error::NoProfile => {
            tracing::info!("no profile to open yet");
            Unopened::NoProfile
        }
        e => {
            tracing::error!(error = %e, "the inspector could not open its profile");
            Unopened::Failed(e.public_message())
        }
    })
}

impl Inspector {
    /// The active profile, waiting for start-up to finish.
    pub async fn active(&self) -> Result<Arc<Active>, Error> {
        let mut receiver = self.state.subscribe();
        let ready = tokio::time::timeout(START_WAIT, receiver.wait_for(Option::is_some))
            .await
            .map_err(|_| Error::NotReady("the inspector is still starting".into()))?
            .map_err(|_| Error::NotReady("the inspector stopped".into()))?;
        match ready.as_ref().expect("waited for Some") {
            Ok(active) => Ok(active.clone()),
            Err(Unopened::NoProfile) => Err(Error::NoProfile),
            Err(Unopened::Failed(message)) => Err(Error::NotReady(message.clone())),
        }
    }

    /// Tests: makes `active` the active profile, as start-up would.
    #[cfg(test)]
    pub(crate) fn publish(&self, active: Active) {
        self.state.send_replace(Some(Ok(Arc::new(active))));
    }

    /// Changes whenever a profile becomes active.
    pub fn watch(&self) -> watch::Receiver<Published> {
        self.state.subscribe()
    }

    /// Opens the last profile (or the built-in demo) and publishes it to the commands.
    pub async fn start<R: Runtime>(&self, app: AppHandle<R>) {
        let _guard = self.switching.lock().await;
        let result = published(activate(&app, self, None).await);
        self.state.send_replace(Some(result));
    }

    /// Makes another saved profile the active one. The current one stays active until the new
    /// one has opened; if it cannot open, nothing changes and the error says why. The answer is
    /// the profile that was active before (none when `id` already was, or none was open): left
    /// open, for a late save to land, unless the caller closes it (a removal does).
    pub async fn switch<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        id: &str,
    ) -> Result<Option<Arc<Active>>, Error> {
        let _guard = self.switching.lock().await;
        let already = matches!(&*self.state.borrow(), Some(Ok(active)) if active.profile.id == id);
        if already {
            return Ok(None);
        }
        let next = activate(app, self, Some(id)).await?;
        settings::update(app, |saved| {
            saved.last_profile = Some(id.to_string());
            Ok::<_, Error>(())
        })?;
        let name = next.profile.name.clone();
        // A browser sign-in started for the other profile must not land a session there
        // while this one is on screen.
        if let Some(pending) = app.try_state::<crate::oauth::PendingOAuth>() {
            pending.cancel();
        }
        let previous = self.state.send_replace(Some(Ok(Arc::new(next))));
        tracing::info!(profile = id, "profile switched");
        self.log.profile(&name);
        Ok(previous.and_then(Result::ok))
    }

    /// Closes the active profile (commands still using it are waited for, then `Active::close`
    /// makes its store refuse later saves and stops its auto-refresh and history recorder; its
    /// demo server stops when `work` drops it), runs `work` with it, then opens the last
    /// profile, or the built-in demo when the settings name none, as at start-up. `work` owns
    /// the closed profile: dropping it stops the demo server. If a command still holds the
    /// profile after `CLOSE_WAIT`, or a save is still in progress `CLOSE_WAIT` later, it stays
    /// open, `work` does not run, and the answer is `None`.
    pub async fn reopen_after<R, T, F, Fut>(&self, app: &AppHandle<R>, work: F) -> Option<T>
    where
        R: Runtime,
        F: FnOnce(Option<Active>) -> Fut,
        Fut: std::future::Future<Output = T>,
    {
        let _guard = self.switching.lock().await;
        // A browser sign-in must not land a session in the profile being closed.
        if let Some(pending) = app.try_state::<crate::oauth::PendingOAuth>() {
            pending.cancel();
        }
        let closed = match self.state.send_replace(None) {
            Some(Ok(active)) => match exclusive(active).await {
                Ok(active) => match active.close(CLOSE_WAIT).await {
                    Ok(()) => Some(active),
                    Err(StillWriting) => {
                        tracing::warn!("the profile is still saving a session: left open");
                        self.state.send_replace(Some(Ok(Arc::new(active))));
                        return None;
                    }
                },
                Err(active) => {
                    self.state.send_replace(Some(Ok(active)));
                    return None;
                }
            },
            _ => None,
        };
        let output = work(closed).await;
        let reopened = published(activate(app, self, None).await);
        let name = reopened.as_ref().ok().map(|a| a.profile.name.clone());
        self.state.send_replace(Some(reopened));
        if let Some(name) = name {
            self.log.profile(&name);
        }
        Some(output)
    }

    /// Applies a new auto-refresh setting to the active profile and remembers it.
    pub async fn set_auto_refresh<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        setting: AutoRefresh,
    ) -> Result<(), Error> {
        let active = self.active().await?;
        settings::update(app, |saved| {
            if let Some(profile) = saved.profile_mut(&active.profile.id) {
                profile.auto_refresh = setting.enabled;
                profile.refresh_margin_secs = setting.margin.as_secs();
            }
            Ok::<_, Error>(())
        })?;
        active.auto_refresh.send_replace(setting);
        Ok(())
    }
}

/// The profile itself once nothing else holds it (commands that were using it have finished),
/// or back again after `CLOSE_WAIT`.
async fn exclusive(mut active: Arc<Active>) -> Result<Active, Arc<Active>> {
    let deadline = tokio::time::Instant::now() + CLOSE_WAIT;
    loop {
        match Arc::try_unwrap(active) {
            Ok(active) => return Ok(active),
            Err(shared) if tokio::time::Instant::now() >= deadline => return Err(shared),
            Err(shared) => {
                active = shared;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// What the tests of an open profile share: a project profile's `Active` (no server, so
/// nothing is requested) over the engine store `inner`, with a vault on the memory backend in
/// the returned folder.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use session_engine::{ClientConfig, SessionStore};

    pub async fn project_active(
        inner: Arc<dyn SessionStore>,
        auto_refresh: AutoRefresh,
        tasks: Vec<JoinHandle<()>>,
    ) -> (Active, tempfile::TempDir) {
        let store = Arc::new(ProfileStore::new(inner));
        let config = ClientConfig::new("https://x.supabase.co", "k");
        let client = AuthClient::new(config, store.clone(), "p").await.unwrap();
        let folder = tempfile::tempdir().unwrap();
        let backend = session_vault::Backend::Memory;
        let vault = session_vault::Vault::open_backend(backend, "test", folder.path().into());
        let active = Active {
            profile: Profile::project(
                "p".into(),
                "P".into(),
                "https://x.supabase.co".into(),
                "k".into(),
            ),
            client,
            keyring: backend,
            vault: Arc::new(vault.unwrap()),
            demo_server: None,
            auto_refresh: watch::channel(auto_refresh).0,
            store,
            tasks: std::sync::Mutex::new(tasks),
        };
        (active, folder)
    }
}

#[cfg(test)]
mod tests {
    use session_engine::{SessionStore, StorageError};

    use super::*;
    use crate::profile_store::testing::{save_in_background, session, Held};

    #[tokio::test]
    async fn a_close_that_runs_out_of_time_stops_nothing_and_a_later_one_stops_everything() {
        let (held, saving, go) = Held::new();
        let setting = AutoRefresh {
            enabled: true,
            margin: Duration::from_secs(30),
        };
        let pending = vec![tauri::async_runtime::spawn(std::future::pending())];
        let (active, _folder) = testing::project_active(held.clone(), setting, pending).await;
        let store = active.store.clone();
        let saver = save_in_background(store, &saving);

        assert_eq!(
            active.close(Duration::from_millis(100)).await,
            Err(StillWriting)
        );
        assert_eq!(
            active.tasks.lock().unwrap().len(),
            1,
            "the tasks of a profile that stays open were stopped"
        );

        go.send(()).unwrap();
        assert_eq!(saver.join().unwrap(), Ok(()));
        assert_eq!(active.close(Duration::from_secs(5)).await, Ok(()));
        assert!(active.tasks.lock().unwrap().is_empty());
        assert_eq!(
            active.store.save("p", &session()),
            Err(StorageError::Closed)
        );
    }
}
