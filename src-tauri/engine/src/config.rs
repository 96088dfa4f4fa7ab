//! How to reach a project: its URL and API key, timeouts and the refresh policy.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use url::Url;

use crate::clock::{self, Clock};
use crate::error::AuthError;
use crate::protocol::{DEFAULT_EXPIRY_MARGIN, REFRESH_FAILURE_COOLDOWN};

#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The project URL (`https://<ref>.supabase.co`); `/auth/v1` is joined onto it.
    pub project_url: String,
    /// The anon (or publishable) key, sent as `apikey`.
    pub api_key: String,
    /// Plain http to a non-loopback host is refused unless this is set.
    pub allow_insecure_http: bool,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// `get_session` refreshes when the access token has this little time left.
    pub refresh_margin: Duration,
    /// Retryable failures are retried with backoff 200·2ⁿ ms while the total stays inside this.
    pub retry_budget: Duration,
    /// After a failed refresh, the same refresh token is not sent again for this long (the
    /// failure is answered from memory).
    pub refresh_failure_cooldown: Duration,
    pub client_info: String,
    /// Wall time, for comparing with `expires_at` (tests inject tokio's paused clock).
    pub clock: Arc<dyn Clock>,
}

impl ClientConfig {
    pub fn new(project_url: impl Into<String>, api_key: impl Into<String>) -> ClientConfig {
        ClientConfig {
            project_url: project_url.into(),
            api_key: api_key.into(),
            allow_insecure_http: false,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(15),
            refresh_margin: DEFAULT_EXPIRY_MARGIN,
            retry_budget: Duration::from_secs(30),
            refresh_failure_cooldown: REFRESH_FAILURE_COOLDOWN,
            client_info: concat!("session-inspector/", env!("CARGO_PKG_VERSION")).to_string(),
            clock: clock::system(),
        }
    }

    /// The GoTrue base URL: the project URL with `/auth/v1` joined as supabase-js joins it
    /// (trailing slashes tolerated; a URL that already ends in `/auth/v1` is kept).
    pub fn auth_url(&self) -> Result<Url, AuthError> {
        let trimmed = self.project_url.trim().trim_end_matches('/');
        let invalid = |why: &str| AuthError::InvalidInput(format!("project URL {trimmed:?} {why}"));
        let mut url = Url::parse(trimmed).map_err(|_| invalid("is not a URL"))?;
        let host = url
            .host_str()
            .ok_or_else(|| invalid("has no host"))?
            .to_string();
        match url.scheme() {
            "https" => {}
            "http" if self.allow_insecure_http || is_loopback(&host) => {}
            "http" => {
                return Err(invalid(
                    "must use https (plain http is only for loopback addresses)",
                ))
            }
            _ => return Err(invalid("must be an http(s) URL")),
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("must not have a query or fragment"));
        }
        if !url.path().ends_with("/auth/v1") {
            let path = format!("{}/auth/v1", url.path().trim_end_matches('/'));
            url.set_path(&path);
        }
        Ok(url)
    }
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth_url(url: &str) -> Result<String, AuthError> {
        ClientConfig::new(url, "k")
            .auth_url()
            .map(|u| u.to_string())
    }

    #[test]
    fn auth_v1_is_joined_and_trailing_slashes_tolerated() {
        assert_eq!(
            auth_url("https://abc.supabase.co").unwrap(),
            "https://abc.supabase.co/auth/v1"
        );
        assert_eq!(
            auth_url(" https://abc.supabase.co// ").unwrap(),
            "https://abc.supabase.co/auth/v1"
        );
        assert_eq!(
            auth_url("https://abc.supabase.co/auth/v1/").unwrap(),
            "https://abc.supabase.co/auth/v1"
        );
    }

    #[test]
    fn plain_http_is_only_for_loopback_unless_allowed() {
        assert!(auth_url("http://127.0.0.1:54321").is_ok());
        assert!(auth_url("http://localhost:54321").is_ok());
        assert!(auth_url("http://[::1]:9999").is_ok());
        assert!(matches!(
            auth_url("http://example.com"),
            Err(AuthError::InvalidInput(_))
        ));
        let mut config = ClientConfig::new("http://example.com", "k");
        config.allow_insecure_http = true;
        assert!(config.auth_url().is_ok());
        assert!(auth_url("ftp://example.com").is_err());
        assert!(auth_url("not a url").is_err());
    }
}
