//! The 429 cooldown: after the server rate-limits a refresh token, that token is not sent
//! again until the cooldown has passed; the 429 is answered from here instead. (auth-js has no
//! such memory for 429s; sending the same token into a rate limit again only extends it.)
//! Time is tokio's, so the cooldown is tested in paused time.

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

    /// Starts the cooldown for `token` with the server's answer.
    pub fn start(&self, token: &str, error: AuthError) {
        let until = Instant::now() + self.length;
        self.map().insert(token.to_string(), (until, error));
    }

    /// The server's 429 while `token` is cooling down; `None` once the cooldown has passed.
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

    /// A new session makes every earlier rate limit irrelevant.
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
        tokio::time::advance(Duration::from_millis(59_999)).await;
        assert!(
            cooldowns.check("rt-1").is_some(),
            "still cooling at 59.999 s"
        );
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(cooldowns.check("rt-1"), None, "over at 60 s");
    }

    #[tokio::test(start_paused = true)]
    async fn clearing_ends_every_cooldown() {
        let cooldowns = Cooldowns::new(Duration::from_secs(60));
        cooldowns.start("rt-1", rate_limited());
        cooldowns.clear();
        assert_eq!(cooldowns.check("rt-1"), None);
    }
}
