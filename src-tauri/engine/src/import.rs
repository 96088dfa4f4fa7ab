//! "Paste anything": recognizes a session or token in whatever form a developer has at
//! hand — a raw token, an `Authorization` header, a supabase-js localStorage value, an
//! `@supabase/ssr` cookie header, or a token response — and extracts the tokens from it.
//!
//! The input is a secret. Errors say what the input looked like without repeating it, and
//! [`Imported`] shows fingerprints, never tokens, in `Debug` and serialized form.

use std::collections::BTreeMap;
use std::fmt;

use serde::ser::SerializeStruct;
use serde_json::{Map, Value};

use crate::tokens::{self, RefreshTokenShape, TokenError};

/// Which form the pasted input had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportKind {
    RefreshToken,
    AccessToken,
    BearerHeader,
    StorageValue,
    SsrCookie,
    TokenResponse,
}

/// What was recognized in the input.
///
/// The tokens are private and reachable only through [`Imported::refresh_token`] and
/// [`Imported::access_token`], so that printing or serializing an `Imported` (for logs or the
/// UI) can only ever show fingerprints.
#[derive(Clone, PartialEq)]
pub struct Imported {
    pub kind: ImportKind,
    refresh_token: Option<String>,
    access_token: Option<String>,
    /// The supabase-js storage key / cookie name the session was stored under, e.g.
    /// `sb-abcd-auth-token`, when the input showed it.
    pub storage_key: Option<String>,
    /// For `@supabase/ssr` cookies, how many cookies the session was split across (1 when
    /// unchunked); 0 for every other kind.
    pub chunks: usize,
    /// When the access token expires (Unix seconds): the session's `expires_at` if it has
    /// one, otherwise the access token's `exp`.
    pub expires_at: Option<i64>,
}

impl Imported {
    /// The refresh token, for handing to the engine. Never display or log it.
    pub fn refresh_token(&self) -> Option<&str> {
        self.refresh_token.as_deref()
    }

    /// The access token, for handing to the engine. Never display or log it.
    pub fn access_token(&self) -> Option<&str> {
        self.access_token.as_deref()
    }

    /// The refresh token's format, when there is one.
    pub fn refresh_token_shape(&self) -> Option<RefreshTokenShape> {
        self.refresh_token
            .as_deref()
            .map(tokens::inspect_refresh_token)
    }

    /// The access token decoded (no key needed), when there is one and it is a JWT.
    pub fn decoded_access_token(&self) -> Option<tokens::DecodedJwt> {
        self.access_token
            .as_deref()
            .and_then(|t| tokens::decode_jwt(t).ok())
    }

    /// One plain sentence for the UI saying what was pasted and what it holds, e.g.
    /// "An @supabase/ssr cookie sb-abcd-auth-token (2 chunks) holding a session: refresh
    /// token fp:…, access token for user … expiring 2030-01-01T00:00:00Z". Contains
    /// fingerprints and claims, never a token.
    pub fn describe(&self) -> String {
        match self.kind {
            ImportKind::RefreshToken => {
                let what = match self.refresh_token_shape() {
                    Some(RefreshTokenShape::Legacy) => "A legacy refresh token".to_string(),
                    Some(RefreshTokenShape::V2 {
                        session_id,
                        counter,
                    }) => {
                        return format!(
                            "A v2 refresh token {} for session {session_id} (rotation #{counter})",
                            self.refresh_fingerprint()
                        )
                    }
                    _ => "A refresh token".to_string(),
                };
                format!("{what} {}", self.refresh_fingerprint())
            }
            ImportKind::AccessToken => format!("An {}", self.access_summary()),
            ImportKind::BearerHeader => {
                format!(
                    "A Bearer Authorization header with an {}",
                    self.access_summary()
                )
            }
            ImportKind::StorageValue => {
                let key = self
                    .storage_key
                    .as_deref()
                    .map(|k| format!(" ({k})"))
                    .unwrap_or_default();
                format!(
                    "A supabase-js storage value{key} holding {}",
                    self.session_summary()
                )
            }
            ImportKind::SsrCookie => {
                let name = self
                    .storage_key
                    .as_deref()
                    .map(|k| format!(" {k}"))
                    .unwrap_or_default();
                let chunks = if self.chunks > 1 {
                    format!(" ({} chunks)", self.chunks)
                } else {
                    String::new()
                };
                format!(
                    "An @supabase/ssr cookie{name}{chunks} holding {}",
                    self.session_summary()
                )
            }
            ImportKind::TokenResponse => {
                format!("A token response holding {}", self.session_summary())
            }
        }
    }

