//! Keyed and cookie forms: a value pasted with its supabase-js storage key
//! (`sb-<ref>-auth-token=…`, `"sb-<ref>-auth-token": …`), cookies in the forms browser
//! devtools copy them (see [`cookies_in_text`]), `@supabase/ssr` cookies chunked across `.0`,
//! `.1`, … and the two encodings of a cookie value (`base64-` + base64 of the session JSON, or
//! URL-encoded JSON in older versions). `tests/paste_fixtures.rs` pastes each devtools form as
//! the real package wrote it.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::tokens;

use super::json::{find_session, import_json_text, Found};
use super::{clean, starts_with_ci, ImportError, ImportKind, Imported};

pub(super) const BASE64_PREFIX: &str = "base64-";
const STORAGE_SUFFIX: &str = "-auth-token";

/// Splits a storage key or cookie name into its base (`sb-<ref>-auth-token`) and chunk
/// index (`.0`, `.1`, …), or `None` if it is not a supabase-js session key.
pub(super) fn session_key_name(name: &str) -> Option<(&str, Option<usize>)> {
    let (base, chunk) = match name.rsplit_once('.') {
        Some((base, digits))
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) =>
        {
            (base, Some(digits.parse().ok()?))
        }
        _ => (name, None),
    };
    let project = base.strip_prefix("sb-")?.strip_suffix(STORAGE_SUFFIX)?;
    let valid = !project.is_empty()
        && project
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    valid.then_some((base, chunk))
}

/// Handles inputs that start with a session key name or hold cookies. `None` means "not this
/// kind of input".
pub(super) fn try_keyed(text: &str) -> Option<Result<Imported, ImportError>> {
    let header = strip_cookie_header_name(text);
    let body = header.unwrap_or(text);

    // `"sb-x-auth-token": value` or `sb-x-auth-token: value` (a localStorage dump line).
    let unquoted = body.trim_start_matches(['"', '\'']);
    let name_len = unquoted
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(unquoted.len());
    let name = &unquoted[..name_len];
    // A chunk (`….0`) holds only part of a session: it is one of several cookies below.
    if let Some((base, None)) = session_key_name(name) {
        let after = unquoted[name_len..]
            .trim_start_matches(['"', '\''])
            .trim_start();
        if let Some(value) = after.strip_prefix(':') {
            return Some(import_keyed_value(base, value));
        }
        if let Some(value) = after.strip_prefix('=') {
            // `sb-x-auth-token={...}`: the storage value pasted with its key.
            if value.trim_start().starts_with('{') {
                return Some(import_keyed_value(base, value));
            }
        }
    }
    if header.is_some() || body.contains(STORAGE_SUFFIX) {
        return Some(import_cookies(&cookies_in_text(text)));
    }
    None
}

/// `Cookie:` or `Set-Cookie:` (any case) → the rest.
fn strip_cookie_header_name(text: &str) -> Option<&str> {
    for name in ["cookie:", "set-cookie:"] {
        if let Some(rest) = strip_prefix_ci(text, name) {
            return Some(rest.trim_start());
        }
    }
    None
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    starts_with_ci(text, prefix).then(|| &text[prefix.len()..])
}

/// The value stored under a session key, as pasted after `:` or `=`.
pub(super) fn import_keyed_value(key: &str, value: &str) -> Result<Imported, ImportError> {
    let value = value.trim().trim_end_matches(',').trim_end();
    let inner: String = match serde_json::from_str::<Value>(value) {
        // A localStorage dump holds the session as a JSON-encoded string.
        Ok(Value::String(inner)) => inner,
        Ok(_) => value.to_string(),
        Err(_) => tokens::strip_matching_quotes(value).to_string(),
    };
    let inner = clean(&inner);
    if inner.starts_with(BASE64_PREFIX) || starts_with_ci(inner, "%7b") {
        let found = decode_cookie_value(Some(key), inner, 1)?;
        return Ok(found.into_imported(ImportKind::SsrCookie, Some(key), 1));
    }
    if inner.starts_with('{') || inner.starts_with('[') {
        return import_json_text(inner, Some(key));
    }
    Err(ImportError::Unrecognized(format!(
        "The value under {key} is neither a session JSON nor an @supabase/ssr cookie value"
    )))
}

