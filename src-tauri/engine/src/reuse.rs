//! The reuse predictor: what GoTrue will do with a pasted refresh token, said before it is
//! sent, from what this client saw of the session (the tokens it held, in order, with when
//! each appeared), and afterwards whether the server did that.
//!
//! Pure: the caller hands in the chain, the current session, "now" (from the injected
//! `Clock`) and the reuse interval. The rules themselves (the interval's boundaries, the v2
//! distance taken for a failed save) are facts of `protocol`.
//!
//! Legacy tokens are rows on the server; what this client knows of them is a tree rebuilt from
//! the tokens it held: each token's parent is the token held before it (or the pasted token a
//! paste swapped), a token is used up once it has a child (or its family was revoked), and the
//! active token is the newest one not used up. v2 tokens carry their session and counter, so
//! the distance to the current session's counter decides, with the time of the last refresh.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use ts_rs::TS;

use crate::events::AuthEventKind;
use crate::protocol;
use crate::session::Session;
use crate::tokens::{fingerprint, inspect_refresh_token, RefreshTokenShape};

/// One auth event as this client's history keeps it: when, which event, and the refresh
/// token the session held then (none once signed out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub at: DateTime<Utc>,
    pub kind: String,
    pub fingerprint: Option<String>,
}

/// A paste that was swapped for a new token: the new token's parent is the pasted one, not
/// the token held before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Swap {
    pub consumed: String,
    pub produced: String,
}

/// One token of the current session's line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub fingerprint: String,
    /// The token it was issued for (none: the session's first).
    pub parent: Option<String>,
    /// When it appeared in this client.
    pub issued_at: DateTime<Utc>,
    /// When a refresh last answered with it (a v2 re-issue hands the same token back, and the
    /// server renews the session's `refreshed_at` each time): at least `issued_at`.
    pub last_seen_at: DateTime<Utc>,
}

/// What this client knows of the current session's tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chain {
    /// In the order they appeared.
    pub links: Vec<Link>,
    /// When the whole family was revoked (a reuse outside the interval was answered
    /// `refresh_token_already_used`): every token issued before then is used up from then on.
    pub revoked_at: Option<DateTime<Utc>>,
    /// The token this app's own refresh saw refused for good (`REFRESH_REJECTED`).
    pub refused: Option<String>,
}

impl Chain {
    /// The line of the last session in `events` (oldest first): a sign-in (or a verified
    /// password recovery, which is a new server session too) with a token not seen before
    /// starts a session, an event without a token (signed out) ends it, any other new token
    /// is the child of the one held before, or of the pasted token `swaps` names for it. A
    /// child of a token this client never held starts a new line. A `REFRESH_REJECTED` of a
    /// token of the line marks the line revoked then (the server refused this app's own
    /// refresh for good).
    pub fn build(events: &[Observed], swaps: &[Swap]) -> Chain {
        let parents: HashMap<&str, &str> = swaps
            .iter()
            .map(|s| (s.produced.as_str(), s.consumed.as_str()))
            .collect();
        let starts_a_session =
            [AuthEventKind::SignedIn, AuthEventKind::PasswordRecovery].map(AuthEventKind::as_str);
        let mut links: Vec<Link> = Vec::new();
        let mut held: Option<String> = None;
        let mut revoked_at = None;
        let mut refused = None;
        for event in events {
            let Some(fp) = &event.fingerprint else {
                links.clear();
                held = None;
                revoked_at = None;
                refused = None;
                continue;
            };
            if event.kind == AuthEventKind::RefreshRejected.as_str() {
                if links.iter().any(|link| &link.fingerprint == fp) {
                    // The family went at the first refusal; later ones only meet it revoked.
                    revoked_at = Some(
                        revoked_at.map_or(event.at, |first: DateTime<Utc>| first.min(event.at)),
                    );
                    refused = Some(fp.clone());
                }
                continue;
            }
            let starts = starts_a_session.contains(&event.kind.as_str());
            if let Some(link) = links.iter_mut().find(|link| &link.fingerprint == fp) {
                if event.kind == AuthEventKind::TokenRefreshed.as_str() {
                    link.last_seen_at = link.last_seen_at.max(event.at);
                }
                held = Some(fp.clone());
                continue;
            }
            let parent = if starts {
                None
            } else {
                parents
                    .get(fp.as_str())
                    .map(|p| p.to_string())
                    .or_else(|| held.clone())
            };
            if !parent
                .as_ref()
                .is_some_and(|p| links.iter().any(|link| &link.fingerprint == p))
            {
                links.clear();
                revoked_at = None;
                refused = None;
            }
            links.push(Link {
                fingerprint: fp.clone(),
                parent,
                issued_at: event.at,
                last_seen_at: event.at,
            });
            held = Some(fp.clone());
        }
        Chain {
            links,
            revoked_at,
            refused,
        }
    }

    fn link(&self, fp: &str) -> Option<&Link> {
        self.links.iter().find(|link| link.fingerprint == fp)
    }

    /// When `link` was last used (the server's `updated_at` of a revoked token): its latest
    /// child's arrival, since every accepted swap renews it, a tolerated reuse too; for a
    /// token without a child, the family's revocation (which touches only live tokens).
    fn used_at(&self, link: &Link) -> Option<DateTime<Utc>> {
        let child = self
            .links
            .iter()
            .filter(|l| l.parent.as_deref() == Some(link.fingerprint.as_str()))
            .map(|l| l.issued_at)
            .max();
        child.or_else(|| self.revoked_at.filter(|at| link.issued_at <= *at))
    }

