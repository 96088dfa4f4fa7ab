//! The running inspector: the active profile's engine client over the OS-keyring vault, the
//! built-in demo server when the profile is the built-in one, the auto-refresh, and the log
//! bus. Started once at launch; switching profiles replaces the active one; commands wait for it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use session_engine::{AuthClient, ClientConfig, Credentials, SessionStore};
use session_vault::Vault;
use tauri::{AppHandle, Manager, Runtime};
use tokio::sync::{watch, Mutex};

use crate::error::Error;
use crate::log::LogBus;
use crate::settings::{self, Backend, HistoryEntry, Profile};

/// The built-in demo's account: a throwaway user on a server that only listens on loopback.
pub const DEMO_EMAIL: &str = "demo@sessioninspector.local";
pub const DEMO_PASSWORD: &str = "demo-password";
/// Short-lived access tokens, so a newcomer sees the countdown and refreshes move.
const DEMO_JWT_EXPIRY: Duration = Duration::from_secs(120);
/// An inspector reports a server that keeps failing within seconds; every attempt shows in
/// the log. (The engine's default, like the Supabase clients', keeps retrying for 30 s.)
const RETRY_BUDGET: Duration = Duration::from_secs(3);
/// After a failed auto-refresh, the next attempt waits at least this long.
const AUTO_REFRESH_BACKOFF: Duration = Duration::from_secs(15);
/// Between two automatic refreshes at least this long passes, even when the margin is as long
/// as the tokens live (each new token would otherwise be due at once).
const AUTO_REFRESH_MIN_GAP: Duration = Duration::from_secs(5);

/// The auto-refresh switch of the active profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AutoRefresh {
    pub enabled: bool,
    pub margin_secs: u64,
}

pub struct Active {
    pub profile: Profile,
    pub client: AuthClient,
    pub keyring: session_vault::Backend,
    pub vault: Arc<dyn SessionStore>,
    /// Kept alive as long as the profile is active.
    pub demo_server: Option<local_gotrue::Server>,
    pub auto_refresh: watch::Sender<AutoRefresh>,
}

type Published = Option<Result<Arc<Active>, String>>;

type OpenVault = (Arc<dyn SessionStore>, session_vault::Backend);

/// Managed state: the active profile once started (or why it could not start), the vault
/// (opened once: every profile shares it, so a memory-only vault keeps sessions across
/// switches and a removal reaches the keyring that holds the entry), and the log bus. Cheap to
/// clone, so long-lived tasks can hold it.
#[derive(Clone)]
pub struct Inspector {
    state: watch::Sender<Published>,
    switching: Arc<Mutex<()>>,
    vault: Arc<tokio::sync::OnceCell<OpenVault>>,
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
    /// The vault, opened (and its keyring probed) on first use.
    pub async fn vault<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        data: &std::path::Path,
    ) -> Result<OpenVault, Error> {
        let identifier = app.config().identifier.clone();
        let sealed = data.join("sessions");
        self.vault
            .get_or_try_init(|| async move {
                let vault = tokio::task::spawn_blocking(move || Vault::open(&identifier, sealed))
                    .await
                    .map_err(|e| Error::Settings(format!("the keyring probe failed: {e}")))?;
                let keyring = vault.backend();
                Ok((Arc::new(vault) as Arc<dyn SessionStore>, keyring))
            })
            .await
            .cloned()
    }

    /// The active profile, waiting for start-up to finish.
    pub async fn active(&self) -> Result<Arc<Active>, Error> {
        let mut receiver = self.state.subscribe();
        let ready =
            tokio::time::timeout(Duration::from_secs(30), receiver.wait_for(Option::is_some))
                .await
                .map_err(|_| Error::NotReady("the inspector is still starting".into()))?
                .map_err(|_| Error::NotReady("the inspector stopped".into()))?;
        match ready.as_ref().expect("waited for Some") {
            Ok(active) => Ok(active.clone()),
            Err(message) => Err(Error::NotReady(message.clone())),
        }
    }

    /// Changes whenever a profile becomes active.
    pub fn watch(&self) -> watch::Receiver<Published> {
        self.state.subscribe()
    }

    /// Opens the last profile (or the built-in demo) and publishes it to the commands.
    pub async fn start<R: Runtime>(&self, app: AppHandle<R>) {
        let _guard = self.switching.lock().await;
        let result = activate(&app, None)
            .await
            .map(Arc::new)
            .map_err(|e| e.to_string());
        self.state.send_replace(Some(result));
    }

    /// Makes another saved profile the active one. The current one stays active until the new
    /// one has opened; if it cannot open, nothing changes and the error says why.
    pub async fn switch<R: Runtime>(&self, app: &AppHandle<R>, id: &str) -> Result<(), Error> {
        let _guard = self.switching.lock().await;
        let current = self.state.borrow().clone();
        if let Some(Ok(active)) = &current {
            if active.profile.id == id {
                return Ok(());
            }
        }
        drop(current);
        let next = match activate(app, Some(id)).await {
            Ok(next) => next,
            Err(error) => return Err(error),
        };
        settings::update(app, |saved| {
            saved.last_profile = Some(id.to_string());
            Ok(())
        })?;
        let name = next.profile.name.clone();
        self.state.send_replace(Some(Ok(Arc::new(next))));
        self.log.profile(&name);
        Ok(())
    }

    /// Applies a new auto-refresh setting to the active profile and remembers it.
    pub async fn set_auto_refresh<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        auto: AutoRefresh,
    ) -> Result<(), Error> {
        let active = self.active().await?;
        settings::update(app, |saved| {
            if let Some(profile) = saved
                .profiles
                .iter_mut()
                .find(|p| p.id == active.profile.id)
            {
                profile.auto_refresh = auto.enabled;
                profile.refresh_margin_secs = auto.margin_secs;
            }
            Ok(())
        })?;
        active.auto_refresh.send_replace(auto);
        Ok(())
    }
}

