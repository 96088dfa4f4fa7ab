//! The built-in demo: its own GoTrue-compatible server in the app's data folder, signing with
//! ES256 (as new Supabase projects do), short-lived tokens and manual identity linking on (a
//! playground: linking and unlinking from the window work), and its demo account.
//!
//! Everything the server gives the app goes through this module: starting it, its inbox, the
//! keyring name of its sessions. With the `demo` feature off (`--no-default-features`) the
//! same small API stands, without local-gotrue behind it: [`AVAILABLE`] is false, there is
//! never a [`Server`], and [`start`] says plainly that this build has none, so callers need
//! no `cfg` of their own.

use std::path::Path;

use serde::Serialize;
use ts_rs::TS;

use crate::error::Error;
use crate::settings::Profile;

pub use built_in::{
    age_session, clear_faults, delete_session, fail_next, family_revoked, reset_playground,
    reset_session_policy, reuse_interval, rotate_signing_key, set_clock_skew, set_session_policy,
    start_outage,
};
pub use built_in::{start, Server, StartError};

/// Whether this build has the built-in server (the `demo` feature).
pub const AVAILABLE: bool = cfg!(feature = "demo");

/// The demo's folder in the app data folder, and its database in it.
pub const FOLDER: &str = "demo";
pub const DATABASE: &str = "auth.sqlite";

/// The built-in demo's account: a throwaway user on a server that only listens on loopback.
pub const DEMO_EMAIL: &str = "demo@sessioninspector.local";
pub const DEMO_PASSWORD: &str = "demo-password";

/// The demo account, offered in the sign-in form while the built-in profile is active.
#[derive(Debug, Clone, Serialize, TS)]
pub struct DemoAccount {
    pub email: &'static str,
    pub password: &'static str,
}

pub const DEMO_ACCOUNT: DemoAccount = DemoAccount {
    email: DEMO_EMAIL,
    password: DEMO_PASSWORD,
};

/// Lets a test harness choose the demo server's control token (the app's own process is the
/// only other holder); without it, every launch makes a new random one.
pub const CONTROL_TOKEN_ENV: &str = "SESSION_INSPECTOR_DEMO_CONTROL_TOKEN";

/// What a message is for, named after GoTrue's verification `type` its link or code takes.
/// The app's own IPC type (in every build), filled from the server's inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum InboxKind {
    /// Confirm a new account (GoTrue's confirmation mail).
    Signup,
    /// Sign in (GoTrue's magic-link mail).
    Magiclink,
    /// Reset a password (GoTrue's recovery mail).
    Recovery,
    /// Join the project (GoTrue's invite mail, from `POST /invite`).
    Invite,
    /// A code by text message.
    Sms,
    /// Confirm an email change (GoTrue's email-change mail, to the new address and, with
    /// secure email change, to the current one).
    EmailChange,
    /// Confirm a phone change (a code by text message to the new number).
    PhoneChange,
    /// The nonce `PUT /user` takes for a password change (GoTrue's reauthentication mail or
    /// text message); it has no link.
    Reauthentication,
}

/// One message the built-in server "sent". It carries a live one-time code and link (the
/// inbox is where a tester reads them), so they cross IPC but never show in `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct InboxMessage {
    pub id: String,
    /// The email address (lowercase) or the phone number (digits, as GoTrue stores it).
    pub to: String,
    pub kind: InboxKind,
    pub subject: String,
    /// The one-time code (6 digits).
    pub code: String,
    /// For email: GoTrue's verification link, `<server>/auth/v1/verify?token=<token hash>&
    /// type=<kind>&redirect_to=<url>`. Text messages carry only the code.
    pub link: Option<String>,
    /// RFC 3339, by the server's clock.
    pub sent_at: String,
}

impl std::fmt::Debug for InboxMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboxMessage")
            .field("id", &self.id)
            .field("to", &self.to)
            .field("kind", &self.kind)
            .field("sent_at", &self.sent_at)
            .finish_non_exhaustive()
    }
}

