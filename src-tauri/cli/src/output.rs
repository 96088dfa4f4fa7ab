//! Where things are printed: results on stdout (lines for people, one JSON document with
//! `--json`), notes and errors on stderr (JSON lines with `--json`), so a pipe only ever gets
//! the result.

use std::io::Write as _;

use serde::Serialize;

use crate::error::{CliError, ErrorView};

pub struct Output {
    pub json: bool,
}

impl Output {
    /// One JSON document on stdout.
    pub fn json<T: Serialize>(&self, value: &T) -> Result<(), CliError> {
        let text = serde_json::to_string_pretty(value)
            .map_err(|e| CliError::Output(std::io::Error::other(e)))?;
        self.line(&text)
    }

    /// One compact JSON line on stdout, flushed at once (NDJSON).
    pub fn json_line<T: Serialize>(&self, value: &T) -> Result<(), CliError> {
        let text =
            serde_json::to_string(value).map_err(|e| CliError::Output(std::io::Error::other(e)))?;
        self.line(&text)
    }

    pub fn lines(&self, lines: Vec<String>) -> Result<(), CliError> {
        self.line(&lines.join("\n"))
    }

    fn line(&self, text: &str) -> Result<(), CliError> {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{text}")
            .and_then(|()| stdout.flush())
            .map_err(CliError::Output)
    }

    /// A note for the person at the terminal, on stderr: with `--json`, one `{"note": …}`
    /// line, so that every line of stderr is a JSON object (an error is the last).
    pub fn note(&self, text: &str) {
        if self.json {
            eprintln!("{}", serde_json::json!({ "note": text }));
        } else {
            eprintln!("note: {text}");
        }
    }

    /// The error as one line, or as `{kind, message, …}` with `--json` (stderr).
    pub fn error(&self, error: &CliError) {
        if self.json {
            let view: ErrorView = error.view();
            eprintln!("{}", serde_json::to_string(&view).unwrap_or_default());
        } else {
            eprintln!("error: {error}");
        }
    }
}
