//! The engine's idea of "now", injectable so that timers are tested in paused time.
//!
//! Waiting is always done with `tokio::time` (sleeps, deadlines, the refresh failure cooldown
//! and the JWKS age use `tokio::time::Instant`), so `tokio::time::pause` and `advance` drive it
//! in tests.
//! Comparing with a token's `expires_at` needs wall time, which tokio does not pause: that is
//! this trait. Production uses the system clock (it follows suspend, resume and NTP); tests
//! use [`TokioClock`], wall time that moves only as tokio's clock moves.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};

pub trait Clock: Send + Sync + fmt::Debug + 'static {
    fn now(&self) -> DateTime<Utc>;

    /// Unix seconds, as `expires_at` counts them.
    fn unix_secs(&self) -> i64 {
        self.now().timestamp()
    }
}

/// The operating system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Wall time that starts at the system time when created and then advances only with
/// `tokio::time::Instant`: in a paused runtime it stands still until `advance` moves it.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    wall: DateTime<Utc>,
    start: tokio::time::Instant,
}

impl TokioClock {
    pub fn new() -> TokioClock {
        TokioClock {
            wall: Utc::now(),
            start: tokio::time::Instant::now(),
        }
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        TokioClock::new()
    }
}

impl Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = tokio::time::Instant::now() - self.start;
        self.wall + chrono::Duration::from_std(elapsed).unwrap_or(chrono::Duration::MAX)
    }
}

pub fn system() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn the_tokio_clock_moves_only_with_tokio_time() {
        let clock = TokioClock::new();
        let before = clock.now();
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(clock.now(), before, "paused: real time does not move it");
        tokio::time::advance(Duration::from_secs(90)).await;
        assert_eq!((clock.now() - before).num_seconds(), 90);
    }
}
