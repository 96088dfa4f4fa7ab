//! What the About dialog shows that only the build and the running app know: the commit this
//! build was made from (stamped by `src-tauri/build.rs`), the build profile, the licence, and
//! where the app keeps its data and its log. Paths are not secret; Copy puts one on the
//! clipboard from Rust, so the window needs no clipboard permission.

use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager as _, Runtime};
use tauri_plugin_clipboard_manager::ClipboardExt as _;
use ts_rs::TS;

use crate::error::Error;

/// The short commit of this build, or "unknown" (a build outside a git checkout).
pub const COMMIT: &str = env!("SESSION_INSPECTOR_COMMIT");
/// "true" when tracked files differed from `COMMIT` at build time, "false", or "unknown".
const DIRTY: &str = env!("SESSION_INSPECTOR_DIRTY");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum BuildProfile {
    Debug,
    Release,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct About {
    /// The short commit, or "unknown".
    pub commit: &'static str,
    /// The build had changes not committed; None when that is not known.
    pub modified: Option<bool>,
    pub build_profile: BuildProfile,
    /// Whether this build has the built-in demo (the `demo` feature).
    pub demo: bool,
    pub license: &'static str,
    /// The app's data folder (settings, the demo's database; sealed sessions too on Linux and
    /// macOS, where it is also the local data folder).
    pub data_folder: String,
    /// The current log file.
    pub log_file: String,
}

/// Which path to copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum AboutPath {
    DataFolder,
    LogFile,
}

pub fn modified() -> Option<bool> {
    match DIRTY {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

pub fn build_profile() -> BuildProfile {
    if cfg!(debug_assertions) {
        BuildProfile::Debug
    } else {
        BuildProfile::Release
    }
}

pub fn about<R: Runtime>(app: &AppHandle<R>) -> Result<About, Error> {
    Ok(About {
        commit: COMMIT,
        modified: modified(),
        build_profile: build_profile(),
        demo: crate::demo::AVAILABLE,
        license: env!("CARGO_PKG_LICENSE"),
        data_folder: path(app, AboutPath::DataFolder)?,
        log_file: path(app, AboutPath::LogFile)?,
    })
}

fn path<R: Runtime>(app: &AppHandle<R>, which: AboutPath) -> Result<String, Error> {
    let path = match which {
        AboutPath::DataFolder => app.path().app_data_dir()?,
        AboutPath::LogFile => crate::logging::current_file(&app.path().app_log_dir()?),
    };
    Ok(path.display().to_string())
}

/// Puts the path on the clipboard as plain text (it is no secret: no clearing, no marking).
pub async fn copy_path<R: Runtime>(app: &AppHandle<R>, which: AboutPath) -> Result<(), Error> {
    let (text, app) = (path(app, which)?, app.clone());
    // Clipboard calls block (and must stay off the main thread on Linux).
    tokio::task::spawn_blocking(move || app.clipboard().write_text(text))
        .await?
        .map_err(|e| Error::Clipboard(format!("the path could not be copied ({e})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_is_stamped_with_a_commit_or_says_unknown() {
        assert!(
            COMMIT == "unknown"
                || (COMMIT.len() >= 7 && COMMIT.chars().all(|c| c.is_ascii_hexdigit())),
            "{COMMIT}"
        );
        assert_eq!(
            COMMIT == "unknown",
            modified().is_none(),
            "{COMMIT} {DIRTY}"
        );
        assert_eq!(
            build_profile(),
            BuildProfile::Debug,
            "tests build unoptimized"
        );
    }
}