/// The `(name, value)` cookies in text copied from browser devtools, line by line:
/// - `Set-Cookie: name=value; Path=/; …` (a response's headers; attributes are skipped, and a
///   cookie being deleted, `Max-Age=0` or an empty value, is not a cookie the browser keeps),
/// - `Cookie: a=1; b=2` (a request's headers), other header lines being skipped,
/// - `name<TAB>value<TAB>domain…` (rows of a cookie table, Chrome's or Safari's),
/// - `sb-…-auth-token.0:"value"` (Firefox's storage sidebar),
/// - `a=1; b=2` or `name=value` per line (`document.cookie`, hand-made lists),
/// - or a whole `curl …` command (DevTools' "Copy as cURL": `-b '…'`, `-H 'Cookie: …'`).
fn cookies_in_text(text: &str) -> Vec<(&str, &str)> {
    let mut found = Vec::new();
    if starts_with_ci(text, "curl ") {
        let args = shell_words(text);
        for pair in args.windows(2) {
            let value = match pair[0] {
                "-b" | "--cookie" => Some(pair[1]),
                "-H" | "--header" => strip_prefix_ci(pair[1], "cookie:"),
                _ => None,
            };
            if let Some(value) = value {
                cookie_pairs(value, &mut found);
            }
        }
        return found;
    }
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = strip_prefix_ci(line, "set-cookie:") {
            set_cookie(rest, &mut found);
        } else if let Some(rest) = strip_prefix_ci(line, "cookie:") {
            cookie_pairs(rest, &mut found);
        } else if let Some((name, cells)) = line.split_once('\t') {
            let value = cells.split('\t').next().unwrap_or_default();
            found.push((name.trim(), value.trim()));
        } else if let Some(pair) = keyed_line(line) {
            found.push(pair);
        } else if !is_header_line(line) {
            cookie_pairs(tokens::strip_matching_quotes(line), &mut found);
        }
    }
    found
}

/// `a=1; b=2` → its pairs (values unquoted).
fn cookie_pairs<'a>(text: &'a str, found: &mut Vec<(&'a str, &'a str)>) {
    for pair in text.split(';') {
        if let Some((name, value)) = pair.split_once('=') {
            found.push((name.trim(), tokens::strip_matching_quotes(value.trim())));
        }
    }
}

/// A `Set-Cookie` value: the cookie, unless its attributes delete it.
fn set_cookie<'a>(text: &'a str, found: &mut Vec<(&'a str, &'a str)>) {
    let mut parts = text.split(';');
    let Some((name, value)) = parts.next().and_then(|pair| pair.split_once('=')) else {
        return;
    };
    let deleted = parts.any(|attribute| {
        attribute.split_once('=').is_some_and(|(key, value)| {
            key.trim().eq_ignore_ascii_case("max-age")
                && value.trim().parse::<i64>().is_ok_and(|age| age <= 0)
        })
    });
    if !deleted {
        found.push((name.trim(), tokens::strip_matching_quotes(value.trim())));
    }
}

/// `sb-x-auth-token.1:"value"` or `sb-x-auth-token.1: value`: a session cookie's name, a
/// colon, and its value (quoted or not).
fn keyed_line(line: &str) -> Option<(&str, &str)> {
    let (name, value) = line.split_once(':')?;
    let name = tokens::strip_matching_quotes(name.trim());
    session_key_name(name)?;
    let value = value.trim().trim_end_matches(',').trim_end();
    Some((name, tokens::strip_matching_quotes(value)))
}

/// `Host: …`, `Content-Type: …`: a header name before the first colon, no `=` before it.
fn is_header_line(line: &str) -> bool {
    line.split_once(':').is_some_and(|(name, _)| {
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    })
}

/// Splits a shell command line into words as a POSIX shell would for what DevTools writes:
/// single quotes taken literally, double quotes with `\` escapes, and `\` + newline as a line
/// continuation. Words are slices of the input; an escape inside a word ends it there, which
/// is enough to find the cookie arguments.
fn shell_words(text: &str) -> Vec<&str> {
    let mut words = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b' ' | b'\t' | b'\r' | b'\n' | b'\\' => i += 1,
            quote @ (b'\'' | b'"') => {
                let start = i + 1;
                let mut end = start;
                while end < bytes.len() && bytes[end] != quote {
                    end += if quote == b'"' && bytes[end] == b'\\' {
                        2
                    } else {
                        1
                    };
                }
                words.push(text.get(start..end.min(bytes.len())).unwrap_or_default());
                i = end + 1;
            }
            _ => {
                let start = i;
                while i < bytes.len() && !matches!(bytes[i], b' ' | b'\t' | b'\r' | b'\n') {
                    i += 1;
                }
                words.push(&text[start..i]);
            }
        }
    }
    words
}

