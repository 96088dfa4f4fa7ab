//! The session manager: GoTrue calls with the Supabase clients' semantics, the current
//! session (persisted through a `SessionStore`), and the auth events.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::Utc;
use reqwest::Method;
use serde_json::{json, Value};

use crate::config::ClientConfig;
use crate::error::AuthError;
use crate::events::{
    spawn_callback, AuthEvent, AuthEventKind, EventBus, EventStream, Subscription,
};
use crate::http::{Call, Http};
use crate::recorder::Recorder;
use crate::session::{session_from_token_response, user_from_body, AuthResponse, Session, User};
use crate::single_flight::SingleFlight;
use crate::storage::SessionStore;
use crate::tokens::{decode_jwt, verify_jwt, DecodedJwt, Jwks, SignatureStatus};

/// How long a fetched JWKS is trusted (auth-js's `JWKS_TTL`).
const JWKS_TTL: Duration = Duration::from_secs(600);

/// The `scope` of a sign-out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignOutScope {
    /// Every session of the user (the default, as in the Supabase clients).
    Global,
    /// This session only.
    Local,
    /// Every other session; this one stays.
    Others,
}

impl SignOutScope {
    pub fn as_str(self) -> &'static str {
        match self {
            SignOutScope::Global => "global",
            SignOutScope::Local => "local",
            SignOutScope::Others => "others",
        }
    }
}

/// How a password sign-in names the user.
#[derive(Debug, Clone)]
pub enum Credentials {
    Email { email: String, password: String },
    Phone { phone: String, password: String },
}

/// The result of a refresh: the session, and whether this call joined another's request.
#[derive(Debug, Clone, PartialEq)]
pub struct Refreshed {
    pub response: AuthResponse,
    pub joined: bool,
}

type RefreshOutcome = Result<(Session, Option<u64>), AuthError>;

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
    flights: SingleFlight<RefreshOutcome>,
    /// A 429 answer per refresh token, replayed without a request until the instant passes.
    cooldowns: Mutex<HashMap<String, (Instant, AuthError)>>,
    jwks: Mutex<Option<(Instant, Jwks)>>,
}

fn now_secs() -> i64 {
    Utc::now().timestamp()
}

