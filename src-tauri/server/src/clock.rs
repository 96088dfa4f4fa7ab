//! The server's idea of "now": the system clock plus a skew tests can set, so a client's
//! handling of a server whose clock is off can be exercised without touching the OS clock.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Default)]
pub struct Clock {
    skew_ms: AtomicI64,
    /// Set for paused-time tests: the wall time at start and tokio's instant then.
    tokio_anchor: Option<(DateTime<Utc>, tokio::time::Instant)>,
}

impl Clock {
    /// A clock that starts at the system time and then moves only with `tokio::time`.
    pub fn following_tokio() -> Clock {
        Clock {
            skew_ms: AtomicI64::new(0),
            tokio_anchor: Some((Utc::now(), tokio::time::Instant::now())),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        let base = match self.tokio_anchor {
            Some((wall, start)) => {
                let elapsed = tokio::time::Instant::now() - start;
                wall + Duration::from_std(elapsed).unwrap_or(Duration::MAX)
            }
            None => Utc::now(),
        };
        base + Duration::milliseconds(self.skew_ms.load(Ordering::Relaxed))
    }

    pub fn set_skew_ms(&self, skew_ms: i64) {
        self.skew_ms.store(skew_ms, Ordering::Relaxed);
    }

    pub fn skew_ms(&self) -> i64 {
        self.skew_ms.load(Ordering::Relaxed)
    }
}

/// GoTrue's JSON timestamp format: RFC 3339, UTC, microseconds.
pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

pub fn from_micros(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}
