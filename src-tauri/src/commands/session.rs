//! Session commands: thin adapters over the engine; everything returned is a redacted view.

use serde::Serialize;
use tauri::ipc::Channel;
use tauri::State;

use crate::error::Error;
use crate::inspector::Inspector;
use crate::views::{EventView, SessionView};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub profile: String,
    pub built_in: bool,
    pub keyring: session_vault::Backend,
    /// Said plainly when tokens will not survive a reboot or a restart.
    pub keyring_notice: Option<&'static str>,
}

#[tauri::command]
pub async fn inspector_status(inspector: State<'_, Inspector>) -> Result<Status, Error> {
    let active = inspector.active().await?;
    Ok(Status {
        profile: active.profile.name.clone(),
        built_in: active.demo_server.is_some(),
        keyring: active.keyring,
        keyring_notice: active.keyring.notice(),
    })
}

/// The current session as held (no network).
#[tauri::command]
pub async fn session_current(
    inspector: State<'_, Inspector>,
) -> Result<Option<SessionView>, Error> {
    Ok(inspector
        .active()
        .await?
        .client
        .current_session()
        .as_ref()
        .map(SessionView::of))
}

/// "Refresh now": always posts the refresh grant with the current session's token.
#[tauri::command]
pub async fn session_refresh(inspector: State<'_, Inspector>) -> Result<SessionView, Error> {
    let refreshed = inspector
        .active()
        .await?
        .client
        .refresh_session(None)
        .await?;
    Ok(SessionView::of(&refreshed.response.session))
}

/// Streams auth events to the window, starting with INITIAL_SESSION.
#[tauri::command]
pub async fn session_events(
    inspector: State<'_, Inspector>,
    on_event: Channel<EventView>,
) -> Result<(), Error> {
    let mut stream = inspector.active().await?.client.subscribe();
    tauri::async_runtime::spawn(async move {
        while let Some(event) = stream.next().await {
            if on_event.send(EventView::of(&event)).is_err() {
                break;
            }
        }
    });
    Ok(())
}