    fn refresh_fingerprint(&self) -> String {
        self.refresh_token
            .as_deref()
            .map(tokens::fingerprint)
            .unwrap_or_default()
    }

    /// "access token for user <sub> expiring <time>", or what is known of it.
    fn access_summary(&self) -> String {
        let Some(token) = self.access_token.as_deref() else {
            return "no access token".to_string();
        };
        let Ok(jwt) = tokens::decode_jwt(token) else {
            return format!(
                "access token {} that does not decode as a JWT",
                tokens::fingerprint(token)
            );
        };
        let mut out = String::from("access token");
        if let Some(sub) = jwt.subject() {
            out.push_str(&format!(" for user {sub}"));
        }
        if let Some(at) = self.expires_at.or(jwt.expires_at()).and_then(rfc3339) {
            out.push_str(&format!(" expiring {at}"));
        }
        out
    }

    fn session_summary(&self) -> String {
        match (&self.refresh_token, &self.access_token) {
            (Some(_), Some(_)) => format!(
                "a session: refresh token {}, {}",
                self.refresh_fingerprint(),
                self.access_summary()
            ),
            (Some(_), None) => format!(
                "a session with only a refresh token {}",
                self.refresh_fingerprint()
            ),
            (None, _) => format!(
                "only an {} (no refresh token, so it cannot be refreshed)",
                self.access_summary()
            ),
        }
    }
}

fn rfc3339(unix: i64) -> Option<String> {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

impl fmt::Debug for Imported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Imported")
            .field("kind", &self.kind)
            .field(
                "refresh_token",
                &self.refresh_token.as_deref().map(tokens::fingerprint),
            )
            .field(
                "access_token",
                &self.access_token.as_deref().map(tokens::fingerprint),
            )
            .field("storage_key", &self.storage_key)
            .field("chunks", &self.chunks)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Serialized for the UI with fingerprints in place of tokens, plus the refresh token's
/// format and the [`Imported::describe`] sentence.
impl serde::Serialize for Imported {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut state = serializer.serialize_struct("Imported", 8)?;
        state.serialize_field("kind", &self.kind)?;
        state.serialize_field(
            "refresh_token_fingerprint",
            &self.refresh_token.as_deref().map(tokens::fingerprint),
        )?;
        state.serialize_field("refresh_token_shape", &self.refresh_token_shape())?;
        state.serialize_field(
            "access_token_fingerprint",
            &self.access_token.as_deref().map(tokens::fingerprint),
        )?;
        state.serialize_field("storage_key", &self.storage_key)?;
        state.serialize_field("chunks", &self.chunks)?;
        state.serialize_field("expires_at", &self.expires_at)?;
        state.serialize_field("description", &self.describe())?;
        state.end()
    }
}

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
        let found = decode_cookie_value(None, text, 1)?;
        return Ok(found.into_imported(ImportKind::SsrCookie, None, 1));
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

/// Turns a decode error into the end of "This looks like a JWT but …".
fn jwt_problem(err: &TokenError) -> String {
    match err {
        TokenError::Empty => "it is empty".into(),
        TokenError::NotAJwt(reason) => reason.clone(),
        TokenError::BadBase64(part) | TokenError::BadJson(part) => {
            if *part == tokens::JwtPart::Signature {
                "its signature is not valid base64url".into()
            } else {
                format!("its {part} is not valid base64url JSON")
            }
        }
    }
}

/// Explains inputs that are close to a refresh token but not one.
fn near_miss_refresh_token(token: &str) -> Option<ImportError> {
    if token.len() == 12 && token.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Some(ImportError::InvalidRefreshToken(
            "This is 12 characters like a legacy refresh token, but those use only lowercase \
             letters and digits"
                .into(),
        ));
    }
    let base64url = token
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    // Version byte 0 followed by a UUID encodes to 'A' then one of 'A'..='P'.
    let v2_start = token.starts_with('A')
        && token
            .chars()
            .nth(1)
            .is_some_and(|c| c.is_ascii_uppercase() && c <= 'P');
    if base64url && v2_start && (40..=70).contains(&token.len()) {
        let reason = if token.len() < 51 {
            "it is too short (cut off while copying?)"
        } else {
            "its checksum does not match (cut off or mistyped?)"
        };
        return Some(ImportError::InvalidRefreshToken(format!(
            "This looks like a v2 refresh token but {reason}"
        )));
    }
    None
}

