//! Session commands: thin adapters over the engine. Everything returned is a redacted view,
//! except `session_reveal`, which the user calls explicitly to see or copy a token.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use session_engine::import::{parse_import, ImportKind};
use session_engine::recorder::Exchange;
use session_engine::tokens::{fingerprint, RefreshTokenShape, SignatureStatus};
use session_engine::Refreshed;
use tauri::ipc::Channel;
use tauri::State;

use crate::error::Error;
use crate::inspector::Inspector;
use crate::log::{LogBus, LogItem};
use crate::views::{EventView, SessionView};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshView {
    pub session: SessionView,
    /// This call shared a refresh already in flight instead of sending its own request.
    pub joined: bool,
}

/// Logs a failed user action before handing the error to the webview.
pub(crate) fn logged<T>(
    log: &LogBus,
    operation: &'static str,
    result: Result<T, Error>,
) -> Result<T, Error> {
    if let Err(error) = &result {
        log.failure(operation, error);
    }
    result
}

fn refreshed(log: &LogBus, operation: &'static str, refreshed: Refreshed) -> RefreshView {
    if refreshed.joined {
        log.joined(operation);
    }
    RefreshView {
        session: SessionView::of(&refreshed.response.session),
        joined: refreshed.joined,
    }
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
pub async fn session_refresh(inspector: State<'_, Inspector>) -> Result<RefreshView, Error> {
    let result = async {
        let active = inspector.active().await?;
        Ok(active.client.refresh_session(None).await?)
    }
    .await;
    logged(&inspector.log, "refresh", result).map(|r| refreshed(&inspector.log, "refresh", r))
}

/// The current access token's signature, checked against the project's published keys.
#[tauri::command]
pub async fn session_signature(inspector: State<'_, Inspector>) -> Result<SignatureStatus, Error> {
    let active = inspector.active().await?;
    let session = active
        .client
        .current_session()
        .ok_or(session_engine::AuthError::SessionMissing)?;
    let (jwt, status) = active
        .client
        .verify_access_token(&session.access_token, None)
        .await?;
    // The app never holds a project's shared secret, so HS256 is "cannot check", said plainly.
    Ok(match status {
        SignatureStatus::NotVerified { .. } if jwt.alg() == Some("HS256") => {
            SignatureStatus::NotVerified {
                reason: "HS256: signed with the project's shared JWT secret, which this app does not hold. Projects on asymmetric signing keys (ES256/RS256) are checked against their JWKS.".into(),
            }
        }
        other => other,
    })
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Which {
    Access,
    Refresh,
}

/// Reveal or copy: the one way a token crosses to the webview, on the user's explicit request.
/// `fingerprint` is the one the window shows: if the session has rotated (or the profile
/// changed) since, the request is refused rather than answered with a token the user did not
/// see.
#[tauri::command]
pub async fn session_reveal(
    inspector: State<'_, Inspector>,
    which: Which,
    fingerprint: String,
) -> Result<String, Error> {
    let session = inspector
        .active()
        .await?
        .client
        .current_session()
        .ok_or(session_engine::AuthError::SessionMissing)?;
    let token = match which {
        Which::Access => session.access_token,
        Which::Refresh => session.refresh_token,
    };
    if self::fingerprint(&token) != fingerprint {
        return Err(Error::InvalidInput(
            "The session changed since; reveal the token now shown.".into(),
        ));
    }
    Ok(token)
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PastePreview {
    pub kind: ImportKind,
    pub description: String,
    pub refresh_token_fingerprint: Option<String>,
    pub refresh_token_shape: Option<RefreshTokenShape>,
    pub access_claims: Option<Map<String, Value>>,
    pub is_current: bool,
    pub can_rotate: bool,
    pub warnings: Vec<String>,
}

/// What a paste is, before anything is sent: its format, fingerprints, claims, and warnings.
#[tauri::command]
pub async fn paste_preview(
    inspector: State<'_, Inspector>,
    text: String,
) -> Result<PastePreview, Error> {
    let imported = parse_import(&text).map_err(|e| Error::InvalidInput(e.to_string()))?;
    let active = inspector.active().await?;
    let current = active.client.current_session();
    let refresh = imported.refresh_token();
    let is_current = match (refresh, &current) {
        (Some(token), Some(session)) => token == session.refresh_token,
        _ => false,
    };
    let decoded = imported.decoded_access_token();
    let mut warnings = Vec::new();
    match refresh {
        None => warnings.push(
            "This holds no refresh token, so there is nothing to rotate. Paste a refresh token, a stored session or a session cookie.".into(),
        ),
        Some(_) if is_current => warnings.push(
            "This is the current session's own refresh token: rotating it is the same as Refresh now.".into(),
        ),
        Some(_) => warnings.push(
            "Rotating moves the server's head of this session: an app still holding this token gets refresh_token_already_used on its next refresh once the reuse interval (10 s by default) has passed, and is signed out.".into(),
        ),
    }
    if let (Some(jwt), Ok(auth_url)) = (&decoded, active.client.config().auth_url()) {
        let issuer = jwt.claims.get("iss").and_then(Value::as_str);
        if let Some(issuer) = issuer {
            if issuer.trim_end_matches('/') != auth_url.as_str().trim_end_matches('/') {
                warnings.push(format!(
                    "Its access token was issued by {issuer}, not by this profile's server ({auth_url}): this server will probably not know the refresh token."
                ));
            }
        }
    }
    Ok(PastePreview {
        kind: imported.kind,
        description: imported.describe(),
        refresh_token_fingerprint: refresh.map(fingerprint),
        refresh_token_shape: imported.refresh_token_shape(),
        access_claims: decoded.map(|jwt| jwt.claims),
        is_current,
        can_rotate: refresh.is_some(),
        warnings,
    })
}

/// Paste to rotate: `refresh_session(token)` with the refresh token found in the paste; the
/// result becomes the current session. A rejected paste never ends the current session.
#[tauri::command]
pub async fn paste_rotate(
    inspector: State<'_, Inspector>,
    text: String,
) -> Result<RefreshView, Error> {
    let result = async {
        let imported = parse_import(&text).map_err(|e| Error::InvalidInput(e.to_string()))?;
        let token = imported.refresh_token().ok_or_else(|| {
            Error::InvalidInput(format!(
                "{}: it holds no refresh token, so there is nothing to rotate",
                imported.describe()
            ))
        })?;
        let active = inspector.active().await?;
        Ok(active.client.refresh_session(Some(token)).await?)
    }
    .await;
    logged(&inspector.log, "paste", result).map(|r| refreshed(&inspector.log, "paste", r))
}

/// The full redacted HTTP exchange behind a log row, while it is still kept (newest 1,000).
#[tauri::command]
pub async fn log_exchange(
    inspector: State<'_, Inspector>,
    id: u64,
) -> Result<Option<Exchange>, Error> {
    Ok(inspector.active().await?.client.recorder().get(id))
}

/// Streams the live log to the window: auth events (starting with INITIAL_SESSION), every
/// HTTP exchange in brief, and the app's own items. Follows profile switches.
#[tauri::command]
pub async fn session_events(
    inspector: State<'_, Inspector>,
    on_event: Channel<LogItem>,
) -> Result<(), Error> {
    inspector.active().await?;
    let inspector = inspector.inner().clone();
    tauri::async_runtime::spawn(async move {
        let mut app_items = inspector.log.subscribe();
        let mut profiles = inspector.watch();
        loop {
            // The profile this round follows; a later switch shows up as `changed`.
            let current = profiles.borrow_and_update().clone();
            let active = match current {
                Some(Ok(active)) => active,
                _ => {
                    if profiles.changed().await.is_err() {
                        return;
                    }
                    continue;
                }
            };
            // The requests made before the window subscribed (start-up's sign-in or
            // restore) come first, then INITIAL_SESSION and everything live.
            let mut exchanges = active.client.recorder().subscribe();
            let earlier = active.client.recorder().recent();
            let mut events = active.client.subscribe();
            drop(active);
            let mut seen = 0;
            for exchange in &earlier {
                seen = exchange.id;
                for item in inspector.log.exchange_items(exchange) {
                    if on_event.send(item).is_err() {
                        return;
                    }
                }
            }
            loop {
                // Biased: a request is forwarded before the event it caused.
                let items = tokio::select! {
                    biased;
                    exchange = exchanges.recv() => match exchange {
                        Ok(exchange) if exchange.id <= seen => vec![],
                        Ok(exchange) => inspector.log.exchange_items(&exchange),
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => vec![],
                        Err(_) => break,
                    },
                    event = events.next() => match event {
                        Some(event) => vec![inspector.log.event_item(EventView::of(&event))],
                        None => break,
                    },
                    item = app_items.recv() => match item {
                        Ok(item) => vec![item],
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => vec![],
                        Err(_) => return,
                    },
                    changed = profiles.changed() => match changed {
                        Ok(()) => break,
                        Err(_) => return,
                    },
                };
                for item in items {
                    if on_event.send(item).is_err() {
                        return;
                    }
                }
            }
        }
    });
    Ok(())
}

/// The largest log export accepted: far more than 10,000 rows.
const EXPORT_LIMIT: usize = 64 * 1024 * 1024;

/// Saves the log the window shows as NDJSON into the Downloads folder (the app data folder
/// when there is none) and returns the path. The items are the redacted ones the window
/// received; every line must be a JSON object.
#[tauri::command]
pub async fn log_export<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    file_name: String,
    ndjson: String,
) -> Result<String, Error> {
    use tauri::Manager;
    let safe_name = file_name.starts_with("session-inspector-log-")
        && file_name.ends_with(".ndjson")
        && file_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if !safe_name || file_name.contains("..") {
        return Err(Error::InvalidInput(
            "The export's file name is not one the app makes.".into(),
        ));
    }
    if ndjson.len() > EXPORT_LIMIT {
        return Err(Error::InvalidInput(
            "The log is too large to export.".into(),
        ));
    }
    if let Some(line) = ndjson
        .lines()
        .position(|line| !serde_json::from_str::<Value>(line).is_ok_and(|v| v.is_object()))
    {
        return Err(Error::InvalidInput(format!(
            "Line {} of the export is not a JSON object.",
            line + 1
        )));
    }
    let folder = match app.path().download_dir() {
        Ok(dir) if dir.is_dir() => dir,
        _ => app.path().app_data_dir()?.join("exports"),
    };
    tokio::task::spawn_blocking(move || {
        use std::io::Write as _;
        std::fs::create_dir_all(&folder)?;
        // Never over an earlier export: "name.ndjson", then "name-2.ndjson", ...
        let stem = file_name.trim_end_matches(".ndjson");
        for n in 1..1000 {
            let path = match n {
                1 => folder.join(&file_name),
                n => folder.join(format!("{stem}-{n}.ndjson")),
            };
            match std::fs::File::create_new(&path) {
                Ok(mut file) => {
                    file.write_all(ndjson.as_bytes())?;
                    return Ok(path);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(std::io::Error::other("too many exports with this name"))
    })
    .await
    .map_err(|e| Error::Settings(e.to_string()))?
    .map(|path| path.display().to_string())
    .map_err(|e| Error::InvalidInput(format!("The export could not be saved: {e}")))
}
