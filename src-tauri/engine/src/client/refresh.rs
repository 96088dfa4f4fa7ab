//! Refreshing: `get_session` (only near expiry) and `refresh_session` (every call, unless a
//! refresh of the token it read has already landed), one request per refresh token at a time, retries with auth-js's backoff, the failure cooldown, the
//! guard against overwriting a session that changed meanwhile, and what a definitive
//! rejection of the refresh token does: it marks a session whose access token still works
//! and ends one whose access token has expired, as current auth-js's `_callRefreshToken`.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use tokio::time::Instant;

use super::AuthClient;
use crate::error::AuthError;
use crate::events::{AuthEvent, AuthEventKind, Cause, RefreshFailure};
use crate::http::Call;
use crate::rejection::RefreshRejection;
use crate::secret::Token;
use crate::session::{session_from_token_response, AuthResponse, Session};
use crate::tokens::{fingerprint, token_key};

/// The result of a refresh: the session, and whether this call joined another's request.
#[derive(Debug, Clone, PartialEq)]
pub struct Refreshed {
    pub response: AuthResponse,
    pub joined: bool,
}

pub(super) type RefreshOutcome = Result<Flight, AuthError>;

/// What a refresh flight came to: the session, and whether it sent a request (a caller that
/// read the current token before one of the last 16 refreshes on its line used it up shares
/// the current session instead: see `refreshed_meanwhile`).
#[derive(Debug, Clone)]
pub(super) struct Flight {
    /// Shared with the callers that joined, not copied for each.
    session: Arc<Session>,
    sent: bool,
}

/// Where the refresh token of a refresh came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TokenSource {
    /// Read from the current session: a refresh of it that landed since (one of the last 16
    /// on the session's line) has already done what the caller asked.
    Current,
    /// Handed in (a pasted token, `set_session`): always sent.
    Given,
}

/// Who asked for a refresh: the session's own machinery (get_session, start-up, set_session,
/// the auto-refresh), which the failure memory answers as auth-js's does, or an explicit
/// `refresh_session`, which sends even within the cooldown (but for a remembered 429). Either
/// shares, without sending, a refresh that already used up the current token it read
/// (`refreshed_meanwhile`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Caller {
    Automatic,
    Explicit,
}

/// auth-js's backoff: the wait before retry n + 1 is 200·2ⁿ ms.
fn backoff(retry: u32) -> Duration {
    Duration::from_millis(200u64 << retry.min(20))
}

impl AuthClient {
    /// The current session; refreshed first only when its access token expires within the
    /// refresh margin (10 s by default). When that refresh fails, a session whose access token
    /// still works is returned as it is (auth-js's `__loadSession`); otherwise the failure.
    pub async fn get_session(&self) -> Result<Option<Session>, AuthError> {
        let _ = self.initialize().await;
        self.load_session().await
    }

    /// `get_session` without waiting for start-up: what `sign_out`, `get_user` and
    /// `update_user_metadata` run first, as auth-js's `_useSession` runs `__loadSession`. The
    /// margin is the client's refresh margin (auth-js uses its 90 s `EXPIRY_MARGIN_MS`; this
    /// client follows supabase-py and the Ruby client, 10 s by default).
    pub(super) async fn load_session(&self) -> Result<Option<Session>, AuthError> {
        let Some(session) = self.current_session() else {
            return Ok(None);
        };
        if !self.needs_refresh(&session) {
            return Ok(Some(session));
        }
        match self
            .call_refresh_token(
                &session.refresh_token,
                Caller::Automatic,
                TokenSource::Current,
                Cause::GetSession,
            )
            .await
        {
            Ok(refreshed) => Ok(Some(refreshed.response.session)),
            Err(error) => {
                // Still the same session (no sign-out or new session meanwhile) and still
                // working: the caller gets it, whatever the refresh met.
                let kept = self
                    .current_session()
                    .filter(|now| now.refresh_token == session.refresh_token)
                    .filter(|now| self.access_token_works(now));
                match kept {
                    Some(session) => Ok(Some(session)),
                    None => Err(error),
                }
            }
        }
    }

