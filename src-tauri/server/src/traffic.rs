//! What shapes traffic rather than answers it: the `/token` rate limiter, injected faults,
//! per-route request counters and the per-session refresh locks.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

// tokio's clock (the system's, unless a test pauses it), so that the limiter's refill can be
// tested in paused time.
use tokio::time::Instant;

use serde::{Deserialize, Serialize};

use crate::config::RateLimit;

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A token bucket per client IP, like GoTrue's limiter: `per_five_minutes / 300` tokens a
/// second, holding at most `burst`.
pub struct RateLimiter {
    limit: Mutex<Option<RateLimit>>,
    buckets: Buckets,
    anonymous: Buckets,
}

/// GoTrue's `RATE_LIMIT_ANONYMOUS_USERS`: 30 anonymous sign-ups an hour per client, all of
/// them at once at most. Applied whenever rate limiting is on.
pub const ANONYMOUS_SIGN_UPS_PER_HOUR: u32 = 30;

/// Token buckets keyed by client IP.
#[derive(Default)]
struct Buckets(Mutex<HashMap<IpAddr, (f64, Instant)>>);

impl Buckets {
    /// Takes one token for `ip` from a bucket refilled at `rate` a second, holding at most
    /// `burst`; false when it is empty.
    fn take(&self, ip: IpAddr, rate: f64, burst: f64) -> bool {
        let now = Instant::now();
        let mut buckets = lock(&self.0);
        let (tokens, last) = buckets.entry(ip).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * rate).min(burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }

    fn clear(&self) {
        lock(&self.0).clear();
    }
}

impl RateLimiter {
    pub fn new(limit: Option<RateLimit>) -> RateLimiter {
        RateLimiter {
            limit: Mutex::new(limit),
            buckets: Buckets::default(),
            anonymous: Buckets::default(),
        }
    }

    pub fn set(&self, limit: Option<RateLimit>) {
        *lock(&self.limit) = limit;
        self.buckets.clear();
        self.anonymous.clear();
    }

    pub fn current(&self) -> Option<RateLimit> {
        *lock(&self.limit)
    }

    /// Takes one token for `ip`; false when the bucket is empty.
    pub fn allow(&self, ip: IpAddr) -> bool {
        let Some(limit) = self.current() else {
            return true;
        };
        let rate = f64::from(limit.per_five_minutes) / 300.0;
        self.buckets.take(ip, rate, f64::from(limit.burst.max(1)))
    }

    /// Takes one anonymous sign-up for `ip` when rate limiting is on.
    pub fn allow_anonymous(&self, ip: IpAddr) -> bool {
        if self.current().is_none() {
            return true;
        }
        let per_hour = f64::from(ANONYMOUS_SIGN_UPS_PER_HOUR);
        self.anonymous.take(ip, per_hour / 3600.0, per_hour)
    }
}

/// The body an injected error carries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultBody {
    /// A GoTrue error envelope, shaped by the request's API version.
    #[default]
    Json,
    /// A proxy's HTML error page.
    Html,
    /// A JSON document cut off midway, with a JSON content type.
    Malformed,
    Empty,
}

/// What to do to the next `count` GoTrue requests whose path contains `path`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    #[serde(default = "one")]
    pub count: u32,
    #[serde(default)]
    pub path: Option<String>,
    /// Wait this long first (then answer normally unless another action is given).
    #[serde(default)]
    pub delay_ms: u64,
    /// Answer with this status instead of handling the request.
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub body: FaultBody,
    /// Close the connection without any answer.
    #[serde(default)]
    pub drop: bool,
}

fn one() -> u32 {
    1
}

#[derive(Default)]
pub struct Faults {
    queue: Mutex<VecDeque<Fault>>,
}

impl Faults {
    pub fn push(&self, fault: Fault) {
        if fault.count > 0 {
            lock(&self.queue).push_back(fault);
        }
    }

    pub fn clear(&self) {
        lock(&self.queue).clear();
    }

    pub fn pending(&self) -> Vec<Fault> {
        lock(&self.queue).iter().cloned().collect()
    }