/// The session among pasted cookies. Chunks are joined in numeric order, as `@supabase/ssr`
/// does; an unchunked cookie wins over chunks, as it does there too. An empty value is a
/// cookie being deleted, not a session.
fn import_cookies(cookies: &[(&str, &str)]) -> Result<Imported, ImportError> {
    struct Group<'a> {
        whole: Option<&'a str>,
        chunks: BTreeMap<usize, &'a str>,
    }
    let mut groups: Vec<(&str, Group<'_>)> = Vec::new();
    for &(name, value) in cookies {
        let Some((base, chunk)) = session_key_name(name) else {
            continue;
        };
        if value.is_empty() {
            continue;
        }
        let index = match groups.iter().position(|(b, _)| *b == base) {
            Some(index) => index,
            None => {
                groups.push((
                    base,
                    Group {
                        whole: None,
                        chunks: BTreeMap::new(),
                    },
                ));
                groups.len() - 1
            }
        };
        let group = &mut groups[index].1;
        match chunk {
            None => {
                group.whole.get_or_insert(value);
            }
            Some(chunk) => {
                group.chunks.entry(chunk).or_insert(value);
            }
        }
    }
    let Some((base, group)) = groups.into_iter().next() else {
        return Err(ImportError::Unrecognized(
            "This looks like cookies but has no sb-…-auth-token session cookie".into(),
        ));
    };

    let (value, count, chunked) = match group.whole {
        Some(whole) => (whole.to_string(), 1, false),
        None => {
            for (expected, index) in group.chunks.keys().enumerate() {
                if *index != expected {
                    return Err(ImportError::MissingChunk {
                        cookie: base.to_string(),
                        chunk: expected,
                    });
                }
            }
            let joined: String = group.chunks.values().copied().collect();
            (joined, group.chunks.len(), true)
        }
    };
    let found = decode_cookie_value(Some(base), &value, if chunked { count } else { 0 })?;
    Ok(found.into_imported(ImportKind::SsrCookie, Some(base), count))
}

/// Decodes an `@supabase/ssr` cookie value: `base64-` + base64(url) of the session JSON, or
/// (older versions) URL-encoded JSON. `chunks` > 0 means the value was joined from that many
/// chunks, so a decoding failure may be a missing last chunk.
pub(super) fn decode_cookie_value(
    name: Option<&str>,
    value: &str,
    chunks: usize,
) -> Result<Found, ImportError> {
    let label = match name {
        Some(name) => format!("Cookie {name}"),
        None => "This cookie value".to_string(),
    };
    let hint = if chunks > 0 && name.is_some() {
        format!(" (is chunk .{chunks} missing?)")
    } else {
        String::new()
    };
    let text = if let Some(encoded) = value.strip_prefix(BASE64_PREFIX) {
        let bytes = tokens::b64_decode_any(encoded).ok_or_else(|| {
            ImportError::InvalidCookie(format!(
                "{label} starts with base64- but the rest is not valid base64{hint}"
            ))
        })?;
        String::from_utf8(bytes).map_err(|_| {
            ImportError::InvalidCookie(format!(
                "{label} has a base64- value that does not decode to text{hint}"
            ))
        })?
    } else {
        let decoded = percent_decode(value)
            .ok_or_else(|| ImportError::InvalidCookie(format!("{label} has broken %-escapes")))?;
        let trimmed = decoded.trim_start();
        if !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
            return Err(ImportError::InvalidCookie(format!(
                "{label} holds neither a base64- session nor JSON"
            )));
        }
        decoded
    };
    let json: Value = serde_json::from_str(text.trim()).map_err(|_| {
        ImportError::InvalidCookie(format!(
            "{label} does not decode to valid session JSON{hint}"
        ))
    })?;
    find_session(&json).ok_or(ImportError::NoTokens)
}

/// `%XX` decoding (no `+` → space: that is form encoding, not cookie encoding). `None` when
/// the result is not UTF-8, or when a `%` is not followed by two hex digits: the
/// `percent-encoding` crate would keep such a `%` as it is, but in a cookie value it means the
/// value was cut mid-escape, which is worth saying.
fn percent_decode(text: &str) -> Option<String> {
    let escapes_complete = text.split('%').skip(1).all(|after| {
        after
            .get(..2)
            .is_some_and(|digits| digits.bytes().all(|b| b.is_ascii_hexdigit()))
    });
    if !escapes_complete {
        return None;
    }
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .ok()
        .map(|decoded| decoded.into_owned())
}

#[cfg(test)]
mod tests {
    use super::percent_decode;
    use crate::import::{parse_import, ImportError, ImportKind};
    use crate::test_fixtures::{assert_session, b64, session, SUB};
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    use serde_json::json;

