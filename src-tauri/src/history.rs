//! The history index: every auth event of the active profile as its time, kind and the refresh
//! token's fingerprint, per profile. Never a token. A later timeline reads it.
//!
//! It lives in `history.ndjson` in the app data folder, one entry a line, apart from the
//! settings: it used to be a list inside the settings file, which was rewritten whole (and grew
//! to hundreds of KB) on every event. Now an event only appends to a pending batch in memory;
//! the batch is appended to the file half a second later in one write, and when the app exits.
//! The file is compacted (rewritten atomically with the newest `LIMIT_PER_PROFILE` entries of
//! each profile) once one profile has half as many again, so it stays bounded. Removing a
//! profile removes its lines; Reset all data deletes the file.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use session_engine::auto_refresh::Setting;
use session_engine::tokens::{decode_jwt, fingerprint, inspect_refresh_token, RefreshTokenShape};
use session_engine::{AuthClient, AuthEvent, Cause, RefreshFailure};
use tauri::async_runtime::JoinHandle;
use tauri::{AppHandle, Manager, Runtime};
use tokio::sync::watch;

pub const FILE: &str = "history.ndjson";
/// Each profile keeps this many entries (the newest), failed refreshes apart.
pub const LIMIT_PER_PROFILE: usize = 1000;
/// And this many failed refreshes (the newest), counted apart: a ticker failing all night
/// (network down) must not push the profile's tokens out of its history.
pub const FAILURES_PER_PROFILE: usize = 200;
/// How long an entry waits for others before the batch is written.
const BATCH_WINDOW: Duration = Duration::from_millis(500);

/// One line of history (shared with the settings' model, where an earlier version kept it).
pub use session_profiles::HistoryEntry;

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("the history file could not be written: {0}")]
    Write(std::io::Error),
    #[error("the history file could not be read: {0}")]
    Read(std::io::Error),
    #[error("the history file could not be deleted: {0}")]
    Remove(std::io::Error),
    #[error("the history file could not be replaced: {0}")]
    Compact(session_engine::StorageError),
}

/// The history file and the entries waiting to be appended to it; shared by the app.
///
/// Two locks, always taken in this order when both are: `file` for as long as the file is read
/// or written, then `inner` only for a moment (to take or copy the pending entries), so an
/// event's `append` never waits for the disk.
#[derive(Clone, Default)]
pub struct History {
    inner: Arc<Mutex<Pending>>,
    file: Arc<Mutex<FileState>>,
}

#[derive(Default)]
struct Pending {
    entries: Vec<HistoryEntry>,
    /// A write of the batch is scheduled.
    scheduled: bool,
    /// Each profile's current recording run (`record`), whose exchanges its client still has.
    runs: HashMap<String, String>,
}

#[derive(Default)]
struct FileState {
    /// Entries per profile in the file, once counted.
    counts: Option<HashMap<String, usize>>,
}

impl History {
    /// Keeps `entry` for the next batch, and schedules that batch's write into `folder`.
    pub fn append(&self, folder: &Path, entry: HistoryEntry) {
        let mut pending = self.lock();
        pending.entries.push(entry);
        if pending.scheduled {
            return;
        }
        pending.scheduled = true;
        let (history, folder) = (self.clone(), folder.to_path_buf());
        tauri::async_runtime::spawn(async move {
            tokio::time::sleep(BATCH_WINDOW).await;
            let written = tauri::async_runtime::spawn_blocking(move || history.flush(&folder));
            match written.await {
                Ok(Err(error)) => tracing::warn!(%error, "history lines could not be saved"),
                Err(error) => tracing::warn!(%error, "history lines could not be saved"),
                Ok(Ok(())) => {}
            }
        });
    }

