//! The session: its redacted view, Refresh now, the signature, reveal, and paste to rotate.
//! Everything returned is a redacted view, except `session_reveal`.

use session_engine::import::parse_import;
use session_engine::paste::PastePreview;
use session_engine::tokens::SignatureStatus;
use tauri::{AppHandle, Runtime, State};

use super::logged;
use crate::clipboard::Copied;
use crate::error::Error;
use crate::history::History;
use crate::inspector::Inspector;
use crate::predictor::{PasteRotated, Predictor};
use crate::reveal::Which;
use crate::views::{RefreshView, SessionView};

/// The current session as held (no network).
#[tauri::command]
pub async fn session_current(
    inspector: State<'_, Inspector>,
) -> Result<Option<SessionView>, Error> {
    let active = inspector.active().await?;
    Ok(active
        .client
        .current_session()
        .as_ref()
        .map(SessionView::of))
}

/// "Refresh now": always posts the refresh grant with the current session's token.
#[tauri::command]
pub async fn session_refresh(inspector: State<'_, Inspector>) -> Result<RefreshView, Error> {
    let result = async {
        Ok(inspector
            .active()
            .await?
            .client
            .refresh_session(None)
            .await?)
    };
    let refreshed = logged(&inspector.log, "refresh", result.await)?;
    inspector.log.joined_if(refreshed.joined, "refresh");
    Ok(RefreshView::of(&refreshed))
}

#[tauri::command]
pub async fn session_signature(inspector: State<'_, Inspector>) -> Result<SignatureStatus, Error> {
    crate::signature::check(&*inspector.active().await?).await
}

/// Whether this profile has its project's JWT secret (for HS256 tokens) in the keyring.
#[tauri::command]
pub async fn jwt_secret_kept(inspector: State<'_, Inspector>) -> Result<bool, Error> {
    crate::signature::has_secret(&*inspector.active().await?).await
}

/// Keeps the project's JWT secret in the keyring; it never comes back over IPC.
#[tauri::command]
pub async fn jwt_secret_save(
    inspector: State<'_, Inspector>,
    secret: secrecy::SecretString,
) -> Result<(), Error> {
    crate::signature::remember(&*inspector.active().await?, secret).await
}

#[tauri::command]
pub async fn jwt_secret_forget(inspector: State<'_, Inspector>) -> Result<(), Error> {
    crate::signature::forget(&*inspector.active().await?).await
}

#[tauri::command]
pub async fn session_reveal(
    inspector: State<'_, Inspector>,
    which: Which,
    fingerprint: String,
) -> Result<String, Error> {
    crate::reveal::reveal(&*inspector.active().await?, which, &fingerprint)
}

/// Copy: the token goes to the clipboard from Rust and is cleared after 30 s.
#[tauri::command]
pub async fn session_copy<R: Runtime>(
    app: AppHandle<R>,
    inspector: State<'_, Inspector>,
    which: Which,
    fingerprint: String,
) -> Result<Copied, Error> {
    crate::reveal::copy(app, &*inspector.active().await?, which, &fingerprint)
}

/// What a paste is, before anything is sent, and what the server will do with it.
#[tauri::command]
pub async fn paste_preview<R: Runtime>(
    app: AppHandle<R>,
    inspector: State<'_, Inspector>,
    history: State<'_, History>,
    predictor: State<'_, Predictor>,
    text: String,
) -> Result<PastePreview, Error> {
    let imported = parse_import(&text)?;
    let active = inspector.active().await?;
    let auth_url = active.client.config().auth_url()?;
    let mut preview = PastePreview::of(
        &imported,
        active.client.current_session().as_ref(),
        Some(&auth_url),
    );
    if let Some(token) = imported.refresh_token() {
        let folder = crate::history::folder(&app);
        preview.prediction = Some(predictor.predict(&active, &history, folder, token).await);
    }
    Ok(preview)
}

/// Paste to rotate: `refresh_session(token)` with the refresh token found in the paste; the
/// result becomes the current session. A rejected paste never ends the current session. The
/// server's answer, a refusal too, comes back with the prediction made just before sending
/// and whether it held.
#[tauri::command]
pub async fn paste_rotate<R: Runtime>(
    app: AppHandle<R>,
    inspector: State<'_, Inspector>,
    history: State<'_, History>,
    predictor: State<'_, Predictor>,
    text: String,
) -> Result<PasteRotated, Error> {
    let folder = crate::history::folder(&app);
    crate::predictor::rotate(&inspector, &predictor, &history, folder, &text).await
}
