//! The playground: eight things a GoTrue server can do to a session, each run from one click
//! against the built-in server, and watched in the live log. The app's Rust side does every
//! step: it changes the server (in process, through `demo`), and refreshes with the app's own
//! engine client where the scenario needs a refresh, so the window's log shows the exchanges,
//! the failures and the auth events as they happen. The webview only names the scenario.
//!
//! Every scenario starts from a clean server (`demo::reset_playground`) and a usable session
//! (the demo user signed in again when the last scenario ended it). Built without the `demo`
//! feature there is never a server, and every scenario answers `NoBuiltInServer`.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use session_engine::tokens::{decode_jwt, fingerprint, SignatureStatus};
use session_engine::{AuthClient, AuthError, Credentials, MemoryStore, Refreshed, SessionStore};
use ts_rs::TS;

use crate::demo;
use crate::error::Error;
use crate::inspector::Active;
use crate::live_log::LogBus;

/// How long the server stays down in "Server down".
pub const OUTAGE: Duration = Duration::from_secs(10);
/// How many `/token` requests the 429 storm answers with 429.
pub const STORM: u32 = 3;
/// How far ahead the server's clock runs in "Skewed clock".
pub const SKEW_SECONDS: i64 = 300;
/// The timebox and inactivity timeout the two lifetime scenarios set.
pub const TIMEBOX: Duration = Duration::from_secs(10 * 60);
pub const INACTIVITY: Duration = Duration::from_secs(5 * 60);
/// The log's name for the second client's store slot (memory only, never the keyring).
const SECOND_CLIENT: &str = "playground-second-client";

/// One scenario, as the window names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Scenario {
    TwoClients,
    ReuseAfterInterval,
    ServerDown,
    RateLimitStorm,
    SessionTimebox,
    InactivityTimeout,
    SkewedClock,
    KeyRotation,
}

/// What the panel shows for a scenario: what it does, what to watch for in the log, and how
/// long it runs when it has to wait (the outage).
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioInfo {
    pub scenario: Scenario,
    pub title: &'static str,
    pub does: String,
    pub watch: String,
    /// The scenario waits this long (seconds); the panel counts it down.
    pub seconds: Option<u32>,
}

