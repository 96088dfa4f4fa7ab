//! The running inspector: the active profile's engine client over the OS-keyring vault, and
//! the built-in demo server when the profile is the built-in one. Started once at launch;
//! commands wait for it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use session_engine::{AuthClient, ClientConfig, Credentials, SessionStore};
use session_vault::Vault;
use tauri::{AppHandle, Manager, Runtime};
use tokio::sync::watch;

use crate::error::Error;
use crate::settings::{self, Backend, HistoryEntry, Profile};

/// The built-in demo's account: a throwaway user on a server that only listens on loopback.
pub const DEMO_EMAIL: &str = "demo@sessioninspector.local";
pub const DEMO_PASSWORD: &str = "demo-password";
/// Short-lived access tokens, so a newcomer sees the countdown and refreshes move.
const DEMO_JWT_EXPIRY: Duration = Duration::from_secs(120);

pub struct Active {
    pub profile: Profile,
    pub client: AuthClient,
    pub keyring: session_vault::Backend,
    /// Kept alive as long as the profile is active.
    pub demo_server: Option<local_gotrue::Server>,
}

/// Managed state: the active profile once started, or why it could not start.
pub struct Inspector {
    state: watch::Sender<Option<Result<Arc<Active>, String>>>,
}

impl Default for Inspector {
    fn default() -> Self {
        Inspector {
            state: watch::channel(None).0,
        }
    }
}

impl Inspector {
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

    /// Opens the last profile (or the built-in demo) and publishes it to the commands.
    pub async fn start<R: Runtime>(&self, app: AppHandle<R>) {
        let result = activate(&app)
            .await
            .map(Arc::new)
            .map_err(|e| e.to_string());
        self.state.send_replace(Some(result));
    }
}

fn app_data(app: &AppHandle<impl Runtime>) -> Result<PathBuf, Error> {
    app.path()
        .app_data_dir()
        .map_err(|e| Error::Settings(format!("no app data folder: {e}")))
}

async fn activate<R: Runtime>(app: &AppHandle<R>) -> Result<Active, Error> {
    let mut settings = settings::load(app)?;
    let profile = settings.active_profile();
    settings::save(app, &settings)?;
    let data = app_data(app)?;

    let identifier = app.config().identifier.clone();
    let sealed = data.join("sessions");
    let vault = tokio::task::spawn_blocking(move || Vault::open(&identifier, sealed))
        .await
        .map_err(|e| Error::Settings(format!("the keyring probe failed: {e}")))?;
    let keyring = vault.backend();
    let vault: Arc<dyn SessionStore> = Arc::new(vault);

    let (config, demo_server) = match &profile.backend {
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
    let mut config = config;
    config.refresh_margin = Duration::from_secs(profile.refresh_margin_secs);
    let client = AuthClient::new(config, vault, profile.id.clone()).await?;
    record_history(app.clone(), &client, profile.id.clone());
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
    Ok(Active {
        profile,
        client,
        keyring,
        demo_server,
    })
}

async fn start_demo_server(dir: PathBuf) -> Result<local_gotrue::Server, Error> {
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::Settings(format!("cannot create {}: {e}", dir.display())))?;
    let config = local_gotrue::Config {
        jwt_expiry: DEMO_JWT_EXPIRY,
        data_path: Some(dir.join("auth.sqlite")),
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

/// Appends every auth event to the history index in the settings: kind, time, and the refresh
/// token's fingerprint. Never a token.
fn record_history<R: Runtime>(app: AppHandle<R>, client: &AuthClient, profile: String) {
    let mut events = client.subscribe();
    tauri::async_runtime::spawn(async move {
        while let Some(event) = events.next().await {
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
            let saved = settings::load(&app).and_then(|mut settings| {
                settings.record(entry);
                settings::save(&app, &settings)
            });
            if saved.is_err() {
                break;
            }
        }
    });
}