    /// The access token expires within the refresh margin (or has expired).
    pub(super) fn needs_refresh(&self, session: &Session) -> bool {
        self.millis_left(session) <= self.inner.config.refresh_margin.as_millis() as i64
    }

    fn access_token_works(&self, session: &Session) -> bool {
        self.millis_left(session) > 0
    }

    fn millis_left(&self, session: &Session) -> i64 {
        // Saturating: a stored session from before times were range-checked cannot overflow.
        session
            .expires_at
            .saturating_mul(1000)
            .saturating_sub(self.inner.config.clock.now().timestamp_millis())
    }

    /// When the current session's refresh token may be sent again after a failure (the
    /// cooldown's end), if it is cooling down. In tokio's time, as the auto-refresh waits.
    pub fn refresh_cooldown_until(&self) -> Option<Instant> {
        let session = self.current_session()?;
        self.inner
            .cooldowns
            .until(&token_key(&session.refresh_token))
    }

    /// Sends `POST /token?grant_type=refresh_token`: with `refresh_token` (always sent), or the
    /// current session's when none is given; neither → `SessionMissing`. Without a token, a
    /// caller whose read of the current token was overtaken by a refresh that landed (a burst
    /// of callers) shares the session that refresh made current, `joined`, instead of sending
    /// the used-up token (see `refreshed_meanwhile`). The new session is
    /// persisted, made current, and `TOKEN_REFRESHED` reaches every subscriber.
    pub async fn refresh_session(
        &self,
        refresh_token: Option<&str>,
    ) -> Result<Refreshed, AuthError> {
        let _ = self.initialize().await;
        let (token, source, cause) = match refresh_token.map(str::trim).filter(|t| !t.is_empty()) {
            Some(token) => (Token::from(token), TokenSource::Given, Cause::Paste),
            None => (
                self.current_refresh_token()
                    .ok_or(AuthError::SessionMissing)?,
                TokenSource::Current,
                Cause::RefreshNow,
            ),
        };
        self.call_refresh_token(&token, Caller::Explicit, source, cause)
            .await
    }

    /// Why `refresh_session(Some(token))` would not send `token` now: the failure it would be
    /// answered with from memory instead (a 429 met by this token within the cooldown). A
    /// given token is otherwise always sent (or joins a refresh of the same token in flight).
    pub fn given_token_held_back(&self, token: &str) -> Option<AuthError> {
        self.inner
            .cooldowns
            .check(&token_key(token.trim()))
            .filter(|error| answered_from_memory(Caller::Explicit, error))
    }

    /// The auto-refresh's refresh of the current session: like auth-js's ticker, it goes
    /// through the failure memory (`Caller::Automatic`), unlike an explicit `refresh_session`.
    pub(crate) async fn refresh_on_schedule(&self) -> Result<Refreshed, AuthError> {
        let token = self
            .current_refresh_token()
            .ok_or(AuthError::SessionMissing)?;
        self.call_refresh_token(
            &token,
            Caller::Automatic,
            TokenSource::Current,
            Cause::AutoRefresh,
        )
        .await
    }