    /// Appends the pending entries to the file in one write, then compacts it when a profile
    /// has grown past its bound. A batch that cannot be written is lost, not retried.
    pub fn flush(&self, folder: &Path) -> Result<(), HistoryError> {
        let mut file_state = self.file_lock();
        let entries = {
            let mut pending = self.lock();
            pending.scheduled = false;
            std::mem::take(&mut pending.entries)
        };
        if entries.is_empty() {
            return Ok(());
        }
        let path = folder.join(FILE);
        if file_state.counts.is_none() {
            let mut counts = HashMap::new();
            for entry in read(&path)? {
                *counts.entry(entry.profile).or_insert(0) += 1;
            }
            file_state.counts = Some(counts);
        }
        let mut text = String::new();
        for entry in &entries {
            // Strings, numbers and the claims (a JSON object already, with string keys):
            // nothing in an entry can fail to encode.
            text.push_str(&serde_json::to_string(entry).unwrap_or_default());
            text.push('\n');
        }
        std::fs::create_dir_all(folder).map_err(HistoryError::Write)?;
        let mut options = std::fs::OpenOptions::new();
        options.create(true).read(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(HistoryError::Write)?;
        // A line cut short by a crash is skipped when read; the batch starts on a line of its
        // own so that its first entry is not lost with it.
        if !ends_a_line(&mut file).map_err(HistoryError::Write)? {
            text.insert(0, '\n');
        }
        file.write_all(text.as_bytes())
            .map_err(HistoryError::Write)?;
        let counts = file_state.counts.get_or_insert_with(HashMap::new);
        for entry in entries {
            *counts.entry(entry.profile).or_insert(0) += 1;
        }
        if counts.values().any(|&n| n > LIMIT_PER_PROFILE * 3 / 2) {
            let kept = compact(folder)?;
            file_state.counts = Some(kept);
        }
        Ok(())
    }

    /// Forgets the pending entries and deletes the file (Reset all data).
    pub fn erase(&self, folder: &Path) -> Result<(), HistoryError> {
        let mut file_state = self.file_lock();
        self.lock().entries.clear();
        file_state.counts = Some(HashMap::new());
        match std::fs::remove_file(folder.join(FILE)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(HistoryError::Remove(e)),
            _ => Ok(()),
        }
    }

    /// Forgets one profile's history (the profile was removed): its pending entries are
    /// dropped and the file is rewritten atomically without its lines. Nothing to drop leaves
    /// the file untouched.
    pub fn forget_profile(&self, folder: &Path, profile: &str) -> Result<(), HistoryError> {
        let mut file_state = self.file_lock();
        {
            let mut pending = self.lock();
            pending.entries.retain(|entry| entry.profile != profile);
            pending.runs.remove(profile);
        }
        let path = folder.join(FILE);
        let entries = read(&path)?;
        if entries.iter().all(|entry| entry.profile != profile) {
            return Ok(());
        }
        let mut text = String::new();
        for entry in entries.iter().filter(|entry| entry.profile != profile) {
            text.push_str(&serde_json::to_string(entry).unwrap_or_default());
            text.push('\n');
        }
        session_vault::write_atomically(folder, FILE, text.as_bytes())
            .map_err(HistoryError::Compact)?;
        if let Some(counts) = file_state.counts.as_mut() {
            counts.remove(profile);
        }
        Ok(())
    }

    /// `profile`'s entries, oldest first: the file's, then those waiting for their batch.
    pub fn entries_of(
        &self,
        folder: &Path,
        profile: &str,
    ) -> Result<Vec<HistoryEntry>, HistoryError> {
        // Under the file's lock: a batch being written is either still pending or in the file.
        // The pending entries' lock is only held to copy them: events keep coming meanwhile.
        let _file = self.file_lock();
        let mut entries: Vec<HistoryEntry> = read(&folder.join(FILE))?
            .into_iter()
            .filter(|entry| entry.profile == profile)
            .collect();
        entries.extend(
            self.lock()
                .entries
                .iter()
                .filter(|entry| entry.profile == profile)
                .cloned(),
        );
        Ok(entries)
    }

    /// The recording run of `profile`'s open client, if one is recording.
    pub fn run_of(&self, profile: &str) -> Option<String> {
        self.lock().runs.get(profile).cloned()
    }

    /// Starts a recording run for `profile` (its client was just opened) and returns it.
    pub fn start_run(&self, profile: &str) -> String {
        let run = new_run();
        self.lock().runs.insert(profile.to_string(), run.clone());
        run
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn file_lock(&self) -> std::sync::MutexGuard<'_, FileState> {
        self.file.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Whether the file is empty or its last byte ends a line.
fn ends_a_line(file: &mut std::fs::File) -> std::io::Result<bool> {
    use std::io::{Read as _, Seek as _, SeekFrom};
    if file.metadata()?.len() == 0 {
        return Ok(true);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8];
    file.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}

/// Every entry in the file, oldest first; lines that do not parse are skipped.
pub fn read(path: &Path) -> Result<Vec<HistoryEntry>, HistoryError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(HistoryError::Read(e)),
    };
    Ok(text
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect())
}

/// Rewrites the file with the newest `LIMIT_PER_PROFILE` entries of each profile and, counted
/// apart, its newest `FAILURES_PER_PROFILE` failed refreshes, in order; returns how many each
/// profile kept.
fn compact(folder: &Path) -> Result<HashMap<String, usize>, HistoryError> {
    let entries = read(&folder.join(FILE))?;
    // Per profile and per budget (failures or the rest).
    let budget = |entry: &HistoryEntry| (entry.profile.clone(), entry.kind == REFRESH_FAILED);
    let limit = |failures: bool| {
        if failures {
            FAILURES_PER_PROFILE
        } else {
            LIMIT_PER_PROFILE
        }
    };
    let mut total: HashMap<(String, bool), usize> = HashMap::new();
    for entry in &entries {
        *total.entry(budget(entry)).or_insert(0) += 1;
    }
    let mut seen: HashMap<(String, bool), usize> = HashMap::new();
    let mut kept: HashMap<String, usize> = HashMap::new();
    let mut text = String::new();
    for entry in &entries {
        let key = budget(entry);
        let n = seen.entry(key.clone()).or_insert(0);
        *n += 1;
        if total[&key] - *n < limit(key.1) {
            text.push_str(&serde_json::to_string(entry).unwrap_or_default());
            text.push('\n');
            *kept.entry(key.0).or_insert(0) += 1;
        }
    }
    session_vault::write_atomically(folder, FILE, text.as_bytes())
        .map_err(HistoryError::Compact)?;
    Ok(kept)
}

/// The app data folder, where the history file lives.
pub fn folder<R: Runtime>(app: &AppHandle<R>) -> Option<PathBuf> {
    app.path().app_data_dir().ok()
}

/// Moves the history an earlier version kept in the settings into the history file, once, and
/// drops it from the settings.
pub fn migrate<R: Runtime>(app: &AppHandle<R>) {
    let (Some(folder), Some(history)) = (folder(app), app.try_state::<History>()) else {
        return;
    };
    let moved = crate::settings::update(app, |settings| {
        let old = std::mem::take(&mut settings.history);
        if old.is_empty() {
            return Ok::<_, crate::settings::SettingsError>(0);
        }
        let n = old.len();
        // A migration stopped after the file got these lines but before the settings dropped
        // them runs again: the lines already there are not added twice.
        let there: std::collections::HashSet<HistoryEntry> = read(&folder.join(FILE))
            .map_err(|e| crate::settings::SettingsError::History(e.to_string()))?
            .into_iter()
            .collect();
        for entry in old.into_iter().filter(|entry| !there.contains(entry)) {
            history.lock().entries.push(entry);
        }
        // Written before the settings drop them: a failure keeps them in the settings.
        history
            .flush(&folder)
            .map_err(|e| crate::settings::SettingsError::History(e.to_string()))?;
        Ok(n)
    });
    match moved {
        Ok(0) => {}
        Ok(n) => tracing::info!(entries = n, "history moved out of the settings"),
        Err(error) => tracing::warn!(%error, "the history stays in the settings for now"),
    }
}

/// Writes the pending batch now (the app is exiting).
pub fn flush_now<R: Runtime>(app: &AppHandle<R>) {
    if let (Some(folder), Some(history)) = (folder(app), app.try_state::<History>()) {
        if let Err(error) = history.flush(&folder) {
            tracing::warn!(%error, "history lines could not be saved");
        }
    }
}

/// Deletes the history file and what waits to be written to it (Reset all data, with the
/// settings).
pub fn erase<R: Runtime>(app: &AppHandle<R>) -> Result<(), crate::settings::SettingsError> {
    let folder = app
        .path()
        .app_data_dir()
        .map_err(|e| crate::settings::SettingsError::History(e.to_string()))?;
    let history = app.try_state::<History>();
    let erased = match history {
        Some(history) => history.erase(&folder),
        None => History::default().erase(&folder),
    };
    erased.map_err(|e| crate::settings::SettingsError::History(e.to_string()))
}

/// Forgets a removed profile's history, off the async threads (the file is rewritten).
pub async fn forget_profile<R: Runtime>(app: &AppHandle<R>, profile: &str) {
    let (Some(folder), Some(history)) = (folder(app), app.try_state::<History>()) else {
        return;
    };
    let (history, profile) = (history.inner().clone(), profile.to_string());
    let forgotten =
        tauri::async_runtime::spawn_blocking(move || history.forget_profile(&folder, &profile));
    match forgotten.await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::warn!(%error, "a removed profile's history stays on disk"),
        Err(error) => tracing::warn!(%error, "forgetting a removed profile's history stopped"),
    }
}

