//! The history index: every auth event of the active profile appended to the settings as
//! kind, time and the refresh token's fingerprint. Never a token.

use session_engine::auto_refresh::Setting;
use session_engine::AuthClient;
use tauri::async_runtime::JoinHandle;
use tauri::{AppHandle, Runtime};
use tokio::sync::watch;

use crate::settings::{self, HistoryEntry};

/// Records `client`'s events for `profile` until `alive`'s sender (the active profile) is gone
/// or the task is aborted (closing the profile does both, and waits for it).
pub fn record<R: Runtime>(
    app: AppHandle<R>,
    client: &AuthClient,
    profile: String,
    mut alive: watch::Receiver<Setting>,
) -> JoinHandle<()> {
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
                at: crate::live_log::timestamp(event.at),
                kind: event.kind.as_str().to_string(),
                profile: profile.clone(),
                refresh_token_fingerprint: event
                    .session
                    .as_ref()
                    .map(|s| session_engine::tokens::fingerprint(&s.refresh_token)),
            };
            // A failed save loses one history line, not the recorder.
            let saved = settings::update(&app, |settings| {
                settings.record(entry);
                Ok::<_, settings::SettingsError>(())
            });
            if let Err(error) = saved {
                tracing::warn!(%error, "a history line could not be saved");
            }
        }
    })
}
