//! The engine's one error type. Every variant says what happened in words a developer can act
//! on; the server's error code is kept whenever there was one.

use crate::protocol::is_session_ending_code;
use crate::storage::StorageError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AuthError {
    /// No refresh token was given and there is no current session (or the server answered
    /// without a session). Named after the Supabase clients' `AuthSessionMissing`.
    #[error("Auth session missing!")]
    SessionMissing,
    /// The server refused the request; `code` is GoTrue's error code when it sent one.
    #[error("{message}")]
    Api {
        status: u16,
        code: Option<String>,
        message: String,
    },
    /// The server could not be reached, timed out, or failed in a way worth retrying
    /// (status 0 for no answer at all).
    #[error("{message}")]
    RetryableFetch { status: u16, message: String },
    /// The server answered with a redirect. Redirects are never followed: the request would
    /// be sent again (with its token or password) to wherever the answer points.
    #[error("the auth server answered HTTP {status} redirecting to {location}; redirects are not followed, so nothing was sent there (check the project URL)")]
    Redirected { status: u16, location: String },
    /// The answer was larger than the engine reads; it was cut off and not used.
    #[error("the auth server's answer (HTTP {status}) is larger than {} MiB; reading stopped and the answer was not used", limit / (1024 * 1024))]
    ResponseTooLarge { status: u16, limit: usize },
    /// A 2xx answer that is not a usable session.
    #[error("the auth server's answer is not a valid session: {0}")]
    InvalidTokenResponse(String),
    /// The stored session changed while a refresh was in flight (a sign-out, a newer
    /// session), so the refresh's result was thrown away rather than overwrite it.
    #[error("the refreshed session was discarded: the stored session changed while the refresh was in flight")]
    RefreshDiscarded,
    #[error("session storage failed: {0}")]
    Storage(#[from] StorageError),
    #[error("{0}")]
    InvalidInput(String),
    /// A 2xx answer to an MFA call (enroll, challenge) that lacks what GoTrue sends.
    #[error("the auth server's MFA answer cannot be used: {0}")]
    InvalidMfaAnswer(String),
    /// The browser came back from the OAuth sign-in with an error instead of a code: the
    /// provider's (the person denied access) or GoTrue's (`code` is its error code then).
    #[error("the sign-in did not complete: {description}")]
    OAuthCallback {
        /// The OAuth `error` (`access_denied`, `invalid_request`, `server_error`, …).
        error: String,
        /// GoTrue's `error_code`, when GoTrue itself refused.
        code: Option<String>,
        /// What the provider or GoTrue said, in plain words.
        description: String,
    },
    /// Nobody came back to the sign-in listener in time (`protocol::OAUTH_CALLBACK_TIMEOUT`).
    #[error("the sign-in timed out: the browser did not come back within {} minutes; start it again", crate::protocol::OAUTH_CALLBACK_TIMEOUT.as_secs() / 60)]
    OAuthTimedOut,
    /// The sign-in was cancelled before the browser came back.
    #[error("the sign-in was cancelled")]
    OAuthCancelled,
    /// The loopback listener for the sign-in's callback could not be opened.
    #[error("cannot listen on 127.0.0.1 for the sign-in's callback: {0}")]
    OAuthListener(String),
    /// A sign-in link pasted from an email points at another server than the project's: its
    /// token was not sent anywhere.
    #[error("this link is for {link}, but the project is {project}; its token was not sent. Paste it into a profile of that project (a custom domain needs a profile with the URL the link uses)")]
    LinkForAnotherProject { link: String, project: String },
}

impl AuthError {
    pub fn code(&self) -> Option<&str> {
        match self {
            AuthError::Api { code, .. } | AuthError::OAuthCallback { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            AuthError::Api { status, .. }
            | AuthError::RetryableFetch { status, .. }
            | AuthError::Redirected { status, .. }
            | AuthError::ResponseTooLarge { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn is_retryable(&self) -> bool {
        matches!(self, AuthError::RetryableFetch { .. })
    }

    /// A definitive rejection of the refresh token: retrying cannot help.
    pub fn ends_session(&self) -> bool {
        self.code().is_some_and(is_session_ending_code)
    }

    /// A stable identifier for the UI and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            AuthError::SessionMissing => "sessionMissing",
            AuthError::Api { .. } => "api",
            AuthError::RetryableFetch { .. } => "retryableFetch",
            AuthError::Redirected { .. } => "redirected",
            AuthError::ResponseTooLarge { .. } => "responseTooLarge",
            AuthError::InvalidTokenResponse(_) => "invalidTokenResponse",
            AuthError::RefreshDiscarded => "refreshDiscarded",
            AuthError::Storage(_) => "storage",
            AuthError::InvalidInput(_) => "invalidInput",
            AuthError::InvalidMfaAnswer(_) => "invalidMfaAnswer",
            AuthError::OAuthCallback { .. } => "oauthCallback",
            AuthError::OAuthTimedOut => "oauthTimedOut",
            AuthError::OAuthCancelled => "oauthCancelled",
            AuthError::OAuthListener(_) => "oauthListener",
            AuthError::LinkForAnotherProject { .. } => "linkForAnotherProject",
        }
    }
}
