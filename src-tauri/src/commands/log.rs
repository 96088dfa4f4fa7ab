//! The live log: its stream to the window, an exchange behind a row (shown, or copied as curl
//! or supabase-js), and the NDJSON export.

use session_engine::recorder::Exchange;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, Runtime, State};

use crate::copy_as::{CopiedAs, CopyFormat};
use crate::error::Error;
use crate::inspector::Inspector;
use crate::layout::LogLayout;
use crate::live_log::LogItem;

/// Streams the live log (starting with the requests made before and INITIAL_SESSION), in
/// batches of the items ready at once.
#[tauri::command]
pub async fn session_events(
    inspector: State<'_, Inspector>,
    on_event: Channel<Vec<LogItem>>,
) -> Result<(), Error> {
    // With no profile yet the stream waits for the first project to open.
    match inspector.active().await {
        Ok(_) | Err(Error::NoProfile) => {}
        Err(error) => return Err(error),
    }
    crate::log_stream::spawn(inspector.inner().clone(), on_event);
    Ok(())
}

/// The full redacted HTTP exchange behind a log row, while it is still kept (newest 1,000).
#[tauri::command]
pub async fn log_exchange(
    inspector: State<'_, Inspector>,
    playground: State<'_, crate::playground::Playground>,
    id: u64,
) -> Result<Option<Exchange>, Error> {
    let own = inspector.active().await?.client.recorder().get(id);
    // The playground's second client records apart from the profile's client.
    Ok(own.or_else(|| playground.exchange(id)))
}

/// The exchange behind a log row as a curl command or a supabase-js call, put on the
/// clipboard by Rust; with `real_tokens` (confirmed in the window) the tokens the app still
/// holds are filled in. The window hears only which secrets were filled.
#[tauri::command]
pub async fn log_copy_as<R: Runtime>(
    app: AppHandle<R>,
    inspector: State<'_, Inspector>,
    id: u64,
    format: CopyFormat,
    real_tokens: bool,
) -> Result<CopiedAs, Error> {
    crate::copy_as::copy(app, &*inspector.active().await?, id, format, real_tokens)
}

/// The log's layout as it was left (the default on a first launch).
#[tauri::command]
pub async fn log_layout<R: Runtime>(app: AppHandle<R>) -> Result<LogLayout, Error> {
    crate::layout::load(&app)
}

/// Remembers the log's layout for the next launch.
#[tauri::command]
pub async fn log_layout_save<R: Runtime>(
    app: AppHandle<R>,
    layout: LogLayout,
) -> Result<LogLayout, Error> {
    crate::layout::save(&app, layout)
}

/// Saves the log the window shows as NDJSON into the Downloads folder (the app data folder
/// when there is none) and returns the path.
#[tauri::command]
pub async fn log_export<R: Runtime>(
    app: AppHandle<R>,
    file_name: String,
    ndjson: String,
) -> Result<String, Error> {
    crate::export::check(&file_name, &ndjson)?;
    let folder = match app.path().download_dir() {
        Ok(dir) if dir.is_dir() => dir,
        _ => app.path().app_data_dir()?.join("exports"),
    };
    let path =
        tokio::task::spawn_blocking(move || crate::export::write_new(&folder, &file_name, &ndjson))
            .await??;
    Ok(path.display().to_string())
}
