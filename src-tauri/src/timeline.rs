//! The session timeline: the active profile's history (`history.rs`: the file and the batch
//! still waiting, so it is current) read as chains of tokens. Each chain is one session, from a
//! sign-in to its end: its access tokens (when each was issued and expires, its claims as kept),
//! linked by the rotations of the refresh token that made them (cause, v2 counter, exchange),
//! and marked with the failed refreshes, rejections and the sign-out on the way. No token: the
//! history keeps fingerprints and the claims only.

use serde::Serialize;
use serde_json::{Map, Value};
use session_engine::Cause;
use tauri::{AppHandle, Manager, Runtime};
use ts_rs::TS;

use crate::error::Error;
use crate::history::{History, HistoryEntry, REFRESH_FAILED};
use crate::settings::SettingsError;

/// The active profile's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TimelineView {
    /// Oldest first; a new sign-in (or a new session id) starts a new one.
    pub sessions: Vec<TimelineSession>,
    /// Failures and rejections of a refresh token no session here holds (a pasted stranger's,
    /// or one whose tokens were compacted away): drawn apart, so that they never cut a chain.
    pub stray: Vec<TimelineMark>,
}

/// One session's chain.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TimelineSession {
    /// The access tokens' `session_id` claim, when they carry one.
    pub session_id: Option<String>,
    /// Its access tokens in the order they arrived; each but the first came by a rotation.
    pub tokens: Vec<TimelineToken>,
    /// Failures, rejections and the sign-out, in order.
    pub marks: Vec<TimelineMark>,
    /// Signed out (or ended): no token comes after the last.
    pub ended: bool,
}

/// An access token (and the refresh token that came with it).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TimelineToken {
    /// Unique within the view (`t0`, `t1`, …): what the window's pickers name.
    pub id: String,
    pub at: String,
    /// The event that brought it (`SIGNED_IN`, `TOKEN_REFRESHED`, `MFA_CHALLENGE_VERIFIED`, …).
    pub kind: String,
    /// What made it (`refreshNow`, `autoRefresh`, …); none for a session first seen at launch
    /// or recorded by an earlier version.
    pub cause: Option<String>,
    /// What the window writes on the link that made it: the cause's words (`Cause::label`),
    /// or, without a cause, what the event says.
    pub label: String,
    pub refresh_token_fingerprint: Option<String>,
    /// The v2 refresh token's counter; none for legacy tokens.
    pub counter: Option<u64>,
    pub exchange: Option<ExchangeRef>,
    /// `iat` and `exp` in Unix seconds, from the claims.
    pub issued_at: Option<i64>,
    pub expires_at: Option<i64>,
    /// The kept claims (`session_profiles::CLAIMS_KEPT`); none for an entry of an earlier version.
    #[ts(type = "Record<string, unknown> | null")]
    pub claims: Option<Map<String, Value>>,
}