    /// Consumes one use of the first queued fault that applies to `path`.
    pub fn take(&self, path: &str) -> Option<Fault> {
        let mut queue = lock(&self.queue);
        let index = queue
            .iter()
            .position(|f| f.path.as_deref().is_none_or(|p| path.contains(p)))?;
        let fault = queue.get_mut(index)?;
        fault.count -= 1;
        let taken = fault.clone();
        if fault.count == 0 {
            queue.remove(index);
        }
        Some(taken)
    }
}

/// The server "down": until a deadline every GoTrue request has its connection closed
/// without an answer (as a crashed or restarting server's would be), then it answers again
/// by itself. The control surface stays up.
#[derive(Default)]
pub struct Outage {
    until: Mutex<Option<Instant>>,
}

impl Outage {
    /// Down from now for `length` (replacing an outage in progress).
    pub fn start(&self, length: Duration) {
        *lock(&self.until) = Some(Instant::now() + length);
    }

    /// Up again now.
    pub fn end(&self) {
        *lock(&self.until) = None;
    }

    /// How long the server stays down; `None` when it is up.
    pub fn remaining(&self) -> Option<Duration> {
        let mut until = lock(&self.until);
        let left = until.map(|t| t.saturating_duration_since(Instant::now()));
        match left {
            Some(left) if !left.is_zero() => Some(left),
            _ => {
                *until = None;
                None
            }
        }
    }
}

/// Requests seen per route (`POST /token?grant_type=refresh_token` style keys).
#[derive(Default)]
pub struct RequestCounts {
    counts: Mutex<HashMap<String, u64>>,
}

impl RequestCounts {
    pub fn record(&self, key: String) {
        *lock(&self.counts).entry(key).or_default() += 1;
    }

    pub fn snapshot(&self) -> HashMap<String, u64> {
        lock(&self.counts).clone()
    }

    pub fn reset(&self) {
        lock(&self.counts).clear();
    }
}

/// One async lock per session: concurrent refreshes of a session run one at a time, and a
/// request that waits longer than GoTrue's 5 s retry loop gets 409 `conflict`.
#[derive(Default)]
pub struct SessionLocks {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

pub const CONTENTION_LIMIT: Duration = Duration::from_secs(5);

impl SessionLocks {
    pub async fn acquire(
        &self,
        session: &str,
        wait: Duration,
    ) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        let mutex = lock(&self.locks)
            .entry(session.to_string())
            .or_default()
            .clone();
        tokio::time::timeout(wait, mutex.lock_owned()).await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_the_burst_then_refuses() {
        let limiter = RateLimiter::new(Some(RateLimit {
            per_five_minutes: 150,
            burst: 30,
        }));
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        assert!((0..30).all(|_| limiter.allow(ip)));
        assert!(!limiter.allow(ip));
        assert!(
            limiter.allow("127.0.0.2".parse().unwrap()),
            "buckets are per IP"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_outage_ends_by_itself_at_its_deadline() {
        let outage = Outage::default();
        assert_eq!(outage.remaining(), None);
        outage.start(Duration::from_secs(10));
        assert_eq!(outage.remaining(), Some(Duration::from_secs(10)));
        tokio::time::advance(Duration::from_millis(9_999)).await;
        assert!(outage.remaining().is_some());
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(outage.remaining(), None);
        outage.start(Duration::from_secs(5));
        outage.end();
        assert_eq!(outage.remaining(), None);
    }

    #[test]
    fn faults_are_consumed_in_order_and_filtered_by_path() {
        let faults = Faults::default();
        faults.push(Fault {
            count: 2,
            path: Some("/token".into()),
            delay_ms: 0,
            status: Some(503),
            body: FaultBody::Json,
            drop: false,
        });
        assert!(faults.take("/user").is_none());
        assert_eq!(faults.take("/token").unwrap().status, Some(503));
        assert!(faults.take("/auth/v1/token").is_some());
        assert!(faults.take("/token").is_none());
    }
}