/// What the server "sent" (sign-up confirmations, magic links, codes by email and SMS),
/// newest first: its Mailpit, as `supabase start` has one.
pub fn inbox(server: &Server) -> Vec<InboxMessage> {
    let mut messages = built_in::messages(server);
    messages.reverse();
    messages
}

/// The name a profile's session is kept under in the keyring. The keyring is shared by every
/// copy of the app the user runs, but a demo session only exists in the one demo database that
/// issued it (in that copy's app data folder): its entry is named after that database's
/// signing key, so a copy with another data folder never picks up a session its own server
/// has never heard of.
pub fn store_key(profile: &Profile, demo_server: Option<&Server>) -> String {
    match demo_server {
        Some(server) => format!("{}:{}", profile.id, server.key_id()),
        None => profile.project_store_key(),
    }
}

/// A change the playground asked of the built-in server that it could not make.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The session is not (or no longer) on the server.
    #[error("the built-in server has no session {0}")]
    UnknownSession(String),
    /// The server's database refused.
    #[error("the built-in server's database: {0}")]
    Storage(String),
}

/// The server itself: local-gotrue, started on the app's data folder.
#[cfg(feature = "demo")]
mod built_in {
    use std::time::Duration;

    use super::*;

    pub use local_gotrue::{Server, StartError};

    /// Short-lived access tokens, so a newcomer sees the countdown and refreshes move.
    const DEMO_JWT_EXPIRY: Duration = Duration::from_secs(120);

