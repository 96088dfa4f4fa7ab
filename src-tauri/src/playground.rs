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
use session_engine::recorder::Exchange;
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
    /// What the scenario left changed on the server once it finished, for the panel to show
    /// beside "Reset playground" (which undoes it; so does the next scenario).
    pub still_on: Option<String>,
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

/// How many of the second client's exchanges stay openable from the log.
const KEEP_EXCHANGES: usize = 32;

/// One scenario at a time, and the second client's latest exchanges (managed state).
#[derive(Default)]
pub struct Playground {
    running: tokio::sync::Mutex<()>,
    /// Redacted, as the log shows them: its rows open them (`log_exchange`).
    exchanges: std::sync::Mutex<std::collections::VecDeque<Exchange>>,
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
                "The new token's iat and exp are ahead; the card shows the server clock +300 s. A token issued just before is expired by the server's clock: its GET /user answers 403 bad_jwt.".to_string(),
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
    /// One of the second client's exchanges the log showed, by id.
    pub fn exchange(&self, id: u64) -> Option<Exchange> {
        let kept = self.exchanges.lock().unwrap_or_else(|p| p.into_inner());
        kept.iter().find(|e| e.id == id).cloned()
    }

    /// The second client's exchanges not forwarded yet: into the log, and kept for opening
    /// (exchange ids are unique for the process).
    fn forward(&self, log: &LogBus, second: &SecondClient) {
        let mut kept = self.exchanges.lock().unwrap_or_else(|p| p.into_inner());
        for exchange in second.client.recorder().recent() {
            if kept.iter().any(|e| e.id == exchange.id) {
                continue;
            }
            log.exchange(&exchange);
            if kept.len() == KEEP_EXCHANGES {
                kept.pop_front();
            }
            kept.push_back(exchange);
        }
    }

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
            playground: self,
            client: &active.client,
            log,
            lines: Vec::new(),
            still_on: None,
        };
        run.fresh_session(server).await?;
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
            still_on: run.still_on,
        })
    }
}

/// One scenario's run: the app's client, the log, and what it has said so far.
struct Run<'a> {
    playground: &'a Playground,
    client: &'a AuthClient,
    log: &'a LogBus,
    lines: Vec<String>,
    still_on: Option<String>,
}

