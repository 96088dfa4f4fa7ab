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
use session_engine::AuthClient;
use tauri::async_runtime::JoinHandle;
use tauri::{AppHandle, Manager, Runtime};
use tokio::sync::watch;

pub const FILE: &str = "history.ndjson";
/// Each profile keeps this many entries (the newest).
pub const LIMIT_PER_PROFILE: usize = 1000;
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
#[derive(Clone, Default)]
pub struct History {
    inner: Arc<Mutex<Pending>>,
}

#[derive(Default)]
struct Pending {
    entries: Vec<HistoryEntry>,
    /// A write of the batch is scheduled.
    scheduled: bool,
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
        let mut pending = self.lock();
        pending.scheduled = false;
        let entries = std::mem::take(&mut pending.entries);
        if entries.is_empty() {
            return Ok(());
        }
        let path = folder.join(FILE);
        if pending.counts.is_none() {
            let mut counts = HashMap::new();
            for entry in read(&path)? {
                *counts.entry(entry.profile).or_insert(0) += 1;
            }
            pending.counts = Some(counts);
        }
        let mut text = String::new();
        for entry in &entries {
            // Plain strings only: encoding cannot fail.
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
        let counts = pending.counts.get_or_insert_with(HashMap::new);
        for entry in entries {
            *counts.entry(entry.profile).or_insert(0) += 1;
        }
        if counts.values().any(|&n| n > LIMIT_PER_PROFILE * 3 / 2) {
            let kept = compact(folder)?;
            pending.counts = Some(kept);
        }
        Ok(())
    }

    /// Forgets the pending entries and deletes the file (Reset all data).
    pub fn erase(&self, folder: &Path) -> Result<(), HistoryError> {
        let mut pending = self.lock();
        pending.entries.clear();
        pending.counts = Some(HashMap::new());
        match std::fs::remove_file(folder.join(FILE)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(HistoryError::Remove(e)),
            _ => Ok(()),
        }
    }

    /// Forgets one profile's history (the profile was removed): its pending entries are
    /// dropped and the file is rewritten atomically without its lines. Nothing to drop leaves
    /// the file untouched.
    pub fn forget_profile(&self, folder: &Path, profile: &str) -> Result<(), HistoryError> {
        let mut pending = self.lock();
        pending.entries.retain(|entry| entry.profile != profile);
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
        if let Some(counts) = pending.counts.as_mut() {
            counts.remove(profile);
        }
        Ok(())
    }

    /// Every entry of `profile`, oldest first: the file's, then those waiting for the next
    /// batch (read under the batch's lock, so an entry being written is counted once).
    pub fn entries_of(
        &self,
        folder: &Path,
        profile: &str,
    ) -> Result<Vec<HistoryEntry>, HistoryError> {
        let pending = self.lock();
        let mut entries = read(&folder.join(FILE))?;
        entries.extend(pending.entries.iter().cloned());
        entries.retain(|entry| entry.profile == profile);
        Ok(entries)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
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

/// Rewrites the file with the newest `LIMIT_PER_PROFILE` entries of each profile, in order;
/// returns how many each profile kept.
fn compact(folder: &Path) -> Result<HashMap<String, usize>, HistoryError> {
    let entries = read(&folder.join(FILE))?;
    let mut total: HashMap<&str, usize> = HashMap::new();
    for entry in &entries {
        *total.entry(&entry.profile).or_insert(0) += 1;
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut text = String::new();
    for entry in &entries {
        let n = seen.entry(&entry.profile).or_insert(0);
        *n += 1;
        if total[entry.profile.as_str()] - *n < LIMIT_PER_PROFILE {
            text.push_str(&serde_json::to_string(entry).unwrap_or_default());
            text.push('\n');
        }
    }
    session_vault::write_atomically(folder, FILE, text.as_bytes())
        .map_err(HistoryError::Compact)?;
    Ok(total
        .into_iter()
        .map(|(profile, n)| (profile.to_string(), n.min(LIMIT_PER_PROFILE)))
        .collect())
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

/// Records `client`'s events for `profile` until `alive`'s sender (the active profile) is gone
/// or the task is aborted (closing the profile does both, and waits for it). Entries already
/// handed over are written with their batch even so.
pub fn record<R: Runtime>(
    app: AppHandle<R>,
    client: &AuthClient,
    profile: String,
    mut alive: watch::Receiver<Setting>,
) -> JoinHandle<()> {
    let mut events = client.subscribe();
    tauri::async_runtime::spawn(async move {
        let (Some(folder), Some(history)) = (folder(&app), app.try_state::<History>()) else {
            return;
        };
        let history = history.inner().clone();
        loop {
            let event = tokio::select! {
                event = events.next() => match event {
                    Some(event) => event,
                    None => return,
                },
                changed = alive.changed() => match changed {
                    Ok(()) => continue,
                    Err(_) => return,
                },
            };
            history.append(
                &folder,
                HistoryEntry {
                    at: crate::live_log::timestamp(event.at),
                    kind: event.kind.as_str().to_string(),
                    profile: profile.clone(),
                    refresh_token_fingerprint: event
                        .session
                        .as_ref()
                        .map(|s| session_engine::tokens::fingerprint(&s.refresh_token)),
                },
            );
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
        }
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
