//! The reuse predictor in the paste box: the line of tokens the active profile's session held,
//! rebuilt from the history (`history.ndjson` and the entries waiting for it) and from what the
//! pastes of this run did, handed to the engine's `reuse::predict` with the server's reuse
//! interval; and, once Rotate has been answered, the engine's verdict.
//!
//! The interval is known for the built-in server (its setting, through `demo`) and assumed for
//! a real project (the hosted default): no client can read a project's setting.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::Serialize;
use session_engine::import::parse_import;
use session_engine::reuse::{self, Chain, Happened, Interval, Observed, Prediction, Swap, Verdict};
use session_engine::tokens::fingerprint;
use session_engine::{protocol, AuthEventKind};
use session_engine::{AuthError, Refreshed};
use ts_rs::TS;

use crate::error::{Error, ErrorView};
use crate::history::{History, HistoryEntry};
use crate::inspector::{Active, Inspector};
use crate::views::RefreshView;

/// What the pastes of this run taught about the server's tokens, per profile: which token a
/// paste was swapped for (its parent is the pasted token, not the one held before), and when
/// a reuse outside the interval revoked a line. Kept in memory: the history holds neither.
#[derive(Default)]
pub struct Predictor {
    learned: Mutex<HashMap<String, Learned>>,
}

/// How many swaps a profile remembers: far more than a session's line in the history.
const SWAPS_KEPT: usize = 256;

#[derive(Default, Clone)]
struct Learned {
    swaps: Vec<Swap>,
    /// A token of the revoked line, and when the server revoked it.
    revoked: Option<(String, DateTime<Utc>)>,
}

/// Rotate's answer: the new session or the server's refusal, with what had been predicted and
/// whether it held.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PasteRotated {
    /// The session the answer made current, when the server issued one.
    pub rotated: Option<RefreshView>,
    /// The refusal (or failed request), when it did not.
    pub error: Option<ErrorView>,
    /// The prediction made just before sending.
    pub prediction: Prediction,
    /// None when nothing was predicted (or the answer was discarded).
    pub verdict: Option<Verdict>,
}

/// Paste to rotate, as the command runs it: the refresh token found in `text` is sent
/// (`refresh_session(token)`), the answer becomes the current session, and the server's answer,
/// a refusal too, comes back with the prediction made just before sending and whether it
/// held. Failures before sending (no refresh token, no profile) are errors, logged.
pub async fn rotate(
    inspector: &Inspector,
    predictor: &Predictor,
    history: &History,
    folder: Option<PathBuf>,
    text: &str,
) -> Result<PasteRotated, Error> {
    let log = |error: Error| {
        inspector.log.failure("paste", &error);
        error
    };
    let imported = parse_import(text).map_err(Error::from).map_err(log)?;
    let token = imported
        .refresh_token()
        .ok_or_else(|| {
            Error::InvalidInput(format!(
                "{}: it holds no refresh token, so there is nothing to rotate",
                imported.describe()
            ))
        })
        .map_err(log)?;
    let active = inspector.active().await.map_err(log)?;
    let prediction = predictor.predict(&active, history, folder, token).await;
    let result = active.client.refresh_session(Some(token)).await;
    match &result {
        Ok(refreshed) => inspector.log.joined_if(refreshed.joined, "paste"),
        Err(error) => inspector.log.failure("paste", &Error::from(error.clone())),
    }
    Ok(predictor.judge(&active, prediction, result.map_err(Error::from)))
}

impl Predictor {
    /// What the server will do with `token` now, for the active profile. The history file is
    /// read off the async threads.
    pub async fn predict(
        &self,
        active: &Active,
        history: &History,
        folder: Option<PathBuf>,
        token: &str,
    ) -> Prediction {
        let profile = active.profile.id.clone();
        let entries = match folder {
            None => Ok(Vec::new()),
            Some(folder) => {
                let history = history.clone();
                tauri::async_runtime::spawn_blocking(move || {
                    history
                        .entries_of(&folder, &profile)
                        .map_err(|e| e.to_string())
                })
                .await
                .unwrap_or_else(|e| Err(e.to_string()))
            }
        };
        let client = &active.client;
        let now = client.config().clock.now();
        let current = client.current_session();
        let prediction = match entries {
            Ok(entries) => self.predict_from(
                &active.profile.id,
                &entries,
                token,
                current.as_ref(),
                interval(active),
                now,
            ),
            Err(error) => {
                tracing::warn!(%error, "the history could not be read for the reuse predictor");
                reuse::predict(
                    token,
                    &Chain::default(),
                    current.as_ref(),
                    interval(active),
                    now,
                )
                .held_back(&format!(
                    "this profile's history could not be read ({error})"
                ))
            }
        };
        match client.given_token_held_back(token) {
            Some(error) => prediction.held_back(&held_back_why(&error.to_string())),
            None => prediction,
        }
    }

