//! The session manager: GoTrue calls with the Supabase clients' semantics, the current
//! session (persisted through a `SessionStore`), and the auth events. Split by job:
//! `refresh` (get_session, refresh_session: single-flight, retries, cooldown, commit guard,
//! the rejected refresh token), `account` (sign-in, sign-up, set_session, user, sign-out),
//! `project` (settings, JWKS, signature checks), `oauth` (sign-in with a provider through the
//! browser and a loopback listener), `jwks_cache` (the JWKS, refetched for an
//! unknown `kid`) and `startup` (recovering a stored session and announcing it); this file
//! holds the state they share.

mod account;
mod identities;
mod jwks_cache;
pub mod mfa;
pub mod oauth;
pub mod otp;
mod project;
mod refresh;
mod startup;
pub mod user;

use std::sync::{Arc, Mutex, RwLock};

use crate::config::ClientConfig;
use crate::cooldown::Cooldowns;
use crate::error::AuthError;
use crate::events::{
    spawn_callback, AuthEvent, AuthEventKind, Cause, EventBus, EventStream, RefreshFailure,
    Subscription,
};
use crate::http::Http;
use crate::landed::Landed;
use crate::recorder::Recorder;
use crate::rejection::RefreshRejection;
use crate::session::{Session, User};
use crate::single_flight::SingleFlight;
use crate::storage::{SessionStore, StorageError};
use crate::tokens::fingerprint;

pub use account::{Credentials, SignOutScope};
pub use jwks_cache::JWKS_TTL;
pub use mfa::{AmrEntry, AssuranceLevel, Factor, MfaChallenge, TotpEnrollment};
pub use oauth::{code_challenge, OAuthCancel, OAuthFlow};
pub use refresh::Refreshed;
pub use user::{EmailChangeConfirmation, ResendKind, UserAttributes};

#[derive(Clone)]
pub struct AuthClient {
    inner: Arc<Inner>,
}

struct Inner {
    config: ClientConfig,
    http: Http,
    store: Arc<dyn SessionStore>,
    profile: String,
    current: RwLock<Option<Session>>,
    bus: Arc<EventBus>,
    /// Refreshes that reached the server and failed (`refresh_failures`).
    failures: tokio::sync::broadcast::Sender<RefreshFailure>,
    flights: SingleFlight<refresh::RefreshOutcome>,
    /// `GET /user` per access token and `GET /settings`: callers asking at the same moment
    /// (the window's panels as they open) share one request and its answer. The Supabase
    /// clients send one per call; the inspector's own panels would only add noise to the log.
    user_reads: SingleFlight<Result<(User, Option<u64>), AuthError>>,
    settings_reads: SingleFlight<Result<serde_json::Value, AuthError>>,
    cooldowns: Cooldowns,
    /// The refresh tokens that up to 16 saved refreshes on the current session's line used up
    /// (`landed.rs`, `refresh::refreshed_meanwhile`); cleared when the session ends.
    landed: Mutex<Landed>,
    jwks: jwks_cache::JwksCache,
    /// Set while the current session's refresh token stands rejected (see `rejection.rs`).
    rejection: Mutex<Option<RefreshRejection>>,
    /// The start-up recovery's outcome, once it has run (`startup.rs`).
    initialized: tokio::sync::OnceCell<Result<(), AuthError>>,
}