    /// The current session's refresh token, without copying the rest of the session.
    fn current_refresh_token(&self) -> Option<Token> {
        self.inner
            .current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|s| s.refresh_token.clone())
    }

    /// One flight per refresh token. auth-js has a single `refreshingDeferred` per client,
    /// whatever the token; this client's choice is per token, so a pasted token's refresh
    /// neither joins nor holds up the current session's. `cause` goes with the event (and a
    /// failure): a caller that joins a flight shares the first caller's.
    pub(super) async fn call_refresh_token(
        &self,
        token: &str,
        caller: Caller,
        source: TokenSource,
        cause: Cause,
    ) -> Result<Refreshed, AuthError> {
        let inner = &self.inner;
        let key = token_key(token);
        let (outcome, joined) = inner
            .flights
            .run(
                &key,
                self.refresh_flight(token, key.clone(), caller, source, cause),
            )
            .await;
        let flight = outcome?;
        let joined = joined || !flight.sent;
        // The flight's cell is gone by now unless others joined: usually no copy is made.
        let session = Arc::unwrap_or_clone(flight.session);
        Ok(Refreshed {
            response: AuthResponse {
                user: session.user.clone(),
                session,
            },
            joined,
        })
    }

    /// One refresh: cooldown, retries, commit guard, persistence, event; or, on failure, the
    /// failure remembered and the rejection's consequences.
    async fn refresh_flight(
        &self,
        token: &str,
        key: String,
        caller: Caller,
        source: TokenSource,
        cause: Cause,
    ) -> RefreshOutcome {
        if source == TokenSource::Current {
            if let Some(session) = self.refreshed_meanwhile(&key) {
                return Ok(Flight {
                    session: Arc::new(session),
                    sent: false,
                });
            }
        }
        if let Some(error) = self.inner.cooldowns.check(&key) {
            // auth-js answers every caller from its failure memory. `refresh_session` is the
            // contract's "always hits the endpoint" (the inspector's Refresh now and paste), so
            // it goes out again, except after a 429: a rate limiter is not pressed again.
            if answered_from_memory(caller, &error) {
                return Err(error);
            }
        }
        let stored_before = self.current_refresh_token();
        let result = self.post_refresh_with_retries(token).await;
        match result {
            Ok((session, exchange_id)) => {
                let stored_now = self.current_refresh_token();
                if stored_before.is_some() && stored_now != stored_before {
                    return Err(AuthError::RefreshDiscarded);
                }
                self.inner.cooldowns.clear();
                let persisted = self.persist(&session).await;
                // Before the flight ends (and leaves `flights`), so a caller that read this
                // token and comes too late to join finds it here instead. Only a saved
                // refresh has landed: after a failed save a late caller sends its own request
                // (or meets the error) instead of sharing a session that is not stored.
                if persisted.is_ok() {
                    self.inner
                        .landed
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .record(key.clone(), token_key(&session.refresh_token));
                }
                self.set_current(Some(session.clone()));
                self.emit(
                    AuthEventKind::TokenRefreshed,
                    Some(session.clone()),
                    None,
                    exchange_id,
                    Some(cause),
                );
                persisted.map(|_| Flight {
                    session: Arc::new(session),
                    sent: true,
                })
            }
            Err((error, exchange_id)) => {
                // Told before its consequences (a rejection, a sign-out), which follow it.
                let _ = self.inner.failures.send(RefreshFailure {
                    at: self.inner.config.clock.now(),
                    cause,
                    refresh_token_fingerprint: fingerprint(token),
                    // A 5xx is typed without its code; the answer as recorded still has it.
                    code: error.code().map(str::to_string).or_else(|| {
                        let answer = self.recorder().get(exchange_id?)?;
                        crate::envelope::error_code_of_answer(
                            &answer.response_headers,
                            answer.response_body.as_deref()?,
                        )
                    }),
                    status: error.status(),
                    exchange_id,
                    message: error.to_string(),
                });
                // auth-js remembers every failure; a caller within the cooldown gets it back
                // without a request (and without the consequences below a second time).
                self.inner.cooldowns.start(&key, error.clone());
                // Only the session that presented this token is affected: one adopted while
                // the request was in flight is not this token's to lose.
                let presenter = self
                    .current_session()
                    .filter(|s| s.refresh_token.as_str() == token);
                if let Some(session) = presenter.filter(|_| error.ends_session()) {
                    if self.access_token_works(&session) {
                        self.mark_rejected(&session, &error);
                    } else {
                        self.end_session(error.code().map(str::to_string), false)
                            .await;
                    }
                }
                Err(error)
            }
        }
    }

    /// The current session, when one of the last 16 saved refreshes on its line (`Landed`) used
    /// up the token `key` names and the last of them is still current: a caller that read that
    /// token from the current session before the refresh landed, and reached the flights after
    /// it left, overlapped it and shares it, as the callers that joined in time do.
    ///
    /// auth-js has no such memory: `_callRefreshToken` clears its `refreshingDeferred` in
    /// `finally`, and `_refreshSession` sends whatever token it loaded, a used-up one too. We
    /// differ because a caller in a burst would otherwise send a used-up token: GoTrue takes
    /// that as reuse, and may revoke the session or answer with the parent's child, and the
    /// answer would discard the refreshes in flight meanwhile (the session changed under them).
    fn refreshed_meanwhile(&self, key: &str) -> Option<Session> {
        let landed = self.inner.landed.lock().unwrap_or_else(|p| p.into_inner());
        if !landed.used_up(key) {
            return None;
        }
        self.current_session()
            .filter(|current| token_key(&current.refresh_token) == landed.produced())
    }

    /// A definitive rejection while the access token still works: auth-js keeps the session
    /// (it is removed by the first refresh attempted after the access token has expired, not by
    /// a timer, and not by a failure answered from the cooldown). The inspector keeps it too,
    /// marks it and says so.
    ///
    /// Where this client differs from auth-js on purpose: auth-js ends an expired session
    /// after any failure that is not retryable (a 429, a 409, a wrong URL's 404 included);
    /// here only GoTrue's codes that refuse the refresh token for good do
    /// (`protocol::SESSION_ENDING_CODES`), so a 429 never costs the session.
    fn mark_rejected(&self, session: &Session, error: &AuthError) {
        let rejection = RefreshRejection {
            code: error.code().unwrap_or_default().to_string(),
            status: error.status().unwrap_or_default(),
            message: error.to_string(),
            at: self.inner.config.clock.now(),
            access_token_expires_at: session.expires_at,
            refresh_token_fingerprint: fingerprint(&session.refresh_token),
        };
        tracing::warn!(
            refresh_token = %rejection.refresh_token_fingerprint,
            "{}",
            rejection.describe()
        );
        *self
            .inner
            .rejection
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(rejection.clone());
        self.inner.bus.emit(AuthEvent {
            kind: AuthEventKind::RefreshRejected,
            previous: None,
            session: Some(session.clone()),
            at: rejection.at,
            reason: Some(rejection.code.clone()),
            exchange_id: None,
            rejection: Some(rejection),
            cause: None,
        });
    }

    /// auth-js's loop: attempt n waits 200·2ⁿ⁻¹ ms first; only retryable failures are
    /// retried, and only while the next wait still fits in the retry budget. A failure comes
    /// with the last attempt's exchange, when one was recorded.
    async fn post_refresh_with_retries(
        &self,
        token: &str,
    ) -> Result<(Session, Option<u64>), (AuthError, Option<u64>)> {
        let started = Instant::now();
        let body = json!({"refresh_token": token});
        let mut attempt: u32 = 0;
        loop {
            if attempt > 0 {
                tokio::time::sleep(backoff(attempt - 1)).await;
            }
            let call = Call {
                method: Method::POST,
                path: "/token",
                query: &[("grant_type", "refresh_token")],
                body: Some(&body),
                bearer: None,
            };
            let (result, exchange_id) = self.inner.http.send_recorded(call).await;
            match result {
                Ok(answer) => {
                    let session = session_from_token_response(&answer.body, self.now_secs())
                        .map_err(|error| (error, Some(exchange_id)))?;
                    return Ok((session, Some(exchange_id)));
                }
                Err(error) if error.is_retryable() => {
                    let next_wait = backoff(attempt);
                    if started.elapsed() + next_wait >= self.inner.config.retry_budget {
                        return Err((error, Some(exchange_id)));
                    }
                    attempt += 1;
                }
                Err(error) => return Err((error, Some(exchange_id))),
            }
        }
    }
}

