//! The app itself: what it is (name, version, build), where it keeps its data, and resetting
//! all of it.

use serde::Serialize;
use tauri::{AppHandle, Runtime, State};
use ts_rs::TS;

use crate::about::{About, AboutPath};
use crate::error::Error;
use crate::inspector::Inspector;
use crate::reset::ResetDone;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, TS)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub name: String,
    pub version: String,
    pub identifier: String,
    pub tauri_version: String,
}

#[tauri::command]
pub fn app_info<R: Runtime>(app: AppHandle<R>) -> AppInfo {
    let package = app.package_info();
    AppInfo {
        name: package.name.clone(),
        version: package.version.to_string(),
        identifier: app.config().identifier.clone(),
        tauri_version: tauri::VERSION.to_string(),
    }
}

/// The build (commit, profile, licence) and where the app keeps its data and its log.
#[tauri::command]
pub fn app_about<R: Runtime>(app: AppHandle<R>) -> Result<About, Error> {
    crate::about::about(&app)
}

/// Puts the data folder's or the log file's path on the clipboard (from Rust).
#[tauri::command]
pub async fn app_copy_path<R: Runtime>(app: AppHandle<R>, which: AboutPath) -> Result<(), Error> {
    crate::about::copy_path(&app, which).await
}

/// Forgets everything the app keeps (nothing is sent to any server) and opens what a fresh
/// install opens (the built-in demo, in a build with it); the answer says whether it opened.
#[tauri::command]
pub async fn app_reset<R: Runtime>(
    app: AppHandle<R>,
    inspector: State<'_, Inspector>,
) -> Result<ResetDone, Error> {
    crate::reset::reset(&app, &inspector).await
}
