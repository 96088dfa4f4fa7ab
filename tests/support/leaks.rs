//! The leak scan of the E2E tests: every file under a test's folder is searched for the
//! secrets the test saw, in each form a program could have stored them in, and for any access
//! token at all (a JWT carrying a `session_id`), whoever wrote it.
//!
//! The forms: the secret itself, URL-encoded, JSON-escaped, inside base64 (standard or
//! URL-safe, padded or not, at each of the three alignments), and each of those as UTF-16
//! (little- and big-endian), the way WebKit keeps localStorage and IndexedDB strings.
//! Compressed or encrypted copies are out of its reach (the vault's sealed files are meant to
//! be unreadable; WebKit's caches are not compressed).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use base64::Engine as _;

/// A secret found where it should not be.
#[derive(Debug)]
pub struct Hit {
    pub file: PathBuf,
    pub offset: usize,
    /// Which form matched, e.g. "base64url, UTF-16LE".
    pub form: String,
    /// The secret's fingerprint (never the secret itself: the report is printed).
    pub secret: String,
}

/// What a scan looked at and found.
#[derive(Debug)]
pub struct Scan {
    pub files: usize,
    pub bytes: u64,
    pub secrets: usize,
    pub patterns: usize,
    pub hits: Vec<Hit>,
}

/// The shortest secret searched for: shorter strings (a 6-digit code) would match by chance.
pub const SHORTEST_SECRET: usize = 12;

/// Each form of `secret` worth searching for, with its name; fragments of base64 are at least
/// 8 characters, so they do not match by chance.
pub fn forms(secret: &str) -> Vec<(String, Vec<u8>)> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let mut text_forms: Vec<(String, String)> = vec![("raw".into(), secret.to_string())];
    let url_encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    text_forms.push(("URL-encoded".into(), url_encoded));
    let json = serde_json::to_string(secret).expect("a string serializes");
    text_forms.push(("JSON-escaped".into(), json[1..json.len() - 1].to_string()));
    for (name, engine) in [
        ("base64", &STANDARD),
        ("base64 unpadded", &STANDARD_NO_PAD),
        ("base64url", &URL_SAFE),
        ("base64url unpadded", &URL_SAFE_NO_PAD),
    ] {
        for lead in ["", "a", "ab"] {
            // What the secret's bytes encode to whatever precedes them: drop the characters
            // the lead (and the boundary) touch, and the last few, which depend on what follows.
            let encoded = engine.encode(format!("{lead}{secret}"));
            let skip = (lead.len() * 4).div_ceil(3) + 1;
            let fragment: String = encoded
                .chars()
                .skip(skip)
                .take(encoded.len().saturating_sub(skip + 4))
                .collect();
            if fragment.len() >= 8 {
                text_forms.push((format!("{name} (offset {})", lead.len()), fragment));
            }
        }
    }
    let mut out = Vec::new();
    let mut unique = BTreeSet::new();
    for (name, text) in text_forms {
        let utf16le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let utf16be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        for (form, bytes) in [
            (name.clone(), text.into_bytes()),
            (format!("{name}, UTF-16LE"), utf16le),
            (format!("{name}, UTF-16BE"), utf16be),
        ] {
            if unique.insert(bytes.clone()) {
                out.push((form, bytes));
            }
        }
    }
    out
}

/// Every regular file under `dir` (symbolic links are not followed), except under `skip`.
pub fn files_under(dir: &Path, skip: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if skip.iter().any(|s| path.starts_with(s)) {
            continue;
        }
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() => out.extend(files_under(&path, skip)),
            Ok(meta) if meta.is_file() => out.push(path),
            _ => {}
        }
    }
    out
}

/// Searches every file under `root` (but not under `skip`) for `secrets` in each of their
/// forms, and for access tokens.
pub fn scan(root: &Path, skip: &[PathBuf], secrets: &BTreeSet<String>) -> Scan {
    let fingerprint = session_engine::tokens::fingerprint;
    // Patterns by their first four bytes, so each file is read once whatever their number.
    let mut patterns: Vec<(String, String, Vec<u8>)> = Vec::new();
    for secret in secrets.iter().filter(|s| s.len() >= SHORTEST_SECRET) {
        for (form, bytes) in forms(secret) {
            patterns.push((fingerprint(secret), form, bytes));
        }
    }
    let mut by_head: HashMap<[u8; 4], Vec<usize>> = HashMap::new();
    for (index, (_, _, bytes)) in patterns.iter().enumerate() {
        let head = [bytes[0], bytes[1], bytes[2], bytes[3]];
        by_head.entry(head).or_default().push(index);
    }
    let files = files_under(root, skip);
    let mut scan = Scan {
        files: files.len(),
        bytes: 0,
        secrets: secrets.len(),
        patterns: patterns.len(),
        hits: Vec::new(),
    };
    for file in files {
        let Ok(bytes) = std::fs::read(&file) else {
            continue;
        };
        scan.bytes += bytes.len() as u64;
        for at in 0..bytes.len().saturating_sub(3) {
            let head = [bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]];
            for &index in by_head.get(&head).into_iter().flatten() {
                let (secret, form, pattern) = &patterns[index];
                if bytes[at..].starts_with(pattern) {
                    scan.hits.push(Hit {
                        file: file.clone(),
                        offset: at,
                        form: form.clone(),
                        secret: secret.clone(),
                    });
                }
            }
        }
        for (offset, form, token) in access_tokens(&bytes) {
            if !scan
                .hits
                .iter()
                .any(|h| h.file == file && h.offset == offset)
            {
                scan.hits.push(Hit {
                    file: file.clone(),
                    offset,
                    form,
                    secret: fingerprint(&token),
                });
            }
        }
    }
    scan
}

