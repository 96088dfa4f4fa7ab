//! Reading a paste: from stdin or a file, never from an argument. What is read is a secret,
//! held in memory that is wiped when dropped, and bounded: nothing a paste can be comes
//! near the limit.

use std::io::{IsTerminal as _, Read};
use std::path::Path;

use zeroize::Zeroizing;

use crate::error::CliError;

/// The most bytes read: the engine bounds a server's answer to the same size.
pub const LIMIT: usize = 1024 * 1024;

/// The text of `file` (stdin when `None` or `-`).
pub fn read(file: Option<&Path>) -> Result<Zeroizing<String>, CliError> {
    match file.filter(|path| path.as_os_str() != "-") {
        Some(path) => {
            let opened = std::fs::File::open(path).map_err(|source| {
                // A name that is no file may be a token typed where a file name goes: it is
                // not repeated, so it stays out of terminals and CI logs.
                if source.kind() == std::io::ErrorKind::NotFound {
                    CliError::NoSuchFile
                } else {
                    CliError::InputFile {
                        path: path.display().to_string(),
                        source,
                    }
                }
            })?;
            read_from(opened, &path.display().to_string())
        }
        None => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                eprintln!("Paste, then press Enter and Ctrl+D (nothing is echoed anywhere else).");
            }
            read_from(stdin.lock(), "stdin")
        }
    }
}

fn read_from(source: impl Read, name: &str) -> Result<Zeroizing<String>, CliError> {
    let mut bytes = Zeroizing::new(Vec::new());
    source
        .take(LIMIT as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| CliError::InputFile {
            path: name.to_string(),
            source,
        })?;
    if bytes.len() > LIMIT {
        return Err(CliError::Input(format!(
            "{name} holds more than {} MiB: no token, session or cookie is that large",
            LIMIT / (1024 * 1024)
        )));
    }
    match std::str::from_utf8(&bytes) {
        Ok(text) => Ok(Zeroizing::new(text.to_string())),
        Err(_) => Err(CliError::Input(format!(
            "{name} is not UTF-8 text: this looks like binary data, not a token, session JSON or cookie"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_read_whole() {
        let text = read_from(&b"  abc\n"[..], "stdin").unwrap();
        assert_eq!(text.as_str(), "  abc\n");
    }

    #[test]
    fn more_than_the_limit_or_binary_is_refused_without_echoing_it() {
        let big = vec![b'a'; LIMIT + 1];
        let error = read_from(&big[..], "stdin").unwrap_err();
        assert!(error.to_string().contains("more than 1 MiB"), "{error}");
        let error = read_from(&[0xff, 0xfe, b's', b'e', b'c'][..], "x.bin").unwrap_err();
        assert!(
            error.to_string().starts_with("x.bin is not UTF-8"),
            "{error}"
        );
        assert!(!error.to_string().contains("sec"));
    }
}