    /// The prediction from the history's entries and what this run learned.
    fn predict_from(
        &self,
        profile: &str,
        entries: &[HistoryEntry],
        token: &str,
        current: Option<&session_engine::Session>,
        interval: Interval,
        now: DateTime<Utc>,
    ) -> Prediction {
        let learned = self.learned_for(profile);
        let mut chain = Chain::build(&observed(entries, &learned.swaps), &learned.swaps);
        if let Some((member, at)) = &learned.revoked {
            if chain.links.iter().any(|link| &link.fingerprint == member) {
                chain.revoked_at = Some(chain.revoked_at.map_or(*at, |known| known.min(*at)));
            }
        }
        reuse::predict(token, &chain, current, interval, now)
    }

    /// Judges `prediction` by what Rotate came to, and learns from it.
    pub fn judge(
        &self,
        active: &Active,
        prediction: Prediction,
        result: Result<Refreshed, Error>,
    ) -> PasteRotated {
        let now = active.client.config().clock.now();
        let happened = happened(&result);
        let verdict = happened.as_ref().and_then(|happened| {
            self.learn(&active.profile.id, &prediction, happened, now);
            // Judged as of the instant it was made, just before sending.
            reuse::check(&prediction, happened, prediction.made_at)
        });
        let (rotated, error) = match &result {
            Ok(refreshed) => (Some(RefreshView::of(refreshed)), None),
            Err(error) => (None, Some(ErrorView::from(error))),
        };
        PasteRotated {
            rotated,
            error,
            prediction,
            verdict,
        }
    }

    fn learn(
        &self,
        profile: &str,
        prediction: &Prediction,
        happened: &Happened,
        now: DateTime<Utc>,
    ) {
        let mut all = self.learned.lock().unwrap_or_else(|p| p.into_inner());
        let learned = all.entry(profile.to_string()).or_default();
        match happened {
            // A token already held coming back (a re-issue) is no swap.
            Happened::Issued { fingerprint }
                if *fingerprint != prediction.pasted_fingerprint
                    && !prediction.known.contains(fingerprint) =>
            {
                if learned.swaps.len() == SWAPS_KEPT {
                    learned.swaps.remove(0);
                }
                learned.swaps.push(Swap {
                    consumed: prediction.pasted_fingerprint.clone(),
                    produced: fingerprint.clone(),
                });
            }
            Happened::Failed {
                code: Some(code), ..
            } if code == session_engine::protocol::REFRESH_TOKEN_ALREADY_USED => {
                learned.revoked = Some((prediction.pasted_fingerprint.clone(), now));
            }
            _ => {}
        }
    }

    fn learned_for(&self, profile: &str) -> Learned {
        let all = self.learned.lock().unwrap_or_else(|p| p.into_inner());
        all.get(profile).cloned().unwrap_or_default()
    }
}

/// What Rotate came to, for the verdict. None when the server acted but its answer was
/// dropped (an auto-refresh landed during the request): what it did is not known here, so
/// nothing is judged or learned.
fn happened(result: &Result<Refreshed, Error>) -> Option<Happened> {
    match result {
        Err(Error::Auth(AuthError::RefreshDiscarded)) => None,
        Ok(refreshed) => Some(Happened::Issued {
            fingerprint: fingerprint(&refreshed.response.session.refresh_token),
        }),
        Err(error) => Some(Happened::Failed {
            code: error.code(),
            message: error.public_message(),
        }),
    }
}

