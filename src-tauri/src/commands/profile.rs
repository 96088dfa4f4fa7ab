//! Profiles: which project the inspector talks to (the built-in demo or a real project), the
//! auto-refresh switch, and detecting a local `supabase start` stack.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use session_engine::{AuthClient, ClientConfig, MemoryStore};
use tauri::{AppHandle, Runtime, State};

use crate::error::Error;
use crate::inspector::{AutoRefresh, Inspector};
use crate::settings::{self, Backend, Profile, BUILT_IN_PROFILE};

/// Where `supabase start` serves the API gateway.
pub const LOCAL_STACK_URL: &str = "http://127.0.0.1:54321";
/// The anon key every `supabase start` stack is created with: a public, documented demo key
/// signed with the local stack's default secret. Not a credential of any real project.
pub const LOCAL_STACK_ANON_KEY: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0";
const MARGIN_RANGE: std::ops::RangeInclusive<u64> = 5..=3600;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileView {
    pub id: String,
    pub name: String,
    pub built_in: bool,
    pub url: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub profile: String,
    pub profile_id: String,
    pub built_in: bool,
    pub server_url: Option<String>,
    pub profiles: Vec<ProfileView>,
    pub auto_refresh: bool,
    pub refresh_margin_secs: u64,
    pub keyring: session_vault::Backend,
    /// Said plainly when tokens will not survive a reboot or a restart.
    pub keyring_notice: Option<&'static str>,
}

async fn status<R: Runtime>(app: &AppHandle<R>, inspector: &Inspector) -> Result<Status, Error> {
    let active = inspector.active().await?;
    let server_url = active.demo_server.as_ref().map(|s| s.url());
    let auto = *active.auto_refresh.borrow();
    let profiles = settings::load(app)?
        .profiles
        .into_iter()
        .map(|p| ProfileView {
            built_in: p.backend == Backend::BuiltIn,
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
        server_url,
        profiles,
        auto_refresh: auto.enabled,
        refresh_margin_secs: auto.margin_secs,
        keyring: active.keyring,
        keyring_notice: active.keyring.notice(),
    })
}

#[tauri::command]
pub async fn inspector_status<R: Runtime>(
    app: AppHandle<R>,
    inspector: State<'_, Inspector>,
) -> Result<Status, Error> {
    status(&app, &inspector).await
}

#[tauri::command]
pub async fn settings_auto_refresh<R: Runtime>(
    app: AppHandle<R>,
    inspector: State<'_, Inspector>,
    enabled: bool,
    margin_secs: u64,
) -> Result<Status, Error> {
    if !MARGIN_RANGE.contains(&margin_secs) {
        return Err(Error::InvalidInput(format!(
            "The margin must be between {} and {} seconds.",
            MARGIN_RANGE.start(),
            MARGIN_RANGE.end()
        )));
    }
    inspector
        .set_auto_refresh(
            &app,
            AutoRefresh {
                enabled,
                margin_secs,
            },
        )
        .await?;
    status(&app, &inspector).await
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

fn validate(name: &str, project_url: &str, anon_key: &str) -> Result<(), Error> {
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
        if role.as_deref().is_some_and(|role| role != "anon") {
            return Err(Error::InvalidInput(format!(
                "That key's role is {}: never give it to a client. Use the anon or publishable key.",
                role.unwrap_or_default()
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
#[tauri::command]
pub async fn profile_add<R: Runtime>(
    app: AppHandle<R>,
    inspector: State<'_, Inspector>,
    name: String,
    project_url: String,
    anon_key: String,
) -> Result<Status, Error> {
    let (name, project_url, anon_key) = (
        name.trim().to_string(),
        project_url.trim().trim_end_matches('/').to_string(),
        anon_key.trim().to_string(),
    );
    validate(&name, &project_url, &anon_key)?;
    probe(&project_url, &anon_key, Duration::from_secs(8))
        .await
        .map_err(|e| {
            Error::InvalidInput(format!(
                "{project_url} did not answer as a Supabase Auth server with this key: {}",
                e.public_message()
            ))
        })?;
    let id = format!("project-{}", chrono::Utc::now().timestamp_millis());
    settings::update(&app, |saved| {
        if saved.profiles.iter().any(|p| {
            matches!(&p.backend, Backend::Project { project_url: url, .. } if *url == project_url)
        }) {
            return Err(Error::InvalidInput(format!(
                "A profile for {project_url} already exists."
            )));
        }
        saved.profiles.push(Profile {
            id: id.clone(),
            name,
            backend: Backend::Project {
                project_url,
                anon_key,
            },
            auto_refresh: false,
            refresh_margin_secs: 10,
        });
        Ok(())
    })?;
    inspector.switch(&app, &id).await?;
    status(&app, &inspector).await
}

#[tauri::command]
pub async fn profile_select<R: Runtime>(
    app: AppHandle<R>,
    inspector: State<'_, Inspector>,
    id: String,
) -> Result<Status, Error> {
    inspector.switch(&app, &id).await?;
    status(&app, &inspector).await
}

/// Forgets a project profile and its stored session. The built-in demo cannot be removed.
#[tauri::command]
pub async fn profile_remove<R: Runtime>(
    app: AppHandle<R>,
    inspector: State<'_, Inspector>,
    id: String,
) -> Result<Status, Error> {
    if id == BUILT_IN_PROFILE {
        return Err(Error::InvalidInput(
            "The built-in demo profile cannot be removed.".into(),
        ));
    }
    let active = inspector.active().await?;
    if active.profile.id == id {
        drop(active);
        inspector.switch(&app, BUILT_IN_PROFILE).await?;
    }
    let active = inspector.active().await?;
    settings::update(&app, |saved| {
        let before = saved.profiles.len();
        saved.profiles.retain(|p| p.id != id);
        if saved.profiles.len() == before {
            return Err(Error::InvalidInput(format!("there is no profile {id:?}")));
        }
        Ok(())
    })?;
    let vault = active.vault.clone();
    tokio::task::spawn_blocking(move || vault.remove(&id))
        .await
        .map_err(|e| Error::Settings(e.to_string()))?
        .map_err(|e| Error::Settings(e.to_string()))?;
    status(&app, &inspector).await
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DetectedStack {
    pub url: String,
    pub anon_key: String,
}

/// A local `supabase start` stack on 127.0.0.1:54321, when one answers with its default anon
/// key. `SESSION_INSPECTOR_LOCAL_STACK` overrides the address (tests use it).
#[tauri::command]
pub async fn profile_detect_local() -> Result<Option<DetectedStack>, Error> {
    let url = std::env::var("SESSION_INSPECTOR_LOCAL_STACK")
        .unwrap_or_else(|_| LOCAL_STACK_URL.to_string());
    let anon_key = std::env::var("SESSION_INSPECTOR_LOCAL_STACK_KEY")
        .unwrap_or_else(|_| LOCAL_STACK_ANON_KEY.to_string());
    Ok(probe(&url, &anon_key, Duration::from_millis(800))
        .await
        .ok()
        .map(|()| DetectedStack { url, anon_key }))
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
}
