//! Diagnostics: the crates' `tracing` events (which become `log` records, see the workspace's
//! `tracing` features) and the app's own go to a rotating file in the app's log folder
//! (`<app data>/logs` on Linux) and to stderr. `SESSION_INSPECTOR_LOG` sets the level
//! (`error`, `warn`, `info` (default), `debug`, `trace`). Nothing logged ever holds a token:
//! tokens appear as fingerprints, URLs and bodies as the recorder redacted them.

use std::sync::atomic::{AtomicBool, Ordering};

use tauri::plugin::TauriPlugin;
use tauri::Runtime;
use tauri_plugin_log::{RotationStrategy, Target, TargetKind};

/// The log file's name in the log folder (`session-inspector.log`).
pub const FILE_NAME: &str = "session-inspector";
const LEVEL_VARIABLE: &str = "SESSION_INSPECTOR_LOG";
const MAX_FILE_BYTES: u128 = 1024 * 1024;

/// Only one logger per process: the first app installs it (tests build several apps).
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// The file the log is written to now, in the log folder.
pub fn current_file(log_dir: &std::path::Path) -> std::path::PathBuf {
    log_dir.join(format!("{FILE_NAME}.log"))
}

/// Whether `name` is one of the app's log files in the log folder: the current one, or one
/// the plugin rotated (`session-inspector_<date>.log`).
pub fn is_log_file(name: &str) -> bool {
    name.starts_with(FILE_NAME) && name.ends_with(".log")
}

pub fn level() -> log::LevelFilter {
    std::env::var(LEVEL_VARIABLE)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(log::LevelFilter::Info)
}

pub fn plugin<R: Runtime>() -> TauriPlugin<R> {
    let builder = tauri_plugin_log::Builder::new()
        .clear_targets()
        .target(Target::new(TargetKind::LogDir {
            file_name: Some(FILE_NAME.into()),
        }))
        .target(Target::new(TargetKind::Stderr))
        .level(level())
        // Our crates speak; the libraries under them only when something is wrong.
        .level_for("hyper_util", log::LevelFilter::Warn)
        .level_for("reqwest", log::LevelFilter::Warn)
        .level_for("zbus", log::LevelFilter::Warn)
        .level_for("tracing", log::LevelFilter::Warn)
        .max_file_size(MAX_FILE_BYTES)
        .rotation_strategy(RotationStrategy::KeepSome(3));
    if INSTALLED.swap(true, Ordering::SeqCst) {
        builder.skip_logger().build()
    } else {
        builder.build()
    }
}