/// Why a token will not be sent: a 429 met by it is answered from memory.
fn held_back_why(error: &str) -> String {
    format!(
        "this app will not send it: the server rate-limited this token less than a minute ago, and Rotate answers that failure ({error}) from memory"
    )
}

/// The server's reuse interval: the built-in server's setting, or the hosted default assumed.
fn interval(active: &Active) -> Interval {
    match &active.demo_server {
        Some(server) => Interval::known(crate::demo::reuse_interval(server)),
        None => Interval::hosted(),
    }
}

/// History entries as the engine reads them (an entry whose time does not parse is skipped).
///
/// A failed refresh (the timeline's `REFRESH_FAILED` lines) names the token that was sent, not
/// one the session was given: it is left out, except a `refresh_token_already_used` answer,
/// which revoked the family of a token of the line as a `REFRESH_REJECTED` does (a paste of a
/// stale token, remembered across launches).
///
/// A token a paste brought in (cause `paste`) is the child of the pasted token, which only this
/// run's `swaps` remember: without its swap (a paste before the last launch) its parent is
/// unknown, and the line is cut before it rather than chained to the token held before.
fn observed(entries: &[HistoryEntry], swaps: &[Swap]) -> Vec<Observed> {
    let mut seen = std::collections::HashSet::new();
    let paste = crate::history::cause_name(session_engine::Cause::Paste);
    let mut events = Vec::with_capacity(entries.len());
    for event in entries.iter().filter_map(|entry| {
        let kind = if entry.kind == crate::history::REFRESH_FAILED {
            if entry.code.as_deref() != Some(protocol::REFRESH_TOKEN_ALREADY_USED) {
                return None;
            }
            AuthEventKind::RefreshRejected.as_str().to_string()
        } else {
            entry.kind.clone()
        };
        let at = DateTime::parse_from_rfc3339(&entry.at)
            .ok()?
            .with_timezone(&Utc);
        let fingerprint = entry.refresh_token_fingerprint.clone();
        let unknown_parent = entry.cause.as_deref() == Some(paste.as_str())
            && fingerprint.as_ref().is_some_and(|fp| {
                !seen.contains(fp) && !swaps.iter().any(|swap| &swap.produced == fp)
            });
        if let Some(fp) = &fingerprint {
            seen.insert(fp.clone());
        }
        Some((
            unknown_parent,
            Observed {
                at,
                kind,
                fingerprint,
            },
        ))
    }) {
        let (unknown_parent, event) = event;
        if unknown_parent {
            events.push(Observed {
                at: event.at,
                kind: AuthEventKind::SignedOut.as_str().to_string(),
                fingerprint: None,
            });
        }
        events.push(event);
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pasted(token: &str) -> Prediction {
        reuse::predict(
            token,
            &Chain::default(),
            None,
            Interval::hosted(),
            Utc::now(),
        )
    }

    #[test]
    fn a_swap_and_a_refusal_are_learned_per_profile() {
        let predictor = Predictor::default();
        let now = Utc::now();
        let prediction = pasted("abcdefghijkl");
        let new = Happened::Issued {
            fingerprint: "fp:new".into(),
        };
        predictor.learn("a", &prediction, &new, now);
        // The active token given back again is no swap.
        let same = Happened::Issued {
            fingerprint: prediction.pasted_fingerprint.clone(),
        };
        predictor.learn("a", &prediction, &same, now);
        let learned = predictor.learned_for("a");
        assert_eq!(
            learned.swaps,
            vec![Swap {
                consumed: fingerprint("abcdefghijkl"),
                produced: "fp:new".into()
            }]
        );
        assert!(learned.revoked.is_none());
        assert!(predictor.learned_for("b").swaps.is_empty(), "per profile");

        let refused = |code: &str| Happened::Failed {
            code: Some(code.into()),
            message: "no".into(),
        };
        predictor.learn("a", &prediction, &refused("session_not_found"), now);
        assert!(predictor.learned_for("a").revoked.is_none());
        predictor.learn(
            "a",
            &prediction,
            &refused("refresh_token_already_used"),
            now,
        );
        assert_eq!(
            predictor.learned_for("a").revoked,
            Some((fingerprint("abcdefghijkl"), now))
        );
    }

    #[test]
    fn a_discarded_answer_is_not_judged() {
        assert_eq!(
            happened(&Err(Error::from(AuthError::RefreshDiscarded))),
            None
        );
        let failed = happened(&Err(Error::InvalidInput("no".into())));
        assert!(matches!(failed, Some(Happened::Failed { .. })));
    }

    #[test]
    fn a_token_already_held_coming_back_is_no_swap() {
        let predictor = Predictor::default();
        let mut prediction = pasted("abcdefghijkl");
        prediction.known.push("fp:active".into());
        let again = Happened::Issued {
            fingerprint: "fp:active".into(),
        };
        predictor.learn("a", &prediction, &again, Utc::now());
        assert!(predictor.learned_for("a").swaps.is_empty());
    }

    #[test]
    fn a_learned_revocation_counts_only_for_its_own_line() {
        let entry = |at: &str, kind: &str, token: &str| HistoryEntry {
            at: at.into(),
            kind: kind.into(),
            profile: "a".into(),
            refresh_token_fingerprint: Some(fingerprint(token)),
            ..HistoryEntry::default()
        };
        let entries = [
            entry("2026-01-02T03:00:00Z", "SIGNED_IN", "gggggggggggg"),
            entry("2026-01-02T03:01:00Z", "TOKEN_REFRESHED", "aaaaaaaaaaaa"),
        ];
        let now = DateTime::parse_from_rfc3339("2026-01-02T03:10:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut session = crate::profile_store::testing::session();
        session.refresh_token = "aaaaaaaaaaaa".to_string().into();
        let predict = |predictor: &Predictor| {
            predictor
                .predict_from(
                    "a",
                    &entries,
                    "aaaaaaaaaaaa",
                    Some(&session),
                    Interval::hosted(),
                    now,
                )
                .outcome
        };
        let predictor = Predictor::default();
        assert_eq!(predict(&predictor), reuse::Outcome::NormalRotation);
        let refused = Happened::Failed {
            code: Some("refresh_token_already_used".into()),
            message: "no".into(),
        };
        // A revocation met on another line leaves this one alone…
        predictor.learn("a", &pasted("zzzzzzzzzzzz"), &refused, now);
        assert_eq!(predict(&predictor), reuse::Outcome::NormalRotation);
        // …one met on this line revoked it 5 minutes ago: past the interval.
        let at = now - chrono::Duration::minutes(5);
        predictor.learn("a", &pasted("gggggggggggg"), &refused, at);
        assert_eq!(predict(&predictor), reuse::Outcome::RevokesSession);
    }

    #[test]
    fn the_swaps_kept_are_bounded() {
        let predictor = Predictor::default();
        let prediction = pasted("abcdefghijkl");
        for i in 0..SWAPS_KEPT + 10 {
            let new = Happened::Issued {
                fingerprint: format!("fp:{i}"),
            };
            predictor.learn("a", &prediction, &new, Utc::now());
        }
        let swaps = predictor.learned_for("a").swaps;
        assert_eq!(swaps.len(), SWAPS_KEPT);
        assert_eq!(swaps[0].produced, "fp:10");
    }

    #[test]
    fn history_entries_become_observed_events_and_bad_times_are_skipped() {
        let entry = |at: &str, fp: Option<&str>| HistoryEntry {
            at: at.into(),
            kind: "TOKEN_REFRESHED".into(),
            profile: "p".into(),
            refresh_token_fingerprint: fp.map(str::to_string),
            ..HistoryEntry::default()
        };
        let events = observed(
            &[
                entry("2026-01-02T03:04:05.678Z", Some("fp1")),
                entry("yesterday", Some("fp2")),
                entry("2026-01-02T03:04:06.000Z", None),
            ],
            &[],
        );
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].at.timestamp_millis() % 1000, 678);
        assert_eq!(events[0].fingerprint.as_deref(), Some("fp1"));
        assert_eq!(events[1].fingerprint, None);
    }

    #[test]
    fn failed_refreshes_add_no_token_and_an_already_used_answer_revokes_the_line() {
        let entry = |at: &str, kind: &str, fp: &str, code: Option<&str>| HistoryEntry {
            at: at.into(),
            kind: kind.into(),
            profile: "p".into(),
            refresh_token_fingerprint: Some(fp.into()),
            code: code.map(str::to_string),
            ..HistoryEntry::default()
        };
        let failed = crate::history::REFRESH_FAILED;
        let entries = [
            entry("2026-01-02T03:00:00Z", "SIGNED_IN", "fp:a", None),
            entry("2026-01-02T03:01:00Z", "TOKEN_REFRESHED", "fp:b", None),
            // A stranger pasted and refused, then the app's own refresh failing on the network.
            entry(
                "2026-01-02T03:02:00Z",
                failed,
                "fp:stranger",
                Some("refresh_token_not_found"),
            ),
            entry("2026-01-02T03:02:30Z", failed, "fp:b", None),
            entry("2026-01-02T03:03:00Z", "TOKEN_REFRESHED", "fp:c", None),
        ];
        let chain = Chain::build(&observed(&entries, &[]), &[]);
        let line: Vec<_> = chain
            .links
            .iter()
            .map(|link| (link.fingerprint.as_str(), link.parent.as_deref()))
            .collect();
        assert_eq!(
            line,
            [
                ("fp:a", None),
                ("fp:b", Some("fp:a")),
                ("fp:c", Some("fp:b"))
            ]
        );
        assert_eq!(chain.revoked_at, None);

        // A paste of the line's first token answered refresh_token_already_used: the family
        // was revoked then, and stays so after a restart (it is read from the history).
        let mut revoked = entries.to_vec();
        revoked.push(entry(
            "2026-01-02T03:04:00Z",
            failed,
            "fp:a",
            Some("refresh_token_already_used"),
        ));
        let chain = Chain::build(&observed(&revoked, &[]), &[]);
        assert_eq!(chain.links.len(), 3);
        assert!(chain.revoked_at.is_some());
    }

    #[test]
    fn a_token_a_paste_brought_in_is_chained_only_to_the_token_its_swap_names() {
        let entry = |at: &str, kind: &str, fp: &str, cause: &str| HistoryEntry {
            at: at.into(),
            kind: kind.into(),
            profile: "p".into(),
            refresh_token_fingerprint: Some(fp.into()),
            cause: Some(cause.into()),
            ..HistoryEntry::default()
        };
        let entries = [
            entry("2026-01-02T03:00:00Z", "SIGNED_IN", "fp:a", "signIn"),
            entry(
                "2026-01-02T03:01:00Z",
                "TOKEN_REFRESHED",
                "fp:b",
                "refreshNow",
            ),
            // A paste of fp:a (the swap says so) forked the line: fp:x is fp:a's child.
            entry("2026-01-02T03:02:00Z", "TOKEN_REFRESHED", "fp:x", "paste"),
            entry(
                "2026-01-02T03:03:00Z",
                "TOKEN_REFRESHED",
                "fp:y",
                "refreshNow",
            ),
        ];
        let swaps = [Swap {
            consumed: "fp:a".into(),
            produced: "fp:x".into(),
        }];
        let parents = |chain: &Chain| -> Vec<(String, Option<String>)> {
            chain
                .links
                .iter()
                .map(|l| (l.fingerprint.clone(), l.parent.clone()))
                .collect()
        };
        let known = Chain::build(&observed(&entries, &swaps), &swaps);
        assert_eq!(
            parents(&known)[2],
            ("fp:x".to_string(), Some("fp:a".to_string()))
        );
        assert_eq!(known.links.len(), 4);
        // After a restart the swap is forgotten: the line starts again at fp:x rather than
        // calling it fp:b's child.
        let restarted = Chain::build(&observed(&entries, &[]), &[]);
        assert_eq!(
            parents(&restarted),
            [
                ("fp:x".to_string(), None),
                ("fp:y".to_string(), Some("fp:x".to_string()))
            ]
        );
        // The active token pasted back (a re-issue) is no new line.
        let mut again = entries.to_vec();
        again.push(entry(
            "2026-01-02T03:04:00Z",
            "TOKEN_REFRESHED",
            "fp:y",
            "paste",
        ));
        assert_eq!(Chain::build(&observed(&again, &[]), &[]).links.len(), 2);
    }
}