    /// The newest token not used up: the one the server answers the parent of with itself.
    fn active(&self) -> Option<&Link> {
        self.links
            .iter()
            .rev()
            .find(|link| self.used_at(link).is_none())
    }
}

/// The server's reuse interval, and whether it is known or assumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    pub length: Duration,
    /// Not read from the server: a real project's setting cannot be, so the hosted default is
    /// assumed.
    pub assumed: bool,
}

impl Interval {
    /// A real project: the hosted default, assumed.
    pub fn hosted() -> Interval {
        Interval {
            length: protocol::HOSTED_REUSE_INTERVAL,
            assumed: true,
        }
    }

    pub fn known(length: Duration) -> Interval {
        Interval {
            length,
            assumed: false,
        }
    }
}

/// The refresh token format the prediction reasoned about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum TokenFormat {
    Legacy,
    V2,
}

/// What the server will do with the token.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Outcome {
    /// The active token: it is swapped for a new child.
    NormalRotation,
    /// The parent of the active token (v2: one counter step behind, a failed save): the
    /// active token comes back, however late.
    ParentReissued,
    /// Used up, but inside the reuse interval: legacy mints a new child of it, v2 issues the
    /// current token again.
    ToleratedInInterval {
        /// When the tolerance ends (Unix milliseconds): the window counts down from it.
        #[ts(type = "number")]
        until_ms: i64,
        seconds_left: f64,
    },
    /// Used up outside the interval: 400 `refresh_token_already_used`, and the whole session
    /// is revoked (legacy: every token of it; v2: the session is deleted).
    RevokesSession,
    /// Nothing this client knows decides it.
    Unknown { why: String },
}