/// Whether a failure remembered for a token answers `caller` without a request: always for the
/// auto-refresh (as auth-js), only a 429 for an explicit `refresh_session` (a rate limiter is
/// not pressed again; anything else goes out again, as the contract says).
fn answered_from_memory(caller: Caller, error: &AuthError) -> bool {
    caller == Caller::Automatic || error.status() == Some(429)
}

#[cfg(test)]
mod tests {
    use local_gotrue::{Config, DemoUser};

    use super::*;
    use crate::{ClientConfig, Credentials, MemoryStore};

    #[tokio::test]
    async fn a_caller_that_read_the_token_before_its_refresh_landed_shares_that_refresh() {
        let (email, password) = ("late@example.com", "late-password");
        let server = local_gotrue::start(Config {
            demo_user: Some(DemoUser {
                email: email.into(),
                password: password.into(),
            }),
            ..Config::default()
        })
        .await
        .unwrap();
        let client = AuthClient::new(
            ClientConfig::new(server.url(), server.anon_key()),
            Arc::new(MemoryStore::new()),
            "late",
        )
        .await
        .unwrap();
        client
            .sign_in_with_password(Credentials::Email {
                email: email.into(),
                password: password.into(),
            })
            .await
            .unwrap();
        let read_before = client.current_refresh_token().unwrap();
        let landed = client.refresh_session(None).await.unwrap();
        let requests = client.recorder().recent().len();

        // The caller read the token before that refresh landed and reaches the flights after
        // it left them: it shares it, without a request of its own.
        let late = client
            .call_refresh_token(
                &read_before,
                Caller::Explicit,
                TokenSource::Current,
                Cause::RefreshNow,
            )
            .await
            .unwrap();
        assert!(late.joined);
        assert_eq!(late.response.session, landed.response.session);
        assert_eq!(
            client.recorder().recent().len(),
            requests,
            "no second request"
        );

        // Two refreshes behind, the same.
        let again = client.refresh_session(None).await.unwrap();
        let requests = client.recorder().recent().len();
        let later = client
            .call_refresh_token(
                &read_before,
                Caller::Explicit,
                TokenSource::Current,
                Cause::RefreshNow,
            )
            .await
            .unwrap();
        assert!(later.joined);
        assert_eq!(later.response.session, again.response.session);
        assert_eq!(
            client.recorder().recent().len(),
            requests,
            "no request either"
        );

        // A token handed in (a paste) is always sent, even one already used up.
        let _ = client
            .call_refresh_token(
                &read_before,
                Caller::Explicit,
                TokenSource::Given,
                Cause::Paste,
            )
            .await;
        assert_eq!(client.recorder().recent().len(), requests + 1);
        server.shutdown();
    }