/// Says what an unrecognized input looked like. Quotes at most 8 characters, and only of
/// input with spaces in it (prose is not a secret; a single unknown word might be).
fn describe_unknown(text: &str) -> String {
    let binary = text
        .chars()
        .filter(|&c| (c.is_control() && !c.is_whitespace()) || c == '\u{fffd}')
        .count();
    if binary > 0 {
        return "This looks like binary data, not a token, session JSON or cookie".into();
    }
    let cookie_like = text
        .split(';')
        .next()
        .and_then(|pair| pair.split_once('='))
        .is_some_and(|(name, value)| {
            let name = name.trim();
            !name.is_empty()
                && !value.trim().is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        });
    if cookie_like {
        return "This looks like a cookie, but not an sb-…-auth-token session cookie".into();
    }
    let chars = text.chars().count();
    if text.chars().any(char::is_whitespace) {
        let head: String = text.chars().take(8).collect();
        let more = if chars > 8 { "…" } else { "" };
        return format!(
            "This looks like plain text (\"{head}{more}\"), not a token, session JSON or cookie"
        );
    }
    format!(
        "This {chars}-character string is not a JWT, a refresh token, session JSON or an \
         sb-…-auth-token cookie"
    )
}

// ---------------------------------------------------------------------------------------
// Keyed forms: `sb-<ref>-auth-token=…`, `"sb-<ref>-auth-token": …`, cookie headers.

const BASE64_PREFIX: &str = "base64-";
const STORAGE_SUFFIX: &str = "-auth-token";