    #[test]
    fn storage_value_with_key_is_recognized() {
        let value = session().to_string();
        let inputs = [
            format!("sb-abcd-auth-token={value}"),
            format!("\"sb-abcd-auth-token\": {value},"),
            format!("sb-abcd-auth-token: {}", json!(value)),
            format!("\"sb-abcd-auth-token\": {}", json!(value)),
            json!({"sb-abcd-auth-token": value, "theme": "dark"}).to_string(),
        ];
        for input in inputs {
            let imported = parse_import(&input).unwrap_or_else(|e| panic!("{e}: {input}"));
            assert_eq!(imported.kind, ImportKind::StorageValue);
            assert_eq!(imported.storage_key.as_deref(), Some("sb-abcd-auth-token"));
            assert_session(&imported);
        }
    }

    #[test]
    fn ssr_cookie_value_alone_is_recognized_in_both_base64_alphabets() {
        let json = session().to_string();
        for value in [
            format!("base64-{}", b64(json.as_bytes())),
            format!("base64-{}", STANDARD.encode(json.as_bytes())),
        ] {
            let imported = parse_import(&value).unwrap();
            assert_eq!(imported.kind, ImportKind::SsrCookie);
            assert_eq!(imported.chunks, 1);
            assert_eq!(imported.storage_key, None);
            assert_session(&imported);
        }
    }

    #[test]
    fn ssr_chunked_cookie_header_is_joined_in_numeric_order() {
        let value = format!("base64-{}", b64(session().to_string().as_bytes()));
        let (first, second) = value.split_at(value.len() / 2);
        // Listed out of order, between unrelated cookies.
        let header = format!(
            "theme=dark; sb-abcd-auth-token.1={second}; sb-abcd-auth-token.0={first}; \
             sb-abcd-auth-token-code-verifier=xyz; other=1"
        );
        let imported = parse_import(&header).unwrap();
        assert_eq!(imported.kind, ImportKind::SsrCookie);
        assert_eq!(imported.chunks, 2);
        assert_eq!(imported.storage_key.as_deref(), Some("sb-abcd-auth-token"));
        assert_session(&imported);
        let description = imported.describe();
        assert!(
            description.starts_with(
                "An @supabase/ssr cookie sb-abcd-auth-token (2 chunks) holding a session: \
                 refresh token fp:"
            ),
            "{description}"
        );
        assert!(description.contains(&format!(
            "access token for user {SUB} expiring 2030-01-01T00:00:00Z"
        )));

        let with_prefix = format!("Cookie: {header}");
        assert_eq!(parse_import(&with_prefix).unwrap().chunks, 2);
    }

    #[test]
    fn ssr_unchunked_cookie_is_recognized() {
        let value = format!("base64-{}", b64(session().to_string().as_bytes()));
        let imported = parse_import(&format!("sb-abcd-auth-token={value}")).unwrap();
        assert_eq!(imported.kind, ImportKind::SsrCookie);
        assert_eq!(imported.chunks, 1);
        assert_eq!(imported.storage_key.as_deref(), Some("sb-abcd-auth-token"));
        assert_session(&imported);

        let set_cookie = format!(
            "Set-Cookie: sb-abcd-auth-token={value}; Path=/; Max-Age=34560000; SameSite=Lax"
        );
        assert_session(&parse_import(&set_cookie).unwrap());
    }

    #[test]
    fn ssr_url_encoded_json_cookie_is_recognized() {
        let encoded: String = session()
            .to_string()
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        assert!(encoded.starts_with("%7B%22"));
        let alone = parse_import(&encoded).unwrap();
        assert_eq!(alone.kind, ImportKind::SsrCookie);
        assert_session(&alone);

        let named = parse_import(&format!("sb-abcd-auth-token={encoded}; x=1")).unwrap();
        assert_eq!(named.kind, ImportKind::SsrCookie);
        assert_eq!(named.storage_key.as_deref(), Some("sb-abcd-auth-token"));
        assert_session(&named);
    }

    #[test]
    fn cookie_with_a_missing_chunk_names_the_gap() {
        let value = format!("base64-{}", b64(session().to_string().as_bytes()));
        let third = value.len() / 3;
        let header = format!(
            "sb-x-auth-token.0={}; sb-x-auth-token.2={}",
            &value[..third],
            &value[2 * third..]
        );
        assert_eq!(
            parse_import(&header),
            Err(ImportError::MissingChunk {
                cookie: "sb-x-auth-token".into(),
                chunk: 1
            })
        );
        assert_eq!(
            parse_import(&header).unwrap_err().to_string(),
            "Cookie sb-x-auth-token is missing chunk .1"
        );

        // Only the first chunk: the value is cut short, and the error suggests why.
        let half = format!("sb-x-auth-token.0={}", &value[..value.len() / 2]);
        let err = parse_import(&half).unwrap_err();
        assert!(matches!(err, ImportError::InvalidCookie(_)), "{err:?}");
        assert!(err.to_string().contains("chunk .1 missing"), "{err}");

        let no_session = parse_import("theme=dark; sb-x-auth-token-code-verifier=abc");
        assert!(matches!(no_session, Err(ImportError::Unrecognized(_))));
        assert_eq!(
            parse_import("theme=dark"),
            Err(ImportError::Unrecognized(
                "This looks like a cookie, but not an sb-…-auth-token session cookie".into()
            ))
        );
    }