impl AuthClient {
    /// Creates the client and loads the profile's stored session, if any. A stored session is
    /// announced by `initialize` (which every operation and the first subscriber run first).
    pub async fn new(
        config: ClientConfig,
        store: Arc<dyn SessionStore>,
        profile: impl Into<String>,
    ) -> Result<AuthClient, AuthError> {
        let http = Http::new(&config)?;
        let profile = profile.into();
        // An unreadable stored session is dropped, as auth-js drops an invalid stored value;
        // a keyring that cannot be reached is still an error. The store drops it only if it is
        // still unreadable: another process may have saved a new one since.
        let stored = {
            let (store, profile) = (store.clone(), profile.clone());
            on_store(store.clone(), move || match store.load(&profile) {
                Err(StorageError::Corrupt(why)) => {
                    tracing::warn!(%profile, %why, "dropping an unreadable stored session");
                    store.drop_unreadable(&profile)
                }
                other => other,
            })
            .await?
        };
        // Without a stored session there is nothing to recover or announce.
        let initialized = match stored {
            Some(_) => tokio::sync::OnceCell::new(),
            None => tokio::sync::OnceCell::new_with(Some(Ok(()))),
        };
        Ok(AuthClient {
            inner: Arc::new(Inner {
                cooldowns: Cooldowns::new(config.refresh_failure_cooldown),
                landed: Mutex::default(),
                config,
                http,
                store,
                profile,
                current: RwLock::new(stored),
                bus: Arc::default(),
                failures: tokio::sync::broadcast::channel(64).0,
                flights: SingleFlight::default(),
                user_reads: SingleFlight::default(),
                settings_reads: SingleFlight::default(),
                jwks: jwks_cache::JwksCache::default(),
                rejection: Mutex::default(),
                initialized,
            }),
        })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    pub fn profile(&self) -> &str {
        &self.inner.profile
    }

    /// Every HTTP exchange, redacted.
    pub fn recorder(&self) -> &Recorder {
        &self.inner.http.recorder
    }

    /// The current session as held, without any network call or expiry check.
    pub fn current_session(&self) -> Option<Session> {
        self.inner
            .current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Unix seconds by the client's clock.
    fn now_secs(&self) -> i64 {
        self.inner.config.clock.unix_secs()
    }

    /// The current session's refresh token stands rejected while its access token still
    /// works: why, and until when. `None` otherwise; cleared when the session ends or its
    /// refresh token changes.
    /// The current session and its refresh token's rejection, if it stands.
    pub(super) fn session_and_rejection(&self) -> (Option<Session>, Option<RefreshRejection>) {
        (self.current_session(), self.refresh_rejection())
    }

    pub fn refresh_rejection(&self) -> Option<RefreshRejection> {
        self.inner
            .rejection
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Calls `callback` for every auth event; `INITIAL_SESSION` comes once, after any refresh
    /// the session needed (see `subscribe`). Callbacks run off the engine's path: a slow or
    /// panicking one affects nobody else. Keep the returned subscription; dropping it
    /// unsubscribes. Needs a tokio runtime.
    pub fn on_auth_state_change<F>(&self, callback: F) -> Subscription
    where
        F: Fn(&AuthEvent) + Send + Sync + 'static,
    {
        let (id, receiver) = self.register_subscriber();
        spawn_callback(receiver, callback);
        Subscription::new(id, &self.inner.bus)
    }

    /// The stream form of `on_auth_state_change`. As in auth-js, `INITIAL_SESSION` carries
    /// the session as it is once the client has started (`initialize`) and after any refresh
    /// the session needed then; events that happen meanwhile (`SIGNED_IN` of the recovered
    /// session, `TOKEN_REFRESHED`) reach the subscriber first. Needs a tokio runtime.
    pub fn subscribe(&self) -> EventStream {
        let (id, receiver) = self.register_subscriber();
        EventStream::new(receiver, Subscription::new(id, &self.inner.bus))
    }

    /// Every refresh that reached the server and failed from now on, with its cause (a
    /// transient failure emits no auth event: this is where it is heard). A listener that
    /// falls 64 behind loses the oldest.
    pub fn refresh_failures(&self) -> tokio::sync::broadcast::Receiver<RefreshFailure> {
        self.inner.failures.subscribe()
    }

    pub fn subscriber_count(&self) -> usize {
        self.inner.bus.subscriber_count()
    }

    fn emit(
        &self,
        kind: AuthEventKind,
        session: Option<Session>,
        reason: Option<String>,
        exchange_id: Option<u64>,
        cause: Option<Cause>,
    ) {
        self.inner.bus.emit(AuthEvent {
            kind,
            previous: None,
            session,
            at: self.inner.config.clock.now(),
            reason,
            exchange_id,
            rejection: None,
            cause,
        });
    }

    async fn adopt(
        &self,
        session: Session,
        kind: AuthEventKind,
        exchange_id: Option<u64>,
        cause: Cause,
    ) -> Result<(), AuthError> {
        let same_token = self
            .current_session()
            .is_some_and(|current| current.refresh_token == session.refresh_token);
        if !same_token {
            self.inner.cooldowns.clear();
        }
        let persisted = self.persist(&session).await;
        self.set_current(Some(session.clone()));
        self.emit(kind, Some(session), None, exchange_id, Some(cause));
        persisted
    }

    /// "End it now": removes the current session here and now, without a request (what a
    /// supabase-js app does by itself once a rejected session's access token has expired).
    /// `SIGNED_OUT` with the reason `end_session_now`; nothing happens without a session. A
    /// server session still alive stays so: `sign_out` is the call that ends that.
    pub async fn end_session_now(&self) {
        self.end_session(Some("end_session_now".into()), false)
            .await;
    }

    /// Removes the session locally and tells subscribers why: `SIGNED_OUT` when there was a
    /// session, or whatever the case with `always` (a sign-out always announces itself, as
    /// auth-js's `_removeSession` does).
    async fn end_session(&self, reason: Option<String>, always: bool) {
        let had = self.current_session().is_some();
        self.set_current(None);
        // The ended session's refreshes are no one's to share any more.
        self.inner
            .landed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        let (store, profile) = (self.inner.store.clone(), self.inner.profile.clone());
        if let Err(error) = on_store(store.clone(), move || store.remove(&profile)).await {
            // The session is over either way; a stale stored copy is refused by the server.
            tracing::warn!(%error, "the ended session could not be removed from storage");
        }
        if had || always {
            tracing::info!(reason = reason.as_deref().unwrap_or(""), "session ended");
            self.emit(AuthEventKind::SignedOut, None, reason, None, None);
        }
    }

    /// Saves before anyone hears of the session: a rotated token that is not saved is lost.
    async fn persist(&self, session: &Session) -> Result<(), AuthError> {
        let store = &self.inner.store;
        // `on_store`'s choice, spelled out: in place, the session is saved by reference; only
        // the hop to the blocking pool needs the owned copies (a refresh's hot path).
        if !store.blocks() {
            return Ok(store.save(&self.inner.profile, session)?);
        }
        let (store, profile, session) =
            (store.clone(), self.inner.profile.clone(), session.clone());
        blocking(move || store.save(&profile, &session)).await
    }

    /// Replaces the current session; a rejection mark stays only while its refresh token does.
    fn set_current(&self, session: Option<Session>) {
        let mut rejection = self
            .inner
            .rejection
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let stands = rejection.as_ref().is_some_and(|r| {
            session
                .as_ref()
                .is_some_and(|s| fingerprint(&s.refresh_token) == r.refresh_token_fingerprint)
        });
        if !stands {
            *rejection = None;
        }
        *self
            .inner
            .current
            .write()
            .unwrap_or_else(|p| p.into_inner()) = session;
    }
}

/// Runs a storage call of `store` in place when the store never blocks, else as `blocking`.
async fn on_store<T: Send + 'static>(
    store: Arc<dyn SessionStore>,
    work: impl FnOnce() -> Result<T, StorageError> + Send + 'static,
) -> Result<T, AuthError> {
    if store.blocks() {
        blocking(work).await
    } else {
        Ok(work()?)
    }
}

/// Runs a storage call on the blocking pool (OS keyrings block, and some must not be called
/// from async threads).
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StorageError> + Send + 'static,
) -> Result<T, AuthError> {
    Ok(tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StorageError::Task(e.to_string()))??)
}
