//! Signing in through the system browser, as the GitHub CLI does: the engine's OAuth flow
//! (PKCE verifier and challenge, a one-shot loopback listener for the callback, the code
//! exchange) plus the two things only the shell can do: open the user's browser
//! (tauri-plugin-opener, from Rust; the window has no opener permission) and own the one flow
//! that is waiting. The flow runs in its own task from the moment it starts, so its 5-minute
//! limit holds whatever the window does (reloads, never asks); the window waits for its result
//! or cancels it, and a profile switch cancels it too.

use std::sync::Mutex;

use serde::Serialize;
use session_engine::client::oauth::{OAuthCancel, OAuthFlow};
use session_engine::{AuthClient, AuthError};
use tauri::{AppHandle, Runtime};
use tauri_plugin_opener::OpenerExt as _;
use tokio::sync::watch;
use ts_rs::TS;

use crate::error::Error;
use crate::views::SessionView;

/// What the window shows while the browser is out: where it went, where it must come back,
/// and what an older or stricter project must allow for that.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OAuthStarted {
    pub provider: String,
    /// GoTrue's `/authorize` URL (it carries the PKCE challenge, never the verifier).
    pub authorize_url: String,
    /// The loopback address the browser is sent back to.
    pub redirect_to: String,
    /// The Redirect URLs entry (Auth → URL Configuration) that admits `redirect_to` where
    /// GoTrue does not accept loopback addresses by itself (releases before v2.171).
    pub allow_list_entry: String,
    /// Why the browser could not be opened (the window then offers the link to open by hand).
    pub browser_error: Option<String>,
}

type Outcome = Option<Result<SessionView, AuthError>>;

/// The sign-in in progress: its cancel handle and where its result will appear.
struct Waiting {
    cancel: OAuthCancel,
    outcome: watch::Receiver<Outcome>,
}

/// At most one browser sign-in at a time: a new one cancels the previous one.
///
/// Starting a flow awaits the server (GoTrue's `/user/identities/authorize` for a link, the
/// loopback listener for a sign-in) before there is anything to cancel. A cancel that comes in
/// that gap (a profile switch, a sign-out, a newer start) bumps `epoch`; the start took its
/// number before the await, so it sees the change when it would register its flow, and drops
/// that flow instead of letting it finish for a profile or a user that is gone.
#[derive(Default)]
pub struct PendingOAuth {
    current: Mutex<Current>,
}

#[derive(Default)]
struct Current {
    /// How many cancels there have been.
    epoch: u64,
    waiting: Option<Waiting>,
}

