//! Reveal or copy, on the user's explicit request: reveal is the one way a token crosses to
//! the webview; copy takes it to the clipboard from Rust (see `clipboard`).

use serde::Deserialize;
use session_engine::tokens::fingerprint;
use session_engine::Token;
use ts_rs::TS;

use crate::clipboard::{self, Copied, LastCopy, SystemBoard, CLEAR_AFTER};
use crate::error::Error;
use crate::inspector::Active;

#[derive(Debug, Clone, Copy, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Which {
    Access,
    Refresh,
}

/// The current session's token, if `shown` is the fingerprint the window shows: when the
/// session has rotated (or the profile changed) since, the request is refused rather than
/// answered with a token the user did not see.
fn token(active: &Active, which: Which, shown: &str) -> Result<Token, Error> {
    let session = active
        .client
        .current_session()
        .ok_or(session_engine::AuthError::SessionMissing)?;
    let token = match which {
        Which::Access => session.access_token,
        Which::Refresh => session.refresh_token,
    };
    if fingerprint(&token) != shown {
        return Err(Error::InvalidInput(
            "The session changed since; reveal the token now shown.".into(),
        ));
    }
    Ok(token)
}

/// The token itself, for the window to show.
pub fn reveal(active: &Active, which: Which, shown: &str) -> Result<String, Error> {
    let token = token(active, which, shown)?;
    tracing::info!(?which, fingerprint = shown, "token revealed to the window");
    Ok(token.as_str().to_string())
}

/// The token on the system clipboard for `CLEAR_AFTER`; the window gets only the delay.
pub fn copy<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    active: &Active,
    which: Which,
    shown: &str,
) -> Result<Copied, Error> {
    let token = token(active, which, shown)?;
    use tauri::Manager as _;
    let last = app.state::<LastCopy>();
    let board = std::sync::Arc::new(SystemBoard(app.clone()));
    drop(clipboard::copy_for_a_while(
        board,
        &last,
        token,
        CLEAR_AFTER,
    )?);
    tracing::info!(?which, fingerprint = shown, "token copied to the clipboard");
    Ok(Copied {
        clears_in_secs: CLEAR_AFTER.as_secs(),
    })
}
