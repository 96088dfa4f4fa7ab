//! Profiles: the built-in demo or real projects. A project is checked before it is saved
//! (a name, an https URL, a client key and never a secret one, and a GoTrue that answers with
//! it); the status the window shows; removal; and a local `supabase start` stack detected.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use session_engine::official_clients::{self, ClientRulesView};
use session_engine::protocol::{AUTO_REFRESH_MARGIN_SECS, LOCAL_STACK_ANON_KEY, LOCAL_STACK_URL};
use session_engine::{AuthClient, ClientConfig, MemoryStore};
use tauri::{AppHandle, Runtime};
use ts_rs::TS;

use crate::demo::{self, DemoAccount, DEMO_ACCOUNT};
use crate::error::Error;
use crate::inspector::{Inspector, CLOSE_WAIT};
use crate::settings::{self, Backend, Profile, BUILT_IN_PROFILE};

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProfileView {
    pub id: String,
    pub name: String,
    pub built_in: bool,
    /// The project URL, or the built-in server's loopback URL while it runs.
    pub url: Option<String>,
    /// Why this profile cannot be opened in this build (a saved demo profile in a build
    /// without the demo); None when it can.
    pub unavailable: Option<&'static str>,
}

/// Why a saved demo profile is listed but cannot be picked, in a build without the demo.
pub const DEMO_NOT_IN_THIS_BUILD: &str = "This build has no built-in demo server.";

/// What the window shows of the inspector: the active profile, every profile, the
/// auto-refresh switch and its limits, the keyring in use.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub profile: String,
    pub profile_id: String,
    pub built_in: bool,
    /// The built-in server's URL while the demo profile is active.
    pub server_url: Option<String>,
    pub profiles: Vec<ProfileView>,
    /// Whether the active profile can be removed: a project, and not the last one of a build
    /// without the demo (nothing would be left to open).
    pub removable: bool,
    pub auto_refresh: bool,
    pub refresh_margin_secs: u64,
    /// How close to expiry `get_session` refreshes (the Supabase clients' 10 s): the margin the
    /// countdown marks while auto-refresh is off.
    pub expiry_margin_secs: u64,
    /// The margin's allowed range, in seconds.
    pub margin_min_secs: u64,
    pub margin_max_secs: u64,
    /// The demo's account, offered in the sign-in form while the built-in profile is active.
    pub demo_account: Option<DemoAccount>,
    pub keyring: session_vault::Backend,
    /// Said plainly when tokens will not survive a reboot or a restart.
    pub keyring_notice: Option<&'static str>,
    /// The official clients' refresh rules, for the panel that compares them; each session
    /// carries only its own times (`SessionView.clients`).
    pub official_clients: Vec<ClientRulesView>,
}

pub async fn status<R: Runtime>(
    app: &AppHandle<R>,
    inspector: &Inspector,
) -> Result<Status, Error> {
    let active = inspector.active().await?;
    let server_url = active.demo_server.as_ref().map(|s| s.url());
    let auto = *active.auto_refresh.borrow();
    let saved = settings::load(app)?;
    let removable = active.profile.backend != Backend::BuiltIn
        && saved
            .after_removing(&active.profile.id, demo::AVAILABLE)
            .is_some();
    let profiles = saved
        .profiles
        .into_iter()
        .map(|p| ProfileView {
            built_in: p.backend == Backend::BuiltIn,
            unavailable: (p.backend == Backend::BuiltIn && !demo::AVAILABLE)
                .then_some(DEMO_NOT_IN_THIS_BUILD),
            url: match p.backend {
                Backend::BuiltIn if p.id == active.profile.id => server_url.clone(),
                Backend::BuiltIn => None,
                Backend::Project { project_url, .. } => Some(project_url),
            },
            id: p.id,
            name: p.name,
        })
        .collect();
    Ok(Status {
        profile: active.profile.name.clone(),
        profile_id: active.profile.id.clone(),
        built_in: active.demo_server.is_some(),
        demo_account: active.demo_server.as_ref().map(|_| DEMO_ACCOUNT),
        server_url,
        profiles,
        removable,
        auto_refresh: auto.enabled,
        refresh_margin_secs: auto.margin.as_secs(),
        expiry_margin_secs: active.client.config().refresh_margin.as_secs(),
        margin_min_secs: *AUTO_REFRESH_MARGIN_SECS.start(),
        margin_max_secs: *AUTO_REFRESH_MARGIN_SECS.end(),
        keyring: active.keyring,
        keyring_notice: active.keyring.notice(),
        official_clients: official_clients::rules(),
    })
}