impl Run<'_> {
    fn say(&mut self, line: impl Into<String>) {
        self.lines.push(line.into());
    }

    /// A usable session: the demo user signed in again when there is none, when the last
    /// scenario left its refresh token refused, or held in the engine's cooldown (after a 429
    /// the engine answers even an explicit refresh from it, so no request would go out).
    async fn fresh_session(&mut self, server: &demo::Server) -> Result<(), PlaygroundError> {
        if self.client.current_session().is_some()
            && self.client.refresh_rejection().is_none()
            && self.client.refresh_cooldown_until().is_none()
        {
            return Ok(());
        }
        // The session given up on is deleted from the server, not left in its database.
        if let Ok((_, abandoned)) = self.current() {
            demo::delete_session(server, &abandoned)?;
        }
        self.client
            .sign_in_with_password(Credentials::Email {
                email: demo::DEMO_EMAIL.into(),
                password: demo::DEMO_PASSWORD.into(),
            })
            .await?;
        self.say(
            "Signed the demo user in again: the last scenario left no session that can refresh.",
        );
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

    /// After a refusal: whether the app kept its session, marked (its access token still
    /// works), or the session ended.
    fn say_what_the_app_kept(&mut self) {
        if let Some(rejection) = self.client.refresh_rejection() {
            self.say(format!(
                "The app keeps the session, marked: {}.",
                rejection.describe()
            ));
        } else if self.client.current_session().is_none() {
            self.say("The app's session ended (SIGNED_OUT).");
        }
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

    async fn two_clients(&mut self, server: &demo::Server) -> Result<(), PlaygroundError> {
        let (token, _) = self.current()?;
        let second = SecondClient::new(self.client).await?;
        let (mine, theirs) = tokio::join!(
            self.client.refresh_session(None),
            second.client.refresh_session(Some(&token))
        );
        self.playground.forward(self.log, &second);
        let old = fingerprint(&token);
        self.say(format!(
            "The app and a second client sent refresh token {old} at the same moment; the server took them one after the other."
        ));
        let mine = match mine {
            Ok(refreshed) => {
                self.log.joined_if(refreshed.joined, "refresh");
                let new = fingerprint(&refreshed.response.session.refresh_token);
                self.say(format!(
                    "The app got refresh token {new} (TOKEN_REFRESHED)."
                ));
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
                        "The second client got {new} too: whichever came second presented a token that was by then the parent of the session's newest token, and GoTrue answers that parent with the newest token itself, however long ago it was used (no time limit)."
                    ));
                } else {
                    self.say(format!(
                        "The second client got refresh token {new}: a different token from the app's."
                    ));
                }
            }
            Err(error) => self.say(format!("The second client: {}", refused(&error))),
        }
        // GoTrue's other reuse rule: a used token that is no longer the newest one's parent
        // is still accepted within the reuse interval after it was used, and gets a new child.
        if let Some(mine) = mine {
            self.refresh_and_say("Then the app refreshed again").await;
            let reused = second.client.refresh_session(Some(&token)).await;
            self.playground.forward(self.log, &second);
            match reused {
                Ok(refreshed) => {
                    let new = fingerprint(&refreshed.response.session.refresh_token);
                    self.say(format!(
                        "The second client presented {old} once more, now two rotations back: inside the {} s reuse interval GoTrue accepts it and mints a new token for it, {new} (not {mine}): both clients refreshed, with different tokens.",
                        demo::reuse_interval(server).as_secs()
                    ));
                }
                Err(error) => self.say(format!(
                    "The second client presented {old} once more: {}",
                    refused(&error)
                )),
            }
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
        self.playground.forward(self.log, &second);
        match reused {
            Ok(_) => self.say(format!(
                "A second client used {old} again and was answered: not what GoTrue does."
            )),
            Err(error) => self.say(format!(
                "A second client used {old} again: {}",
                refused(&error)
            )),
        }
        // Said only as the server's state shows it.
        match demo::family_revoked(server, &session_id)? {
            Some(true) => self.say("On the server every refresh token of the session is now revoked: the token family."),
            Some(false) => self.say("On the server some refresh tokens of the session are still live: the family was not revoked."),
            None => self.say("The server no longer has the session's refresh tokens."),
        }
        // Revoking the family stamps each token's updated_at with the revocation time, and
        // the reuse interval counts from it: GoTrue would still accept the app's newest token
        // (and mint a child of it) for that long. Said, then waited out by aging again.
        demo::age_session(server, &session_id, past)?;
        self.say(format!(
            "Made the session another {} s older. Right after the revocation GoTrue would still accept the app's just-revoked newest token for the {} s reuse interval (it counts from the revocation) and mint a new token for it; past that, it is refused.",
            past.as_secs(),
            interval.as_secs()
        ));
        self.refresh_and_say("The app's next refresh").await;
        self.say_what_the_app_kept();
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
        let mut sent = 0;
        for attempt in 1..=STORM {
            let before = self.newest_exchange();
            let result = self.app_refresh().await;
            let went_out = self.newest_exchange() != before;
            sent += u32::from(went_out);
            let outcome = match result {
                Ok(refreshed) => format!(
                    "the app got refresh token {}.",
                    fingerprint(&refreshed.response.session.refresh_token)
                ),
                Err(error) => refused(&error),
            };
            let how = match went_out {
                true => "sent",
                false => "answered from the engine's cooldown, no request sent",
            };
            self.say(format!("Refresh {attempt} ({how}): {outcome}"));
        }
        if let Some(until) = self.client.refresh_cooldown_until() {
            let left = until.saturating_duration_since(tokio::time::Instant::now());
            self.say(format!(
                "Cooldown: the engine remembers the 429 and does not send this token again for {} s.",
                left.as_secs()
            ));
        }
        if sent < STORM {
            // Left queued they would answer the next sign-in or auto-refresh with a 429.
            demo::clear_faults(server);
            self.say(format!(
                "The {} 429s left unused were taken off the server: the next /token request is answered normally.",
                STORM - sent
            ));
        }
        if self.client.current_session().is_some() {
            self.say("The session is kept: a 429 ends nothing.");
        }
    }

    /// The id of the newest exchange the app's client recorded.
    fn newest_exchange(&self) -> Option<u64> {
        self.client.recorder().recent().last().map(|e| e.id)
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
        self.say_what_the_app_kept();
        // Shown: the next session must not end 10 minutes from now for a scenario long over.
        demo::reset_session_policy(server);
        self.say(format!(
            "The server's {name} is lifted again: new sessions have no limit."
        ));
        Ok(())
    }

    async fn skewed_clock(&mut self, server: &demo::Server) {
        demo::set_clock_skew(server, SKEW_SECONDS);
        self.say(format!(
            "The server's clock now runs {SKEW_SECONDS} s ahead of this computer's."
        ));
        if let Ok(refreshed) = self.app_refresh().await {
            let session = &refreshed.response.session;
            let now = self.client.config().clock.unix_secs();
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
        // Kept, so the card keeps showing the offset the scenario is about; the panel says so.
        self.still_on = Some(format!(
            "The server's clock still runs {SKEW_SECONDS} s ahead: tokens issued before it are expired by its clock. Reset playground puts it back."
        ));
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
        self.say("The new key lives in the server's memory only: after the app restarts, the server signs with its stored key again and a token signed by the rotated key is refused until the next refresh or sign-in.");
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
/// only, and its exchanges copied into the live log (they are redacted by its own recorder;
/// `Playground::forward`).
struct SecondClient {
    client: AuthClient,
}

impl SecondClient {
    async fn new(app: &AuthClient) -> Result<SecondClient, AuthError> {
        let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
        let client = AuthClient::new(app.config().clone(), store, SECOND_CLIENT).await?;
        Ok(SecondClient { client })
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
            .map(|s| {
                serde_json::to_value(s)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string()
            })
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

/// The scenarios against a real built-in server, on an `Active` like a demo profile's (its
/// sessions in memory). "Server down" waits 10 s of real time: the E2E test runs it.
#[cfg(all(test, feature = "demo"))]
mod against_the_built_in_server {
    use session_engine::auto_refresh::Setting;
    use session_engine::ClientConfig;

    use super::*;
    use crate::inspector::testing::project_active;
    use crate::live_log::LogItem;

    struct Demo {
        active: Active,
        log: LogBus,
        playground: Playground,
        _folders: (tempfile::TempDir, tempfile::TempDir),
    }

    async fn demo() -> Demo {
        let data = tempfile::tempdir().unwrap();
        let server = demo::start(data.path()).await.unwrap();
        let off = Setting {
            enabled: false,
            margin: Duration::from_secs(30),
        };
        let (mut active, folder) = project_active(Arc::new(MemoryStore::new()), off, vec![]).await;
        let config = ClientConfig::new(server.url(), server.anon_key());
        active.client = AuthClient::new(config, active.store.clone(), "demo")
            .await
            .unwrap();
        active.demo_server = Some(server);
        Demo {
            active,
            log: LogBus::default(),
            playground: Playground::default(),
            _folders: (data, folder),
        }
    }

    impl Demo {
        async fn run(&self, scenario: Scenario) -> ScenarioReport {
            self.playground
                .run(&self.active, &self.log, scenario)
                .await
                .unwrap_or_else(|e| panic!("{scenario:?}: {e}"))
        }

        fn rejected_with(&self) -> Option<String> {
            self.active.client.refresh_rejection().map(|r| r.code)
        }
    }

    /// A request row's status and GoTrue code.
    type Answer = (Option<u16>, Option<String>);

    /// What reached the log bus so far: request rows' answers and failures' codes.
    fn drained(
        rows: &mut tokio::sync::broadcast::Receiver<LogItem>,
    ) -> (Vec<Answer>, Vec<Option<String>>) {
        let (mut requests, mut failures) = (Vec::new(), Vec::new());
        while let Ok(item) = rows.try_recv() {
            match item {
                LogItem::Request { request, .. } => requests.push((request.status, request.code)),
                LogItem::Failure { error, .. } => failures.push(error.code),
                _ => {}
            }
        }
        (requests, failures)
    }

    #[tokio::test]
    async fn without_the_built_in_server_a_scenario_says_so() {
        let off = Setting {
            enabled: false,
            margin: Duration::from_secs(30),
        };
        let (active, _folder) = project_active(Arc::new(MemoryStore::new()), off, vec![]).await;
        let error = Playground::default()
            .run(&active, &LogBus::default(), Scenario::TwoClients)
            .await
            .unwrap_err();
        assert!(matches!(error, PlaygroundError::NoBuiltInServer), "{error}");
        assert_eq!(Error::from(error).kind(), "noBuiltInServer");
        assert!(matches!(
            reset(&active),
            Err(PlaygroundError::NoBuiltInServer)
        ));
    }

    #[tokio::test]
    async fn one_scenario_runs_at_a_time() {
        let demo = demo().await;
        let playground = Playground::default();
        let _running = playground.running.lock().await;
        let error = playground
            .run(&demo.active, &demo.log, Scenario::SkewedClock)
            .await
            .unwrap_err();
        assert_eq!(Error::from(error).kind(), "playgroundBusy");
    }

    #[tokio::test]
    async fn two_clients_both_refresh_get_the_same_token_and_the_second_shows_in_the_log() {
        let demo = demo().await;
        let mut rows = demo.log.subscribe();
        let report = demo.run(Scenario::TwoClients).await;
        let text = report.lines.join("\n");
        assert!(text.contains("Signed the demo user in again"), "{text}");
        assert!(text.contains("too"), "{text}");
        let current = demo.active.client.current_session().unwrap();
        assert!(
            text.contains(&fingerprint(&current.refresh_token)),
            "{text}"
        );
        // The second client's exchange, copied into the log (the app's own go through its
        // recorder, which the log stream reads).
        let mut ids = Vec::new();
        while let Ok(item) = rows.try_recv() {
            match item {
                LogItem::Request { request, .. } => {
                    assert_eq!(request.status, Some(200));
                    ids.push(request.id);
                }
                LogItem::Failure { error, .. } => panic!("{error:?}"),
                _ => {}
            }
        }
        // Both of its refreshes: the race, and the reuse two rotations back (a new token).
        assert_eq!(ids.len(), 2);
        assert!(text.contains("mints a new token for it"), "{text}");
        assert!(text.contains("no time limit"), "{text}");
        // Its row opens: the exchange is kept, redacted (the refresh token sent is a
        // fingerprint, never the token).
        let kept = demo
            .playground
            .exchange(ids[0])
            .expect("the row's exchange");
        let body = kept.request_body.clone().unwrap_or_default();
        assert!(body.contains("fp:"), "{body}");
        assert!(!body.contains(current.refresh_token.as_str()), "{body}");
        assert!(demo.playground.exchange(ids[0] + 1_000_000).is_none());
    }

    #[tokio::test]
    async fn a_reuse_after_the_interval_revokes_the_family_and_the_apps_next_refresh_is_refused() {
        let demo = demo().await;
        let mut rows = demo.log.subscribe();
        let report = demo.run(Scenario::ReuseAfterInterval).await;
        let text = report.lines.join("\n");
        assert!(text.contains("400 refresh_token_already_used"), "{text}");
        assert!(
            text.contains("every refresh token of the session is now revoked"),
            "{text}"
        );
        assert!(text.contains("would still accept"), "{text}");
        assert_eq!(
            demo.rejected_with().as_deref(),
            Some("refresh_token_already_used")
        );
        let (requests, failures) = drained(&mut rows);
        assert_eq!(
            requests,
            vec![(Some(400), Some("refresh_token_already_used".into()))]
        );
        assert_eq!(failures, vec![Some("refresh_token_already_used".into())]);
        // The next scenario starts with the demo user signed in again, and the refused
        // session is deleted from the server rather than left behind.
        let refused = demo.active.client.current_session().unwrap();
        let refused_id = decode_jwt(&refused.access_token)
            .unwrap()
            .session_id()
            .unwrap()
            .to_string();
        let server = demo.active.demo_server.as_ref().unwrap();
        assert_eq!(
            demo::family_revoked(server, &refused_id).unwrap(),
            Some(true)
        );
        let report = demo.run(Scenario::SkewedClock).await;
        assert!(report.lines[0].starts_with("Signed the demo user in again"));
        assert_eq!(demo.rejected_with(), None);
        assert_eq!(demo::family_revoked(server, &refused_id).unwrap(), None);
    }

    #[tokio::test]
    async fn a_429_storm_fails_the_refreshes_keeps_the_session_and_holds_the_token_in_cooldown() {
        let demo = demo().await;
        demo.run(Scenario::SkewedClock).await;
        let mut rows = demo.log.subscribe();
        let report = demo.run(Scenario::RateLimitStorm).await;
        let (_, failures) = drained(&mut rows);
        assert_eq!(failures, vec![Some("over_request_rate_limit".into()); 3]);
        assert!(demo.active.client.current_session().is_some());
        assert!(demo.active.client.refresh_cooldown_until().is_some());
        let text = report.lines.join("\n");
        // The first 429 is the server's; the engine answers the next two from its cooldown.
        assert!(
            text.contains("Refresh 1 (sent): refused, 429 over_request_rate_limit"),
            "{text}"
        );
        assert!(
            text.contains("Refresh 3 (answered from the engine's cooldown"),
            "{text}"
        );
        assert!(
            text.contains("The 2 429s left unused were taken off"),
            "{text}"
        );
        // No fault is left on the server: a second client's refresh works at once.
        let second = SecondClient::new(&demo.active.client).await.unwrap();
        let token = demo.active.client.current_session().unwrap().refresh_token;
        second.client.refresh_session(Some(&token)).await.unwrap();
        // The app's token is still in the cooldown: the next scenario signs in afresh, so its
        // refresh reaches the server.
        let report = demo.run(Scenario::SkewedClock).await;
        assert!(
            report.lines[0].starts_with("Signed the demo user in again"),
            "{report:?}"
        );
        assert!(demo.active.client.refresh_cooldown_until().is_none());
    }

    #[tokio::test]
    async fn a_timebox_and_an_inactivity_timeout_set_at_run_time_end_the_session() {
        let demo = demo().await;
        let mut rows = demo.log.subscribe();
        demo.run(Scenario::SessionTimebox).await;
        assert_eq!(demo.rejected_with().as_deref(), Some("session_expired"));
        let rejection = demo.active.client.refresh_rejection().unwrap();
        assert!(!rejection.message.contains("Inactivity"), "{rejection:?}");

        demo.run(Scenario::InactivityTimeout).await;
        let rejection = demo.active.client.refresh_rejection().unwrap();
        assert_eq!(rejection.code, "session_expired");
        assert!(rejection.message.contains("(Inactivity)"), "{rejection:?}");
        let (_, failures) = drained(&mut rows);
        assert_eq!(failures, vec![Some("session_expired".into()); 2]);

        // Each scenario lifts its policy once it has been refused: the server is back to no
        // limits, and a fresh session aged past both refreshes.
        let server = demo.active.demo_server.as_ref().unwrap();
        let limits = server.state().session_limits();
        assert_eq!(
            (limits.timebox, limits.inactivity_timeout),
            (None, None),
            "{limits:?}"
        );
        demo.run(Scenario::SkewedClock).await;
        let session = demo.active.client.current_session().unwrap();
        let id = decode_jwt(&session.access_token)
            .unwrap()
            .session_id()
            .unwrap()
            .to_string();
        demo::age_session(server, &id, TIMEBOX + INACTIVITY).unwrap();
        demo.active.client.refresh_session(None).await.unwrap();
    }

    #[tokio::test]
    async fn a_skewed_clock_issues_tokens_five_minutes_ahead_until_reset() {
        let demo = demo().await;
        demo.run(Scenario::SkewedClock).await;
        let ahead = |demo: &Demo| {
            let session = demo.active.client.current_session().unwrap();
            let iat = decode_jwt(&session.access_token)
                .unwrap()
                .issued_at()
                .unwrap();
            iat - chrono::Utc::now().timestamp()
        };
        assert!((SKEW_SECONDS - 5..=SKEW_SECONDS + 5).contains(&ahead(&demo)));
        let report = demo.run(Scenario::SkewedClock).await;
        assert!(
            report
                .still_on
                .as_deref()
                .is_some_and(|s| s.contains("300 s ahead")),
            "{report:?}"
        );
        // Another scenario's report leaves nothing on.
        assert_eq!(demo.run(Scenario::KeyRotation).await.still_on, None);
        reset(&demo.active).unwrap();
        demo.active.client.refresh_session(None).await.unwrap();
        assert!(ahead(&demo).abs() <= 5);
    }

    #[tokio::test]
    async fn a_rotated_signing_key_signs_the_next_token_and_its_signature_verifies() {
        let demo = demo().await;
        demo.run(Scenario::SkewedClock).await;
        let kid = |demo: &Demo| {
            let session = demo.active.client.current_session().unwrap();
            decode_jwt(&session.access_token)
                .unwrap()
                .kid()
                .map(str::to_string)
        };
        let before = kid(&demo);
        let report = demo.run(Scenario::KeyRotation).await;
        let after = kid(&demo);
        assert!(
            after.is_some() && after != before,
            "{before:?} -> {after:?}"
        );
        let text = report.lines.join("\n");
        assert!(text.contains("signature verifies"), "{text}");
        assert!(text.contains(after.as_deref().unwrap()), "{text}");
    }
}