impl AuthClient {
    /// Creates the client and loads the profile's stored session, if any.
    pub async fn new(
        config: ClientConfig,
        store: Arc<dyn SessionStore>,
        profile: impl Into<String>,
    ) -> Result<AuthClient, AuthError> {
        let http = Http::new(&config)?;
        let profile = profile.into();
        // An unreadable stored session is dropped, as auth-js drops an invalid stored value;
        // a keyring that cannot be reached is still an error.
        let stored = {
            let (store, profile) = (store.clone(), profile.clone());
            blocking(move || match store.load(&profile) {
                Err(crate::storage::StorageError::Corrupt(_)) => {
                    store.remove(&profile).map(|_| None)
                }
                other => other,
            })
            .await?
        };
        Ok(AuthClient {
            inner: Arc::new(Inner {
                config,
                http,
                store,
                profile,
                current: RwLock::new(stored),
                bus: Arc::default(),
                flights: SingleFlight::default(),
                cooldowns: Mutex::default(),
                jwks: Mutex::default(),
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

    // ---- events -------------------------------------------------------------------------

    /// Calls `callback` for every auth event, starting with `INITIAL_SESSION`. Callbacks run
    /// off the engine's path: a slow or panicking one affects nobody else. Keep the returned
    /// subscription; dropping it unsubscribes.
    pub fn on_auth_state_change<F>(&self, callback: F) -> Subscription
    where
        F: Fn(&AuthEvent) + Send + Sync + 'static,
    {
        let (id, receiver) = self.inner.bus.subscribe(self.current_session());
        spawn_callback(receiver, callback);
        Subscription::new(id, &self.inner.bus)
    }

    /// The stream form of `on_auth_state_change`.
    pub fn subscribe(&self) -> EventStream {
        let (id, receiver) = self.inner.bus.subscribe(self.current_session());
        EventStream::new(receiver, Subscription::new(id, &self.inner.bus))
    }

    pub fn subscriber_count(&self) -> usize {
        self.inner.bus.subscriber_count()
    }

    // ---- sessions ------------------------------------------------------------------------

    /// The current session; refreshed first only when its access token expires within the
    /// refresh margin (10 s by default). A transient failure while the access token is still
    /// valid returns the session as it is.
    pub async fn get_session(&self) -> Result<Option<Session>, AuthError> {
        let Some(session) = self.current_session() else {
            return Ok(None);
        };
        let left_ms = session.expires_at * 1000 - Utc::now().timestamp_millis();
        if left_ms > self.inner.config.refresh_margin.as_millis() as i64 {
            return Ok(Some(session));
        }
        match self.call_refresh_token(&session.refresh_token).await {
            Ok(refreshed) => Ok(Some(refreshed.response.session)),
            Err(error) if error.is_retryable() && left_ms > 0 => Ok(Some(session)),
            Err(error) => Err(error),
        }
    }

    /// Always sends `POST /token?grant_type=refresh_token`: with `refresh_token`, or the
    /// current session's when none is given; neither → `SessionMissing`. The new session is
    /// persisted, made current, and `TOKEN_REFRESHED` reaches every subscriber.
    pub async fn refresh_session(
        &self,
        refresh_token: Option<&str>,
    ) -> Result<Refreshed, AuthError> {
        let token = match refresh_token.map(str::trim).filter(|t| !t.is_empty()) {
            Some(token) => token.to_string(),
            None => self
                .current_session()
                .map(|s| s.refresh_token)
                .ok_or(AuthError::SessionMissing)?,
        };
        self.call_refresh_token(&token).await
    }

    async fn call_refresh_token(&self, token: &str) -> Result<Refreshed, AuthError> {
        let inner = &self.inner;
        let (outcome, joined) = inner
            .flights
            .run(token, self.refresh_flight(token.to_string()))
            .await;
        let (session, _) = outcome?;
        Ok(Refreshed {
            response: AuthResponse {
                user: session.user.clone(),
                session,
            },
            joined,
        })
    }

    /// One refresh: cooldown, retries, commit guard, persistence, event; or the session's end.
    async fn refresh_flight(&self, token: String) -> RefreshOutcome {
        if let Some(error) = self.cooldown_for(&token) {
            return Err(error);
        }
        let stored_before = self.current_session().map(|s| s.refresh_token);
        let result = self.post_refresh_with_retries(&token).await;
        match result {
            Ok((session, exchange_id)) => {
                let stored_now = self.current_session().map(|s| s.refresh_token);
                if stored_before.is_some() && stored_now != stored_before {
                    return Err(AuthError::RefreshDiscarded);
                }
                self.clear_cooldowns();
                let persisted = self.persist(&session).await;
                self.set_current(Some(session.clone()));
                self.inner.bus.emit(
                    AuthEventKind::TokenRefreshed,
                    Some(session.clone()),
                    None,
                    exchange_id,
                );
                persisted.map(|_| (session, exchange_id))
            }
            Err(error) => {
                if error.status() == Some(429) {
                    let until = Instant::now() + self.inner.config.rate_limit_cooldown;
                    self.cooldowns()
                        .insert(token.clone(), (until, error.clone()));
                }
                // Only the session that presented this token ends: one adopted while the
                // request was in flight is not this token's to lose.
                let current = self.current_session().map(|s| s.refresh_token);
                let ends_current =
                    error.ends_session() && current.as_deref() == Some(token.as_str());
                if ends_current {
                    self.end_session(error.code().map(str::to_string)).await;
                }
                Err(error)
            }
        }
    }

    /// auth-js's loop: attempt n waits 200·2ⁿ⁻¹ ms first; only retryable failures are
    /// retried, and only while the next wait still fits in the retry budget.
    async fn post_refresh_with_retries(&self, token: &str) -> RefreshOutcome {
        let started = Instant::now();
        let body = json!({"refresh_token": token});
        let mut attempt: u32 = 0;
        loop {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(200 << (attempt - 1))).await;
            }
            let call = Call {
                method: Method::POST,
                path: "/token",
                query: &[("grant_type", "refresh_token")],
                body: Some(&body),
                bearer: None,
            };
            match self.inner.http.send(call).await {
                Ok(answer) => {
                    let session = session_from_token_response(&answer.body, now_secs())?;
                    return Ok((session, Some(answer.exchange_id)));
                }
                Err(error) if error.is_retryable() => {
                    let next_wait = Duration::from_millis(200 << attempt);
                    if started.elapsed() + next_wait >= self.inner.config.retry_budget {
                        return Err(error);
                    }
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Adopts a session held elsewhere: an expired access token is refreshed
    /// (`TOKEN_REFRESHED`); a valid one is checked with `GET /user` (`SIGNED_IN`).
    pub async fn set_session(
        &self,
        access_token: &str,
        refresh_token: &str,
    ) -> Result<AuthResponse, AuthError> {
        let (access_token, refresh_token) = (access_token.trim(), refresh_token.trim());
        if access_token.is_empty() || refresh_token.is_empty() {
            return Err(AuthError::SessionMissing);
        }
        let decoded = crate::tokens::decode_jwt(access_token).map_err(|e| {
            AuthError::InvalidInput(format!("the access token cannot be read: {e}"))
        })?;
        let expires_at = decoded
            .expires_at()
            .ok_or_else(|| AuthError::InvalidInput("the access token has no exp claim".into()))?;
        let now = now_secs();
        if expires_at <= now {
            return self
                .call_refresh_token(refresh_token)
                .await
                .map(|r| r.response);
        }
        let (user, exchange_id) = self.fetch_user(access_token).await?;
        let session = Session {
            access_token: access_token.to_string(),
            token_type: "bearer".into(),
            expires_in: expires_at - now,
            expires_at,
            refresh_token: refresh_token.to_string(),
            user: user.clone(),
            provider_token: None,
            provider_refresh_token: None,
        };
        self.adopt(session.clone(), AuthEventKind::SignedIn, exchange_id)
            .await?;
        Ok(AuthResponse { user, session })
    }

    pub async fn sign_in_with_password(
        &self,
        credentials: Credentials,
    ) -> Result<AuthResponse, AuthError> {
        let body = match &credentials {
            Credentials::Email { email, password } => json!({"email": email, "password": password}),
            Credentials::Phone { phone, password } => json!({"phone": phone, "password": password}),
        };
        let call = Call {
            method: Method::POST,
            path: "/token",
            query: &[("grant_type", "password")],
            body: Some(&body),
            bearer: None,
        };
        self.sign_in(call).await
    }

    /// `POST /signup` with neither email nor phone.
    pub async fn sign_in_anonymously(&self) -> Result<AuthResponse, AuthError> {
        let body = json!({});
        self.sign_in(Call {
            method: Method::POST,
            path: "/signup",
            query: &[],
            body: Some(&body),
            bearer: None,
        })
        .await
    }

    /// Signs up; with autoconfirm the answer is a session (`SIGNED_IN`), otherwise the user.
    pub async fn sign_up(
        &self,
        email: &str,
        password: &str,
        data: Value,
    ) -> Result<(User, Option<Session>), AuthError> {
        let body = json!({"email": email, "password": password, "data": data});
        let answer = self
            .inner
            .http
            .send(Call {
                method: Method::POST,
                path: "/signup",
                query: &[],
                body: Some(&body),
                bearer: None,
            })
            .await?;
        match session_from_token_response(&answer.body, now_secs()) {
            Ok(session) => {
                self.adopt(
                    session.clone(),
                    AuthEventKind::SignedIn,
                    Some(answer.exchange_id),
                )
                .await?;
                Ok((session.user.clone(), Some(session)))
            }
            Err(AuthError::SessionMissing) => Ok((user_from_body(&answer.body)?, None)),
            Err(error) => Err(error),
        }
    }

    async fn sign_in(&self, call: Call<'_>) -> Result<AuthResponse, AuthError> {
        let answer = self.inner.http.send(call).await?;
        let session = session_from_token_response(&answer.body, now_secs())?;
        self.adopt(
            session.clone(),
            AuthEventKind::SignedIn,
            Some(answer.exchange_id),
        )
        .await?;
        Ok(AuthResponse {
            user: session.user.clone(),
            session,
        })
    }

    /// `GET /user` with `jwt`, or the current access token. The server saying the session is
    /// gone ends the local session too (`SIGNED_OUT`), as auth-js does.
    pub async fn get_user(&self, jwt: Option<&str>) -> Result<User, AuthError> {
        let own = jwt.is_none();
        let token = match jwt {
            Some(jwt) => jwt.trim().to_string(),
            None => self
                .current_session()
                .map(|s| s.access_token)
                .ok_or(AuthError::SessionMissing)?,
        };
        match self.fetch_user(&token).await {
            Ok((user, _)) => Ok(user),
            Err(error) if error.code() == Some("session_not_found") => {
                if own {
                    self.end_session(Some("session_not_found".into())).await;
                }
                Err(AuthError::SessionMissing)
            }
            Err(error) => Err(error),
        }
    }

    async fn fetch_user(&self, access_token: &str) -> Result<(User, Option<u64>), AuthError> {
        let answer = self
            .inner
            .http
            .send(Call {
                method: Method::GET,
                path: "/user",
                query: &[],
                body: None,
                bearer: Some(access_token),
            })
            .await?;
        Ok((user_from_body(&answer.body)?, Some(answer.exchange_id)))
    }

    /// `PUT /user` with new user metadata; the current session's user is updated
    /// (`USER_UPDATED`).
    pub async fn update_user_metadata(&self, data: Value) -> Result<User, AuthError> {
        let session = self.current_session().ok_or(AuthError::SessionMissing)?;
        let body = json!({"data": data});
        let call = Call {
            method: Method::PUT,
            path: "/user",
            query: &[],
            body: Some(&body),
            bearer: Some(&session.access_token),
        };
        let answer = self.inner.http.send(call).await?;
        let user = user_from_body(&answer.body)?;
        let updated = Session {
            user: user.clone(),
            ..session
        };
        self.adopt(
            updated,
            AuthEventKind::UserUpdated,
            Some(answer.exchange_id),
        )
        .await?;
        Ok(user)
    }

    /// `POST /logout?scope=…`. For global and local the local session is removed even when
    /// the server call fails; 401, 403 and 404 from the server are ignored, as auth-js does.
    pub async fn sign_out(&self, scope: SignOutScope) -> Result<(), AuthError> {
        let mut failure = None;
        if let Some(session) = self.current_session() {
            let call = Call {
                method: Method::POST,
                path: "/logout",
                query: &[("scope", scope.as_str())],
                body: None,
                bearer: Some(&session.access_token),
            };
            match self.inner.http.send(call).await {
                Ok(_) => {}
                Err(AuthError::Api {
                    status: 401 | 403 | 404,
                    ..
                }) => {}
                Err(error) => failure = Some(error),
            }
        }
        if scope != SignOutScope::Others {
            self.end_session(Some(format!("sign_out:{}", scope.as_str())))
                .await;
        }
        failure.map_or(Ok(()), Err)
    }

    // ---- token tools -----------------------------------------------------------------------

    /// The project's public auth settings (`GET /settings`): which sign-in methods are on.
    /// Answers only when the URL is a GoTrue behind the given API key, so it doubles as the
    /// check that a project URL and key belong together.
    pub async fn server_settings(&self) -> Result<Value, AuthError> {
        let call = Call {
            method: Method::GET,
            path: "/settings",
            query: &[],
            body: None,
            bearer: None,
        };
        let answer = self.inner.http.send(call).await?;
        serde_json::from_slice(&answer.body).map_err(|e| {
            AuthError::InvalidTokenResponse(format!("the settings answer is not JSON ({e})"))
        })
    }

    /// The project's published keys (`/.well-known/jwks.json`), cached for 10 minutes.
    pub async fn project_jwks(&self) -> Result<Jwks, AuthError> {
        if let Some((fetched, jwks)) = &*self.inner.jwks.lock().unwrap_or_else(|p| p.into_inner()) {
            if fetched.elapsed() < JWKS_TTL {
                return Ok(jwks.clone());
            }
        }
        let call = Call {
            method: Method::GET,
            path: "/.well-known/jwks.json",
            query: &[],
            body: None,
            bearer: None,
        };
        let answer = self.inner.http.send(call).await?;
        let jwks: Jwks = serde_json::from_slice(&answer.body)
            .map_err(|e| AuthError::InvalidTokenResponse(format!("the JWKS is not valid ({e})")))?;
        *self.inner.jwks.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((Instant::now(), jwks.clone()));
        Ok(jwks)
    }

    /// Decodes an access token (never failing for want of a key) and checks its signature
    /// with the HS256 secret if given, or the project's JWKS for asymmetric tokens.
    pub async fn verify_access_token(
        &self,
        token: &str,
        hs256_secret: Option<&[u8]>,
    ) -> Result<(DecodedJwt, SignatureStatus), AuthError> {
        let jwt = decode_jwt(token).map_err(|e| AuthError::InvalidInput(e.to_string()))?;
        let asymmetric = jwt
            .alg()
            .is_some_and(|alg| !alg.eq_ignore_ascii_case("HS256"));
        let jwks = if asymmetric {
            self.project_jwks().await.ok()
        } else {
            None
        };
        let status = verify_jwt(&jwt, hs256_secret, jwks.as_ref());
        Ok((jwt, status))
    }

    // ---- internals -----------------------------------------------------------------------

    async fn adopt(
        &self,
        session: Session,
        kind: AuthEventKind,
        exchange_id: Option<u64>,
    ) -> Result<(), AuthError> {
        self.clear_cooldowns();
        let persisted = self.persist(&session).await;
        self.set_current(Some(session.clone()));
        self.inner.bus.emit(kind, Some(session), None, exchange_id);
        persisted
    }

    /// Removes the session locally and tells subscribers why.
    async fn end_session(&self, reason: Option<String>) {
        let had = self.current_session().is_some();
        self.set_current(None);
        let (store, profile) = (self.inner.store.clone(), self.inner.profile.clone());
        let _ = blocking(move || store.remove(&profile)).await;
        if had {
            self.inner
                .bus
                .emit(AuthEventKind::SignedOut, None, reason, None);
        }
    }

    /// Saves before anyone hears of the session: a rotated token that is not saved is lost.
    async fn persist(&self, session: &Session) -> Result<(), AuthError> {
        let (store, profile, session) = (
            self.inner.store.clone(),
            self.inner.profile.clone(),
            session.clone(),
        );
        blocking(move || store.save(&profile, &session)).await
    }

    fn set_current(&self, session: Option<Session>) {
        *self
            .inner
            .current
            .write()
            .unwrap_or_else(|p| p.into_inner()) = session;
    }

    fn cooldowns(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, AuthError)>> {
        self.inner
            .cooldowns
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    fn cooldown_for(&self, token: &str) -> Option<AuthError> {
        let mut cooldowns = self.cooldowns();
        match cooldowns.get(token) {
            Some((until, error)) if *until > Instant::now() => Some(error.clone()),
            Some(_) => {
                cooldowns.remove(token);
                None
            }
            None => None,
        }
    }

    fn clear_cooldowns(&self) {
        self.cooldowns().clear();
    }
}

/// Runs a storage call on the blocking pool (OS keyrings block, and some must not be called
/// from async threads).
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, crate::storage::StorageError> + Send + 'static,
) -> Result<T, AuthError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AuthError::Storage(format!("the storage task failed: {e}")))?
        .map_err(|e| AuthError::Storage(e.to_string()))
}
