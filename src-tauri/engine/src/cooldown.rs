//! The refresh failure cooldown (auth-js `lastRefreshFailure`): after a refresh with a token
//! fails, whatever the failure, that token is not sent again until the cooldown has passed;
//! the same failure is answered from here instead. A token that has not failed goes out as
//! usual. auth-js keeps one slot (the last failure); this keeps one per token, so a paste that
//! fails does not lift the cooldown of the current session's token. Time is tokio's, so the
//! cooldown is tested in paused time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::AuthError;

pub(crate) struct Cooldowns {
    length: Duration,
    until: Mutex<HashMap<String, (Instant, AuthError)>>,
}

impl Cooldowns {
    pub fn new(length: Duration) -> Cooldowns {
        Cooldowns {
            length,
            until: Mutex::default(),
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, AuthError)>> {
        self.until.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts the cooldown for `token` with the failure it met.
    pub fn start(&self, token: &str, error: AuthError) {
        let until = Instant::now() + self.length;
        self.map().insert(token.to_string(), (until, error));
    }

    /// When `token`'s cooldown ends, if it is cooling down.
    pub fn until(&self, token: &str) -> Option<Instant> {
        self.map()
            .get(token)
            .map(|(until, _)| *until)
            .filter(|until| *until > Instant::now())
    }

    /// The remembered failure while `token` is cooling down; `None` once the cooldown has
    /// passed.
    pub fn check(&self, token: &str) -> Option<AuthError> {
        let mut map = self.map();
        match map.get(token) {
            Some((until, error)) if *until > Instant::now() => Some(error.clone()),
            Some(_) => {
                map.remove(token);
                None
            }
            None => None,
        }
    }

    /// A new session makes every earlier failure irrelevant (auth-js clears its memory on
    /// every successful refresh or sign-in).
    pub fn clear(&self) {
        self.map().clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate_limited() -> AuthError {
        AuthError::Api {
            status: 429,
            code: Some("over_request_rate_limit".into()),
            message: "Request rate limit reached".into(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_cooldown_answers_until_it_has_passed_then_forgets() {
        let cooldowns = Cooldowns::new(Duration::from_secs(60));
        cooldowns.start("rt-1", rate_limited());
        assert_eq!(cooldowns.check("rt-1"), Some(rate_limited()));
        assert_eq!(cooldowns.check("rt-2"), None, "per token");
        let until = cooldowns.until("rt-1").expect("cooling down");
        assert_eq!(until - Instant::now(), Duration::from_secs(60));
        tokio::time::advance(Duration::from_millis(59_999)).await;
        assert!(
            cooldowns.check("rt-1").is_some(),
            "still cooling at 59.999 s"
        );
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(cooldowns.check("rt-1"), None, "over at 60 s");
        assert_eq!(cooldowns.until("rt-1"), None);
    }

    #[tokio::test(start_paused = true)]
    async fn clearing_ends_every_cooldown() {
        let cooldowns = Cooldowns::new(Duration::from_secs(60));
        cooldowns.start("rt-1", rate_limited());
        cooldowns.clear();
        assert_eq!(cooldowns.check("rt-1"), None);
    }
}
