//! Opening a profile: its engine client over the shared vault (against the built-in demo
//! server or a real project), the restore of a stored session by `get_session`'s rules, the
//! demo's sign-in, and the tasks that live as long as the profile is active (auto-refresh and
//! the history recorder).

use std::sync::Arc;

use session_engine::auto_refresh::{self, Outcome};
use session_engine::{AuthClient, ClientConfig, Credentials, SessionStore};
use tauri::{AppHandle, Manager, Runtime};
use tokio::sync::watch;

use crate::demo;
use crate::error::Error;
use crate::inspector::{Active, Inspector};
use crate::profile_store::ProfileStore;
use crate::settings::{self, Backend};

/// Opens profile `id`, or the last one used (the built-in demo when there is none; in a build
/// without it, `NoProfile` until a project is added).
pub async fn activate<R: Runtime>(
    app: &AppHandle<R>,
    inspector: &Inspector,
    id: Option<&str>,
) -> Result<Active, Error> {
    let profile = match id {
        Some(id) => settings::load(app)?
            .profile(id)
            .cloned()
            .ok_or_else(|| Error::UnknownProfile(id.to_string()))?,
        None => settings::update(app, |saved| {
            Ok::<_, Error>(saved.active_profile(demo::AVAILABLE))
        })?
        .ok_or(Error::NoProfile)?,
    };
    let (vault, keyring) = crate::vault::open(app, inspector).await?;

    let (mut config, demo_server) = match &profile.backend {
        Backend::Project {
            project_url,
            anon_key,
        } => (ClientConfig::new(project_url, anon_key), None),
        Backend::BuiltIn => {
            let server = demo::start(&app.path().app_data_dir()?.join(demo::FOLDER)).await?;
            (
                ClientConfig::new(server.url(), server.anon_key()),
                Some(server),
            )
        }
    };
    config.retry_budget = session_profiles::RETRY_BUDGET;
    let store_key = demo::store_key(&profile, demo_server.as_ref());
    // The client saves through a store the profile can close: copies of the client outlive it.
    let store = Arc::new(ProfileStore::new(vault.clone() as Arc<dyn SessionStore>));
    let client = AuthClient::new(config, store.clone() as Arc<dyn SessionStore>, store_key).await?;
    tracing::info!(profile = %profile.id, restored = client.current_session().is_some(), "profile opened");

    let auto_refresh = watch::channel(profile.auto_refresh_setting()).0;
    // Both tasks end when this profile stops being active (the sender is dropped with it);
    // closing the profile aborts them and waits.
    let history = crate::history::record(
        app.clone(),
        &client,
        profile.id.clone(),
        auto_refresh.subscribe(),
    );
    restore(&client).await;
    if demo_server.is_some() && client.current_session().is_none() {
        let credentials = Credentials::Email {
            email: demo::DEMO_EMAIL.into(),
            password: demo::DEMO_PASSWORD.into(),
        };
        client.sign_in_with_password(credentials).await?;
    }
    let log = inspector.log.clone();
    let schedule = tauri::async_runtime::spawn(auto_refresh::run(
        client.clone(),
        auto_refresh.subscribe(),
        move |outcome| match outcome {
            Outcome::Joined => log.joined("autoRefresh"),
            Outcome::Failed(error) => log.failure("autoRefresh", &Error::from(error)),
            Outcome::Refreshed => {}
        },
    ));
    Ok(Active {
        profile,
        client,
        keyring,
        vault,
        demo_server,
        auto_refresh,
        store,
        tasks: std::sync::Mutex::new(vec![history, schedule]),
    })
}

/// A restored session is recovered as auth-js recovers it: refreshed when inside the margin
/// or expired, announced with SIGNED_IN when valid, then INITIAL_SESSION to each subscriber
/// (the engine's `initialize`, which logs a failure itself).
async fn restore(client: &AuthClient) {
    let _ = client.initialize().await;
}
