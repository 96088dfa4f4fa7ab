//! Auth events and their subscribers. Each subscriber has its own queue, so a slow or
//! failing subscriber never holds up the engine or the others; events reach each subscriber
//! in the order they happened, and each subscriber gets `INITIAL_SESSION` once, with the
//! session as it is after any refresh it needed (the client decides when: see
//! `AuthClient::subscribe`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::rejection::RefreshRejection;
use crate::session::Session;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthEventKind {
    InitialSession,
    SignedIn,
    TokenRefreshed,
    SignedOut,
    UserUpdated,
    /// The inspector's own, not an auth-js event: the server refused the current session's
    /// refresh token for good while its access token still works, so the session is kept
    /// (as auth-js keeps it, silently) and marked. `AuthEvent::rejection` says why and until
    /// when.
    RefreshRejected,
    /// A password-recovery code or link was verified (auth-js's `verifyOtp` with type
    /// `recovery`): the session is signed in, and the app is expected to ask for a new
    /// password. Sent instead of `SIGNED_IN`.
    PasswordRecovery,
    /// An MFA challenge was verified: the session raised to aal2 (new access and refresh
    /// tokens) was saved and made current.
    MfaChallengeVerified,
}

impl AuthEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthEventKind::InitialSession => "INITIAL_SESSION",
            AuthEventKind::SignedIn => "SIGNED_IN",
            AuthEventKind::TokenRefreshed => "TOKEN_REFRESHED",
            AuthEventKind::SignedOut => "SIGNED_OUT",
            AuthEventKind::UserUpdated => "USER_UPDATED",
            AuthEventKind::RefreshRejected => "REFRESH_REJECTED",
            AuthEventKind::PasswordRecovery => "PASSWORD_RECOVERY",
            AuthEventKind::MfaChallengeVerified => "MFA_CHALLENGE_VERIFIED",
        }
    }

    /// Events the Supabase clients emit; the rest are the inspector's own.
    pub fn is_auth_js(self) -> bool {
        !matches!(self, AuthEventKind::RefreshRejected)
    }
}

/// What set off the event that made a session's tokens: which entry point of the client asked
/// for the refresh, the sign-in, the step-up. A caller that joined another's refresh shares the
/// first caller's event, so its cause too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub enum Cause {
    /// `refresh_session(None)`: the window's Refresh now, the command line's `refresh`.
    RefreshNow,
    /// `refresh_session(Some(token))`: a pasted refresh token (or one handed to the CLI).
    Paste,
    /// The auto-refresh ticker (`auto_refresh.rs`).
    AutoRefresh,
    /// `get_session` (and what runs it first: sign-out, the user, MFA) refreshing a session
    /// within the refresh margin.
    GetSession,
    /// Start-up recovery of a stored session (`startup.rs`).
    StartUp,
    /// `set_session` with an expired access token: its refresh token is sent.
    SetSession,
    /// Any sign-in: password, one-time code, email link, OAuth, an imported session.
    SignIn,
    /// An MFA challenge verified: the session raised to aal2.
    MfaStepUp,
    /// A user update (`PUT /user`, an email change confirmed) that handed back the session.
    UserUpdate,
}

impl Cause {
    /// The words the window and the command line show for it.
    pub fn label(self) -> &'static str {
        match self {
            Cause::RefreshNow => "Refresh now",
            Cause::Paste => "Paste",
            Cause::AutoRefresh => "Auto-refresh",
            Cause::GetSession => "get_session",
            Cause::StartUp => "Start-up",
            Cause::SetSession => "set_session",
            Cause::SignIn => "Sign-in",
            Cause::MfaStepUp => "MFA step-up",
            Cause::UserUpdate => "User update",
        }
    }
}

/// A refresh that went to the server and failed (after its retries): transient failures keep
/// the session and emit no event, so this is the one place they are told. Never a token: the
/// refresh token sent is named by its fingerprint.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshFailure {
    pub at: DateTime<Utc>,
    pub cause: Cause,
    pub refresh_token_fingerprint: String,
    /// GoTrue's error code, when its answer had one.
    pub code: Option<String>,
    /// The HTTP status (0: no answer).
    pub status: Option<u16>,
    /// The last attempt's recorded exchange.
    pub exchange_id: Option<u64>,
    /// The error as the caller got it (redacted).
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct AuthEvent {
    pub kind: AuthEventKind,
    /// The auth-js event before this one (`SIGNED_IN` → `TOKEN_REFRESHED`); the inspector's
    /// own events are not counted.
    pub previous: Option<AuthEventKind>,
    pub session: Option<Session>,
    pub at: DateTime<Utc>,
    /// Why, for `SIGNED_OUT`: the GoTrue code that ended the session, the sign-out scope
    /// (`sign_out:global`), or `end_session_now`; for `REFRESH_REJECTED`, the GoTrue code.
    pub reason: Option<String>,
    /// The recorded HTTP exchange that caused it, if any.
    pub exchange_id: Option<u64>,
    /// For `REFRESH_REJECTED`: the rejection, as `AuthClient::refresh_rejection` holds it.
    pub rejection: Option<RefreshRejection>,
    /// What made the session this event carries (see `Cause`); `None` for `INITIAL_SESSION`,
    /// `SIGNED_OUT` and `REFRESH_REJECTED`.
    pub cause: Option<Cause>,
}

#[derive(Default)]
pub(crate) struct EventBus {
    state: Mutex<BusState>,
    next_id: AtomicU64,
}

