//! `watch`: a profile's auth events from the engine's event bus, one JSON line each (redacted),
//! until Ctrl+C, the reader closing the pipe, or `--count` lines. With `--auto-refresh` the
//! engine's auto-refresh schedule runs too, saving each new session to the keyring.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use session_engine::auto_refresh::{self, Outcome, Setting};
use session_engine::{
    AuthClient, AuthError, AuthEvent, AuthEventKind, Cause, RefreshRejection, SessionStore,
    StorageError,
};
use tokio::sync::{mpsc, watch};

use crate::args::WatchArgs;
use crate::error::{CliError, ErrorView};
use crate::home::{self, Home};
use crate::output::Output;
use crate::refresh::app_holds_old_session;
use crate::view::{time, SessionSummary};

/// One NDJSON line.
#[derive(Serialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
enum Line {
    AuthEvent {
        event: &'static str,
        previous: Option<&'static str>,
        at: String,
        reason: Option<String>,
        /// What set it off (`refreshNow`, `autoRefresh`, `paste`, `getSession`, `signIn`, …).
        #[serde(skip_serializing_if = "Option::is_none")]
        cause: Option<Cause>,
        // Boxed: a summary is much larger than the failure variant.
        session: Option<Box<SessionSummary>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        rejection: Option<Rejection>,
    },
    /// An automatic refresh that failed without ending anything (a definitive refusal also
    /// shows as REFRESH_REJECTED or SIGNED_OUT).
    RefreshFailed { at: String, error: ErrorView },
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rejection {
    code: String,
    status: u16,
    message: String,
    access_token_works_until: String,
    refresh_token_fingerprint: String,
}

impl Line {
    fn of(event: AuthEvent) -> Line {
        Line::AuthEvent {
            event: event.kind.as_str(),
            previous: event.previous.map(|kind| kind.as_str()),
            at: stamp(event.at),
            reason: event.reason,
            cause: event.cause,
            session: event
                .session
                .as_ref()
                .map(|session| Box::new(SessionSummary::of(session, event.at, false))),
            rejection: event.rejection.map(Rejection::of),
        }
    }

    fn failure(error: AuthError) -> Line {
        Line::RefreshFailed {
            at: stamp(Utc::now()),
            error: CliError::Auth(error).view(),
        }
    }
}

impl Rejection {
    fn of(rejection: RefreshRejection) -> Rejection {
        Rejection {
            access_token_works_until: time(rejection.access_token_expires_at),
            code: rejection.code,
            status: rejection.status,
            message: rejection.message,
            refresh_token_fingerprint: rejection.refresh_token_fingerprint,
        }
    }
}

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub async fn run(args: &WatchArgs, home: &Home, out: &Output) -> Result<(), CliError> {
    let profile = home.profile(&args.profile)?;
    let config = home::project_config(&profile)?;
    let vault = home.vault().await?;
    let store = home.store(&vault, &profile) as Arc<dyn SessionStore>;
    let client = AuthClient::new(config, store, profile.project_store_key()).await?;
    if client.current_session().is_none() {
        return Err(CliError::NoSession(profile.id.clone()));
    }
    // Listening for Ctrl+C from now on: a handler installed only when the loop first polls
    // would leave a moment in which Ctrl+C kills the process, mid-refresh perhaps.
    let mut interrupted = interrupt().map_err(CliError::Runtime)?;
    // Subscribing starts the stored session's recovery, as opening the profile in the app does.
    let mut events = client.subscribe();
    let (failed, mut failures) = mpsc::unbounded_channel();
    // The schedule ends when `setting` is dropped, after the loop.
    let (setting, schedule) = if args.auto_refresh {
        out.note(&format!("auto-refresh is on: each refresh saves the new session to the keyring, and a Session Inspector with profile {:?} open falls a refresh behind each time (after two it is refused: see refresh --help)", profile.name));
        let margin = Duration::from_secs(args.margin.unwrap_or(profile.refresh_margin_secs));
        let (setting, receiver) = watch::channel(Setting {
            enabled: true,
            margin,
        });
        let schedule = tokio::spawn(auto_refresh::run(
            client.clone(),
            receiver,
            move |outcome| {
                if let Outcome::Failed(error) = outcome {
                    let _ = failed.send(error);
                }
            },
        ));
        (Some(setting), Some(schedule))
    } else {
        (None, None)
    };

    let mut printed = 0;
    let mut ended = None;
    loop {
        let line = tokio::select! {
            biased;
            _ = interrupted.recv() => break,
            event = events.next() => match event {
                Some(event) => {
                    // Even without --auto-refresh the start-up recovery may refresh (a session
                    // inside its margin) and save the result: a running app is then behind.
                    if event.kind == AuthEventKind::TokenRefreshed && !args.auto_refresh {
                        out.note(&app_holds_old_session(&profile));
                    }
                    Line::of(event)
                }
                None => break,
            },
            Some(error) = failures.recv() => {
                // The app no longer lists the profile: nothing more is saved for it, so
                // watching it is over.
                if matches!(error, AuthError::Storage(StorageError::Closed)) {
                    ended = Some(CliError::ProfileRemoved(profile.id.clone()));
                }
                Line::failure(error)
            }
        };
        match out.json_line(&line) {
            // The reader is gone (`| head -3`): nothing left to watch for.
            Err(CliError::Output(error)) if error.kind() == std::io::ErrorKind::BrokenPipe => break,
            result => result?,
        }
        printed += 1;
        if ended.is_some() || args.count.is_some_and(|count| printed >= count) {
            break;
        }
    }
    if let (Some(setting), Some(schedule)) = (setting, schedule) {
        // Dropping the setting ends the schedule at its next turn: a refresh under way is
        // finished (and saved) first, since GoTrue may already have rotated the token.
        drop(setting);
        let _ = tokio::time::timeout(Duration::from_secs(30), schedule).await;
    }
    ended.map_or(Ok(()), Err)
}

/// Ctrl+C, listened for from the moment this is made.
#[cfg(unix)]
fn interrupt() -> std::io::Result<tokio::signal::unix::Signal> {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
}

#[cfg(windows)]
fn interrupt() -> std::io::Result<tokio::signal::windows::CtrlC> {
    tokio::signal::windows::ctrl_c()
}