    /// Starts the demo server on its database in `dir` (created if missing).
    pub async fn start(dir: &Path) -> Result<Server, Error> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Folder {
            path: dir.display().to_string(),
            source,
        })?;
        let control_token = std::env::var(CONTROL_TOKEN_ENV)
            .ok()
            .filter(|t| t.len() >= local_gotrue::MIN_CONTROL_TOKEN)
            .unwrap_or_else(local_gotrue::new_control_token);
        let config = local_gotrue::Config {
            // The control surface lists refresh tokens and mints sessions: only this process
            // (and a test that set the token) may use it. Its JWT secret is this data folder's
            // own, not the public local-development one.
            control_token: Some(control_token),
            random_jwt_secret: true,
            jwt_expiry: DEMO_JWT_EXPIRY,
            data_path: Some(dir.join(DATABASE)),
            // Asymmetric keys, as new Supabase projects use: the signature can be checked
            // against the published JWKS without any secret.
            signing: local_gotrue::config::SigningAlgorithm::Es256,
            // A playground: linking and unlinking identities from the window works (GoTrue's
            // GOTRUE_SECURITY_MANUAL_LINKING_ENABLED, off by default on real projects).
            manual_linking: true,
            demo_user: Some(local_gotrue::DemoUser {
                email: DEMO_EMAIL.into(),
                password: DEMO_PASSWORD.into(),
            }),
            ..local_gotrue::Config::default()
        };
        let server = local_gotrue::start(config).await?;
        tracing::info!(url = %server.url(), "built-in server started");
        Ok(server)
    }

    pub(super) fn messages(server: &Server) -> Vec<InboxMessage> {
        server.inbox().into_iter().map(InboxMessage::from).collect()
    }

    // The playground's controls: in-process calls on the running server (the same state its
    // `/_emulator` surface changes), so no control token crosses anything.

    /// Undoes what the playground changes: faults and an outage, the clock's skew, the rate
    /// limit and the session policy go back to how the server started. (A rotated signing
    /// key stays: the tokens it signed must keep verifying.)
    pub fn reset_playground(server: &Server) {
        let state = server.state();
        state.faults.clear();
        state.outage.end();
        state.clock.set_skew_ms(0);
        state.rate_limiter.set(state.config.rate_limit);
        state.reset_session_policy();
    }

    /// Every GoTrue request closes its connection unanswered for `length`.
    pub fn start_outage(server: &Server, length: Duration) {
        server.state().outage.start(length);
    }

    /// The next `count` requests whose path contains `path` answer `status` with GoTrue's
    /// error envelope for it (429: `over_request_rate_limit`).
    pub fn fail_next(server: &Server, path: &str, count: u32, status: u16) {
        server.state().faults.push(local_gotrue::traffic::Fault {
            count,
            path: Some(path.to_string()),
            delay_ms: 0,
            status: Some(status),
            body: local_gotrue::traffic::FaultBody::Json,
            drop: false,
        });
    }

    /// Drops the faults still queued (a storm the engine's cooldown did not use up).
    pub fn clear_faults(server: &Server) {
        server.state().faults.clear();
    }

    /// Deletes a session (and its refresh tokens) from the server's database.
    pub fn delete_session(server: &Server, session_id: &str) -> Result<(), ControlError> {
        server
            .delete_session(session_id)
            .map_err(|error| ControlError::Storage(error.to_string()))
    }

    /// Whether every refresh token of the session is revoked on the server (`None`: no
    /// such session, or it has no tokens).
    pub fn family_revoked(server: &Server, session_id: &str) -> Result<Option<bool>, ControlError> {
        server
            .family_revoked(session_id)
            .map_err(|error| ControlError::Storage(error.to_string()))
    }

    /// The server's clock runs `skew_seconds` ahead (behind when negative) of the real one.
    pub fn set_clock_skew(server: &Server, skew_seconds: i64) {
        server.state().clock.set_skew_ms(skew_seconds * 1000);
    }

    /// The running server's session timebox and inactivity timeout (`None`: none).
    pub fn set_session_policy(
        server: &Server,
        timebox: Option<Duration>,
        inactivity_timeout: Option<Duration>,
    ) {
        server
            .state()
            .set_session_policy(timebox, inactivity_timeout);
    }

    /// The running server's session limits back to its configuration (none for the demo).
    pub fn reset_session_policy(server: &Server) {
        server.state().reset_session_policy();
    }

    /// Makes the session `by` older on the server (its creation, last refresh and tokens).
    pub fn age_session(
        server: &Server,
        session_id: &str,
        by: Duration,
    ) -> Result<(), ControlError> {
        match server.age_session(session_id, by) {
            Ok(true) => Ok(()),
            Ok(false) => Err(ControlError::UnknownSession(session_id.to_string())),
            Err(error) => Err(ControlError::Storage(error.to_string())),
        }
    }

    /// A new signing key of the same algorithm signs from now on; the JWKS lists it beside
    /// the previous ones. Answers its `kid` (none for a shared secret without one).
    ///
    /// The rotated key lives in the running server's memory only: the database keeps the
    /// key the server started with. After the app restarts, the server signs with that
    /// stored key again and its JWKS no longer lists the rotated ones, so an access token
    /// signed by a rotated key (at most `DEMO_JWT_EXPIRY` old) is refused by `GET /user` and
    /// the card's check calls its kid unknown, until the next refresh or sign-in.
    pub fn rotate_signing_key(server: &Server) -> Option<String> {
        let keys = &server.state().keys;
        keys.rotate(keys.algorithm(), false)
    }

    /// How long a used refresh token stays usable on this server.
    pub fn reuse_interval(server: &Server) -> Duration {
        server.state().config.reuse_interval
    }

    impl From<local_gotrue::InboxMessage> for InboxMessage {
        fn from(m: local_gotrue::InboxMessage) -> Self {
            use local_gotrue::InboxKind as Sent;
            let kind = match m.kind {
                Sent::Signup => InboxKind::Signup,
                Sent::Magiclink => InboxKind::Magiclink,
                Sent::Recovery => InboxKind::Recovery,
                Sent::Invite => InboxKind::Invite,
                Sent::Sms => InboxKind::Sms,
                Sent::EmailChange => InboxKind::EmailChange,
                Sent::PhoneChange => InboxKind::PhoneChange,
                Sent::Reauthentication => InboxKind::Reauthentication,
            };
            InboxMessage {
                id: m.id,
                to: m.to,
                kind,
                subject: m.subject,
                code: m.code,
                link: m.link,
                sent_at: m.sent_at,
            }
        }
    }
}

/// A build without the server: the same API, where a server never exists.
#[cfg(not(feature = "demo"))]
mod built_in {
    use std::time::Duration;