#[derive(Default)]
struct BusState {
    last: Option<AuthEventKind>,
    /// Each event is shared, not copied, between the queues: a subscriber takes its own copy
    /// when it reads it (the last one takes it as it is), off the emitter's path.
    subscribers: Vec<(u64, mpsc::UnboundedSender<Arc<AuthEvent>>)>,
}

impl EventBus {
    fn state(&self) -> std::sync::MutexGuard<'_, BusState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends `event` to every subscriber; its `previous` is set here, from the bus's last
    /// auth-js event.
    pub fn emit(&self, mut event: AuthEvent) {
        let mut state = self.state();
        event.previous = state.last;
        let kind = event.kind;
        let event = Arc::new(event);
        if kind.is_auth_js() {
            state.last = Some(kind);
        }
        state
            .subscribers
            .retain(|(_, tx)| tx.send(event.clone()).is_ok());
    }

    /// Registers a subscriber whose queue starts with `INITIAL_SESSION` for the session
    /// `current` reads. Registering, reading and sending happen under the bus's lock, so no
    /// event can come between them: the queue never holds an older session after a newer one.
    pub fn subscribe(
        &self,
        current: impl FnOnce() -> (Option<Session>, Option<RefreshRejection>),
        at: DateTime<Utc>,
    ) -> (u64, mpsc::UnboundedReceiver<Arc<AuthEvent>>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::unbounded_channel();
        let mut state = self.state();
        let (session, rejection) = current();
        let _ = tx.send(Arc::new(initial_session(
            state.last, session, at, rejection,
        )));
        state.subscribers.push((id, tx));
        (id, rx)
    }

    /// Registers a subscriber that hears every event from now on; its `INITIAL_SESSION`
    /// comes later, through `send_initial`.
    pub fn subscribe_before_initial(&self) -> (u64, mpsc::UnboundedReceiver<Arc<AuthEvent>>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::unbounded_channel();
        self.state().subscribers.push((id, tx));
        (id, rx)
    }

    /// Sends `INITIAL_SESSION` for the session `current` reads to subscriber `id`, if it is
    /// still subscribed; read under the bus's lock, so it is never older than an event the
    /// subscriber has already heard.
    pub fn send_initial(
        &self,
        id: u64,
        current: impl FnOnce() -> (Option<Session>, Option<RefreshRejection>),
        at: DateTime<Utc>,
    ) {
        let state = self.state();
        if let Some((_, tx)) = state.subscribers.iter().find(|(sid, _)| *sid == id) {
            let (session, rejection) = current();
            let _ = tx.send(Arc::new(initial_session(
                state.last, session, at, rejection,
            )));
        }
    }

    pub fn unsubscribe(&self, id: u64) {
        self.state().subscribers.retain(|(sid, _)| *sid != id);
    }

    pub fn subscriber_count(&self) -> usize {
        self.state().subscribers.len()
    }
}

/// `INITIAL_SESSION` for a new subscriber: the session as it is, and its refresh token's
/// rejection when it stands (so a window that subscribes later still shows the mark).
fn initial_session(
    previous: Option<AuthEventKind>,
    session: Option<Session>,
    at: DateTime<Utc>,
    rejection: Option<RefreshRejection>,
) -> AuthEvent {
    AuthEvent {
        kind: AuthEventKind::InitialSession,
        previous,
        session,
        at,
        reason: None,
        exchange_id: None,
        rejection,
        cause: None,
    }
}

/// A callback subscription; dropping it (or `unsubscribe`) stops the callbacks.
pub struct Subscription {
    id: u64,
    bus: Weak<EventBus>,
}

impl Subscription {
    pub(crate) fn new(id: u64, bus: &Arc<EventBus>) -> Subscription {
        Subscription {
            id,
            bus: Arc::downgrade(bus),
        }
    }

    pub fn unsubscribe(self) {}
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(bus) = self.bus.upgrade() {
            bus.unsubscribe(self.id);
        }
    }
}

/// The stream form: `next().await` yields events in order; dropping it unsubscribes.
pub struct EventStream {
    receiver: mpsc::UnboundedReceiver<Arc<AuthEvent>>,
    _subscription: Subscription,
}

impl EventStream {
    pub(crate) fn new(
        receiver: mpsc::UnboundedReceiver<Arc<AuthEvent>>,
        subscription: Subscription,
    ) -> EventStream {
        EventStream {
            receiver,
            _subscription: subscription,
        }
    }

    pub async fn next(&mut self) -> Option<AuthEvent> {
        self.receiver.recv().await.map(Arc::unwrap_or_clone)
    }

    /// The next event if one is already queued.
    pub fn try_next(&mut self) -> Option<AuthEvent> {
        self.receiver.try_recv().ok().map(Arc::unwrap_or_clone)
    }
}

/// Runs `callback` for each event on a task of its own; a callback that is slow runs on the
/// blocking pool, and one that panics is contained there.
pub(crate) fn spawn_callback<F>(mut receiver: mpsc::UnboundedReceiver<Arc<AuthEvent>>, callback: F)
where
    F: Fn(&AuthEvent) + Send + Sync + 'static,
{
    let callback = Arc::new(callback);
    tokio::spawn(async move {
        while let Some(event) = receiver.recv().await {
            let callback = callback.clone();
            let _ = tokio::task::spawn_blocking(move || callback(&event)).await;
        }
    });
}