/// What happened, in plain words (fingerprints, never tokens), one step a line.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioReport {
    pub scenario: Scenario,
    pub lines: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PlaygroundError {
    /// The active profile is a real project (or this build has no built-in server).
    #[error("The playground needs the built-in server: switch to the built-in demo profile.")]
    NoBuiltInServer,
    /// One scenario at a time: they change the same server.
    #[error("Another playground scenario is still running; wait for it to finish.")]
    Busy,
    /// The server could not be changed as the scenario needs.
    #[error(transparent)]
    Control(#[from] demo::ControlError),
    /// The session's access token carries no `session_id` claim.
    #[error("The session's access token names no server session.")]
    NoSessionId,
    /// A step the scenario needs (signing the demo user in again, say) failed.
    #[error(transparent)]
    Auth(#[from] AuthError),
}

/// One scenario at a time (managed state).
#[derive(Default)]
pub struct Playground {
    running: tokio::sync::Mutex<()>,
}

impl Scenario {
    pub const ALL: [Scenario; 8] = [
        Scenario::TwoClients,
        Scenario::ReuseAfterInterval,
        Scenario::ServerDown,
        Scenario::RateLimitStorm,
        Scenario::SessionTimebox,
        Scenario::InactivityTimeout,
        Scenario::SkewedClock,
        Scenario::KeyRotation,
    ];

    pub fn info(self) -> ScenarioInfo {
        let (title, does, watch, seconds) = match self {
            Scenario::TwoClients => (
                "Two clients, one token",
                "A second client refreshes the app's refresh token at the same moment as the app.".to_string(),
                "Two refresh_token requests, both 200, and the app's TOKEN_REFRESHED.".to_string(),
                None,
            ),
            Scenario::ReuseAfterInterval => (
                "Reuse outside the interval",
                "The app refreshes twice; the first token, made older than the reuse interval on the server, is used again.".to_string(),
                "400 refresh_token_already_used: the family is revoked, the app's next refresh is refused (REFRESH_REJECTED).".to_string(),
                None,
            ),
            Scenario::ServerDown => (
                "Server down for 10 s",
                format!("The server closes every connection for {} s while the app refreshes.", OUTAGE.as_secs()),
                "Retries with backoff, then a failure row; the session stays; after the outage a refresh works.".to_string(),
                Some(OUTAGE.as_secs() as u32),
            ),
            Scenario::RateLimitStorm => (
                "429 storm",
                format!("The next {STORM} /token requests answer 429 over_request_rate_limit."),
                "Failure rows with 429; the session stays; the engine's cooldown holds the token.".to_string(),
                None,
            ),
            Scenario::SessionTimebox => (
                "Session timebox",
                format!("The server gets a {}-minute timebox and the session is made that old.", TIMEBOX.as_secs() / 60),
                "400 session_expired on the next refresh (REFRESH_REJECTED while the access token works).".to_string(),
                None,
            ),
            Scenario::InactivityTimeout => (
                "Inactivity timeout",
                format!("The server gets a {}-minute inactivity timeout and the session sits idle that long.", INACTIVITY.as_secs() / 60),
                "400 session_expired (Inactivity) on the next refresh.".to_string(),
                None,
            ),
            Scenario::SkewedClock => (
                "Skewed clock",
                format!("The server's clock runs {} minutes ahead; the app refreshes.", SKEW_SECONDS / 60),
                "A clock row of about +5 min; the new token's iat and exp are ahead; the card shows the skew.".to_string(),
                None,
            ),
            Scenario::KeyRotation => (
                "Signing-key rotation",
                "The server rotates its ES256 signing key; the app refreshes and checks the signature.".to_string(),
                "A new kid in the token; the JWKS is fetched again and the signature verifies.".to_string(),
                None,
            ),
        };
        ScenarioInfo {
            scenario: self,
            title,
            does,
            watch,
            seconds,
        }
    }
}

/// Every scenario, in the panel's order.
pub fn scenarios() -> Vec<ScenarioInfo> {
    Scenario::ALL.iter().map(|s| s.info()).collect()
}

fn server(active: &Active) -> Result<&demo::Server, PlaygroundError> {
    active
        .demo_server
        .as_ref()
        .ok_or(PlaygroundError::NoBuiltInServer)
}

/// Undoes what the scenarios change on the server: faults, outage, skew, rate limit, policy.
pub fn reset(active: &Active) -> Result<(), PlaygroundError> {
    demo::reset_playground(server(active)?);
    Ok(())
}

impl Playground {
    /// Runs `scenario` on the active profile's built-in server; one at a time.
    pub async fn run(
        &self,
        active: &Active,
        log: &LogBus,
        scenario: Scenario,
    ) -> Result<ScenarioReport, PlaygroundError> {
        let server = server(active)?;
        let _running = self.running.try_lock().map_err(|_| PlaygroundError::Busy)?;
        demo::reset_playground(server);
        let mut run = Run {
            client: &active.client,
            log,
            lines: Vec::new(),
        };
        run.fresh_session().await?;
        match scenario {
            Scenario::TwoClients => run.two_clients(server).await?,
            Scenario::ReuseAfterInterval => run.reuse_after_interval(server).await?,
            Scenario::ServerDown => run.server_down(server).await,
            Scenario::RateLimitStorm => run.rate_limit_storm(server).await,
            Scenario::SessionTimebox => {
                demo::set_session_policy(server, Some(TIMEBOX), None);
                run.lifetime_ended(server, TIMEBOX, "timebox").await?
            }
            Scenario::InactivityTimeout => {
                demo::set_session_policy(server, None, Some(INACTIVITY));
                run.lifetime_ended(server, INACTIVITY, "inactivity timeout")
                    .await?
            }
            Scenario::SkewedClock => run.skewed_clock(server).await,
            Scenario::KeyRotation => run.key_rotation(server, active).await,
        }
        Ok(ScenarioReport {
            scenario,
            lines: run.lines,
        })
    }
}

/// One scenario's run: the app's client, the log, and what it has said so far.
struct Run<'a> {
    client: &'a AuthClient,
    log: &'a LogBus,
    lines: Vec<String>,
}

impl Run<'_> {
    fn say(&mut self, line: impl Into<String>) {
        self.lines.push(line.into());
    }

    /// A usable session: the demo user signed in again when there is none, or when the last
    /// scenario left its refresh token refused.
    async fn fresh_session(&mut self) -> Result<(), PlaygroundError> {
        if self.client.current_session().is_some() && self.client.refresh_rejection().is_none() {
            return Ok(());
        }
        self.client
            .sign_in_with_password(Credentials::Email {
                email: demo::DEMO_EMAIL.into(),
                password: demo::DEMO_PASSWORD.into(),
            })
            .await?;
        self.say("Signed the demo user in again: the last scenario had ended its session.");
        Ok(())
    }

    /// The current session's refresh token's fingerprint and its server session id.
    fn current(&self) -> Result<(session_engine::Token, String), PlaygroundError> {
        let session = self
            .client
            .current_session()
            .ok_or(AuthError::SessionMissing)?;
        let id = decode_jwt(&session.access_token)
            .ok()
            .and_then(|jwt| jwt.session_id().map(str::to_string))
            .ok_or(PlaygroundError::NoSessionId)?;
        Ok((session.refresh_token, id))
    }

    /// The app's own refresh, as "Refresh now" does it: a failure goes to the log as a
    /// `refresh` failure row.
    async fn app_refresh(&mut self) -> Result<Refreshed, AuthError> {
        let result = self.client.refresh_session(None).await;
        match &result {
            Ok(refreshed) => self.log.joined_if(refreshed.joined, "refresh"),
            Err(error) => self.log.failure("refresh", &Error::from(error.clone())),
        }
        result
    }

    /// The app's refresh, said in a line: the new refresh token, or the failure.
    async fn refresh_and_say(&mut self, what: &str) -> Option<String> {
        match self.app_refresh().await {
            Ok(refreshed) => {
                let new = fingerprint(&refreshed.response.session.refresh_token);
                self.say(format!("{what}: the app got refresh token {new}."));
                Some(new)
            }
            Err(error) => {
                self.say(format!("{what}: {}", refused(&error)));
                None
            }
        }
    }

    async fn two_clients(&mut self, _server: &demo::Server) -> Result<(), PlaygroundError> {
        let (token, _) = self.current()?;
        let second = SecondClient::new(self.client).await?;
        let (mine, theirs) = tokio::join!(
            self.client.refresh_session(None),
            second.client.refresh_session(Some(&token))
        );
        second.forward(self.log);
        let old = fingerprint(&token);
        self.say(format!(
            "The app and a second client sent refresh token {old} at the same moment; the server took them one after the other."
        ));
        let mine = match mine {
            Ok(refreshed) => {
                self.log.joined_if(refreshed.joined, "refresh");
                let new = fingerprint(&refreshed.response.session.refresh_token);
                self.say(format!("The app got refresh token {new} (TOKEN_REFRESHED)."));
                Some(new)
            }
            Err(error) => {
                self.log.failure("refresh", &Error::from(error.clone()));
                self.say(format!("The app: {}", refused(&error)));
                None
            }
        };
        match theirs {
            Ok(refreshed) => {
                let new = fingerprint(&refreshed.response.session.refresh_token);
                if mine.as_deref() == Some(new.as_str()) {
                    self.say(format!(
                        "The second client got {new} too: whichever came second reused a token rotated a moment before, inside the reuse interval, and GoTrue answers the parent of the newest token with that same newest token."
                    ));
                } else {
                    self.say(format!(
                        "The second client got refresh token {new}: inside the reuse interval its reuse was accepted."
                    ));
                }
            }
            Err(error) => self.say(format!("The second client: {}", refused(&error))),
        }
        Ok(())
    }

    async fn reuse_after_interval(&mut self, server: &demo::Server) -> Result<(), PlaygroundError> {
        let (first, session_id) = self.current()?;
        let old = fingerprint(&first);
        self.refresh_and_say("First refresh").await;
        self.refresh_and_say("Second refresh").await;
        let interval = demo::reuse_interval(server);
        let past = interval + Duration::from_secs(1);
        demo::age_session(server, &session_id, past)?;
        self.say(format!(
            "The server session was made {} s older: the {} s reuse interval of {old} is over.",
            past.as_secs(),
            interval.as_secs()
        ));
        let second = SecondClient::new(self.client).await?;
        let reused = second.client.refresh_session(Some(&first)).await;
        second.forward(self.log);
        match reused {
            Ok(_) => self.say(format!("A second client used {old} again and was answered: not what GoTrue does.")),
            Err(error) => self.say(format!(
                "A second client used {old} again: {} The server revoked the token family.",
                refused(&error)
            )),
        }
        // The family was revoked just now: its newest token is refused once the reuse
        // interval has passed since then too.
        demo::age_session(server, &session_id, past)?;
        self.refresh_and_say("The app's next refresh").await;
        if let Some(rejection) = self.client.refresh_rejection() {
            self.say(format!("The app keeps the session, marked: {}.", rejection.describe()));
        } else if self.client.current_session().is_none() {
            self.say("The app's session ended (SIGNED_OUT).");
        }
        Ok(())
    }

    async fn server_down(&mut self, server: &demo::Server) {
        let started = tokio::time::Instant::now();
        demo::start_outage(server, OUTAGE);
        self.say(format!(
            "The server is down for {} s: every connection is closed unanswered.",
            OUTAGE.as_secs()
        ));
        self.refresh_and_say("Refresh during the outage").await;
        if self.client.current_session().is_some() {
            self.say("The session is kept: a network failure ends nothing.");
        }
        // Past the outage's end, with a little room for the server's own clock.
        tokio::time::sleep_until(started + OUTAGE + Duration::from_millis(200)).await;
        self.refresh_and_say("Refresh after the outage").await;
    }

    async fn rate_limit_storm(&mut self, server: &demo::Server) {
        demo::fail_next(server, "/token", STORM, 429);
        self.say(format!(
            "The next {STORM} /token requests answer 429 over_request_rate_limit."
        ));
        for attempt in 1..=STORM {
            self.refresh_and_say(&format!("Refresh {attempt}")).await;
        }
        if let Some(until) = self.client.refresh_cooldown_until() {
            let left = until.saturating_duration_since(tokio::time::Instant::now());
            self.say(format!(
                "Cooldown: the auto-refresh does not send this token again for {} s.",
                left.as_secs()
            ));
        }
        if self.client.current_session().is_some() {
            self.say("The session is kept: a 429 ends nothing.");
        }
    }

    /// The session made older than `limit` on a server that now enforces it.
    async fn lifetime_ended(
        &mut self,
        server: &demo::Server,
        limit: Duration,
        name: &str,
    ) -> Result<(), PlaygroundError> {
        let (_, session_id) = self.current()?;
        let age = limit + Duration::from_secs(1);
        demo::age_session(server, &session_id, age)?;
        self.say(format!(
            "The server now has a {} s {name}, and the session was made {} s older.",
            limit.as_secs(),
            age.as_secs()
        ));
        self.refresh_and_say("The app's refresh").await;
        if let Some(rejection) = self.client.refresh_rejection() {
            self.say(format!("The app keeps the session, marked: {}.", rejection.describe()));
        } else if self.client.current_session().is_none() {
            self.say("The app's session ended (SIGNED_OUT).");
        }
        Ok(())
    }

    async fn skewed_clock(&mut self, server: &demo::Server) {
        demo::set_clock_skew(server, SKEW_SECONDS);
        self.say(format!(
            "The server's clock now runs {SKEW_SECONDS} s ahead of this computer's."
        ));
        if let Ok(refreshed) = self.app_refresh().await {
            let session = &refreshed.response.session;
            let now = chrono::Utc::now().timestamp();
            if let Some(iat) = decode_jwt(&session.access_token)
                .ok()
                .and_then(|jwt| jwt.issued_at())
            {
                self.say(format!(
                    "The new access token was issued (iat) {} s ahead of this computer's clock; it expires (exp) {} s from now by this clock.",
                    iat - now,
                    session.expires_at - now
                ));
            }
        } else {
            self.say("The refresh failed: see the log.");
        }
    }

    async fn key_rotation(&mut self, server: &demo::Server, active: &Active) {
        let before = self
            .client
            .current_session()
            .and_then(|s| decode_jwt(&s.access_token).ok())
            .and_then(|jwt| jwt.kid().map(str::to_string));
        let kid = demo::rotate_signing_key(server);
        self.say(format!(
            "The server rotated its signing key: kid {} -> {}.",
            before.as_deref().unwrap_or("none"),
            kid.as_deref().unwrap_or("none")
        ));
        self.refresh_and_say("The app's refresh").await;
        let after = self
            .client
            .current_session()
            .and_then(|s| decode_jwt(&s.access_token).ok())
            .and_then(|jwt| jwt.kid().map(str::to_string));
        self.say(format!(
            "The new access token names kid {}.",
            after.as_deref().unwrap_or("none")
        ));
        match crate::signature::check(active).await {
            Ok(SignatureStatus::Verified { alg, kid }) => self.say(format!(
                "Its {alg} signature verifies against the JWKS (kid {}), fetched again for the new key.",
                kid.as_deref().unwrap_or("none")
            )),
            Ok(other) => self.say(format!("Its signature did not verify: {other:?}")),
            Err(error) => self.say(format!("The signature check failed: {}", error.public_message())),
        }
    }
}

