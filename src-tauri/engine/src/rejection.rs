//! A refresh token the server refused for good while its access token still works. Current
//! auth-js keeps such a session (the access token is still a valid credential) and removes it
//! only when a refresh attempted after the access token's expiry fails too; until then the
//! session lives on, unmarked, in an app. The inspector marks it instead, so its user sees
//! what is coming and can end it at once.

use chrono::{DateTime, SecondsFormat, Utc};

/// Why the current session's refresh token cannot be used again, and how long the session
/// still works. Never a token: the refused refresh token appears as its fingerprint.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshRejection {
    /// GoTrue's error code (one of `protocol::SESSION_ENDING_CODES`).
    pub code: String,
    pub status: u16,
    /// The server's message, as the engine redacted it.
    pub message: String,
    /// When the server refused the token, by the client's clock.
    pub at: DateTime<Utc>,
    /// The kept access token's `exp` (Unix seconds): it works until then.
    pub access_token_expires_at: i64,
    pub refresh_token_fingerprint: String,
}

impl RefreshRejection {
    /// The access token's expiry as a time (the Unix epoch for a time chrono cannot hold).
    pub fn access_token_works_until(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.access_token_expires_at, 0).unwrap_or_default()
    }

    /// One line for the log and the session card.
    pub fn describe(&self) -> String {
        format!(
            "refresh token rejected: {}; this access token still works until {}; then a supabase-js app signs out",
            self.code,
            self.access_token_works_until()
                .to_rfc3339_opts(SecondsFormat::Secs, true)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_description_names_the_code_and_the_access_tokens_expiry() {
        let rejection = RefreshRejection {
            code: "refresh_token_not_found".into(),
            status: 400,
            message: "Invalid Refresh Token: Refresh Token Not Found".into(),
            at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            access_token_expires_at: 1_700_003_600,
            refresh_token_fingerprint: "ab12".into(),
        };
        assert_eq!(
            rejection.describe(),
            "refresh token rejected: refresh_token_not_found; this access token still works \
             until 2023-11-14T23:13:20Z; then a supabase-js app signs out"
        );
    }
}