/// The auto-refresh switch, its margin checked against the allowed range.
pub fn auto_refresh_setting(
    enabled: bool,
    margin_secs: u64,
) -> Result<session_engine::auto_refresh::Setting, Error> {
    if !AUTO_REFRESH_MARGIN_SECS.contains(&margin_secs) {
        return Err(Error::InvalidInput(format!(
            "The margin must be between {} and {} seconds.",
            AUTO_REFRESH_MARGIN_SECS.start(),
            AUTO_REFRESH_MARGIN_SECS.end()
        )));
    }
    Ok(session_engine::auto_refresh::Setting {
        enabled,
        margin: Duration::from_secs(margin_secs),
    })
}

/// Asks `GET /settings` with the key: answers only when URL and key are a GoTrue project.
async fn probe(project_url: &str, anon_key: &str, timeout: Duration) -> Result<(), Error> {
    let mut config = ClientConfig::new(project_url, anon_key);
    config.connect_timeout = timeout;
    config.request_timeout = timeout;
    let client = AuthClient::new(config, Arc::new(MemoryStore::new()), "probe").await?;
    client.server_settings().await?;
    Ok(())
}

/// Checks a project's name, URL and key before any request is made.
pub fn validate(name: &str, project_url: &str, anon_key: &str) -> Result<(), Error> {
    if name.is_empty() || name.chars().count() > 60 {
        return Err(Error::InvalidInput(
            "Give the profile a name of 1 to 60 characters.".into(),
        ));
    }
    ClientConfig::new(project_url, anon_key).auth_url()?;
    if anon_key.starts_with("sb_secret_") {
        return Err(Error::InvalidInput(
            "That is a secret key: never give it to a client. Use the anon or publishable key."
                .into(),
        ));
    }
    if anon_key.starts_with("eyJ") {
        let role = session_engine::tokens::decode_jwt(anon_key)
            .ok()
            .and_then(|jwt| {
                jwt.claims
                    .get("role")
                    .and_then(|r| r.as_str().map(str::to_string))
            });
        if let Some(role) = role.filter(|role| role != "anon") {
            return Err(Error::InvalidInput(format!(
                "That key's role is {role}: never give it to a client. Use the anon or publishable key."
            )));
        }
    }
    let looks_like_key = anon_key.starts_with("sb_publishable_")
        || anon_key.split('.').count() == 3 && anon_key.starts_with("eyJ");
    if !looks_like_key {
        return Err(Error::InvalidInput(
            "The anon key should be the project's anon JWT (eyJ…) or its publishable key (sb_publishable_…), from Project Settings → API.".into(),
        ));
    }
    Ok(())
}

/// Saves a real project (after checking that it answers) and makes it the active profile.
pub async fn add<R: Runtime>(
    app: &AppHandle<R>,
    inspector: &Inspector,
    name: &str,
    project_url: &str,
    anon_key: &str,
) -> Result<(), Error> {
    let (name, project_url, anon_key) = (
        name.trim().to_string(),
        project_url.trim().trim_end_matches('/').to_string(),
        anon_key.trim().to_string(),
    );
    validate(&name, &project_url, &anon_key)?;
    probe(&project_url, &anon_key, Duration::from_secs(8))
        .await
        .map_err(|error| match error {
            Error::Auth(source) => Error::ProjectUnreachable {
                url: project_url.clone(),
                source,
            },
            other => other,
        })?;
    let id = format!("project-{}", chrono::Utc::now().timestamp_millis());
    settings::update(app, |saved| {
        let exists = saved.profiles.iter().any(
            |p| matches!(&p.backend, Backend::Project { project_url: url, .. } if *url == project_url),
        );
        if exists {
            return Err(Error::InvalidInput(format!(
                "A profile for {project_url} already exists."
            )));
        }
        saved.profiles.push(Profile::project(
            id.clone(),
            name,
            project_url.clone(),
            anon_key,
        ));
        Ok(())
    })?;
    inspector.switch(app, &id).await?;
    Ok(())
}

