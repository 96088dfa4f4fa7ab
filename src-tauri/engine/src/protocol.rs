//! GoTrue protocol facts the engine relies on, each written once. The app and the window take
//! them from here (the window through the app's IPC), never from a copy.

use std::ops::RangeInclusive;
use std::time::Duration;

/// The `X-Supabase-Api-Version` auth-js sends on every request; on or after this date GoTrue
/// answers errors in the `{code, message}` envelope.
pub const API_VERSION: &str = "2024-01-01";

/// GoTrue codes after which a refresh token can never work again: the session is over.
pub const SESSION_ENDING_CODES: [&str; 5] = [
    "refresh_token_not_found",
    "refresh_token_already_used",
    "session_expired",
    "session_not_found",
    "user_banned",
];

pub fn is_session_ending_code(code: &str) -> bool {
    SESSION_ENDING_CODES.contains(&code)
}

/// HTTP statuses auth-js treats as transient (current generation: 500–504 and Cloudflare's
/// 520–530).
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 500..=504 | 520..=530)
}

/// `get_session` refreshes when the access token has this little time left: `EXPIRY_MARGIN`
/// of the Ruby client the contract follows (and of supabase-py).
pub const DEFAULT_EXPIRY_MARGIN: Duration = Duration::from_secs(10);

/// After a refresh fails, the same refresh token is not sent again for this long: the failure
/// is answered from memory instead (auth-js `REFRESH_FAILURE_COOLDOWN_MS`, two of its 30 s
/// auto-refresh ticks). Every failure counts, a rejection, a 429 or a network error alike.
pub const REFRESH_FAILURE_COOLDOWN: Duration = Duration::from_secs(60);

/// What the auto-refresh margin may be set to, in seconds.
pub const AUTO_REFRESH_MARGIN_SECS: RangeInclusive<u64> = 5..=3600;

/// The loopback address `supabase start` serves its API gateway on.
pub const LOCAL_STACK_URL: &str = "http://127.0.0.1:54321";

/// The anon key every `supabase start` stack is created with: a public, documented demo key
/// signed with the local stack's default secret. Not a credential of any real project.
pub const LOCAL_STACK_ANON_KEY: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0";

/// Authenticator assurance levels (the access token's `aal`): a first factor only, or a
/// second one verified in this session.
pub const AAL1: &str = "aal1";
pub const AAL2: &str = "aal2";

/// A factor's `status` once a challenge of it has been verified (before: `unverified`).
pub const FACTOR_VERIFIED: &str = "verified";

/// The TOTP factor's `factor_type`.
pub const FACTOR_TYPE_TOTP: &str = "totp";

/// How long an OAuth sign-in waits for the browser to come back to the loopback listener:
/// GoTrue's flow state lives 300 s (`FLOW_STATE_EXPIRY_DURATION`), so a later callback could
/// not be exchanged anyway.
pub const OAUTH_CALLBACK_TIMEOUT: Duration = Duration::from_secs(300);

/// The reuse interval hosted Supabase projects and the Supabase CLI run with
/// (`GOTRUE_SECURITY_REFRESH_TOKEN_REUSE_INTERVAL`; the GoTrue binary's own default is 0). A
/// project's value cannot be read by a client, so this is what a prediction assumes.
pub const HOSTED_REUSE_INTERVAL: Duration = Duration::from_secs(10);

/// The code GoTrue answers a refresh token reused outside the reuse interval with.
pub const REFRESH_TOKEN_ALREADY_USED: &str = "refresh_token_already_used";

/// A used-up legacy refresh token (not the parent of the active one) is still accepted, and
/// swapped for a new child, while `now <= used_at + interval` (`tokens/service.go`: refused
/// only when now is after `updated_at + interval`; the boundary itself is inside).
pub fn legacy_reuse_tolerated(
    used_at: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
    interval: Duration,
) -> bool {
    legacy_reuse_until(used_at, interval).is_none_or(|until| now <= until)
}

/// The last instant a legacy token used at `used_at` is tolerated; None when that lies past
/// the calendar (the tolerance never ends).
pub fn legacy_reuse_until(
    used_at: chrono::DateTime<chrono::Utc>,
    interval: Duration,
) -> Option<chrono::DateTime<chrono::Utc>> {
    interval_end(used_at, interval)
}

/// `from + interval`, or None when it overflows the calendar.
fn interval_end(
    from: chrono::DateTime<chrono::Utc>,
    interval: Duration,
) -> Option<chrono::DateTime<chrono::Utc>> {
    from.checked_add_signed(chrono::Duration::from_std(interval).ok()?)
}

/// A v2 refresh token this many counter steps behind its session is taken for an answer the
/// client failed to save: the session's current token is issued again, however late.
pub const V2_FAILED_SAVE_DISTANCE: u64 = 1;

/// A v2 token further behind is tolerated (as a concurrent refresh) only while the session's
/// last refresh was strictly less than the interval ago (`|now - last_refreshed| < interval`);
/// otherwise, with rotation on, the whole session is deleted.
pub fn v2_reuse_tolerated(
    last_refreshed: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
    interval: Duration,
) -> bool {
    let since = (now - last_refreshed).abs();
    match chrono::Duration::from_std(interval) {
        Ok(interval) => since < interval,
        Err(_) => true,
    }
}

/// The first instant a v2 token further behind is no longer tolerated (the end is outside);
/// None when that lies past the calendar.
pub fn v2_reuse_until(
    last_refreshed: chrono::DateTime<chrono::Utc>,
    interval: Duration,
) -> Option<chrono::DateTime<chrono::Utc>> {
    interval_end(last_refreshed, interval)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_statuses_are_the_current_auth_js_set() {
        for status in [500, 502, 503, 504, 520, 530] {
            assert!(is_retryable_status(status), "{status}");
        }
        for status in [400, 401, 403, 409, 429, 505, 519, 531] {
            assert!(!is_retryable_status(status), "{status}");
        }
    }

    #[test]
    fn the_legacy_interval_includes_its_end_and_the_v2_interval_does_not() {
        let used = chrono::DateTime::from_timestamp(1_000, 0).unwrap();
        let ten = Duration::from_secs(10);
        let at = |ms: i64| used + chrono::Duration::milliseconds(ms);
        assert!(legacy_reuse_tolerated(used, at(10_000), ten));
        assert!(!legacy_reuse_tolerated(used, at(10_001), ten));
        assert!(v2_reuse_tolerated(used, at(9_999), ten));
        assert!(!v2_reuse_tolerated(used, at(10_000), ten));
        // A zero interval (the GoTrue binary's default) tolerates only the same instant.
        assert!(legacy_reuse_tolerated(used, used, Duration::ZERO));
        assert!(!v2_reuse_tolerated(used, used, Duration::ZERO));
    }
}
