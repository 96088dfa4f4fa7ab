//! Start-up, as auth-js's `initialize` → `_recoverAndRefresh` and `_emitInitialSession` do it:
//! a stored session is recovered once (refreshed when it is inside the refresh margin, which
//! announces `TOKEN_REFRESHED`, or else announced as `SIGNED_IN`), and each subscriber's
//! `INITIAL_SESSION` waits for that and for any refresh the session needs at that moment, so
//! it never carries a session about to be replaced.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::AuthClient;
use crate::error::AuthError;
use crate::events::{AuthEvent, AuthEventKind};

impl AuthClient {
    /// Recovers the stored session, once: refreshed if its access token is inside the refresh
    /// margin (`TOKEN_REFRESHED`, or the refresh rules on failure), otherwise announced as
    /// `SIGNED_IN`. Every later call returns the first one's outcome at once. Every
    /// operation runs this first, so calling it is only needed to start early.
    pub async fn initialize(&self) -> Result<(), AuthError> {
        self.inner
            .initialized
            .get_or_init(|| self.recover_and_refresh())
            .await
            .clone()
    }

    async fn recover_and_refresh(&self) -> Result<(), AuthError> {
        let Some(session) = self.current_session() else {
            return Ok(());
        };
        if self.needs_refresh(&session) {
            let outcome = self
                .call_refresh_token(
                    &session.refresh_token,
                    super::refresh::Caller::Automatic,
                    super::refresh::TokenSource::Current,
                    crate::events::Cause::StartUp,
                )
                .await;
            if let Err(error) = &outcome {
                tracing::warn!(%error, "the stored session could not be refreshed at start-up");
            }
            return outcome.map(|_| ());
        }
        tracing::info!(?session, "stored session recovered");
        self.emit(
            AuthEventKind::SignedIn,
            Some(session),
            None,
            None,
            Some(crate::events::Cause::StartUp),
        );
        Ok(())
    }

    /// A new subscriber. When the client has started and its session needs no refresh,
    /// `INITIAL_SESSION` is queued at once; otherwise a task starts the client, loads the
    /// session (refreshing it if due) and sends `INITIAL_SESSION` then.
    pub(super) fn register_subscriber(&self) -> (u64, mpsc::UnboundedReceiver<Arc<AuthEvent>>) {
        let bus = &self.inner.bus;
        let current = self.current_session();
        let ready = self.inner.initialized.initialized()
            && !current.as_ref().is_some_and(|s| self.needs_refresh(s));
        if ready {
            let client = self.clone();
            return bus.subscribe(
                move || client.session_and_rejection(),
                self.inner.config.clock.now(),
            );
        }
        let (id, receiver) = bus.subscribe_before_initial();
        let client = self.clone();
        tokio::spawn(async move {
            // A failure has already been reported as the refresh rules say (and logged);
            // auth-js hands such a subscriber `INITIAL_SESSION` without a session.
            let _ = client.initialize().await;
            let _ = client.load_session().await;
            let at = client.inner.config.clock.now();
            let reader = client.clone();
            client
                .inner
                .bus
                .send_initial(id, move || reader.session_and_rejection(), at);
        });
        (id, receiver)
    }
}