/// A failed refresh in words: GoTrue's code and status, or the transport failure.
fn refused(error: &AuthError) -> String {
    let view = Error::from(error.clone());
    match (view.status(), view.code()) {
        (Some(status), Some(code)) => format!("refused, {status} {code}."),
        (Some(status), None) => format!("refused, HTTP {status}."),
        _ => format!("failed: {}", view.public_message()),
    }
}

/// The second client of "Two clients" and "Reuse": the same project, a session in memory
/// only, and its exchanges copied into the live log (they are redacted by its own recorder).
struct SecondClient {
    client: AuthClient,
}

impl SecondClient {
    async fn new(app: &AuthClient) -> Result<SecondClient, AuthError> {
        let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
        let client = AuthClient::new(app.config().clone(), store, SECOND_CLIENT).await?;
        Ok(SecondClient { client })
    }

    fn forward(&self, log: &LogBus) {
        for exchange in self.client.recorder().recent() {
            log.exchange(&exchange);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scenario_is_listed_once_with_what_it_does_and_what_to_watch() {
        let listed = scenarios();
        assert_eq!(listed.len(), 8);
        for (info, scenario) in listed.iter().zip(Scenario::ALL) {
            assert_eq!(info.scenario, scenario);
            assert!(!info.does.is_empty() && !info.watch.is_empty(), "{info:?}");
        }
        let waits: Vec<_> = listed.iter().filter_map(|i| i.seconds).collect();
        assert_eq!(waits, vec![10], "only the outage waits, and for 10 s");
    }

    #[test]
    fn scenarios_cross_ipc_by_their_camel_case_names() {
        let names: Vec<String> = Scenario::ALL
            .iter()
            .map(|s| serde_json::to_value(s).unwrap().as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            names,
            [
                "twoClients",
                "reuseAfterInterval",
                "serverDown",
                "rateLimitStorm",
                "sessionTimebox",
                "inactivityTimeout",
                "skewedClock",
                "keyRotation"
            ]
        );
        let back: Scenario = serde_json::from_str("\"serverDown\"").unwrap();
        assert_eq!(back, Scenario::ServerDown);
    }
}
