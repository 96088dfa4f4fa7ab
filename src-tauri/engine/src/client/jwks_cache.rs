//! The project's JWKS, cached as auth-js caches it (`JWKS_TTL`, 10 minutes), and fetched again
//! at once when a token names a `kid` the cached set lacks, as auth-js `fetchJwk` does, so a
//! signing key rotated in the meantime verifies instead of being "not in the JWKS" until the
//! cache expires.
//!
//! auth-js refetches for every unknown `kid`, with no limit: a token with a made-up `kid`
//! costs a request each time it is checked. Two guards here keep that bounded without delaying
//! a real rotation: a `kid` still missing after a fetch is remembered as missing until the
//! next fetch (checking the same token again costs nothing), and concurrent checks share one
//! fetch (a check that waited for another's fetch uses its result); and at most
//! `MISS_FETCHES_MAX` fetches are made for unknown `kid`s within one TTL, after which they wait
//! for the set to expire. A real rotation needs one such fetch; a stream of made-up `kid`s gets
//! a handful per 10 minutes instead of one per check. No minimum gap between fetches: it would
//! report a key rotated just after a fetch as unknown, the very thing this module prevents.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::AuthError;
use crate::tokens::Jwks;

/// How long a fetched JWKS is trusted (auth-js's `JWKS_TTL`).
pub const JWKS_TTL: Duration = Duration::from_secs(600);

/// How many fetches unknown `kid`s may cause between two fetches made because the set expired.
const MISS_FETCHES_MAX: u32 = 8;

/// How many unknown `kid`s one fetched set remembers.
const MISSING_KIDS_MAX: usize = 64;

#[derive(Default)]
pub(crate) struct JwksCache {
    held: Mutex<Option<Held>>,
    /// Held while a fetch runs: one fetch at a time, the others wait and reuse it.
    fetching: tokio::sync::Mutex<()>,
}

struct Held {
    fetched: Instant,
    jwks: Jwks,
    /// Counts fetches, so a waiter can tell that one happened while it waited.
    generation: u64,
    /// `kid`s looked for in this set and not found.
    missing: HashSet<String>,
    /// Fetches made for unknown `kid`s since the last fetch made because the set expired.
    miss_fetches: u32,
}

impl Held {
    /// The set answers for `kid` without a fetch: fresh, and the `kid` is in it, or already
    /// known to be missing from it, or the fetches allowed for unknown `kid`s are used up.
    fn answers(&self, kid: Option<&str>) -> bool {
        self.fetched.elapsed() < JWKS_TTL
            && kid.is_none_or(|kid| {
                self.jwks.has_kid(kid)
                    || self.missing.contains(kid)
                    || self.miss_fetches >= MISS_FETCHES_MAX
            })
    }

    fn note_missing(&mut self, kid: Option<&str>) {
        if let Some(kid) = kid.filter(|kid| !self.jwks.has_kid(kid)) {
            if self.missing.len() < MISSING_KIDS_MAX {
                self.missing.insert(kid.to_string());
            }
        }
    }
}

impl JwksCache {
    /// The key set to check a token naming `kid` against: the cached one when it answers,
    /// otherwise the result of `fetch` (stored for the next callers).
    pub(crate) async fn key_set<F, Fut>(
        &self,
        kid: Option<&str>,
        fetch: F,
    ) -> Result<Jwks, AuthError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Jwks, AuthError>>,
    {
        let seen = match self.cached(kid) {
            Ok(jwks) => return Ok(jwks),
            Err(generation) => generation,
        };
        let _turn = self.fetching.lock().await;
        // Someone else fetched while this caller waited: that set is as new as a fetch now.
        {
            let mut held = self.lock();
            if let Some(held) = held.as_mut().filter(|h| Some(h.generation) != seen) {
                if held.fetched.elapsed() < JWKS_TTL {
                    held.note_missing(kid);
                    return Ok(held.jwks.clone());
                }
            }
        }
        let jwks = fetch().await?;
        let mut held = self.lock();
        let generation = held.as_ref().map_or(0, |h| h.generation + 1);
        // A fetch while the set is still fresh was caused by an unknown kid.
        let miss_fetches = held
            .as_ref()
            .filter(|h| h.fetched.elapsed() < JWKS_TTL)
            .map_or(0, |h| h.miss_fetches + 1);
        let fresh = held.insert(Held {
            fetched: Instant::now(),
            jwks,
            generation,
            missing: HashSet::new(),
            miss_fetches,
        });
        fresh.note_missing(kid);
        tracing::debug!(
            keys = fresh.jwks.keys.len(),
            generation,
            "fetched the project's JWKS"
        );
        Ok(fresh.jwks.clone())
    }

    /// The cached set if it answers for `kid`, else the generation of what is held (if any).
    fn cached(&self, kid: Option<&str>) -> Result<Jwks, Option<u64>> {
        match &*self.lock() {
            Some(held) if held.answers(kid) => Ok(held.jwks.clone()),
            Some(held) => Err(Some(held.generation)),
            None => Err(None),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Held>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::tokens::Jwk;

    fn set(kids: &[&str]) -> Jwks {
        Jwks {
            keys: kids
                .iter()
                .map(|kid| Jwk {
                    kty: "EC".into(),
                    kid: Some(kid.to_string()),
                    alg: None,
                    key_use: None,
                    crv: None,
                    x: None,
                    y: None,
                    n: None,
                    e: None,
                })
                .collect(),
        }
    }

    /// Looks `kid` up, counting fetches; the server publishes `published`.
    async fn look(cache: &JwksCache, fetches: &AtomicUsize, kid: Option<&str>, published: &[&str]) {
        cache
            .key_set(kid, || async {
                fetches.fetch_add(1, Ordering::SeqCst);
                Ok(set(published))
            })
            .await
            .unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_fresh_set_answers_until_the_ttl_then_it_is_fetched_again() {
        let (cache, fetches) = (JwksCache::default(), AtomicUsize::new(0));
        look(&cache, &fetches, Some("a"), &["a"]).await;
        look(&cache, &fetches, None, &["a"]).await;
        tokio::time::advance(JWKS_TTL - Duration::from_secs(1)).await;
        look(&cache, &fetches, Some("a"), &["a"]).await;
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        tokio::time::advance(Duration::from_secs(1)).await;
        look(&cache, &fetches, Some("a"), &["a"]).await;
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn unknown_kids_cause_a_bounded_number_of_fetches_per_ttl() {
        let (cache, fetches) = (JwksCache::default(), AtomicUsize::new(0));
        look(&cache, &fetches, Some("a"), &["a"]).await;
        look(&cache, &fetches, Some("x"), &["a"]).await;
        look(&cache, &fetches, Some("x"), &["a"]).await;
        assert_eq!(
            fetches.load(Ordering::SeqCst),
            2,
            "x is remembered as missing"
        );
        for n in 0..100 {
            look(&cache, &fetches, Some(&format!("k{n}")), &["a"]).await;
        }
        let bound = 1 + MISS_FETCHES_MAX as usize;
        assert_eq!(
            fetches.load(Ordering::SeqCst),
            bound,
            "made-up kids wait for the TTL"
        );
        tokio::time::advance(JWKS_TTL).await;
        look(&cache, &fetches, Some("new"), &["a", "new"]).await;
        look(&cache, &fetches, Some("newer"), &["a", "new", "newer"]).await;
        assert_eq!(
            fetches.load(Ordering::SeqCst),
            bound + 2,
            "a new window after expiry"
        );
    }
}
