//! Auto-refresh: with the switch on, the session is refreshed `margin` before its access token
//! expires. The wait is recomputed whenever the session or the setting changes; after a
//! refresh at least `MIN_GAP` passes before the next, and after a failure `BACKOFF` or the
//! client's refresh failure cooldown, whichever is longer (its refreshes go through the
//! failure memory as auth-js's ticker does, so inside the cooldown an attempt would only be
//! answered with the remembered failure). Waiting uses `tokio::time` and "now" the
//! client's clock, so the schedule is tested in paused time.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::client::AuthClient;
use crate::error::AuthError;

/// After a failed automatic refresh, the next attempt waits at least this long.
pub const BACKOFF: Duration = Duration::from_secs(15);
/// Between two automatic refreshes at least this long passes, even when the margin is as long
/// as the tokens live (each new token would otherwise be due at once).
pub const MIN_GAP: Duration = Duration::from_secs(5);

/// The switch and its margin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    pub enabled: bool,
    pub margin: Duration,
}

/// What an automatic refresh came to, for whoever logs it.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Refreshed,
    /// It shared a refresh already in flight.
    Joined,
    Failed(AuthError),
}

/// The longest single wait: a hostile `expires_at` far in the future cannot overflow a timer.
const LONGEST_WAIT: Duration = Duration::from_secs(30 * 86_400);

/// How long until a session expiring at `expires_at` (Unix seconds) is due, `margin` early,
/// at `now`. Zero when already due; at most `LONGEST_WAIT` (then it is looked at again).
pub fn due_in(expires_at: i64, now: DateTime<Utc>, margin: Duration) -> Duration {
    let margin_ms = i64::try_from(margin.as_millis()).unwrap_or(i64::MAX);
    let left_ms = expires_at
        .saturating_mul(1000)
        .saturating_sub(now.timestamp_millis())
        .saturating_sub(margin_ms);
    Duration::from_millis(left_ms.max(0) as u64).min(LONGEST_WAIT)
}

/// Runs the schedule for `client` until `setting`'s sender is dropped (the profile stopped
/// being active). `report` hears every automatic refresh.
pub async fn run(
    client: AuthClient,
    mut setting: watch::Receiver<Setting>,
    report: impl Fn(Outcome) + Send,
) {
    let mut events = client.subscribe();
    let mut not_before = Instant::now();
    loop {
        let current = *setting.borrow_and_update();
        let due = client
            .current_session()
            .filter(|_| current.enabled)
            .map(|session| {
                let now = client.config().clock.now();
                (Instant::now() + due_in(session.expires_at, now, current.margin)).max(not_before)
            });
        tokio::select! {
            changed = setting.changed() => if changed.is_err() { return },
            event = events.next() => if event.is_none() { return },
            _ = sleep_until(due), if due.is_some() => {
                // The profile may have been switched away while this task slept.
                if setting.has_changed().is_err() {
                    return;
                }
                let outcome = match client.refresh_on_schedule().await {
                    Ok(refreshed) if refreshed.joined => Outcome::Joined,
                    Ok(_) => Outcome::Refreshed,
                    Err(error) => Outcome::Failed(error),
                };
                let failed = matches!(outcome, Outcome::Failed(_));
                not_before = Instant::now() + if failed { BACKOFF } else { MIN_GAP };
                if let Some(cooled) = client.refresh_cooldown_until().filter(|_| failed) {
                    not_before = not_before.max(cooled);
                }
                let pause = not_before - Instant::now();
                if let Outcome::Failed(error) = &outcome {
                    tracing::warn!(%error, "automatic refresh failed; next attempt in {} s at the earliest", pause.as_secs());
                }
                report(outcome);
            }
        }
    }
}

async fn sleep_until(due: Option<Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64, millis: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(secs * 1000 + millis).unwrap()
    }

    #[test]
    fn due_in_is_the_time_left_minus_the_margin_never_negative() {
        let margin = Duration::from_secs(10);
        assert_eq!(due_in(1_000, at(900, 0), margin), Duration::from_secs(90));
        assert_eq!(
            due_in(1_000, at(900, 250), margin),
            Duration::from_millis(89_750)
        );
        assert_eq!(due_in(1_000, at(990, 0), margin), Duration::ZERO);
        assert_eq!(due_in(1_000, at(2_000, 0), margin), Duration::ZERO);
        assert_eq!(due_in(i64::MIN, at(0, 0), Duration::MAX), Duration::ZERO);
        assert_eq!(due_in(i64::MAX, at(0, 0), margin), LONGEST_WAIT);
    }
}