    use super::*;

    /// There is no built-in server in this build: no value of this type can exist.
    pub enum Server {}

    /// Starting cannot fail in a build that never starts it.
    pub type StartError = std::convert::Infallible;

    impl Server {
        pub fn url(&self) -> String {
            match *self {}
        }
        pub fn anon_key(&self) -> &str {
            match *self {}
        }
        pub fn key_id(&self) -> &str {
            match *self {}
        }
        pub fn control_token(&self) -> Option<&str> {
            match *self {}
        }
        pub fn shutdown(self) {
            match self {}
        }
    }

    /// Says that this build has no built-in server (a profile saved by a build that had one).
    pub async fn start(_dir: &Path) -> Result<Server, Error> {
        Err(Error::NoBuiltInServer)
    }

    pub(super) fn messages(server: &Server) -> Vec<InboxMessage> {
        match *server {}
    }

    pub fn reset_playground(server: &Server) {
        match *server {}
    }
    pub fn start_outage(server: &Server, _length: Duration) {
        match *server {}
    }
    pub fn fail_next(server: &Server, _path: &str, _count: u32, _status: u16) {
        match *server {}
    }
    pub fn set_clock_skew(server: &Server, _skew_seconds: i64) {
        match *server {}
    }
    pub fn clear_faults(server: &Server) {
        match *server {}
    }
    pub fn family_revoked(server: &Server, _id: &str) -> Result<Option<bool>, ControlError> {
        match *server {}
    }
    pub fn delete_session(server: &Server, _id: &str) -> Result<(), ControlError> {
        match *server {}
    }
    pub fn reset_session_policy(server: &Server) {
        match *server {}
    }
    pub fn set_session_policy(server: &Server, _t: Option<Duration>, _i: Option<Duration>) {
        match *server {}
    }
    pub fn age_session(server: &Server, _id: &str, _by: Duration) -> Result<(), ControlError> {
        match *server {}
    }
    pub fn rotate_signing_key(server: &Server) -> Option<String> {
        match *server {}
    }
    pub fn reuse_interval(server: &Server) -> Duration {
        match *server {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(not(feature = "demo"))]
    #[tokio::test]
    async fn without_the_feature_starting_the_server_says_this_build_has_none() {
        let dir = tempfile::tempdir().unwrap();
        let error = start(&dir.path().join("demo"))
            .await
            .err()
            .expect("no server");
        assert!(matches!(error, Error::NoBuiltInServer), "{error}");
        assert_eq!(error.kind(), "noBuiltInServer");
        assert!(error.public_message().contains("no built-in"), "{error}");
        // Nothing is created for a server that does not exist.
        assert!(!dir.path().join("demo").exists());
    }

    #[cfg(feature = "demo")]
    #[tokio::test]
    async fn the_demo_server_locks_its_control_surface_and_keeps_its_own_secret() {
        let dir = tempfile::tempdir().unwrap();
        let server = start(dir.path()).await.unwrap();
        let token = server.control_token().expect("a control token").to_string();
        assert!(token.len() >= 32, "{token}");
        let keys = format!("{}/_emulator/keys", server.url());
        let http = reqwest::Client::new();
        let without = http.get(&keys).send().await.unwrap();
        assert_eq!(without.status(), 401);
        let with = http
            .get(&keys)
            .header("x-emulator-token", &token)
            .send()
            .await
            .unwrap();
        assert_eq!(with.status(), 200);

        // The anon key is not signed with the public local-development secret.
        let public = local_gotrue::jwt::Keys::new(
            local_gotrue::config::DEFAULT_JWT_SECRET,
            local_gotrue::SigningAlgorithm::Hs256,
            &local_gotrue::jwt::Keys::generate_ec_private(),
        )
        .unwrap();
        assert!(public.verify(server.anon_key(), 0).is_err());

        // A second launch on the same folder gets a new control token.
        drop(server);
        let again = start(dir.path()).await.unwrap();
        assert_ne!(again.control_token(), Some(token.as_str()));
    }
}