fn app_data(app: &AppHandle<impl Runtime>) -> Result<PathBuf, Error> {
    app.path()
        .app_data_dir()
        .map_err(|e| Error::Settings(format!("no app data folder: {e}")))
}

/// Opens a profile: `id`, or the last one used (the built-in demo when there is none).
async fn activate<R: Runtime>(app: &AppHandle<R>, id: Option<&str>) -> Result<Active, Error> {
    let profile = match id {
        Some(id) => settings::load(app)?
            .profiles
            .into_iter()
            .find(|p| p.id == id)
            .ok_or_else(|| Error::InvalidInput(format!("there is no profile {id:?}")))?,
        None => settings::update(app, |settings| Ok(settings.active_profile()))?,
    };
    let data = app_data(app)?;

    let (vault, keyring) = app.state::<Inspector>().vault(app, &data).await?;

    let (mut config, demo_server) = match &profile.backend {
        Backend::Project {
            project_url,
            anon_key,
        } => (ClientConfig::new(project_url, anon_key), None),
        Backend::BuiltIn => {
            let server = start_demo_server(data.join("demo")).await?;
            (
                ClientConfig::new(server.url(), server.anon_key()),
                Some(server),
            )
        }
    };
    config.retry_budget = RETRY_BUDGET;
    let client = AuthClient::new(config, vault.clone(), store_key(&profile, &demo_server)).await?;
    let auto_refresh = watch::channel(AutoRefresh {
        enabled: profile.auto_refresh,
        margin_secs: profile.refresh_margin_secs,
    })
    .0;
    // Both tasks end when this profile stops being active (the sender is dropped with it).
    record_history(
        app.clone(),
        &client,
        profile.id.clone(),
        auto_refresh.subscribe(),
    );
    // A restored session follows get_session's rules: refreshed when inside the margin or
    // expired; a transient failure keeps it, a definitive one ends it (SIGNED_OUT).
    if client.current_session().is_some() {
        let _ = client.get_session().await;
    }
    if demo_server.is_some() && client.current_session().is_none() {
        let credentials = Credentials::Email {
            email: DEMO_EMAIL.into(),
            password: DEMO_PASSWORD.into(),
        };
        client.sign_in_with_password(credentials).await?;
    }
    let log = app.state::<Inspector>().log.clone();
    tauri::async_runtime::spawn(run_auto_refresh(
        client.clone(),
        auto_refresh.subscribe(),
        log,
    ));
    Ok(Active {
        profile,
        client,
        keyring,
        vault,
        demo_server,
        auto_refresh,
    })
}

