//! "Paste anything": recognizes a session or token in whatever form a developer has at
//! hand — a raw token, an `Authorization` header, a supabase-js localStorage value,
//! `@supabase/ssr` cookies as browser devtools copy them (response and request headers,
//! cookie table rows, storage sidebar entries, `document.cookie`, "Copy as cURL"), or a token
//! response — and extracts the tokens from it.
//!
//! The input is a secret. Errors say what the input looked like without repeating it, and
//! [`Imported`] shows fingerprints, never tokens, in `Debug` and serialized form.
//!
//! The forms are recognized in one file each: `cookies` (values keyed by a session key name,
//! cookie headers, chunked `@supabase/ssr` cookies and their value encodings) and `json`
//! (finding a session in JSON); `describe` explains input that is none of them, and
//! `imported` holds what an import produces. This file decides which form the input has.

use serde_json::Value;

use crate::tokens::{self, RefreshTokenShape, TokenError};

mod cookies;
mod describe;
mod imported;
mod json;

pub use imported::{ImportKind, Imported};

use cookies::{decode_cookie_value, try_keyed, BASE64_PREFIX};
use describe::{describe_unknown, jwt_problem, near_miss_refresh_token};
use json::import_json_text;

/// Why the input could not be imported. Every message says what the input looked like and
/// what is wrong with it, in a short sentence, without repeating the input.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum ImportError {
    #[error("nothing to import: the input is empty")]
    Empty,
    /// Not any recognized form; the message says what it looked like (quoting at most 8
    /// characters, and only of input that is plainly not a token).
    #[error("{0}")]
    Unrecognized(String),
    /// Starts like JSON but does not parse; the message gives the position.
    #[error("{0}")]
    InvalidJson(String),
    #[error("This looks like JSON but has no access_token or refresh_token")]
    NoTokens,
    /// Looks like a JWT (or a Bearer header) but does not decode.
    #[error("{0}")]
    InvalidJwt(String),
    /// Looks like a refresh token but is not a valid one.
    #[error("{0}")]
    InvalidRefreshToken(String),
    /// A chunked `@supabase/ssr` cookie with a gap in its chunks.
    #[error("Cookie {cookie} is missing chunk .{chunk}")]
    MissingChunk { cookie: String, chunk: usize },
    /// A session cookie whose value does not decode to a session.
    #[error("{0}")]
    InvalidCookie(String),
}

/// Recognizes what was pasted and extracts its tokens. See the module docs for the forms.
pub fn parse_import(input: &str) -> Result<Imported, ImportError> {
    let text = clean(input);
    if text.is_empty() {
        return Err(ImportError::Empty);
    }
    // A JSON string literal around the real content, as `JSON.stringify` or a console
    // prints a localStorage value: unwrap it properly, escapes included.
    if text.starts_with('"') {
        if let Ok(Value::String(inner)) = serde_json::from_str::<Value>(text) {
            let inner = clean(&inner);
            if inner.is_empty() {
                return Err(ImportError::Empty);
            }
            return parse_clean(inner);
        }
    }
    parse_clean(strip_wrapping_quotes(text).trim())
}

/// Removes quotes around the whole input, but only when that quote character does not occur
/// inside: `"sb-x-auth-token": "{…}"` starts and ends with a quote without being quoted.
fn strip_wrapping_quotes(text: &str) -> &str {
    let inner = tokens::strip_matching_quotes(text);
    match text.chars().next() {
        Some(quote) if inner.len() != text.len() && !inner.contains(quote) => inner,
        _ => text,
    }
}

/// Trims whitespace and a byte-order mark.
fn clean(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
}

fn parse_clean(text: &str) -> Result<Imported, ImportError> {
    if text.is_empty() {
        return Err(ImportError::Empty);
    }
    if text.starts_with('{') || text.starts_with('[') {
        return import_json_text(text, None);
    }
    if text.starts_with(BASE64_PREFIX) || starts_with_ci(text, "%7b") || starts_with_ci(text, "%5b")
    {
        // Values copied one after another, one per line: a chunked cookie's chunks in order.
        let values = text.lines().filter(|line| !line.trim().is_empty()).count();
        let joined: String = text.split_whitespace().collect();
        let found = decode_cookie_value(None, &joined, values)?;
        return Ok(found.into_imported(ImportKind::SsrCookie, None, values));
    }
    if let Some(result) = try_keyed(text) {
        return result;
    }

    let unwrapped = tokens::unwrap_token_input(text);
    if unwrapped.bearer || unwrapped.header_name {
        return match tokens::decode_jwt(unwrapped.token) {
            Ok(jwt) => Ok(Imported {
                kind: ImportKind::BearerHeader,
                expires_at: jwt.expires_at(),
                access_token: Some(jwt.raw().to_string()),
                refresh_token: None,
                storage_key: None,
                chunks: 0,
            }),
            Err(TokenError::Empty) => Err(ImportError::InvalidJwt(
                "This looks like an Authorization header but has no token in it".into(),
            )),
            Err(err) => Err(ImportError::InvalidJwt(format!(
                "This looks like a Bearer header but the token is not a valid JWT: {}",
                jwt_problem(&err)
            ))),
        };
    }

    let token = unwrapped.token;
    if looks_like_jwt(token) {
        return match tokens::decode_jwt(token) {
            Ok(jwt) => Ok(Imported {
                kind: ImportKind::AccessToken,
                expires_at: jwt.expires_at(),
                access_token: Some(jwt.raw().to_string()),
                refresh_token: None,
                storage_key: None,
                chunks: 0,
            }),
            Err(err) => Err(ImportError::InvalidJwt(format!(
                "This looks like a JWT but {}",
                jwt_problem(&err)
            ))),
        };
    }

    match tokens::inspect_refresh_token(token) {
        RefreshTokenShape::Legacy | RefreshTokenShape::V2 { .. } => Ok(Imported {
            kind: ImportKind::RefreshToken,
            refresh_token: Some(token.to_string()),
            access_token: None,
            storage_key: None,
            chunks: 0,
            expires_at: None,
        }),
        RefreshTokenShape::Unknown => Err(near_miss_refresh_token(token)
            .unwrap_or_else(|| ImportError::Unrecognized(describe_unknown(text)))),
    }
}