/// What the server's answer will be, for the verdict.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Expected {
    /// A token this client has not held.
    NewToken,
    /// The token with this fingerprint again.
    SameToken { fingerprint: String },
    /// An error with this code.
    Error { code: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Prediction {
    pub outcome: Outcome,
    /// None when the token is of neither format.
    pub format: Option<TokenFormat>,
    /// The reuse interval in seconds.
    pub interval_secs: u64,
    pub interval_assumed: bool,
    /// The answer that will show the prediction held (none when nothing is predicted).
    pub expected: Option<Expected>,
    /// For the tolerated case: what is expected once the interval has passed.
    pub expected_after: Option<Expected>,
    /// Why, in a few sentences: the rule, the times, what is assumed.
    pub explanation: String,
    /// The fingerprint of the pasted token.
    pub pasted_fingerprint: String,
    /// Every token of the line this client held (a new token is none of them).
    #[serde(skip)]
    pub known: Vec<String>,
    /// The instant it was made for ("now" of `predict`): Rotate sends right after, so the
    /// verdict judges the answer as of then, not as of its arrival.
    #[serde(skip)]
    pub made_at: DateTime<Utc>,
}

impl Prediction {
    /// This client will not send the token (`why`): the server decides nothing.
    pub fn held_back(mut self, why: &str) -> Prediction {
        self.outcome = Outcome::Unknown {
            why: why.to_string(),
        };
        self.expected = None;
        self.expected_after = None;
        self.explanation = format!("Cannot predict the server's answer: {why}.");
        self
    }

    /// The answer expected at `now`: after a tolerated reuse's interval, the refusal (a legacy
    /// token is still tolerated at the end itself, a v2 token no longer).
    fn expected_at(&self, now: DateTime<Utc>) -> Option<&Expected> {
        let now = now.timestamp_millis();
        match &self.outcome {
            Outcome::ToleratedInInterval { until_ms, .. }
                if now > *until_ms
                    || (self.format == Some(TokenFormat::V2) && now == *until_ms) =>
            {
                self.expected_after.as_ref()
            }
            _ => self.expected.as_ref(),
        }
    }
}

/// What came of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Happened {
    /// A session with this refresh token.
    Issued { fingerprint: String },
    /// The server refused (or the request failed): its code, when it gave one.
    Failed {
        code: Option<String>,
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    pub held: bool,
    /// What the server did, in words.
    pub what_happened: String,
}

/// What the server will do with `token` at `now`. `current` is this client's session, `chain`
/// what it knows of that session's tokens.
pub fn predict(
    token: &str,
    chain: &Chain,
    current: Option<&Session>,
    interval: Interval,
    now: DateTime<Utc>,
) -> Prediction {
    let pasted = fingerprint(token);
    let mut prediction = Prediction {
        outcome: Outcome::Unknown { why: String::new() },
        format: None,
        interval_secs: interval.length.as_secs(),
        interval_assumed: interval.assumed,
        expected: None,
        expected_after: None,
        explanation: String::new(),
        pasted_fingerprint: pasted.clone(),
        known: chain.links.iter().map(|l| l.fingerprint.clone()).collect(),
        made_at: now,
    };
    if let Some(session) = current {
        prediction.known.push(fingerprint(&session.refresh_token));
    }
    let assumed = if interval.assumed {
        format!(
            " The reuse interval is a server setting no client can read: assuming the hosted default of {} s.",
            protocol::HOSTED_REUSE_INTERVAL.as_secs()
        )
    } else {
        String::new()
    };
    let decided = match inspect_refresh_token(token) {
        RefreshTokenShape::Legacy => {
            prediction.format = Some(TokenFormat::Legacy);
            legacy(&pasted, chain, current, interval.length, now)
        }
        RefreshTokenShape::V2 {
            session_id,
            counter,
        } => {
            prediction.format = Some(TokenFormat::V2);
            v2(session_id, counter, chain, current, interval.length, now)
        }
        RefreshTokenShape::Unknown => Decided::unknown(
            "it is neither a legacy (12-character) nor a v2 refresh token, so the server will not find it",
        ),
    };
    prediction.outcome = decided.outcome;
    prediction.expected = decided.expected;
    prediction.expected_after = decided.expected_after;
    prediction.explanation = match &prediction.outcome {
        Outcome::Unknown { .. } => decided.explanation,
        _ => format!("{}{assumed}", decided.explanation),
    };
    prediction
}

struct Decided {
    outcome: Outcome,
    expected: Option<Expected>,
    expected_after: Option<Expected>,
    explanation: String,
}

impl Decided {
    fn unknown(why: &str) -> Decided {
        Decided {
            outcome: Outcome::Unknown {
                why: why.to_string(),
            },
            expected: None,
            expected_after: None,
            explanation: format!("Cannot predict: {why}."),
        }
    }

    fn of(outcome: Outcome, expected: Expected, explanation: String) -> Decided {
        Decided {
            outcome,
            expected: Some(expected),
            expected_after: None,
            explanation,
        }
    }
}

fn already_used() -> Expected {
    Expected::Error {
        code: protocol::REFRESH_TOKEN_ALREADY_USED.to_string(),
    }
}

/// `until` None: the interval is too long to end within the calendar.
fn tolerated(until: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Outcome {
    let until = until.unwrap_or(DateTime::<Utc>::MAX_UTC);
    Outcome::ToleratedInInterval {
        until_ms: until.timestamp_millis(),
        seconds_left: (until - now).num_milliseconds().max(0) as f64 / 1000.0,
    }
}

/// A time of day as the log shows it, in UTC: explanations name instants, not "ago", so they
/// stay true while the window counts down.
fn clock_time(at: DateTime<Utc>) -> String {
    at.format("%H:%M:%S%.3f UTC").to_string()
}

/// The end of an interval, or "never" when it lies past the calendar.
fn end_time(until: Option<DateTime<Utc>>) -> String {
    until.map_or_else(|| "the end of time".to_string(), clock_time)
}

fn legacy(
    pasted: &str,
    chain: &Chain,
    current: Option<&Session>,
    interval: Duration,
    now: DateTime<Utc>,
) -> Decided {
    let Some(session) = current else {
        return Decided::unknown(
            "there is no current session, so no line of tokens to place it in",
        );
    };
    let current_fp = fingerprint(&session.refresh_token);
    if chain.link(&current_fp).is_none() {
        if pasted == current_fp {
            return Decided::of(
                Outcome::NormalRotation,
                Expected::NewToken,
                "This is the current session's token; the server swaps it for a new child."
                    .to_string(),
            );
        }
        return Decided::unknown(
            "this profile's history does not hold the current session's tokens",
        );
    }
    let Some(link) = chain.link(pasted) else {
        return Decided::unknown(
            "this token is not in this profile's history of the current session (another session, another project, or older than the history)",
        );
    };
    if chain.refused.as_deref() == Some(pasted) {
        return Decided::unknown(&format!(
            "the server already refused this token for good (at {}, told in the timeline with its code); sending it again should meet the same refusal",
            end_time(chain.revoked_at)
        ));
    }
    let Some(used_at) = chain.used_at(link) else {
        return Decided::of(
            Outcome::NormalRotation,
            Expected::NewToken,
            "The server's active token for this session: it is revoked and swapped for a new child, as any refresh."
                .to_string(),
        );
    };
    if let Some(active) = chain
        .active()
        .filter(|a| a.parent.as_deref() == Some(pasted))
    {
        return Decided::of(
            Outcome::ParentReissued,
            Expected::SameToken {
                fingerprint: active.fingerprint.clone(),
            },
            format!(
                "Used at {}, but it is the parent of the active token {}: the server takes it for a client that lost the answer and sends that active token again, with no time limit.",
                clock_time(used_at),
                active.fingerprint
            ),
        );
    }
    let until = protocol::legacy_reuse_until(used_at, interval);
    let revokes = "answers 400 refresh_token_already_used and revokes every token of the session, including the one this app holds";
    if protocol::legacy_reuse_tolerated(used_at, now, interval) {
        Decided {
            outcome: tolerated(until, now),
            expected: Some(Expected::NewToken),
            expected_after: Some(already_used()),
            explanation: format!(
                "Used at {} (when its latest child appeared here); the {} s reuse interval runs to {}: until then the server mints a new child of it, after that it {revokes}.",
                clock_time(used_at),
                interval.as_secs(),
                end_time(until)
            ),
        }
    } else {
        Decided::of(
            Outcome::RevokesSession,
            already_used(),
            format!(
                "Used at {} (when its latest child appeared here), past the {} s reuse interval, and not the parent of the active token: the server {revokes} (rotation on, as on hosted projects).",
                clock_time(used_at),
                interval.as_secs()
            ),
        )
    }
}

fn v2(
    session_id: uuid::Uuid,
    counter: u64,
    chain: &Chain,
    current: Option<&Session>,
    interval: Duration,
    now: DateTime<Utc>,
) -> Decided {
    let Some(session) = current else {
        return Decided::unknown("there is no current session to compare its counter with");
    };
    let RefreshTokenShape::V2 {
        session_id: current_id,
        counter: current_counter,
    } = inspect_refresh_token(&session.refresh_token)
    else {
        return Decided::unknown(
            "the current session's token is not a v2 token, so this session's counter is not known",
        );
    };
    if current_id != session_id {
        return Decided::unknown(&format!(
            "it belongs to another session ({session_id}) than the current one ({current_id})"
        ));
    }
    let current_fp = fingerprint(&session.refresh_token);
    if let Some(at) = chain
        .revoked_at
        .filter(|_| chain.link(&current_fp).is_some())
    {
        return Decided::unknown(&format!(
            "the server refused this session's token for good at {}, so it has most likely deleted the session and will answer session_not_found",
            clock_time(at)
        ));
    }
    if counter > current_counter {
        return Decided::unknown(&format!(
            "its counter ({counter}) is ahead of this app's session ({current_counter}): another client has refreshed the session since, and the server's counter is not known here"
        ));
    }
    let distance = current_counter - counter;
    if distance == 0 {
        return Decided::of(
            Outcome::NormalRotation,
            Expected::NewToken,
            format!("Counter {counter}, the session's current one: the server moves the session to {} and issues that token.", counter + 1),
        );
    }
    if distance == protocol::V2_FAILED_SAVE_DISTANCE {
        return Decided::of(
            Outcome::ParentReissued,
            Expected::SameToken {
                fingerprint: current_fp,
            },
            format!(
                "Counter {counter}, one behind the session's {current_counter}: the server takes it for an answer the client failed to save and issues the current token again, with no time limit."
            ),
        );
    }
    let Some(last_refresh) = chain.link(&current_fp).map(|l| l.last_seen_at) else {
        return Decided::unknown(
            "when the session last refreshed is not in this profile's history",
        );
    };
    let until = protocol::v2_reuse_until(last_refresh, interval);
    let revokes = "answers 400 refresh_token_already_used and deletes the whole session";
    if protocol::v2_reuse_tolerated(last_refresh, now, interval) {
        Decided {
            outcome: tolerated(until, now),
            expected: Some(Expected::SameToken {
                fingerprint: current_fp,
            }),
            expected_after: Some(already_used()),
            explanation: format!(
                "Counter {counter}, {distance} behind the session's {current_counter}; the session last refreshed at {} and the {} s reuse interval runs to {}: until then the server takes it for a concurrent refresh and issues the current token again, after that it {revokes}.",
                clock_time(last_refresh),
                interval.as_secs(),
                end_time(until)
            ),
        }
    } else {
        Decided::of(
            Outcome::RevokesSession,
            already_used(),
            format!(
                "Counter {counter}, {distance} behind the session's {current_counter}, and the session last refreshed at {}, past the {} s reuse interval: the server {revokes} (rotation on, as on hosted projects).",
                clock_time(last_refresh),
                interval.as_secs()
            ),
        )
    }
}

/// Whether `prediction` held, given what the request came to at `now` (a tolerated reuse
/// sent after its interval is judged against the refusal expected then). None when nothing
/// was predicted.
pub fn check(prediction: &Prediction, happened: &Happened, now: DateTime<Utc>) -> Option<Verdict> {
    let expected = prediction.expected_at(now)?;
    let (held, what_happened) = match happened {
        Happened::Issued { fingerprint } => {
            let old = prediction.known.contains(fingerprint)
                || *fingerprint == prediction.pasted_fingerprint;
            let said = if old {
                format!("the server answered with {fingerprint}, a token this session already held")
            } else {
                format!("the server issued a new refresh token, {fingerprint}")
            };
            let held = match expected {
                Expected::NewToken => !old,
                Expected::SameToken { fingerprint: same } => same == fingerprint,
                Expected::Error { .. } => false,
            };
            (held, said)
        }
        Happened::Failed { code, message } => {
            let said = match code {
                Some(code) => format!("the server answered {code}: {message}"),
                None => format!("the request failed: {message}"),
            };
            let held = matches!(expected, Expected::Error { code: want } if code.as_deref() == Some(want.as_str()));
            (held, said)
        }
    };
    Some(Verdict {
        held,
        what_happened,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures;

    const TEN: Duration = Duration::from_secs(10);

    fn t(secs: f64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_700_000_000_000 + (secs * 1000.0) as i64).unwrap()
    }

    /// Legacy tokens are 12 lowercase characters.
    fn tok(name: &str) -> String {
        format!("{name:a<12}")
    }

    fn fp(name: &str) -> String {
        fingerprint(&tok(name))
    }

    fn session(refresh_token: &str) -> Session {
        let mut value = test_fixtures::session();
        value["refresh_token"] = refresh_token.into();
        serde_json::from_value(value).unwrap()
    }

    fn event(at: f64, kind: &str, name: Option<&str>) -> Observed {
        Observed {
            at: t(at),
            kind: kind.into(),
            fingerprint: name.map(fp),
        }
    }

    /// Signed in with `g` at 0, refreshed to `p` at 100 and to `a` at 200.
    fn line() -> Chain {
        Chain::build(
            &[
                event(0.0, "SIGNED_IN", Some("g")),
                event(100.0, "TOKEN_REFRESHED", Some("p")),
                event(200.0, "TOKEN_REFRESHED", Some("a")),
            ],
            &[],
        )
    }

    fn legacy_at(name: &str, chain: &Chain, current: &str, now: f64) -> Prediction {
        predict(
            &tok(name),
            chain,
            Some(&session(&tok(current))),
            Interval::known(TEN),
            t(now),
        )
    }

    #[test]
    fn the_active_legacy_token_rotates_normally() {
        let p = legacy_at("a", &line(), "a", 5000.0);
        assert_eq!(p.outcome, Outcome::NormalRotation);
        assert_eq!(p.format, Some(TokenFormat::Legacy));
        assert_eq!(p.expected, Some(Expected::NewToken));
        assert!(!p.interval_assumed && p.interval_secs == 10);
    }

    #[test]
    fn the_parent_of_the_active_token_gets_it_again_however_late() {
        let p = legacy_at("p", &line(), "a", 200.0 + 3600.0);
        assert_eq!(p.outcome, Outcome::ParentReissued);
        assert_eq!(
            p.expected,
            Some(Expected::SameToken {
                fingerprint: fp("a")
            })
        );
    }

    #[test]
    fn an_older_token_is_tolerated_up_to_and_including_the_interval_end() {
        // `g` was used at 100 (when `p` appeared): tolerated until 110 inclusive.
        let p = legacy_at("g", &line(), "a", 103.5);
        assert_eq!(
            p.outcome,
            Outcome::ToleratedInInterval {
                until_ms: t(110.0).timestamp_millis(),
                seconds_left: 6.5
            }
        );
        assert_eq!(p.expected, Some(Expected::NewToken));
        assert_eq!(p.expected_after, Some(already_used()));
        // Instants, not "ago": still true while the window counts down.
        assert!(
            p.explanation.contains("Used at 22:15:00.000 UTC"),
            "{}",
            p.explanation
        );
        assert!(
            p.explanation.contains("runs to 22:15:10.000 UTC"),
            "{}",
            p.explanation
        );
        let at_end = legacy_at("g", &line(), "a", 110.0);
        assert!(matches!(
            at_end.outcome,
            Outcome::ToleratedInInterval { seconds_left, .. } if seconds_left == 0.0
        ));
        let after = legacy_at("g", &line(), "a", 110.001);
        assert_eq!(after.outcome, Outcome::RevokesSession);
        assert_eq!(after.expected, Some(already_used()));
        assert!(
            after.explanation.contains("past the 10 s"),
            "{}",
            after.explanation
        );
    }

    #[test]
    fn an_assumed_interval_says_so() {
        let p = predict(
            &tok("g"),
            &line(),
            Some(&session(&tok("a"))),
            Interval::hosted(),
            t(300.0),
        );
        assert_eq!(p.outcome, Outcome::RevokesSession);
        assert!(p.interval_assumed);
        assert!(p
            .explanation
            .contains("assuming the hosted default of 10 s"));
    }

    #[test]
    fn unknown_tokens_and_missing_sessions_cannot_be_predicted() {
        let stranger = legacy_at("zz", &line(), "a", 300.0);
        assert!(
            matches!(&stranger.outcome, Outcome::Unknown { why } if why.contains("not in this profile's history"))
        );
        assert_eq!(stranger.expected, None);
        let none = predict(&tok("a"), &line(), None, Interval::hosted(), t(300.0));
        assert!(matches!(none.outcome, Outcome::Unknown { .. }));
        // The current session's tokens are not in the history (it was cut short).
        let cut = legacy_at("p", &Chain::default(), "a", 300.0);
        assert!(matches!(&cut.outcome, Outcome::Unknown { why } if why.contains("does not hold")));
        // …but the current token itself still rotates.
        assert_eq!(
            legacy_at("a", &Chain::default(), "a", 300.0).outcome,
            Outcome::NormalRotation
        );
        let garbage = predict("not a token!", &line(), None, Interval::hosted(), t(0.0));
        assert_eq!(garbage.format, None);
        assert!(matches!(garbage.outcome, Outcome::Unknown { .. }));
    }

    #[test]
    fn a_tolerated_paste_forks_the_line() {
        // `g` pasted at 105 (tolerated) gave `c`, a child of `g`: now `c` is the active token
        // (newest not used up), `a` is still unused, and `g` is the parent of the active one.
        let chain = Chain::build(
            &[
                event(0.0, "SIGNED_IN", Some("g")),
                event(100.0, "TOKEN_REFRESHED", Some("p")),
                event(200.0, "TOKEN_REFRESHED", Some("a")),
                event(205.0, "TOKEN_REFRESHED", Some("c")),
            ],
            &[Swap {
                consumed: fp("g"),
                produced: fp("c"),
            }],
        );
        assert_eq!(chain.links[3].parent, Some(fp("g")));
        assert_eq!(
            legacy_at("a", &chain, "c", 900.0).outcome,
            Outcome::NormalRotation
        );
        assert_eq!(
            legacy_at("c", &chain, "c", 900.0).outcome,
            Outcome::NormalRotation
        );
        assert_eq!(
            legacy_at("g", &chain, "c", 900.0).outcome,
            Outcome::ParentReissued
        );
        assert_eq!(
            legacy_at("p", &chain, "c", 900.0).outcome,
            Outcome::RevokesSession
        );
        // Without the swap the line would be linear and `a` the parent of `c`.
        let linear = Chain::build(
            &[
                event(0.0, "SIGNED_IN", Some("g")),
                event(100.0, "TOKEN_REFRESHED", Some("p")),
                event(200.0, "TOKEN_REFRESHED", Some("a")),
                event(205.0, "TOKEN_REFRESHED", Some("c")),
            ],
            &[],
        );
        assert_eq!(
            legacy_at("a", &linear, "c", 900.0).outcome,
            Outcome::ParentReissued
        );
    }

    #[test]
    fn after_the_family_was_revoked_every_token_counts_from_the_revocation() {
        let mut chain = line();
        chain.revoked_at = Some(t(500.0));
        // `a` was never used, but the revocation used it up at 500 (GoTrue sets updated_at).
        let inside = legacy_at("a", &chain, "a", 505.0);
        assert!(
            matches!(inside.outcome, Outcome::ToleratedInInterval { .. }),
            "{inside:?}"
        );
        assert_eq!(
            legacy_at("a", &chain, "a", 511.0).outcome,
            Outcome::RevokesSession
        );
        // `g` was used long before: the revocation does not renew it.
        assert_eq!(
            legacy_at("g", &chain, "a", 505.0).outcome,
            Outcome::RevokesSession
        );
    }

    #[test]
    fn the_line_is_the_last_sessions_and_repeats_are_one_token() {
        let chain = Chain::build(
            &[
                event(0.0, "SIGNED_IN", Some("old")),
                event(10.0, "TOKEN_REFRESHED", Some("old2")),
                event(20.0, "SIGNED_OUT", None),
                event(30.0, "SIGNED_IN", Some("g")),
                event(31.0, "INITIAL_SESSION", Some("g")),
                event(40.0, "TOKEN_REFRESHED", Some("p")),
                event(41.0, "TOKEN_REFRESHED", Some("p")),
            ],
            &[],
        );
        let names: Vec<_> = chain.links.iter().map(|l| l.fingerprint.clone()).collect();
        assert_eq!(names, vec![fp("g"), fp("p")]);
        assert_eq!(chain.links[1].parent, Some(fp("g")));
        assert_eq!(chain.links[1].issued_at, t(40.0));
        // A sign-in with a new token starts again, even without a sign-out between.
        let again = Chain::build(
            &[
                event(0.0, "SIGNED_IN", Some("g")),
                event(5.0, "SIGNED_IN", Some("h")),
            ],
            &[],
        );
        assert_eq!(again.links.len(), 1);
        assert_eq!(again.links[0].parent, None);
        // A paste of a token never held starts a new line from its child.
        let pasted = Chain::build(
            &[
                event(0.0, "SIGNED_IN", Some("g")),
                event(5.0, "TOKEN_REFRESHED", Some("x")),
            ],
            &[Swap {
                consumed: fp("elsewhere"),
                produced: fp("x"),
            }],
        );
        assert_eq!(pasted.links.len(), 1);
        assert_eq!(pasted.links[0].fingerprint, fp("x"));
    }

    #[test]
    fn each_tolerated_reuse_starts_the_tokens_interval_again() {
        // g → p → a; `g` pasted at 205 gave `c`; Refresh now gave `d` at 206; `g` pasted again
        // at 208 gave `e`; `e` rotated to `f` at 209. GoTrue renewed g's `updated_at` at each
        // accepted swap, so g's interval runs from 208, not from p's arrival at 100.
        let chain = Chain::build(
            &[
                event(0.0, "SIGNED_IN", Some("g")),
                event(100.0, "TOKEN_REFRESHED", Some("p")),
                event(200.0, "TOKEN_REFRESHED", Some("a")),
                event(205.0, "TOKEN_REFRESHED", Some("c")),
                event(206.0, "TOKEN_REFRESHED", Some("d")),
                event(208.0, "TOKEN_REFRESHED", Some("e")),
                event(209.0, "TOKEN_REFRESHED", Some("f")),
            ],
            &[
                Swap {
                    consumed: fp("g"),
                    produced: fp("c"),
                },
                Swap {
                    consumed: fp("g"),
                    produced: fp("e"),
                },
            ],
        );
        let inside = legacy_at("g", &chain, "f", 215.0);
        assert_eq!(
            inside.outcome,
            Outcome::ToleratedInInterval {
                until_ms: t(218.0).timestamp_millis(),
                seconds_left: 3.0
            }
        );
        assert_eq!(
            legacy_at("g", &chain, "f", 218.5).outcome,
            Outcome::RevokesSession
        );
    }

    #[test]
    fn a_password_recovery_starts_a_new_session_line() {
        let chain = Chain::build(
            &[
                event(0.0, "SIGNED_IN", Some("old")),
                event(10.0, "PASSWORD_RECOVERY", Some("g")),
            ],
            &[],
        );
        assert_eq!(chain.links.len(), 1);
        assert_eq!(chain.links[0].parent, None);
        // The old session's token is not of this line: nothing is known of it.
        assert!(matches!(
            legacy_at("old", &chain, "g", 12.0).outcome,
            Outcome::Unknown { .. }
        ));
    }

    #[test]
    fn this_apps_own_refusal_marks_the_line_revoked() {
        let chain = Chain::build(
            &[
                event(0.0, "SIGNED_IN", Some("g")),
                event(100.0, "TOKEN_REFRESHED", Some("a")),
                event(300.0, "REFRESH_REJECTED", Some("a")),
            ],
            &[],
        );
        assert_eq!(chain.revoked_at, Some(t(300.0)));
        assert_eq!(chain.refused, Some(fp("a")));
        let refused = legacy_at("a", &chain, "a", 301.0);
        assert!(
            matches!(&refused.outcome, Outcome::Unknown { why } if why.contains("already refused")),
            "{refused:?}"
        );
        // A sign-in starts a clean line.
        let after = Chain::build(
            &[
                event(0.0, "SIGNED_IN", Some("a")),
                event(300.0, "REFRESH_REJECTED", Some("a")),
                event(400.0, "SIGNED_IN", Some("h")),
            ],
            &[],
        );
        assert_eq!((after.revoked_at, after.refused), (None, None));
        // v2: the session is deleted, its current token does not rotate.
        let current = test_fixtures::v2_token(sid(), 5);
        let v2_chain = Chain::build(
            &[
                Observed {
                    at: t(0.0),
                    kind: "SIGNED_IN".into(),
                    fingerprint: Some(fingerprint(&current)),
                },
                Observed {
                    at: t(50.0),
                    kind: "REFRESH_REJECTED".into(),
                    fingerprint: Some(fingerprint(&current)),
                },
            ],
            &[],
        );
        let p = predict(
            &current,
            &v2_chain,
            Some(&session(&current)),
            Interval::known(TEN),
            t(51.0),
        );
        assert!(
            matches!(&p.outcome, Outcome::Unknown { why } if why.contains("session_not_found")),
            "{p:?}"
        );
    }

    #[test]
    fn an_interval_past_the_calendar_never_ends_and_does_not_panic() {
        let endless = Interval::known(Duration::MAX);
        let p = predict(
            &tok("g"),
            &line(),
            Some(&session(&tok("a"))),
            endless,
            t(5000.0),
        );
        assert!(
            matches!(p.outcome, Outcome::ToleratedInInterval { .. }),
            "{p:?}"
        );
        assert!(
            p.explanation.contains("the end of time"),
            "{}",
            p.explanation
        );
        let huge = Interval::known(Duration::from_secs(i64::MAX as u64 / 2000));
        assert!(matches!(
            predict(
                &tok("g"),
                &line(),
                Some(&session(&tok("a"))),
                huge,
                t(5000.0)
            )
            .outcome,
            Outcome::ToleratedInInterval { .. }
        ));
    }

    fn sid() -> uuid::Uuid {
        uuid::Uuid::from_u128(7)
    }

    /// A v2 session at counter 5 whose current token appeared at 100.
    fn v2_at(counter: u64, now: f64) -> Prediction {
        let current = test_fixtures::v2_token(sid(), 5);
        let chain = Chain::build(
            &[
                Observed {
                    at: t(0.0),
                    kind: "SIGNED_IN".into(),
                    fingerprint: Some(fingerprint(&test_fixtures::v2_token(sid(), 4))),
                },
                Observed {
                    at: t(100.0),
                    kind: "TOKEN_REFRESHED".into(),
                    fingerprint: Some(fingerprint(&current)),
                },
            ],
            &[],
        );
        predict(
            &test_fixtures::v2_token(sid(), counter),
            &chain,
            Some(&session(&current)),
            Interval::known(TEN),
            t(now),
        )
    }

    #[test]
    fn v2_distance_decides() {
        let current = fingerprint(&test_fixtures::v2_token(sid(), 5));
        let normal = v2_at(5, 1000.0);
        assert_eq!(normal.format, Some(TokenFormat::V2));
        assert_eq!(normal.outcome, Outcome::NormalRotation);
        assert_eq!(normal.expected, Some(Expected::NewToken));
        let failed_save = v2_at(4, 1000.0);
        assert_eq!(failed_save.outcome, Outcome::ParentReissued);
        assert_eq!(
            failed_save.expected,
            Some(Expected::SameToken {
                fingerprint: current.clone()
            })
        );
        let ahead = v2_at(6, 1000.0);
        assert!(matches!(&ahead.outcome, Outcome::Unknown { why } if why.contains("ahead")));
    }

    #[test]
    fn v2_further_behind_is_tolerated_strictly_within_the_interval_of_the_last_refresh() {
        let current = fingerprint(&test_fixtures::v2_token(sid(), 5));
        let inside = v2_at(2, 109.999);
        assert!(
            matches!(inside.outcome, Outcome::ToleratedInInterval { .. }),
            "{inside:?}"
        );
        assert_eq!(
            inside.expected,
            Some(Expected::SameToken {
                fingerprint: current
            })
        );
        let at_end = v2_at(2, 110.0);
        assert_eq!(at_end.outcome, Outcome::RevokesSession);
        assert!(at_end.explanation.contains("deletes the whole session"));
    }

    #[test]
    fn v2_of_another_session_or_beside_a_legacy_session_cannot_be_predicted() {
        let other = predict(
            &test_fixtures::v2_token(uuid::Uuid::from_u128(8), 1),
            &Chain::default(),
            Some(&session(&test_fixtures::v2_token(sid(), 5))),
            Interval::known(TEN),
            t(0.0),
        );
        assert!(
            matches!(&other.outcome, Outcome::Unknown { why } if why.contains("another session"))
        );
        let beside_legacy = predict(
            &test_fixtures::v2_token(sid(), 1),
            &line(),
            Some(&session(&tok("a"))),
            Interval::known(TEN),
            t(0.0),
        );
        assert!(matches!(beside_legacy.outcome, Outcome::Unknown { .. }));
        // No history of when the session last refreshed: a distance > 1 is not decided.
        let no_history = predict(
            &test_fixtures::v2_token(sid(), 1),
            &Chain::default(),
            Some(&session(&test_fixtures::v2_token(sid(), 5))),
            Interval::known(TEN),
            t(0.0),
        );
        assert!(
            matches!(&no_history.outcome, Outcome::Unknown { why } if why.contains("last refreshed"))
        );
    }

    #[test]
    fn v2_last_refresh_is_the_latest_answer_with_the_current_token() {
        // Counter 5 appeared at 100; a failed-save paste at 200 got it back again (the server
        // renewed `refreshed_at`): a token 3 behind at 205 is inside the interval.
        let current = test_fixtures::v2_token(sid(), 5);
        let seen = |at: f64, kind: &str, token: &str| Observed {
            at: t(at),
            kind: kind.into(),
            fingerprint: Some(fingerprint(token)),
        };
        let chain = Chain::build(
            &[
                seen(0.0, "SIGNED_IN", &test_fixtures::v2_token(sid(), 4)),
                seen(100.0, "TOKEN_REFRESHED", &current),
                seen(150.0, "INITIAL_SESSION", &current),
                seen(200.0, "TOKEN_REFRESHED", &current),
            ],
            &[],
        );
        assert_eq!(chain.links[1].issued_at, t(100.0));
        assert_eq!(chain.links[1].last_seen_at, t(200.0));
        let p = predict(
            &test_fixtures::v2_token(sid(), 2),
            &chain,
            Some(&session(&current)),
            Interval::known(TEN),
            t(205.0),
        );
        assert!(
            matches!(p.outcome, Outcome::ToleratedInInterval { .. }),
            "{p:?}"
        );
    }

    #[test]
    fn a_v2_reuse_sent_at_the_intervals_end_is_judged_against_the_refusal() {
        // Last refresh at 100, 10 s interval: v2 tolerates strictly before 110.
        let p = v2_at(2, 105.0);
        let refused = Happened::Failed {
            code: Some("refresh_token_already_used".into()),
            message: "Invalid Refresh Token: Already Used".into(),
        };
        assert!(check(&p, &refused, t(110.0)).unwrap().held);
        assert!(!check(&p, &refused, t(109.999)).unwrap().held);
        assert_eq!(p.made_at, t(105.0));
    }

    fn issued(name: &str) -> Happened {
        Happened::Issued {
            fingerprint: fp(name),
        }
    }

    fn refused(code: &str) -> Happened {
        Happened::Failed {
            code: Some(code.into()),
            message: "Invalid Refresh Token: Already Used".into(),
        }
    }

    #[test]
    fn a_verdict_compares_the_answer_with_the_prediction() {
        let normal = legacy_at("a", &line(), "a", 300.0);
        assert!(check(&normal, &issued("new"), t(300.0)).unwrap().held);
        let same = check(&normal, &issued("a"), t(300.0)).unwrap();
        assert!(!same.held && same.what_happened.contains("already held"));
        assert!(
            !check(&normal, &refused("refresh_token_already_used"), t(300.0))
                .unwrap()
                .held
        );

        let parent = legacy_at("p", &line(), "a", 300.0);
        assert!(check(&parent, &issued("a"), t(300.0)).unwrap().held);
        assert!(!check(&parent, &issued("new"), t(300.0)).unwrap().held);

        let revokes = legacy_at("g", &line(), "a", 300.0);
        let held = check(&revokes, &refused("refresh_token_already_used"), t(300.0)).unwrap();
        assert!(held.held);
        assert!(held.what_happened.contains("refresh_token_already_used"));
        assert!(
            !check(&revokes, &refused("session_not_found"), t(300.0))
                .unwrap()
                .held
        );
        let network = Happened::Failed {
            code: None,
            message: "connection refused".into(),
        };
        assert!(!check(&revokes, &network, t(300.0)).unwrap().held);
        assert!(!check(&revokes, &issued("new"), t(300.0)).unwrap().held);

        let unknown = legacy_at("zz", &line(), "a", 300.0);
        assert_eq!(check(&unknown, &issued("new"), t(300.0)), None);
    }

    #[test]
    fn a_tolerated_reuse_sent_after_its_interval_is_judged_against_the_refusal() {
        let tolerated = legacy_at("g", &line(), "a", 105.0);
        assert!(check(&tolerated, &issued("new"), t(106.0)).unwrap().held);
        assert!(
            check(&tolerated, &refused("refresh_token_already_used"), t(111.0))
                .unwrap()
                .held
        );
        assert!(!check(&tolerated, &issued("new"), t(111.0)).unwrap().held);
    }
}
