//! The running inspector: which profile is active (published to the commands, which wait for
//! start-up to finish), switching profiles, the auto-refresh switch, the shared vault and the
//! live log bus. Opening a profile is `activation`'s job.

use std::sync::Arc;
use std::time::Duration;

use session_engine::auto_refresh::Setting as AutoRefresh;
use session_engine::AuthClient;
use tauri::{AppHandle, Manager as _, Runtime};
use tokio::sync::{watch, Mutex};

use crate::activation::activate;
use crate::error::Error;
use crate::live_log::LogBus;
use crate::settings::{self, Profile};
use crate::vault::OpenVault;

/// How long a command waits for start-up before saying the inspector is still starting.
const START_WAIT: Duration = Duration::from_secs(30);

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

    /// Changes whenever a profile becomes active.
    pub fn watch(&self) -> watch::Receiver<Published> {
        self.state.subscribe()
    }

    /// Opens the last profile (or the built-in demo) and publishes it to the commands.
    pub async fn start<R: Runtime>(&self, app: AppHandle<R>) {
        let _guard = self.switching.lock().await;
        let result = activate(&app, self, None)
            .await
            .map(Arc::new)
            .map_err(|e| match e {
                Error::NoProfile => {
                    tracing::info!("no profile to open yet");
                    Unopened::NoProfile
                }
                e => {
                    tracing::error!(error = %e, "the inspector could not open its profile");
                    Unopened::Failed(e.public_message())
                }
            });
        self.state.send_replace(Some(result));
    }

    /// Makes another saved profile the active one. The current one stays active until the new
    /// one has opened; if it cannot open, nothing changes and the error says why.
    pub async fn switch<R: Runtime>(&self, app: &AppHandle<R>, id: &str) -> Result<(), Error> {
        let _guard = self.switching.lock().await;
        let already = matches!(&*self.state.borrow(), Some(Ok(active)) if active.profile.id == id);
        if already {
            return Ok(());
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
        self.state.send_replace(Some(Ok(Arc::new(next))));
        tracing::info!(profile = id, "profile switched");
        self.log.profile(&name);
        Ok(())
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
