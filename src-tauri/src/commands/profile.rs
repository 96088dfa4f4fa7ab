//! Profiles, the auto-refresh switch, and the local stack.

use tauri::{AppHandle, Runtime, State};

use crate::error::Error;
use crate::inspector::Inspector;
use crate::profiles::{self, DetectedStack, Status};

#[tauri::command]
pub async fn inspector_status<R: Runtime>(
    app: AppHandle<R>,
    inspector: State<'_, Inspector>,
) -> Result<Status, Error> {
    profiles::status(&app, &inspector).await
}

#[tauri::command]
pub async fn settings_auto_refresh<R: Runtime>(
    app: AppHandle<R>,
    inspector: State<'_, Inspector>,
    enabled: bool,
    margin_secs: u64,
) -> Result<Status, Error> {
    let setting = profiles::auto_refresh_setting(enabled, margin_secs)?;
    inspector.set_auto_refresh(&app, setting).await?;
    profiles::status(&app, &inspector).await
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
    profiles::add(&app, &inspector, &name, &project_url, &anon_key).await?;
    profiles::status(&app, &inspector).await
}

#[tauri::command]
pub async fn profile_select<R: Runtime>(
    app: AppHandle<R>,
    inspector: State<'_, Inspector>,
    id: String,
) -> Result<Status, Error> {
    inspector.switch(&app, &id).await?;
    profiles::status(&app, &inspector).await
}

/// Forgets a project profile and its stored session.
#[tauri::command]
pub async fn profile_remove<R: Runtime>(
    app: AppHandle<R>,
    inspector: State<'_, Inspector>,
    id: String,
) -> Result<Status, Error> {
    profiles::remove(&app, &inspector, &id).await?;
    profiles::status(&app, &inspector).await
}

#[tauri::command]
pub async fn profile_detect_local() -> Result<Option<DetectedStack>, Error> {
    Ok(profiles::detect_local().await)
}