    /// A client signed in to a fresh demo server, with its memory store at hand.
    async fn signed_in(name: &str) -> (local_gotrue::Server, AuthClient, Arc<MemoryStore>) {
        let (email, password) = (format!("{name}@example.com"), format!("{name}-password"));
        let server = local_gotrue::start(Config {
            demo_user: Some(DemoUser {
                email: email.clone(),
                password: password.clone(),
            }),
            ..Config::default()
        })
        .await
        .unwrap();
        let store = Arc::new(MemoryStore::new());
        let client = AuthClient::new(
            ClientConfig::new(server.url(), server.anon_key()),
            store.clone(),
            name,
        )
        .await
        .unwrap();
        client
            .sign_in_with_password(Credentials::Email {
                email,
                password: password.into(),
            })
            .await
            .unwrap();
        (server, client, store)
    }

    #[tokio::test]
    async fn the_refreshes_that_landed_are_forgotten_when_the_session_ends() {
        let forgotten =
            |client: &AuthClient| client.inner.landed.lock().unwrap().produced().is_empty();
        let (server, client, _) = signed_in("ended").await;
        client.refresh_session(None).await.unwrap();
        assert!(!forgotten(&client));
        client.end_session_now().await;
        assert!(forgotten(&client), "end_session_now");

        client
            .sign_in_with_password(Credentials::Email {
                email: "ended@example.com".into(),
                password: "ended-password".into(),
            })
            .await
            .unwrap();
        client.refresh_session(None).await.unwrap();
        assert!(!forgotten(&client));
        client.sign_out(crate::SignOutScope::Local).await.unwrap();
        assert!(forgotten(&client), "sign_out");
        server.shutdown();
    }

    #[tokio::test]
    async fn a_refresh_whose_save_failed_is_not_shared_with_a_late_caller() {
        let (server, client, store) = signed_in("unsaved").await;
        let read_before = client.current_refresh_token().unwrap();
        store.set_failing(Some("keyring locked"));
        assert!(client.refresh_session(None).await.is_err());
        let requests = client.recorder().recent().len();

        // The late caller is not handed the unsaved session as a success: it sends its own
        // request (the store still fails, so it gets the error).
        let late = client
            .call_refresh_token(
                &read_before,
                Caller::Explicit,
                TokenSource::Current,
                Cause::RefreshNow,
            )
            .await;
        assert!(late.is_err(), "an unsaved session shared as Ok: {late:?}");
        assert_eq!(client.recorder().recent().len(), requests + 1);
        server.shutdown();
    }
}
