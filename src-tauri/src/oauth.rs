//! Signing in through the system browser, as the GitHub CLI does: the engine's OAuth flow
//! (PKCE verifier and challenge, a one-shot loopback listener for the callback, the code
//! exchange) plus the two things only the shell can do: open the user's browser
//! (tauri-plugin-opener, from Rust; the window has no opener permission) and keep the one
//! flow that is waiting, so the window can wait for it or cancel it.

use std::sync::Mutex;

use serde::Serialize;
use session_engine::client::oauth::{OAuthCancel, OAuthFlow};
use session_engine::AuthClient;
use tauri::{AppHandle, Runtime};
use tauri_plugin_opener::OpenerExt as _;
use ts_rs::TS;

use crate::error::Error;
use crate::views::SessionView;

/// What the window shows while the browser is out: where it went, where it must come back,
/// and what the project must allow for that.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OAuthStarted {
    pub provider: String,
    /// GoTrue's `/authorize` URL (it carries the PKCE challenge, never the verifier).
    pub authorize_url: String,
    /// The loopback address the browser is sent back to.
    pub redirect_to: String,
    /// What to add under Auth → URL configuration → Redirect URLs so the project accepts it.
    pub allow_list_entry: String,
    /// Why the browser could not be opened (the window then offers the link to open by hand).
    pub browser_error: Option<String>,
}

/// The flow waiting for its browser, at most one: a new sign-in cancels the previous one.
#[derive(Default)]
pub struct PendingOAuth {
    waiting: Mutex<Option<(OAuthFlow, OAuthCancel)>>,
    cancel: Mutex<Option<OAuthCancel>>,
}

impl PendingOAuth {
    /// Starts a flow for `provider` and opens the browser on it.
    pub async fn start<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        client: &AuthClient,
        provider: &str,
    ) -> Result<OAuthStarted, Error> {
        let provider = provider.trim();
        if provider.is_empty() {
            return Err(Error::InvalidInput(
                "Choose a provider to sign in with.".into(),
            ));
        }
        self.cancel();
        let flow = client.start_oauth(provider, None).await?;
        let started = OAuthStarted {
            provider: provider.to_string(),
            authorize_url: flow.authorize_url().to_string(),
            redirect_to: flow.redirect_to().to_string(),
            allow_list_entry: OAuthFlow::allow_list_entry().to_string(),
            browser_error: open_browser(app, flow.authorize_url()),
        };
        if let Some(error) = &started.browser_error {
            tracing::warn!(%error, "the browser could not be opened; the window shows the link");
        }
        let cancel = flow.canceller();
        *lock(&self.cancel) = Some(cancel.clone());
        *lock(&self.waiting) = Some((flow, cancel));
        Ok(started)
    }

    /// Waits for the browser to come back (at most the engine's 5 minutes) and signs in.
    pub async fn finish(&self) -> Result<SessionView, Error> {
        let (flow, _) = lock(&self.waiting).take().ok_or(Error::NoSignInWaiting)?;
        let result = flow.finish().await;
        lock(&self.cancel).take();
        Ok(SessionView::of(&result?.session))
    }

    /// Stops the waiting flow, if any: its listener closes and `finish` answers "cancelled".
    pub fn cancel(&self) {
        if let Some(cancel) = lock(&self.cancel).take() {
            cancel.cancel();
        }
        if let Some((_, cancel)) = lock(&self.waiting).take() {
            cancel.cancel();
        }
    }
}

/// Opens `url` in the user's browser: the one `$BROWSER` names when it is set (the Unix
/// convention the GitHub CLI and git follow too), else the desktop's default. Says why when it
/// could not, without repeating the (long) link, which the window shows anyway.
fn open_browser<R: Runtime>(app: &AppHandle<R>, url: &str) -> Option<String> {
    let chosen = std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.trim().is_empty());
    app.opener()
        .open_url(url, chosen)
        .err()
        .map(|e| e.to_string().replace(url, "<the link>"))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