/// A new recording run: the engine client's exchange ids start again with each client (each
/// launch, each opening of a profile), so an entry names the run its exchange belongs to. The
/// time to the millisecond, the process and a counter within it.
fn new_run() -> String {
    static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    format!(
        "{}#{}#{}",
        chrono::Utc::now().timestamp_millis(),
        std::process::id(),
        RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

/// The entry for an auth event: its kind, cause and exchange, the refresh token's fingerprint
/// and v2 counter, the access token's kept claims (`CLAIMS_KEPT`). No token.
pub fn entry_of_event(event: &AuthEvent, profile: &str, run: &str) -> HistoryEntry {
    let session = event.session.as_ref();
    let counter = session.and_then(|s| match inspect_refresh_token(&s.refresh_token) {
        RefreshTokenShape::V2 { counter, .. } => Some(counter),
        _ => None,
    });
    let claims = session
        .and_then(|s| decode_jwt(&s.access_token).ok())
        .map(|decoded| {
            decoded
                .claims
                .into_iter()
                .filter(|(name, _)| session_profiles::CLAIMS_KEPT.contains(&name.as_str()))
                .collect()
        });
    HistoryEntry {
        at: crate::live_log::timestamp(event.at),
        kind: event.kind.as_str().to_string(),
        profile: profile.to_string(),
        refresh_token_fingerprint: session.map(|s| fingerprint(&s.refresh_token)),
        cause: event.cause.map(cause_name),
        counter,
        exchange_id: event.exchange_id,
        run: event.exchange_id.map(|_| run.to_string()),
        code: event.reason.clone(),
        status: event.rejection.as_ref().map(|r| r.status),
        claims,
    }
}

/// The entry for a refresh that failed: `REFRESH_FAILED`, with the GoTrue code and status, the
/// fingerprint of the refresh token sent, the cause and the exchange.
pub fn entry_of_failure(failure: &RefreshFailure, profile: &str, run: &str) -> HistoryEntry {
    HistoryEntry {
        at: crate::live_log::timestamp(failure.at),
        kind: REFRESH_FAILED.to_string(),
        profile: profile.to_string(),
        refresh_token_fingerprint: Some(failure.refresh_token_fingerprint.clone()),
        cause: Some(cause_name(failure.cause)),
        counter: None,
        exchange_id: failure.exchange_id,
        run: failure.exchange_id.map(|_| run.to_string()),
        code: failure.code.clone(),
        status: failure.status,
        claims: None,
    }
}

/// The kind of a failed refresh's entry (not an auth event: the timeline's own).
pub const REFRESH_FAILED: &str = "REFRESH_FAILED";

/// The cause as the engine serializes it (`refreshNow`, …), the one spelling of the file and IPC.
pub fn cause_name(cause: Cause) -> String {
    match serde_json::to_value(cause) {
        Ok(serde_json::Value::String(name)) => name,
        _ => cause.label().to_string(),
    }
}

/// Records `client`'s events and failed refreshes for `profile` until `alive`'s sender (the
/// active profile) is gone or the task is aborted (closing the profile does both, and waits
/// for it). Entries already handed over are written with their batch even so.
pub fn record<R: Runtime>(
    app: AppHandle<R>,
    client: &AuthClient,
    profile: String,
    mut alive: watch::Receiver<Setting>,
) -> JoinHandle<()> {
    let mut events = client.subscribe();
    let mut failures = client.refresh_failures();
    // The run is this client's from now on, before any of its events can be recorded or its
    // exchanges asked for: a timeline read meanwhile must not take the previous client's run.
    let history = app.try_state::<History>().map(|h| h.inner().clone());
    let run = history.as_ref().map(|h| h.start_run(&profile));
    tauri::async_runtime::spawn(async move {
        let (Some(folder), Some(history), Some(run)) = (folder(&app), history, run) else {
            return;
        };
        loop {
            let entry = tokio::select! {
                // Failures first: the engine tells a failure before its consequences (a
                // REFRESH_REJECTED, a SIGNED_OUT), so when both are waiting the failure is the
                // older, and the timeline folds the rejection into it only in that order.
                biased;
                failure = failures.recv() => match failure {
                    Ok(failure) => entry_of_failure(&failure, &profile, &run),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "failed refreshes missing from the history");
                        continue;
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
                event = events.next() => match event {
                    Some(event) => entry_of_event(&event, &profile, &run),
                    None => return,
                },
                changed = alive.changed() => match changed {
                    Ok(()) => continue,
                    Err(_) => return,
                },
            };
            history.append(&folder, entry);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(profile: &str, i: usize) -> HistoryEntry {
        HistoryEntry {
            at: i.to_string(),
            kind: "TOKEN_REFRESHED".into(),
            profile: profile.into(),
            refresh_token_fingerprint: Some(format!("fp:{i}")),
            ..HistoryEntry::default()
        }
    }

    #[test]
    fn new_fields_round_trip_and_lines_of_an_earlier_version_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::default();
        let full = HistoryEntry {
            cause: Some("refreshNow".into()),
            counter: Some(3),
            exchange_id: Some(12),
            run: Some("run".into()),
            code: Some("over_request_rate_limit".into()),
            status: Some(429),
            claims: serde_json::json!({"aal": "aal1", "user_metadata": {"plan": "pro"}})
                .as_object()
                .cloned(),
            ..entry("a", 1)
        };
        queue(&history, [full.clone(), entry("a", 2)]);
        history.flush(dir.path()).unwrap();
        let path = dir.path().join(FILE);
        // An empty field is left out of its line: an old entry is written as before.
        let text = std::fs::read_to_string(&path).unwrap();
        let old_line = text.lines().nth(1).unwrap();
        assert_eq!(
            old_line,
            r#"{"at":"2","kind":"TOKEN_REFRESHED","profile":"a","refreshTokenFingerprint":"fp:2"}"#
        );
        std::fs::write(
            &path,
            format!("{text}{{\"at\":\"3\",\"kind\":\"SIGNED_OUT\",\"profile\":\"a\",\"refreshTokenFingerprint\":null}}\n"),
        )
        .unwrap();
        let read = read(&path).unwrap();
        assert_eq!(read[0], full);
        assert_eq!(read[1], entry("a", 2));
        assert_eq!(read[2].kind, "SIGNED_OUT");
        assert_eq!(read[2].claims, None);
        // The pending batch is part of a profile's entries, after the file's.
        queue(&history, [entry("a", 4), entry("b", 5)]);
        let of_a = history.entries_of(dir.path(), "a").unwrap();
        assert_eq!(of_a.len(), 4);
        assert_eq!(of_a[3], entry("a", 4));
    }

    #[tokio::test]
    async fn an_event_keeps_its_cause_counter_exchange_and_claims_but_no_token() {
        use local_gotrue::{Config, DemoUser, RefreshTokenFormat};
        use session_engine::{ClientConfig, Credentials, MemoryStore};
        let server = local_gotrue::start(Config {
            demo_user: Some(DemoUser {
                email: "entry@example.com".into(),
                password: "entry-password".into(),
            }),
            refresh_token_format: RefreshTokenFormat::V2,
            ..Config::default()
        })
        .await
        .unwrap();
        let client = AuthClient::new(
            ClientConfig::new(server.url(), server.anon_key()),
            Arc::new(MemoryStore::new()),
            "entry",
        )
        .await
        .unwrap();
        let mut events = client.subscribe();
        client
            .sign_in_with_password(Credentials::Email {
                email: "entry@example.com".into(),
                password: "entry-password".into(),
            })
            .await
            .unwrap();
        let refreshed = client.refresh_session(None).await.unwrap().response.session;
        let event = loop {
            let event = events.next().await.unwrap();
            if event.kind == session_engine::AuthEventKind::TokenRefreshed {
                break event;
            }
        };
        let entry = entry_of_event(&event, "p", "run-1");
        assert_eq!(entry.kind, "TOKEN_REFRESHED");
        assert_eq!(entry.cause.as_deref(), Some("refreshNow"));
        assert!(entry.counter.is_some_and(|n| n >= 1), "{entry:?}");
        assert_eq!(entry.exchange_id, event.exchange_id);
        assert_eq!(entry.run.as_deref(), Some("run-1"));
        let claims = entry.claims.as_ref().unwrap();
        assert_eq!(claims["email"], "entry@example.com");
        assert!(claims.contains_key("session_id") && claims.contains_key("exp"));
        assert!(claims
            .keys()
            .all(|k| session_profiles::CLAIMS_KEPT.contains(&k.as_str())));
        let line = serde_json::to_string(&entry).unwrap();
        assert!(!line.contains(refreshed.refresh_token.as_str()));
        assert!(!line.contains(refreshed.access_token.as_str()));
        assert!(!line.contains("eyJ"), "no JWT in {line}");

        let failure = RefreshFailure {
            at: event.at,
            cause: Cause::AutoRefresh,
            refresh_token_fingerprint: "fp:000000000000".into(),
            code: None,
            status: Some(503),
            exchange_id: Some(7),
            message: "503".into(),
        };
        let failed = entry_of_failure(&failure, "p", "run-1");
        assert_eq!(
            (
                failed.kind.as_str(),
                failed.cause.as_deref(),
                failed.status,
                failed.exchange_id
            ),
            (REFRESH_FAILED, Some("autoRefresh"), Some(503), Some(7))
        );
        server.shutdown();
    }

    fn queue(history: &History, entries: impl IntoIterator<Item = HistoryEntry>) {
        history.lock().entries.extend(entries);
    }

    #[test]
    fn a_batch_is_appended_in_one_write_and_read_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::default();
        queue(&history, (0..3).map(|i| entry("a", i)));
        history.flush(dir.path()).unwrap();
        queue(&history, [entry("b", 3)]);
        history.flush(dir.path()).unwrap();
        let read = read(&dir.path().join(FILE)).unwrap();
        assert_eq!(read.len(), 4);
        assert_eq!(read[0], entry("a", 0));
        assert_eq!(read[3], entry("b", 3));
        // Nothing pending: nothing written, not even an empty line.
        let before = std::fs::read(dir.path().join(FILE)).unwrap();
        history.flush(dir.path()).unwrap();
        assert_eq!(std::fs::read(dir.path().join(FILE)).unwrap(), before);
    }

    #[test]
    fn a_profiles_entries_are_the_files_then_the_pending_ones() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::default();
        queue(&history, [entry("a", 0), entry("b", 1)]);
        history.flush(dir.path()).unwrap();
        queue(&history, [entry("a", 2), entry("b", 3)]);
        let a = history.entries_of(dir.path(), "a").unwrap();
        assert_eq!(a, vec![entry("a", 0), entry("a", 2)]);
        // Still pending: reading did not take them.
        assert_eq!(history.lock().entries.len(), 2);
    }

    #[test]
    fn compaction_keeps_the_newest_entries_of_each_profile() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::default();
        queue(&history, (0..10).map(|i| entry("quiet", i)));
        history.flush(dir.path()).unwrap();
        let busy = LIMIT_PER_PROFILE * 3 / 2 + 1;
        for chunk in (0..busy).collect::<Vec<_>>().chunks(100) {
            queue(&history, chunk.iter().map(|&i| entry("busy", i)));
            history.flush(dir.path()).unwrap();
        }
        let kept = read(&dir.path().join(FILE)).unwrap();
        let busy_kept: Vec<_> = kept.iter().filter(|e| e.profile == "busy").collect();
        assert_eq!(busy_kept.len(), LIMIT_PER_PROFILE);
        assert_eq!(busy_kept[0].at, (busy - LIMIT_PER_PROFILE).to_string());
        assert_eq!(busy_kept.last().unwrap().at, (busy - 1).to_string());
        assert_eq!(kept.iter().filter(|e| e.profile == "quiet").count(), 10);
        // The file stays bounded as entries keep coming.
        for chunk in (busy..busy + 2000).collect::<Vec<_>>().chunks(100) {
            queue(&history, chunk.iter().map(|&i| entry("busy", i)));
            history.flush(dir.path()).unwrap();
        }
        let lines = read(&dir.path().join(FILE)).unwrap().len();
        assert!(lines <= 10 + LIMIT_PER_PROFILE * 3 / 2, "{lines} lines");
    }

    #[test]
    fn failures_are_compacted_apart_and_never_push_the_tokens_out() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::default();
        queue(&history, (0..10).map(|i| entry("a", i)));
        history.flush(dir.path()).unwrap();
        // A night of failed ticks: many more failures than the profile's bound.
        let failures = LIMIT_PER_PROFILE * 2;
        for chunk in (10..10 + failures).collect::<Vec<_>>().chunks(100) {
            queue(
                &history,
                chunk.iter().map(|&i| HistoryEntry {
                    kind: REFRESH_FAILED.into(),
                    status: Some(0),
                    ..entry("a", i)
                }),
            );
            history.flush(dir.path()).unwrap();
        }
        let kept = read(&dir.path().join(FILE)).unwrap();
        let tokens: Vec<_> = kept.iter().filter(|e| e.kind != REFRESH_FAILED).collect();
        assert_eq!(tokens.len(), 10, "every token entry stays");
        assert_eq!(tokens[0], &entry("a", 0));
        let failed = kept.iter().filter(|e| e.kind == REFRESH_FAILED).count();
        assert!(
            (FAILURES_PER_PROFILE..=LIMIT_PER_PROFILE * 3 / 2).contains(&failed),
            "{failed} failures kept"
        );
        assert_eq!(kept.last().unwrap().at, (10 + failures - 1).to_string());
    }

    #[tokio::test]
    async fn a_recording_run_is_registered_before_record_returns_and_forgotten_with_its_profile() {
        let app = tauri::test::mock_app();
        app.manage(History::default());
        let client = AuthClient::new(
            session_engine::ClientConfig::new("http://127.0.0.1:9", "anon"),
            Arc::new(session_engine::MemoryStore::new()),
            "runs",
        )
        .await
        .unwrap();
        let history = app.state::<History>().inner().clone();
        let before = history.start_run("p");
        let (alive, watched) = watch::channel(Setting {
            enabled: false,
            margin: Duration::from_secs(30),
        });
        let task = record(app.handle().clone(), &client, "p".into(), watched);
        // No wait: the new client's run is the profile's as soon as `record` returns.
        let run = history.run_of("p").unwrap();
        assert_ne!(run, before);
        drop(alive);
        task.await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        history.forget_profile(dir.path(), "p").unwrap();
        assert_eq!(history.run_of("p"), None);
    }

    #[test]
    fn a_line_cut_short_by_a_crash_is_skipped_and_the_next_batch_kept() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::default();
        queue(&history, [entry("a", 0)]);
        history.flush(dir.path()).unwrap();
        let path = dir.path().join(FILE);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(r#"{"at":"1","kind":"TOKEN_REF"#);
        std::fs::write(&path, text).unwrap();
        queue(&history, [entry("a", 2)]);
        history.flush(dir.path()).unwrap();
        assert_eq!(read(&path).unwrap(), vec![entry("a", 0), entry("a", 2)]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::remove_file(&path).unwrap();
            queue(&history, [entry("a", 3)]);
            history.flush(dir.path()).unwrap();
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        }
    }

    #[test]
    fn forgetting_a_profile_drops_its_lines_and_pending_entries_and_keeps_the_others() {
        let folder = tempfile::tempdir().unwrap();
        let history = History::default();
        queue(&history, (0..3).map(|i| entry("gone", i)));
        queue(&history, (0..2).map(|i| entry("kept", i)));
        history.flush(folder.path()).unwrap();
        queue(&history, [entry("gone", 9), entry("kept", 9)]);

        history.forget_profile(folder.path(), "gone").unwrap();
        history.flush(folder.path()).unwrap();
        let left = read(&folder.path().join(FILE)).unwrap();
        assert_eq!(
            left,
            vec![entry("kept", 0), entry("kept", 1), entry("kept", 9)]
        );
        // A profile with no lines leaves the file as it was.
        let before = std::fs::read(folder.path().join(FILE)).unwrap();
        history.forget_profile(folder.path(), "never").unwrap();
        assert_eq!(std::fs::read(folder.path().join(FILE)).unwrap(), before);
    }

    #[test]
    fn erase_deletes_the_file_and_drops_what_was_pending() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::default();
        queue(&history, [entry("a", 0)]);
        history.flush(dir.path()).unwrap();
        queue(&history, [entry("a", 1)]);
        history.erase(dir.path()).unwrap();
        assert!(!dir.path().join(FILE).exists());
        history.flush(dir.path()).unwrap();
        assert!(
            !dir.path().join(FILE).exists(),
            "the pending entry went too"
        );
        history.erase(dir.path()).unwrap();
    }
}