/// Splits a storage key or cookie name into its base (`sb-<ref>-auth-token`) and chunk
/// index (`.0`, `.1`, …), or `None` if it is not a supabase-js session key.
fn session_key_name(name: &str) -> Option<(&str, Option<usize>)> {
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

/// Handles inputs that start with a session key name or are cookie headers. `None` means
/// "not this kind of input".
fn try_keyed(text: &str) -> Option<Result<Imported, ImportError>> {
    let header = strip_cookie_header_name(text);
    let body = header.unwrap_or(text);

    // `"sb-x-auth-token": value` or `sb-x-auth-token: value` (a localStorage dump line).
    let unquoted = body.trim_start_matches(['"', '\'']);
    let name_len = unquoted
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(unquoted.len());
    let name = &unquoted[..name_len];
    if let Some((base, _)) = session_key_name(name) {
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
    if header.is_some() || (body.contains(STORAGE_SUFFIX) && body.contains('=')) {
        return Some(import_cookie_header(body));
    }
    None
}

/// `Cookie:` or `Set-Cookie:` (any case) → the rest.
fn strip_cookie_header_name(text: &str) -> Option<&str> {
    for name in ["cookie:", "set-cookie:"] {
        if starts_with_ci(text, name) {
            return Some(text[name.len()..].trim_start());
        }
    }
    None
}

/// The value stored under a session key, as pasted after `:` or `=`.
fn import_keyed_value(key: &str, value: &str) -> Result<Imported, ImportError> {
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

/// A cookie header (`a=1; sb-x-auth-token.0=…; sb-x-auth-token.1=…`), a `Set-Cookie` line,
/// or a single `name=value` pair. Chunks are joined in numeric order, as `@supabase/ssr`
/// does; an unchunked cookie wins over chunks, as it does there too.
fn import_cookie_header(text: &str) -> Result<Imported, ImportError> {
    struct Group<'a> {
        whole: Option<&'a str>,
        chunks: BTreeMap<usize, &'a str>,
    }
    let mut groups: Vec<(&str, Group<'_>)> = Vec::new();
    for pair in text.split(';') {
        let Some((name, value)) = pair.split_once('=') else {
            continue;
        };
        let Some((base, chunk)) = session_key_name(name.trim()) else {
            continue;
        };
        let value = tokens::strip_matching_quotes(value.trim());
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
            "This looks like a cookie header but has no sb-…-auth-token cookie".into(),
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
fn decode_cookie_value(
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

/// `%XX` decoding (no `+` → space: that is form encoding, not cookie encoding).
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

// ---------------------------------------------------------------------------------------
// JSON forms.

/// The tokens found in a JSON session, before deciding the kind.
struct Found {
    access_token: Option<String>,
    refresh_token: Option<String>,
    expires_at: Option<i64>,
    /// The supabase-js v1 `{ currentSession, expiresAt }` storage shape.
    v1: bool,
}

impl Found {
    fn into_imported(self, kind: ImportKind, key: Option<&str>, chunks: usize) -> Imported {
        let expires_at = self.expires_at.or_else(|| {
            self.access_token
                .as_deref()
                .and_then(|t| tokens::decode_jwt(t).ok())
                .and_then(|jwt| jwt.expires_at())
        });
        Imported {
            kind,
            refresh_token: self.refresh_token,
            access_token: self.access_token,
            storage_key: key.map(str::to_string),
            chunks,
            expires_at,
        }
    }
}

fn import_json_text(text: &str, key: Option<&str>) -> Result<Imported, ImportError> {
    let json: Value = serde_json::from_str(text).map_err(|err| {
        // serde_json's syntax errors can quote input; report only the position.
        ImportError::InvalidJson(format!(
            "This looks like JSON but does not parse (line {}, column {})",
            err.line(),
            err.column()
        ))
    })?;
    import_json(&json, key)
}

fn import_json(json: &Value, key: Option<&str>) -> Result<Imported, ImportError> {
    if let Some(found) = find_session(json) {
        let kind = if key.is_some() || found.v1 {
            ImportKind::StorageValue
        } else {
            ImportKind::TokenResponse
        };
        return Ok(found.into_imported(kind, key, 0));
    }
    // A dump of localStorage or of a cookie jar: look for the session key inside.
    if key.is_none() {
        if let Value::Object(map) = json {
            if let Some((name, value)) = map.iter().find(|(name, _)| {
                session_key_name(name.as_str()).is_some_and(|(_, chunk)| chunk.is_none())
            }) {
                return match value {
                    Value::String(inner) => import_keyed_value(name, inner),
                    other => import_json(other, Some(name)),
                };
            }
        }
    }
    Err(ImportError::NoTokens)
}

/// Finds a session in the shapes supabase-js and GoTrue produce: a session / token response
/// object, the v1 `{ currentSession }` wrapper, `{ session }` / `{ data: { session } }` as
/// logged from supabase-js calls, and the `[access, refresh, …]` array of the old
/// auth-helpers cookies.
fn find_session(json: &Value) -> Option<Found> {
    match json {
        Value::Object(map) => {
            if let Some(found) = session_fields(map) {
                return Some(found);
            }
            if let Some(Value::Object(current)) = map.get("currentSession") {
                let mut found = session_fields(current)?;
                found.v1 = true;
                found.expires_at = found.expires_at.or_else(|| number(map.get("expiresAt")));
                return Some(found);
            }
            ["session", "data"]
                .iter()
                .filter_map(|name| map.get(*name))
                .find_map(find_session)
        }
        Value::Array(items) => {
            let access = items.first()?.as_str()?;
            let refresh = items.get(1)?.as_str()?;
            if access.matches('.').count() != 2 || refresh.is_empty() {
                return None;
            }
            Some(Found {
                access_token: Some(access.to_string()),
                refresh_token: Some(refresh.to_string()),
                expires_at: None,
                v1: false,
            })
        }
        _ => None,
    }
}

fn session_fields(map: &Map<String, Value>) -> Option<Found> {
    let text = |name: &str| {
        map.get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
    };
    let access_token = text("access_token");
    let refresh_token = text("refresh_token");
    if access_token.is_none() && refresh_token.is_none() {
        return None;
    }
    Some(Found {
        access_token,
        refresh_token,
        expires_at: number(map.get("expires_at")),
        v1: false,
    })
}

fn number(value: Option<&Value>) -> Option<i64> {
    let value = value?;
    value.as_i64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.is_finite() && f.abs() < 9.0e15)
            .map(|f| f.trunc() as i64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use base64::Engine as _;
    use serde_json::json;
    use sha2::{Digest, Sha256};

    const SUB: &str = "6d1c1c1e-0b3c-4c2e-9d57-2d4b7f2b5a10";
    const EXP: i64 = 1_893_456_000;
    const LEGACY: &str = "y7kfqnm3h2xa";

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// A JWT with real base64url JSON parts and a fake signature.
    fn jwt() -> String {
        let header = json!({"alg": "HS256", "typ": "JWT"});
        let claims =
            json!({"sub": SUB, "exp": EXP, "session_id": "0a7f3f4e-5c2b-4a8e-9b1d-3e2f1a0b9c8d"});
        format!(
            "{}.{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes()),
            b64(b"not-a-real-signature-but-32-byte")
        )
    }

    fn v2_refresh() -> String {
        let mut raw = vec![0u8];
        raw.extend_from_slice(uuid::Uuid::from_u128(0x1234_5678_9abc_def0).as_bytes());
        raw.extend_from_slice(&[0x96, 0x01]); // counter 150
        raw.extend_from_slice(&[0x5a; 16]);
        let checksum = Sha256::digest(&raw);
        raw.extend_from_slice(&checksum[..4]);
        b64(&raw)
    }

    fn session() -> Value {
        json!({
            "access_token": jwt(),
            "token_type": "bearer",
            "expires_in": 3600,
            "expires_at": EXP,
            "refresh_token": LEGACY,
            "user": {"id": SUB, "email": "someone@example.com"}
        })
    }

    fn assert_session(imported: &Imported) {
        assert_eq!(imported.access_token(), Some(jwt().as_str()));
        assert_eq!(imported.refresh_token(), Some(LEGACY));
        assert_eq!(imported.expires_at, Some(EXP));
    }

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
    fn storage_value_v1_current_session_shape_is_recognized() {
        let mut current = session();
        current.as_object_mut().unwrap().remove("expires_at");
        let v1 = json!({"currentSession": current, "expiresAt": EXP});
        let imported = parse_import(&v1.to_string()).unwrap();
        assert_eq!(imported.kind, ImportKind::StorageValue);
        assert_eq!(imported.storage_key, None);
        assert_session(&imported);
    }

    #[test]
    fn storage_value_copied_as_a_json_string_literal_is_unwrapped() {
        let literal = json!(session().to_string()).to_string();
        let imported = parse_import(&literal).unwrap();
        assert_eq!(imported.kind, ImportKind::TokenResponse);
        assert_session(&imported);
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
    fn token_response_is_recognized() {
        let imported = parse_import(&format!("\n{}\n", session())).unwrap();
        assert_eq!(imported.kind, ImportKind::TokenResponse);
        assert_eq!(imported.storage_key, None);
        assert_session(&imported);
        assert!(imported
            .describe()
            .starts_with("A token response holding a session"));

        // Without expires_at the access token's exp is used.
        let mut without = session();
        without.as_object_mut().unwrap().remove("expires_at");
        assert_eq!(
            parse_import(&without.to_string()).unwrap().expires_at,
            Some(EXP)
        );
    }

    #[test]
    fn garbage_gives_the_expected_error_kind() {
        let token = jwt();
        let truncated = &token[..token.rfind('.').unwrap()];
        let parts: Vec<&str> = token.split('.').collect();
        let bad_payload = format!("{}.{}.{}", parts[0], &parts[1][..9], parts[2]);

        assert_eq!(parse_import(""), Err(ImportError::Empty));
        assert_eq!(parse_import("  \n\t"), Err(ImportError::Empty));
        assert_eq!(parse_import("\"\""), Err(ImportError::Empty));
        assert!(matches!(
            parse_import("hello world"),
            Err(ImportError::Unrecognized(_))
        ));
        assert_eq!(parse_import("{}"), Err(ImportError::NoTokens));
        assert_eq!(parse_import("{\"foo\":1}"), Err(ImportError::NoTokens));
        assert_eq!(parse_import("[1,2,3]"), Err(ImportError::NoTokens));
        assert!(matches!(
            parse_import("{\"access_token\": "),
            Err(ImportError::InvalidJson(_))
        ));
        assert_eq!(
            parse_import(truncated),
            Err(ImportError::InvalidJwt(
                "This looks like a JWT but it has only 2 of the 3 dot-separated parts of a JWT \
                 (was it cut short?)"
                    .into()
            ))
        );
        assert_eq!(
            parse_import(&bad_payload),
            Err(ImportError::InvalidJwt(
                "This looks like a JWT but its payload is not valid base64url JSON".into()
            ))
        );
        assert!(matches!(
            parse_import("Bearer abc"),
            Err(ImportError::InvalidJwt(_))
        ));
        assert!(matches!(
            parse_import("Y7KFQNM3H2XA"),
            Err(ImportError::InvalidRefreshToken(_))
        ));
        assert!(matches!(
            parse_import(&v2_refresh()[..48]),
            Err(ImportError::InvalidRefreshToken(_))
        ));
        assert_eq!(
            parse_import("\u{0}\u{1}\u{7f}\u{fffd}\u{fffd}junk"),
            Err(ImportError::Unrecognized(
                "This looks like binary data, not a token, session JSON or cookie".into()
            ))
        );
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
    fn errors_never_echo_secrets() {
        let token = jwt();
        let parts: Vec<&str> = token.split('.').collect();
        let secretish = "Zq9xVb3kLm7Pw2Rt";
        let inputs = [
            format!("{}.{}", parts[0], parts[1]),
            format!("Bearer {}", &token[..token.len() - 5].replace('.', "")),
            secretish.to_string(),
            format!("sb-x-auth-token.0=base64-{secretish}"),
            format!("{{\"refresh_token\": \"{secretish}"),
            "Y7KFQNM3H2XA".to_string(),
        ];
        for input in &inputs {
            let message = parse_import(input).unwrap_err().to_string();
            assert!(!message.contains(secretish), "{message}");
            assert!(!message.contains(parts[1]), "{message}");
            assert!(!message.contains("Y7KFQNM3"), "{message}");
        }
        // Plain text is quoted, at most 8 characters of it.
        let message = parse_import("this is not a token at all")
            .unwrap_err()
            .to_string();
        assert!(message.contains("\"this is …\""), "{message}");
        assert!(!message.contains("this is n"), "{message}");
    }

    #[test]
    fn debug_and_serialize_never_show_raw_tokens() {
        let value = format!("base64-{}", b64(session().to_string().as_bytes()));
        let imported = parse_import(&format!("sb-abcd-auth-token={value}")).unwrap();
        let debug = format!("{imported:?}");
        let json = serde_json::to_string(&imported).unwrap();
        let signature = jwt().rsplit('.').next().unwrap().to_string();
        for shown in [&debug, &json, &imported.describe()] {
            assert!(!shown.contains(LEGACY), "{shown}");
            assert!(!shown.contains(&jwt()), "{shown}");
            assert!(!shown.contains(&signature), "{shown}");
            assert!(shown.contains(&tokens::fingerprint(LEGACY)), "{shown}");
        }
        let serialized: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(serialized["kind"], "ssr_cookie");
        assert_eq!(serialized["refresh_token_shape"]["format"], "legacy");
        assert_eq!(
            serialized["access_token_fingerprint"],
            tokens::fingerprint(&jwt())
        );
    }

    #[test]
    fn session_without_refresh_token_says_it_cannot_be_refreshed() {
        let imported =
            parse_import(&json!({"access_token": jwt(), "token_type": "bearer"}).to_string())
                .unwrap();
        assert_eq!(imported.refresh_token(), None);
        assert!(imported.describe().contains("cannot be refreshed"));
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

    #[test]
    fn nested_session_and_auth_helpers_array_are_found() {
        let logged = json!({"data": {"session": session(), "user": null}, "error": null});
        let imported = parse_import(&logged.to_string()).unwrap();
        assert_eq!(imported.kind, ImportKind::TokenResponse);
        assert_session(&imported);

        let array = json!([jwt(), LEGACY, null, null, null]).to_string();
        let imported = parse_import(&format!("sb-abcd-auth-token={}", {
            let mut encoded = String::new();
            for b in array.bytes() {
                if b.is_ascii_alphanumeric() {
                    encoded.push(b as char);
                } else {
                    encoded.push_str(&format!("%{b:02X}"));
                }
            }
            encoded
        }))
        .unwrap();
        assert_eq!(imported.refresh_token(), Some(LEGACY));
        assert_eq!(imported.expires_at, Some(EXP));
    }
}