/// A recorded exchange, and whether this run of the app still has it (ids restart at launch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeRef {
    #[ts(type = "number")]
    pub id: u64,
    pub this_run: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum MarkKind {
    /// A refresh that reached the server and failed (transient or not).
    Failure,
    /// The refresh token refused for good while its access token still works.
    Rejected,
    /// The session ended here.
    SignedOut,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TimelineMark {
    pub kind: MarkKind,
    pub at: String,
    /// The GoTrue code, or the sign-out's reason.
    pub code: Option<String>,
    pub status: Option<u16>,
    pub cause: Option<String>,
    /// The cause's words (`Cause::label`), when there is one.
    pub cause_label: Option<String>,
    /// The refresh token sent (a failure) or refused (a rejection).
    pub refresh_token_fingerprint: Option<String>,
    /// The last of them, when the same failure came again and again (`repeat` > 1): one mark
    /// for a ticker failing all night, not hundreds.
    pub exchange: Option<ExchangeRef>,
    /// How many times in a row this failure came (same token, status and code); 1 for most.
    pub repeat: u32,
    /// When the last of them came (`at` when `repeat` is 1).
    pub last_at: String,
}

impl TimelineMark {
    /// The same failure again: the same token sent, the same status and code.
    fn repeats(&self, other: &TimelineMark) -> bool {
        self.kind == MarkKind::Failure
            && other.kind == MarkKind::Failure
            && self.refresh_token_fingerprint == other.refresh_token_fingerprint
            && self.status == other.status
            && self.code == other.code
    }
}

/// Adds a failure or a rejection to `marks`: a failure like the one before it counts as that
/// one again; a rejection that follows the failure of the same token and code is that failure
/// said a second time (the engine tells the failure, then the rejection it leads to), so the
/// failure becomes the rejection instead of a second mark.
fn push_failure(marks: &mut Vec<TimelineMark>, mark: TimelineMark) {
    let Some(last) = marks.last_mut() else {
        marks.push(mark);
        return;
    };
    if last.repeats(&mark) {
        last.repeat += 1;
        last.last_at = mark.at;
        last.exchange = mark.exchange.or(last.exchange);
        return;
    }
    let same_refusal = mark.kind == MarkKind::Rejected
        && last.kind == MarkKind::Failure
        && last.refresh_token_fingerprint == mark.refresh_token_fingerprint
        && last.code == mark.code;
    if !same_refusal {
        marks.push(mark);
        return;
    }
    if last.repeat > 1 {
        // The earlier ones stay failures; the last of them was refused for good.
        last.repeat -= 1;
        let mut rejected = last.clone();
        rejected.repeat = 1;
        rejected.at = rejected.last_at.clone();
        rejected.kind = MarkKind::Rejected;
        marks.push(rejected);
    } else {
        last.kind = MarkKind::Rejected;
    }
}

/// Events that carry a session whose tokens may be new.
const TOKEN_EVENTS: &[&str] = &[
    "INITIAL_SESSION",
    "SIGNED_IN",
    "TOKEN_REFRESHED",
    "MFA_CHALLENGE_VERIFIED",
    "USER_UPDATED",
    "PASSWORD_RECOVERY",
];

/// Builds the timeline from one profile's entries, oldest first; `run` is this run of the app.
pub fn build(entries: &[HistoryEntry], run: &str) -> TimelineView {
    let mut sessions: Vec<TimelineSession> = Vec::new();
    let mut stray: Vec<TimelineMark> = Vec::new();
    let mut next_id = 0usize;
    let sign_in = crate::history::cause_name(Cause::SignIn);
    let exchange_of = |entry: &HistoryEntry| {
        entry.exchange_id.map(|id| ExchangeRef {
            id,
            this_run: entry.run.as_deref() == Some(run),
        })
    };
    for entry in entries {
        let mark = |kind| TimelineMark {
            kind,
            at: entry.at.clone(),
            code: entry.code.clone(),
            status: entry.status,
            cause: entry.cause.clone(),
            cause_label: entry.cause.as_deref().and_then(cause_label),
            refresh_token_fingerprint: entry.refresh_token_fingerprint.clone(),
            exchange: exchange_of(entry),
            repeat: 1,
            last_at: entry.at.clone(),
        };
        match entry.kind.as_str() {
            REFRESH_FAILED | "REFRESH_REJECTED" => {
                let kind = if entry.kind == REFRESH_FAILED {
                    MarkKind::Failure
                } else {
                    MarkKind::Rejected
                };
                // Marked on the session whose token was sent (the open one, usually).
                let owner = sessions.iter_mut().rev().find(|s| {
                    s.tokens.iter().any(|t| {
                        t.refresh_token_fingerprint.is_some()
                            && t.refresh_token_fingerprint == entry.refresh_token_fingerprint
                    })
                });
                match owner {
                    Some(session) => push_failure(&mut session.marks, mark(kind)),
                    None => push_failure(&mut stray, mark(kind)),
                }
            }
            "SIGNED_OUT" => {
                if let Some(session) = sessions.last_mut().filter(|s| !s.ended) {
                    session.marks.push(mark(MarkKind::SignedOut));
                    session.ended = true;
                }
            }
            kind if TOKEN_EVENTS.contains(&kind) => {
                let Some(fingerprint) = &entry.refresh_token_fingerprint else {
                    continue;
                };
                let claims = entry.claims.clone();
                let claim = |name: &str| claims.as_ref().and_then(|c| c.get(name)).cloned();
                let session_id = claim("session_id").and_then(|v| v.as_str().map(String::from));
                let issued_at = claim("iat").and_then(|v| v.as_i64());
                let open = sessions.last_mut().filter(|s| !s.ended);
                // The same tokens seen again (INITIAL_SESSION, a recovered session at start-up,
                // a user update that kept them): nothing new.
                let seen = open
                    .as_ref()
                    .and_then(|s| s.tokens.last())
                    .is_some_and(|t| {
                        t.refresh_token_fingerprint.as_ref() == Some(fingerprint)
                            && (issued_at.is_none() || t.issued_at == issued_at)
                    });
                if seen {
                    continue;
                }
                let signs_in = matches!(kind, "SIGNED_IN" | "PASSWORD_RECOVERY")
                    && entry.cause.as_deref() == Some(sign_in.as_str());
                let other_session = open.as_ref().is_some_and(|s| {
                    session_id.is_some() && s.session_id.is_some() && s.session_id != session_id
                });
                let empty_open = open.as_ref().is_some_and(|s| s.tokens.is_empty());
                if open.is_none() || (!empty_open && (signs_in || other_session)) {
                    // A new session replaces the one this app held (a sign-in over it, as the
                    // playground's fresh start does): no token of that one comes after.
                    if let Some(replaced) = sessions.last_mut().filter(|s| !s.ended) {
                        replaced.ended = true;
                    }
                    sessions.push(TimelineSession {
                        session_id: session_id.clone(),
                        tokens: Vec::new(),
                        marks: Vec::new(),
                        ended: false,
                    });
                }
                let session = sessions.last_mut().expect("a session was just pushed");
                if session.session_id.is_none() {
                    session.session_id = session_id;
                }
                session.tokens.push(TimelineToken {
                    id: format!("t{next_id}"),
                    at: entry.at.clone(),
                    kind: entry.kind.clone(),
                    cause: entry.cause.clone(),
                    label: entry
                        .cause
                        .as_deref()
                        .and_then(cause_label)
                        .unwrap_or_else(|| kind_label(kind).to_string()),
                    refresh_token_fingerprint: Some(fingerprint.clone()),
                    counter: entry.counter,
                    exchange: exchange_of(entry),
                    issued_at,
                    expires_at: claim("exp").and_then(|v| v.as_i64()),
                    claims,
                });
                next_id += 1;
            }
            _ => {}
        }
    }
    TimelineView { sessions, stray }
}

/// The words for a cause as the history spells it (`refreshNow`); none for one this version
/// does not know.
fn cause_label(name: &str) -> Option<String> {
    serde_json::from_value::<Cause>(Value::String(name.to_string()))
        .ok()
        .map(|cause| cause.label().to_string())
}

/// What a token without a cause (an earlier version's entry, a session first seen at launch)
/// is labelled with.
fn kind_label(kind: &str) -> &str {
    match kind {
        "INITIAL_SESSION" => "Seen at launch",
        "SIGNED_IN" => "Sign-in",
        "TOKEN_REFRESHED" => "Refresh",
        other => other,
    }
}

/// The active profile's timeline, from the history file and the batch not yet written.
pub async fn of_profile<R: Runtime>(
    app: &AppHandle<R>,
    profile: &str,
) -> Result<TimelineView, Error> {
    let folder = crate::history::folder(app)
        .ok_or_else(|| SettingsError::History("the app data folder is unknown".into()))?;
    let history = app
        .try_state::<History>()
        .map(|h| h.inner().clone())
        .unwrap_or_default();
    let run = history.run_of(profile).unwrap_or_default();
    let profile = profile.to_string();
    let entries =
        tauri::async_runtime::spawn_blocking(move || history.entries_of(&folder, &profile))
            .await?
            .map_err(|e| SettingsError::History(e.to_string()))?;
    Ok(build(&entries, &run))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn token(kind: &str, cause: Option<&str>, fp: &str, sid: &str, iat: i64) -> HistoryEntry {
        HistoryEntry {
            at: format!("2026-01-01T00:00:{:02}.000Z", iat % 60),
            kind: kind.into(),
            profile: "p".into(),
            refresh_token_fingerprint: Some(fp.into()),
            cause: cause.map(String::from),
            counter: Some(iat as u64),
            exchange_id: Some(iat as u64),
            run: Some(if iat < 10 { "old" } else { "now" }.into()),
            claims: json!({"session_id": sid, "iat": iat, "exp": iat + 3600, "sub": "u"})
                .as_object()
                .cloned(),
            ..HistoryEntry::default()
        }
    }

    fn failure(fp: &str, status: u16, code: Option<&str>) -> HistoryEntry {
        HistoryEntry {
            at: "2026-01-01T00:00:30.000Z".into(),
            kind: REFRESH_FAILED.into(),
            profile: "p".into(),
            refresh_token_fingerprint: Some(fp.into()),
            cause: Some("refreshNow".into()),
            status: Some(status),
            code: code.map(String::from),
            exchange_id: Some(30),
            run: Some("now".into()),
            ..HistoryEntry::default()
        }
    }

    #[test]
    fn rotations_chain_and_a_sign_in_starts_a_new_chain() {
        let entries = vec![
            token("SIGNED_IN", Some("signIn"), "a", "s1", 1),
            token("INITIAL_SESSION", None, "a", "s1", 1),
            token("TOKEN_REFRESHED", Some("refreshNow"), "b", "s1", 11),
            failure("b", 503, None),
            token("TOKEN_REFRESHED", Some("autoRefresh"), "c", "s1", 12),
            token("MFA_CHALLENGE_VERIFIED", Some("mfaStepUp"), "d", "s1", 13),
            HistoryEntry {
                at: "x".into(),
                kind: "SIGNED_OUT".into(),
                profile: "p".into(),
                code: Some("sign_out:local".into()),
                ..HistoryEntry::default()
            },
            token("SIGNED_IN", Some("signIn"), "e", "s2", 14),
            token("SIGNED_IN", Some("startUp"), "e", "s2", 14),
            token("SIGNED_IN", Some("signIn"), "f", "s3", 15),
        ];
        let view = build(&entries, "now");
        assert_eq!(view.sessions.len(), 3);
        let first = &view.sessions[0];
        let causes: Vec<_> = first.tokens.iter().map(|t| t.cause.as_deref()).collect();
        assert_eq!(
            causes,
            [
                Some("signIn"),
                Some("refreshNow"),
                Some("autoRefresh"),
                Some("mfaStepUp")
            ]
        );
        assert_eq!(first.session_id.as_deref(), Some("s1"));
        assert!(first.ended);
        assert_eq!(first.marks.len(), 2);
        assert_eq!(first.marks[0].kind, MarkKind::Failure);
        assert_eq!(first.marks[0].status, Some(503));
        assert_eq!(first.marks[0].cause_label.as_deref(), Some("Refresh now"));
        let labels: Vec<_> = first.tokens.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(
            labels,
            ["Sign-in", "Refresh now", "Auto-refresh", "MFA step-up"]
        );
        assert_eq!(first.marks[1].kind, MarkKind::SignedOut);
        assert_eq!(first.marks[1].code.as_deref(), Some("sign_out:local"));
        // The exchange of an earlier run is said to be gone.
        assert_eq!(
            first.tokens[0].exchange,
            Some(ExchangeRef {
                id: 1,
                this_run: false
            })
        );
        assert_eq!(
            first.tokens[1].exchange,
            Some(ExchangeRef {
                id: 11,
                this_run: true
            })
        );
        // s2 was replaced by s3's sign-in without a sign-out: it ended there all the same,
        // and only the newest session has a current token.
        assert!(view.sessions[1].ended, "a replaced session is not current");
        assert!(!view.sessions[2].ended);
        assert_eq!(first.tokens[1].issued_at, Some(11));
        assert_eq!(first.tokens[1].expires_at, Some(3611));
        // The start-up recovery of the same tokens adds nothing.
        assert_eq!(view.sessions[1].tokens.len(), 1);
        assert_eq!(
            view.sessions[2].tokens[0]
                .refresh_token_fingerprint
                .as_deref(),
            Some("f")
        );
        let ids: Vec<_> = view
            .sessions
            .iter()
            .flat_map(|s| &s.tokens)
            .map(|t| t.id.as_str())
            .collect();
        assert_eq!(ids, ["t0", "t1", "t2", "t3", "t4", "t5"]);
    }

    #[test]
    fn a_new_session_id_without_a_sign_in_starts_a_new_chain_and_failures_find_their_session() {
        let entries = vec![
            token("SIGNED_IN", Some("signIn"), "a", "s1", 1),
            // Another session seen at launch (the command line signed in meanwhile).
            token("INITIAL_SESSION", None, "x", "s2", 20),
            // A failure of the first session's token, sent from a paste.
            failure("a", 400, Some("refresh_token_already_used")),
            failure("unknown", 0, None),
        ];
        let view = build(&entries, "now");
        assert_eq!(view.sessions.len(), 2);
        assert_eq!(
            view.sessions[0].marks[0].code.as_deref(),
            Some("refresh_token_already_used")
        );
        assert!(view.sessions[1].marks.is_empty());
        assert_eq!(view.stray.len(), 1);
        assert_eq!(view.stray[0].status, Some(0));
    }

    fn signed_out() -> HistoryEntry {
        HistoryEntry {
            at: "2026-01-01T00:00:50.000Z".into(),
            kind: "SIGNED_OUT".into(),
            profile: "p".into(),
            code: Some("sign_out:local".into()),
            ..HistoryEntry::default()
        }
    }

    #[test]
    fn a_failure_of_an_unknown_token_never_cuts_the_chain() {
        let entries = vec![
            token("SIGNED_IN", Some("signIn"), "a", "s1", 11),
            // A pasted stranger refused.
            failure("stranger", 400, Some("refresh_token_not_found")),
            token("TOKEN_REFRESHED", Some("refreshNow"), "b", "s1", 12),
            signed_out(),
        ];
        let view = build(&entries, "now");
        assert_eq!(view.sessions.len(), 1, "{view:#?}");
        let session = &view.sessions[0];
        assert_eq!(session.tokens.len(), 2);
        assert!(session.ended);
        assert_eq!(session.marks.len(), 1);
        assert_eq!(session.marks[0].kind, MarkKind::SignedOut);
        assert_eq!(view.stray.len(), 1);
        assert_eq!(
            view.stray[0].code.as_deref(),
            Some("refresh_token_not_found")
        );
    }

    #[test]
    fn the_same_failure_again_is_one_mark_with_a_count_and_a_refusal_is_told_once() {
        let mut entries = vec![token("SIGNED_IN", Some("signIn"), "a", "s1", 11)];
        for i in 0..5u64 {
            entries.push(HistoryEntry {
                at: format!("2026-01-01T00:01:{i:02}.000Z"),
                exchange_id: Some(40 + i),
                ..failure("a", 503, Some("unexpected_failure"))
            });
        }
        entries.push(failure("a", 0, None));
        entries.push(failure("a", 400, Some("refresh_token_already_used")));
        // The engine's REFRESH_REJECTED for the same refusal (no exchange, no cause).
        entries.push(HistoryEntry {
            at: "2026-01-01T00:02:00.000Z".into(),
            kind: "REFRESH_REJECTED".into(),
            profile: "p".into(),
            refresh_token_fingerprint: Some("a".into()),
            code: Some("refresh_token_already_used".into()),
            status: Some(400),
            ..HistoryEntry::default()
        });
        let view = build(&entries, "now");
        let marks = &view.sessions[0].marks;
        assert_eq!(marks.len(), 3, "{marks:#?}");
        assert_eq!((marks[0].kind, marks[0].repeat), (MarkKind::Failure, 5));
        assert_eq!(marks[0].at, "2026-01-01T00:01:00.000Z");
        assert_eq!(marks[0].last_at, "2026-01-01T00:01:04.000Z");
        assert_eq!(marks[0].exchange.map(|e| e.id), Some(44));
        assert_eq!((marks[1].status, marks[1].repeat), (Some(0), 1));
        assert_eq!(marks[2].kind, MarkKind::Rejected);
        assert_eq!(marks[2].exchange.map(|e| e.id), Some(30));
        assert_eq!(marks[2].cause.as_deref(), Some("refreshNow"));
    }

    #[test]
    fn entries_of_an_earlier_version_still_make_a_chain() {
        let old: Vec<HistoryEntry> = [
            r#"{"at":"1","kind":"SIGNED_IN","profile":"p","refreshTokenFingerprint":"fp:a"}"#,
            r#"{"at":"2","kind":"TOKEN_REFRESHED","profile":"p","refreshTokenFingerprint":"fp:b"}"#,
        ]
        .iter()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
        let view = build(&old, "now");
        assert_eq!(view.sessions.len(), 1);
        let tokens = &view.sessions[0].tokens;
        assert_eq!(tokens.len(), 2);
        assert_eq!(tokens[1].cause, None);
        assert_eq!(tokens[0].label, "Sign-in");
        assert_eq!(tokens[1].label, "Refresh");
        assert_eq!(tokens[1].claims, None);
        assert_eq!(tokens[1].exchange, None);
    }
}