/// Forgets a project profile and its stored session. The built-in demo cannot be removed;
/// in a build without it, neither can the last project (the window would have nothing open).
/// The active profile is switched away from, then closed before its keyring entries go (its
/// store refuses the late save of a refresh in flight or of a command still holding its
/// client, which would put a live session back under a name no profile lists); a save that
/// is still in progress after `CLOSE_WAIT` keeps the profile listed (`ProfileBusy`).
pub async fn remove<R: Runtime>(
    app: &AppHandle<R>,
    inspector: &Inspector,
    id: &str,
) -> Result<(), Error> {
    if id == BUILT_IN_PROFILE {
        return Err(Error::BuiltInProfile);
    }
    if inspector.active().await?.profile.id == id {
        let next = settings::load(app)?
            .after_removing(id, demo::AVAILABLE)
            .ok_or(Error::LastProject)?;
        let previous = inspector.switch(app, &next).await?;
        if let Some(previous) = previous.filter(|p| p.profile.id == id) {
            previous
                .close(CLOSE_WAIT)
                .await
                .map_err(|_| Error::ProfileBusy)?;
        }
    }
    let active = inspector.active().await?;
    settings::update(app, |saved| {
        let before = saved.profiles.len();
        saved.profiles.retain(|p| p.id != id);
        if saved.profiles.len() == before {
            return Err(Error::UnknownProfile(id.to_string()));
        }
        Ok(())
    })?;
    let (vault, owned) = (active.vault.clone(), id.to_string());
    tokio::task::spawn_blocking(move || {
        session_engine::SessionStore::remove(&*vault, &owned)?;
        // The project's JWT secret goes with its profile.
        vault.remove_jwt_secret(&owned)
    })
    .await??;
    crate::history::forget_profile(app, id).await;
    Ok(())
}

/// A local stack found on loopback, with the key it answered to.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DetectedStack {
    pub url: String,
    pub anon_key: String,
}

/// A local `supabase start` stack on 127.0.0.1:54321, when one answers with its default anon
/// key. `SESSION_INSPECTOR_LOCAL_STACK` (and `_KEY`) override the address (tests use them).
pub async fn detect_local() -> Option<DetectedStack> {
    let url = std::env::var("SESSION_INSPECTOR_LOCAL_STACK")
        .unwrap_or_else(|_| LOCAL_STACK_URL.to_string());
    let anon_key = std::env::var("SESSION_INSPECTOR_LOCAL_STACK_KEY")
        .unwrap_or_else(|_| LOCAL_STACK_ANON_KEY.to_string());
    match probe(&url, &anon_key, Duration::from_millis(800)).await {
        Ok(()) => Some(DetectedStack { url, anon_key }),
        Err(error) => {
            tracing::debug!(%url, error = %error.public_message(), "no local stack");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_input_is_checked_before_any_request() {
        let key = LOCAL_STACK_ANON_KEY;
        assert!(validate("Local", "http://127.0.0.1:54321", key).is_ok());
        assert!(validate("Prod", "https://abc.supabase.co", "sb_publishable_x").is_ok());
        assert!(validate("", "https://abc.supabase.co", key).is_err());
        assert!(validate("Prod", "http://example.com", key).is_err());
        assert!(validate("Prod", "https://abc.supabase.co", "hello").is_err());
        assert!(validate("Prod", "https://abc.supabase.co", "sb_secret_abc").is_err());
        // The local stack's service_role key (same secret, role service_role).
        let service_role = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU";
        let error = validate("Prod", "https://abc.supabase.co", service_role).unwrap_err();
        assert!(error.to_string().contains("service_role"), "{error}");
    }

    #[test]
    fn the_margin_is_kept_inside_its_range() {
        assert!(auto_refresh_setting(true, 5).is_ok());
        assert!(auto_refresh_setting(true, 3600).is_ok());
        assert!(matches!(
            auto_refresh_setting(true, 4),
            Err(Error::InvalidInput(_))
        ));
        assert!(matches!(
            auto_refresh_setting(false, 3601),
            Err(Error::InvalidInput(_))
        ));
    }
}