/// Every JWT in `bytes` (as UTF-8 or UTF-16LE text) whose payload has a `session_id`: a user's
/// access token, whichever test step or program put it there. An anon key has none.
pub fn access_tokens(bytes: &[u8]) -> Vec<(usize, String, String)> {
    let mut found = Vec::new();
    let mut look = |text: &[u8], form: &str, offset_of: &dyn Fn(usize) -> usize| {
        let jwt_char = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.');
        let mut at = 0;
        while let Some(start) = find(&text[at..], b"eyJ").map(|i| i + at) {
            let len = text[start..].iter().take_while(|c| jwt_char(c)).count();
            let candidate = String::from_utf8_lossy(&text[start..start + len]).into_owned();
            if is_access_token(&candidate) {
                found.push((offset_of(start), form.to_string(), candidate));
            }
            at = start + len.max(1);
        }
    };
    look(bytes, "an access token", &|i| i);
    // UTF-16LE text narrowed to one byte a character (anything else becomes a separator).
    for parity in [0, 1] {
        let narrowed: Vec<u8> = bytes[parity..]
            .chunks(2)
            .map(|pair| match pair {
                [c, 0] if c.is_ascii() => *c,
                _ => b' ',
            })
            .collect();
        look(&narrowed, "an access token, UTF-16LE", &|i| parity + 2 * i);
    }
    found
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A JWT whose payload carries a `session_id`.
pub fn is_access_token(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
        return false;
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[1].trim_end_matches('='))
        .ok()
        .and_then(|payload| serde_json::from_slice::<serde_json::Value>(&payload).ok())
        .is_some_and(|claims| claims.get("session_id").is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: serde_json::Value) -> String {
        let part = |v: serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        format!(
            "{}.{}.c2lnbmF0dXJl",
            part(serde_json::json!({"alg": "ES256"})),
            part(claims)
        )
    }

    #[test]
    fn each_form_of_a_secret_is_found_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let secret = "AAAAAAAAAAAAAAAAAAAAAAEDxuFJmTmbtq4BRv3d0kh_twAA-AAAA";
        let other = "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz";
        let plant = |name: &str, bytes: Vec<u8>| {
            std::fs::write(dir.path().join(name), bytes).unwrap();
        };
        plant("raw", format!("xx{secret}yy").into_bytes());
        let b64 =
            base64::engine::general_purpose::STANDARD.encode(format!("{{\"t\":\"{secret}\"}}"));
        plant("base64", b64.into_bytes());
        let utf16: Vec<u8> = format!("v={secret}")
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        plant("utf16", utf16);
        plant("clean", format!("{other} fp:0123").into_bytes());
        let skipped = dir.path().join("skipped");
        std::fs::create_dir(&skipped).unwrap();
        std::fs::write(skipped.join("db"), secret).unwrap();
        let secrets = BTreeSet::from([secret.to_string(), other.to_string() + "!"]);
        let scan = scan(dir.path(), &[skipped], &secrets);
        let mut files: Vec<_> = scan
            .hits
            .iter()
            .map(|h| h.file.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        files.sort();
        files.dedup();
        assert_eq!(files, ["base64", "raw", "utf16"], "{:#?}", scan.hits);
        assert_eq!(scan.files, 4);
    }

    #[test]
    fn an_access_token_is_found_by_its_session_id_and_an_anon_key_is_not() {
        let access = jwt(serde_json::json!({"sub": "u", "session_id": "s"}));
        let anon = jwt(serde_json::json!({"role": "anon"}));
        let text = format!("{{\"a\":\"{anon}\",\"b\":\"{access}\"}}");
        let found = access_tokens(text.as_bytes());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].2, access);
        let wide: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let found = access_tokens(&wide);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].1, "an access token, UTF-16LE");
    }
}
