//! Saving the live log as NDJSON: the export is checked (a file name the app makes, a size
//! limit, one JSON object per line: the redacted items the window received) and written as a
//! new file, never over an earlier export.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The largest log export accepted: far more than 10,000 rows.
pub const EXPORT_LIMIT: usize = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("The export's file name is not one the app makes.")]
    FileName,
    #[error("The log is too large to export.")]
    TooLarge,
    #[error("Line {0} of the export is not a JSON object.")]
    NotJson(usize),
    #[error("the export could not be written: {0}")]
    Io(#[from] std::io::Error),
}

impl ExportError {
    pub fn kind(&self) -> &'static str {
        match self {
            ExportError::Io(_) => "io",
            _ => "invalidInput",
        }
    }
}

/// Checks what the window asks to save, before any file is touched.
pub fn check(file_name: &str, ndjson: &str) -> Result<(), ExportError> {
    let safe_name = file_name.starts_with("session-inspector-log-")
        && file_name.ends_with(".ndjson")
        && !file_name.contains("..")
        && file_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    if !safe_name {
        return Err(ExportError::FileName);
    }
    if ndjson.len() > EXPORT_LIMIT {
        return Err(ExportError::TooLarge);
    }
    let not_object = ndjson.lines().position(|line| {
        !serde_json::from_str::<serde_json::Value>(line).is_ok_and(|v| v.is_object())
    });
    match not_object {
        Some(line) => Err(ExportError::NotJson(line + 1)),
        None => Ok(()),
    }
}

/// Writes `ndjson` into `folder` as `file_name`, or `name-2.ndjson`, `name-3.ndjson`… when
/// that exists; returns the path written.
pub fn write_new(folder: &Path, file_name: &str, ndjson: &str) -> Result<PathBuf, ExportError> {
    std::fs::create_dir_all(folder)?;
    let stem = file_name.trim_end_matches(".ndjson");
    for n in 1..1000 {
        let path = match n {
            1 => folder.join(file_name),
            n => folder.join(format!("{stem}-{n}.ndjson")),
        };
        match private_new_file(&path) {
            Ok(mut file) => {
                file.write_all(ndjson.as_bytes())?;
                return Ok(path);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(std::io::Error::other("too many exports with this name").into())
}

/// A file that did not exist, readable by its user only (exports hold emails and user ids).
fn private_new_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: &str = "session-inspector-log-2026-12-01T10-00-00.ndjson";

    #[test]
    fn only_the_apps_own_file_names_and_json_objects_are_accepted() {
        assert!(check(NAME, "{\"a\":1}\n{}").is_ok());
        for bad in [
            "../escape.ndjson",
            "session-inspector-log-../x.ndjson",
            "notes.txt",
        ] {
            assert!(
                matches!(check(bad, "{}"), Err(ExportError::FileName)),
                "{bad}"
            );
        }
        assert!(matches!(
            check(NAME, "{}\nnot json"),
            Err(ExportError::NotJson(2))
        ));
        assert!(matches!(check(NAME, "[1,2]"), Err(ExportError::NotJson(1))));
    }

    #[test]
    fn a_second_export_of_the_same_name_gets_a_new_file() {
        let folder = tempfile::tempdir().unwrap();
        let first = write_new(folder.path(), NAME, "{}").unwrap();
        let second = write_new(folder.path(), NAME, "{\"b\":2}").unwrap();
        assert_ne!(first, second);
        assert!(second.to_string_lossy().ends_with("-2.ndjson"));
        assert_eq!(std::fs::read_to_string(&first).unwrap(), "{}");
        #[cfg(unix)]
        for path in [first, second] {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", path.display());
        }
    }
}
