//! Reveal or copy: the one way a token crosses to the webview, on the user's explicit request.

use serde::Deserialize;
use session_engine::tokens::fingerprint;
use ts_rs::TS;

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
pub fn token(active: &Active, which: Which, shown: &str) -> Result<String, Error> {
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
    tracing::info!(?which, fingerprint = shown, "token revealed to the window");
    Ok(token)
}