impl PendingOAuth {
    /// Starts a flow for `provider`, opens the browser on it, and lets it run in its own task.
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
        let epoch = self.cancel();
        let flow = client.start_oauth(provider, None).await?;
        self.run(app, provider, flow, epoch)
    }

    /// Starts linking `provider` to the signed-in user (GoTrue's `/user/identities/authorize`
    /// with the session's token) and lets it run like a sign-in: the same browser, the same
    /// one waiting flow (`finish`, `cancel`), ending in `SIGNED_IN` for the same user.
    pub async fn link<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        client: &AuthClient,
        provider: &str,
    ) -> Result<OAuthStarted, Error> {
        let provider = provider.trim();
        if provider.is_empty() {
            return Err(Error::InvalidInput("Choose a provider to link.".into()));
        }
        let epoch = self.cancel();
        let flow = client.link_identity(provider, None).await?;
        self.run(app, provider, flow, epoch)
    }

    /// Registers `flow` as the one waiting (unless a cancel came since `epoch`), opens the
    /// browser on it and lets it run in its own task until `finish` or `cancel`.
    fn run<R: Runtime>(
        &self,
        app: &AppHandle<R>,
        provider: &str,
        flow: OAuthFlow,
        epoch: u64,
    ) -> Result<OAuthStarted, Error> {
        let cancel = flow.canceller();
        let (report, outcome) = watch::channel(None);
        {
            let mut current = lock(&self.current);
            if current.epoch != epoch {
                // Dropping the flow closes its listener; the browser was never opened.
                tracing::info!("a browser flow was cancelled while it was being started");
                return Err(AuthError::OAuthCancelled.into());
            }
            if let Some(previous) = current.waiting.replace(Waiting {
                cancel: cancel.clone(),
                outcome,
            }) {
                previous.cancel.cancel();
            }
        }
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
        tauri::async_runtime::spawn(async move {
            let result = flow.finish().await;
            report.send_replace(Some(
                result.map(|signed_in| SessionView::of(&signed_in.session)),
            ));
        });
        Ok(started)
    }

    /// Waits for the sign-in in progress to end: signed in, or why not.
    pub async fn finish(&self) -> Result<SessionView, Error> {
        let (cancel, mut outcome) = {
            let current = lock(&self.current);
            let waiting = current.waiting.as_ref().ok_or(Error::NoSignInWaiting)?;
            (waiting.cancel.clone(), waiting.outcome.clone())
        };
        let result = outcome
            .wait_for(Option::is_some)
            .await
            .map(|ended| ended.clone())
            .ok()
            .flatten()
            .unwrap_or(Err(AuthError::OAuthCancelled));
        // Only this flow's own entry is cleared: a newer sign-in may have replaced it.
        let mut current = lock(&self.current);
        if current
            .waiting
            .as_ref()
            .is_some_and(|waiting| waiting.cancel.same_flow(&cancel))
        {
            current.waiting = None;
        }
        Ok(result?)
    }

    /// Stops the sign-in in progress, if any: its listener closes, a code being exchanged is
    /// not adopted, and `finish` answers "cancelled". A flow still being started is dropped
    /// when it arrives. Answers the new epoch (what a start that follows compares against).
    pub fn cancel(&self) -> u64 {
        let mut current = lock(&self.current);
        current.epoch += 1;
        if let Some(waiting) = current.waiting.take() {
            waiting.cancel.cancel();
        }
        current.epoch
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use session_engine::{ClientConfig, Credentials, MemoryStore};

    use super::*;

    /// A client of the built-in server, signed in, whose next `/user/identities/authorize`
    /// waits `delay_ms` before it is answered.
    async fn signed_in_with_a_slow_authorize(delay_ms: u64) -> (local_gotrue::Server, AuthClient) {
        let server = local_gotrue::start(local_gotrue::Config {
            demo_user: Some(local_gotrue::DemoUser {
                email: "demo@example.com".into(),
                password: "demo-password-1".into(),
            }),
            manual_linking: true,
            ..local_gotrue::Config::default()
        })
        .await
        .unwrap();
        let client = AuthClient::new(
            ClientConfig::new(server.url(), server.anon_key()),
            Arc::new(MemoryStore::new()),
            "oauth-epoch",
        )
        .await
        .unwrap();
        client
            .sign_in_with_password(Credentials::Email {
                email: "demo@example.com".into(),
                password: "demo-password-1".into(),
            })
            .await
            .unwrap();
        reqwest::Client::new()
            .post(format!("{}/_emulator/faults", server.url()))
            .json(&serde_json::json!({"path": "/user/identities/authorize", "delay_ms": delay_ms}))
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap();
        (server, client)
    }

    #[tokio::test]
    async fn a_cancel_while_the_link_is_being_started_drops_the_flow() {
        let (_server, client) = signed_in_with_a_slow_authorize(400).await;
        let app = tauri::test::mock_app();
        let pending = PendingOAuth::default();
        // The profile switch (or sign-out) lands while GoTrue has not answered yet.
        let (linked, ()) = tokio::join!(pending.link(app.handle(), &client, "github"), async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            pending.cancel();
        });
        let error = linked.expect_err("the link must not go on for a cancelled start");
        assert_eq!(error.kind(), "oauthCancelled");
        // Nothing is left waiting that a late callback could finish.
        assert!(matches!(
            pending.finish().await,
            Err(Error::NoSignInWaiting)
        ));
    }
}