/// The name a profile's session is kept under in the keyring. The keyring is shared by every
/// copy of the app the user runs, but a demo session only exists in the one demo database that
/// issued it (in that copy's app data folder): its entry is named after that database's
/// signing key, so a copy with another data folder never picks up a session its own server
/// has never heard of.
pub fn store_key(profile: &Profile, demo_server: &Option<local_gotrue::Server>) -> String {
    match demo_server {
        Some(server) => {
            let jwks = server.state().keys.jwks();
            let kid = jwks["keys"][0]["kid"].as_str().unwrap_or("unknown");
            format!("{}:{kid}", profile.id)
        }
        None => profile.id.clone(),
    }
}

async fn start_demo_server(dir: PathBuf) -> Result<local_gotrue::Server, Error> {
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::Settings(format!("cannot create {}: {e}", dir.display())))?;
    let config = local_gotrue::Config {
        jwt_expiry: DEMO_JWT_EXPIRY,
        data_path: Some(dir.join("auth.sqlite")),
        // Asymmetric keys, as new Supabase projects use: the signature can be checked
        // against the published JWKS without any secret.
        signing: local_gotrue::config::SigningAlgorithm::Es256,
        demo_user: Some(local_gotrue::DemoUser {
            email: DEMO_EMAIL.into(),
            password: DEMO_PASSWORD.into(),
        }),
        ..local_gotrue::Config::default()
    };
    local_gotrue::start(config)
        .await
        .map_err(|e| Error::Settings(format!("the built-in server did not start: {e}")))
}

/// With the switch on, refreshes the session `margin` seconds before it expires. Waits are
/// recomputed whenever the session or the setting changes; a failure is logged and retried
/// after a pause. Ends when the profile stops being active (its setting's sender is dropped).
async fn run_auto_refresh(
    client: AuthClient,
    mut setting: watch::Receiver<AutoRefresh>,
    log: LogBus,
) {
    let mut events = client.subscribe();
    let mut not_before = tokio::time::Instant::now();
    loop {
        let auto = *setting.borrow_and_update();
        let due = client.current_session().filter(|_| auto.enabled).map(|s| {
            let left = s.expires_at - chrono::Utc::now().timestamp() - auto.margin_secs as i64;
            let due = tokio::time::Instant::now() + Duration::from_secs(left.max(0) as u64);
            due.max(not_before)
        });
        tokio::select! {
            changed = setting.changed() => if changed.is_err() { return },
            event = events.next() => if event.is_none() { return },
            _ = sleep_until(due), if due.is_some() => {
                // The profile may have been switched away while this task slept.
                if setting.has_changed().is_err() {
                    return;
                }
                let outcome = client.refresh_session(None).await;
                not_before = tokio::time::Instant::now() + AUTO_REFRESH_MIN_GAP;
                match outcome {
                    Ok(refreshed) if refreshed.joined => log.joined("autoRefresh"),
                    Ok(_) => {}
                    Err(error) => {
                        log.failure("autoRefresh", &Error::from(error));
                        not_before = tokio::time::Instant::now() + AUTO_REFRESH_BACKOFF;
                    }
                }
            }
        }
    }
}

async fn sleep_until(due: Option<tokio::time::Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due).await,
        None => std::future::pending().await,
    }
}

/// Appends every auth event to the history index in the settings: kind, time, and the refresh
/// token's fingerprint. Never a token. Ends when `alive`'s sender (the active profile) is gone.
fn record_history<R: Runtime>(
    app: AppHandle<R>,
    client: &AuthClient,
    profile: String,
    mut alive: watch::Receiver<AutoRefresh>,
) {
    let mut events = client.subscribe();
    tauri::async_runtime::spawn(async move {
        loop {
            let event = tokio::select! {
                event = events.next() => match event {
                    Some(event) => event,
                    None => return,
                },
                changed = alive.changed() => match changed {
                    Ok(()) => continue,
                    Err(_) => return,
                },
            };
            let entry = HistoryEntry {
                at: event
                    .at
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                kind: event.kind.as_str().to_string(),
                profile: profile.clone(),
                refresh_token_fingerprint: event
                    .session
                    .as_ref()
                    .map(|s| session_engine::tokens::fingerprint(&s.refresh_token)),
            };
            // A failed save loses one history line, not the recorder.
            let _ = settings::update(&app, |settings| {
                settings.record(entry);
                Ok(())
            });
        }
    });
}
