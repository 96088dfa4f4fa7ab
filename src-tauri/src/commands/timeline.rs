//! The session timeline of the active profile (`timeline.rs`).

use tauri::{AppHandle, Runtime, State};

use crate::error::Error;
use crate::inspector::Inspector;
use crate::timeline::TimelineView;

/// The active profile's timeline: its sessions' token chains, failures and sign-outs, from the
/// history (never a token).
#[tauri::command]
pub async fn timeline_get<R: Runtime>(
    app: AppHandle<R>,
    inspector: State<'_, Inspector>,
) -> Result<TimelineView, Error> {
    let active = inspector.active().await?;
    crate::timeline::of_profile(&app, &active.profile.id).await
}