    #[test]
    fn set_cookie_lines_skip_deleted_cookies_and_attributes() {
        // A session that grew past one cookie: @supabase/ssr deletes the unchunked cookie in
        // the same response that sets the chunks.
        let value = format!("base64-{}", b64(session().to_string().as_bytes()));
        let (first, second) = value.split_at(value.len() / 2);
        let headers = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\
             Set-Cookie: sb-abcd-auth-token=; Max-Age=0; Path=/; SameSite=Lax\r\n\
             set-cookie: sb-abcd-auth-token.0={first}; Max-Age=34560000; Path=/; SameSite=Lax\r\n\
             Set-Cookie: sb-abcd-auth-token.1={second}; Path=/; HttpOnly\r\n\
             Date: Tue, 01 Dec 2026 18:08:10 GMT\r\n"
        );
        let imported = parse_import(&headers).unwrap();
        assert_eq!(imported.chunks, 2);
        assert_eq!(imported.storage_key.as_deref(), Some("sb-abcd-auth-token"));
        assert_session(&imported);

        let only_deleted = "Set-Cookie: sb-abcd-auth-token=gone; Max-Age=0; Path=/";
        assert_eq!(
            parse_import(only_deleted),
            Err(ImportError::Unrecognized(
                "This looks like cookies but has no sb-…-auth-token session cookie".into()
            ))
        );
    }

    #[test]
    fn table_rows_and_sidebar_entries_are_joined_by_name() {
        let value = format!("base64-{}", b64(session().to_string().as_bytes()));
        let (first, second) = value.split_at(value.len() / 3);
        let rows = format!(
            "theme\tdark\tlocalhost\t/\tSession\t9\n\
             sb-abcd-auth-token.1\t{second}\tlocalhost\t/\t2027-02-19T12:00:00.000Z\n\
             sb-abcd-auth-token.0\t{first}\tlocalhost\t/\t2027-02-19T12:00:00.000Z\n"
        );
        assert_session(&parse_import(&rows).unwrap());
        let sidebar =
            format!("sb-abcd-auth-token.0:\"{first}\"\nsb-abcd-auth-token.1: \"{second}\"\n");
        let imported = parse_import(&sidebar).unwrap();
        assert_eq!(imported.chunks, 2);
        assert_session(&imported);
    }

    #[test]
    fn curl_commands_give_their_cookie_arguments() {
        let value = format!("base64-{}", b64(session().to_string().as_bytes()));
        let (first, second) = value.split_at(value.len() / 2);
        for command in [
            format!(
                "curl 'http://localhost:3000/' \\\n  -b 'a=1; sb-abcd-auth-token.0={first}; \
                 sb-abcd-auth-token.1={second}' \\\n  -H 'accept: */*'"
            ),
            format!(
                "curl \"http://localhost:3000/\" -H \"Cookie: sb-abcd-auth-token.0={first}; \
                 sb-abcd-auth-token.1={second}\""
            ),
        ] {
            let imported = parse_import(&command).unwrap_or_else(|e| panic!("{e}: {command}"));
            assert_eq!(imported.chunks, 2);
            assert_session(&imported);
        }
        // The command without its cookie argument: said plainly, not a panic.
        assert!(matches!(
            parse_import("curl 'http://localhost/sb-abcd-auth-token' -H 'x: \""),
            Err(ImportError::Unrecognized(_))
        ));
    }

    #[test]
    fn percent_decode_refuses_cut_escapes_and_invalid_utf8() {
        assert_eq!(
            percent_decode("%7B%22a%22:1%7D").as_deref(),
            Some("{\"a\":1}")
        );
        assert_eq!(percent_decode("a+b%E2%82%AC").as_deref(), Some("a+b€"));
        for broken in ["%", "%7", "%7B%2", "%zz", "%%41", "%FF", "%C3%28"] {
            assert_eq!(percent_decode(broken), None, "{broken}");
        }
    }
}
