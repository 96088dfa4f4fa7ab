//! Refreshing: `get_session` (only near expiry) and `refresh_session` (always), one request
//! per refresh token at a time, retries with auth-js's backoff, the 429 cooldown, the guard
//! against overwriting a session that changed meanwhile, and the end of a session whose
//! refresh token is definitively rejected.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use tokio::time::Instant;

use super::AuthClient;
use crate::error::AuthError;
use crate::events::AuthEventKind;
use crate::http::Call;
use crate::session::{session_from_token_response, AuthResponse, Session};

/// The result of a refresh: the session, and whether this call joined another's request.
#[derive(Debug, Clone, PartialEq)]
pub struct Refreshed {
    pub response: AuthResponse,
    pub joined: bool,
}

pub(super) type RefreshOutcome = Result<(Session, Option<u64>), AuthError>;

/// auth-js's backoff: the wait before retry n + 1 is 200·2ⁿ ms.
fn backoff(retry: u32) -> Duration {
    Duration::from_millis(200u64 << retry.min(20))
}

impl AuthClient {
    /// The current session; refreshed first only when its access token expires within the
    /// refresh margin (10 s by default). A transient failure while the access token is still
    /// valid returns the session as it is.
    pub async fn get_session(&self) -> Result<Option<Session>, AuthError> {
        let Some(session) = self.current_session() else {
            return Ok(None);
        };
        // Saturating: a stored session from before times were range-checked cannot overflow.
        let left_ms = session
            .expires_at
            .saturating_mul(1000)
            .saturating_sub(self.inner.config.clock.now().timestamp_millis());
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
            Some(token) => token.into(),
            None => self
                .current_session()
                .map(|s| s.refresh_token)
                .ok_or(AuthError::SessionMissing)?,
        };
        self.call_refresh_token(&token).await
    }

    pub(super) async fn call_refresh_token(&self, token: &str) -> Result<Refreshed, AuthError> {
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
        if let Some(error) = self.inner.cooldowns.check(&token) {
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
                self.inner.cooldowns.clear();
                let persisted = self.persist(&session).await;
                self.set_current(Some(session.clone()));
                self.emit(
                    AuthEventKind::TokenRefreshed,
                    Some(session.clone()),
                    None,
                    exchange_id,
                );
                persisted.map(|_| (session, exchange_id))
            }
            Err(error) => {
                if error.status() == Some(429) {
                    self.inner.cooldowns.start(&token, error.clone());
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
                tokio::time::sleep(backoff(attempt - 1)).await;
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
                    let session = session_from_token_response(&answer.body, self.now_secs())?;
                    return Ok((session, Some(answer.exchange_id)));
                }
                Err(error) if error.is_retryable() => {
                    let next_wait = backoff(attempt);
                    if started.elapsed() + next_wait >= self.inner.config.retry_budget {
                        return Err(error);
                    }
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }
}