fn starts_with_ci(text: &str, prefix: &str) -> bool {
    text.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

/// A JWT's header always starts `{"` → `eyJ` in base64url; otherwise accept exactly two
/// dots around base64url text.
fn looks_like_jwt(token: &str) -> bool {
    if token.starts_with("eyJ") {
        return true;
    }
    token.matches('.').count() == 2
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '='))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::{assert_session, b64, jwt, session, v2_refresh, EXP, LEGACY, SUB};
    use serde_json::json;

    #[test]
    fn legacy_refresh_token_is_recognized() {
        let imported = parse_import(&format!("  \"{LEGACY}\"\n")).unwrap();
        assert_eq!(imported.kind, ImportKind::RefreshToken);
        assert_eq!(imported.refresh_token(), Some(LEGACY));
        assert_eq!(imported.access_token(), None);
        assert_eq!(imported.chunks, 0);
        assert!(imported
            .describe()
            .starts_with("A legacy refresh token fp:"));
    }

    #[test]
    fn v2_refresh_token_is_recognized_with_session_and_counter() {
        let token = v2_refresh();
        let imported = parse_import(&token).unwrap();
        assert_eq!(imported.kind, ImportKind::RefreshToken);
        assert_eq!(imported.refresh_token(), Some(token.as_str()));
        let description = imported.describe();
        assert!(
            description.contains("v2 refresh token fp:"),
            "{description}"
        );
        assert!(description.contains("00000000-0000-0000-1234-56789abcdef0"));
        assert!(description.contains("#150"));
    }

    #[test]
    fn raw_access_token_is_recognized_with_expiry() {
        let imported = parse_import(&format!("'{}'", jwt())).unwrap();
        assert_eq!(imported.kind, ImportKind::AccessToken);
        assert_eq!(imported.access_token(), Some(jwt().as_str()));
        assert_eq!(imported.expires_at, Some(EXP));
        assert_eq!(
            imported.describe(),
            format!("An access token for user {SUB} expiring 2030-01-01T00:00:00Z")
        );
    }

    #[test]
    fn bearer_and_authorization_headers_are_recognized() {
        for input in [
            format!("Bearer {}", jwt()),
            format!("  bearer   {}\n", jwt()),
            format!("Authorization: Bearer {}", jwt()),
            format!("authorization:bearer {}", jwt()),
        ] {
            let imported = parse_import(&input).unwrap();
            assert_eq!(imported.kind, ImportKind::BearerHeader, "{input}");
            assert_eq!(imported.access_token(), Some(jwt().as_str()));
            assert_eq!(imported.expires_at, Some(EXP));
        }
    }

    #[test]
    fn storage_value_copied_as_a_json_string_literal_is_unwrapped() {
        let literal = json!(session().to_string()).to_string();
        let imported = parse_import(&literal).unwrap();
        assert_eq!(imported.kind, ImportKind::TokenResponse);
        assert_session(&imported);
    }

    #[test]
    fn every_prefix_of_every_format_parses_or_errors_without_panicking() {
        let value = format!("base64-{}", b64(session().to_string().as_bytes()));
        let (first, second) = value.split_at(value.len() / 2);
        let inputs = [
            LEGACY.to_string(),
            v2_refresh(),
            format!("Authorization: Bearer {}", jwt()),
            format!("\"sb-abcd-auth-token\": {}", json!(session().to_string())),
            format!("sb-abcd-auth-token.0={first}; sb-abcd-auth-token.1={second}"),
            json!({"currentSession": session(), "expiresAt": EXP}).to_string(),
            "sb-é-auth-token.0=%E2%82%AC%7B\u{fffd}; sb-é-auth-token.1=\"x".to_string(),
        ];
        for input in &inputs {
            for (index, _) in input.char_indices() {
                let prefix = &input[..index];
                let _ = parse_import(prefix);
                let _ = tokens::decode_jwt(prefix);
                let _ = tokens::inspect_refresh_token(prefix);
                let _ = parse_import(&input[index..]);
            }
        }
    }
}
