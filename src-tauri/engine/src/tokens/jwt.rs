//! Decoding access tokens (JWTs) without a key: the header and claims become readable, the
//! signature is kept for [`verify_jwt`](super::verify_jwt) to check.
//!
//! The input is whatever the user pasted, so the decoder first removes the wrapping people
//! paste around a token (quotes, `Bearer `, an `Authorization:` header name, line breaks).
//! Errors describe what is wrong without ever containing the token.

use std::fmt;

use serde::ser::SerializeStruct;
use serde_json::{Map, Value};

use super::encoding::{b64url_decode, fingerprint, is_b64url_char};

/// Which of the three dot-separated parts of a JWT an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JwtPart {
    Header,
    Payload,
    Signature,
}

impl fmt::Display for JwtPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JwtPart::Header => "header",
            JwtPart::Payload => "payload",
            JwtPart::Signature => "signature",
        })
    }
}

/// Why a string could not be decoded as a JWT. Messages describe the problem and never
/// contain the input: a half-pasted token is still a secret.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum TokenError {
    #[error("nothing to decode: the input is empty")]
    Empty,
    /// Structurally not a JWT; the string says what is wrong (never the token itself).
    #[error("not a JWT: {0}")]
    NotAJwt(String),
    #[error("the JWT {0} is not valid base64url")]
    BadBase64(JwtPart),
    #[error("the JWT {0} is not a JSON object")]
    BadJson(JwtPart),
}

/// A JWT decoded without any key: header and claims are readable, the signature is not yet
/// checked (see [`verify_jwt`](super::verify_jwt)).
///
/// The raw token and signature stay private so they cannot leak through a careless
/// `{:?}` or a serialized UI payload: `Debug` and `Serialize` show a fingerprint instead.
#[derive(Clone, PartialEq)]
pub struct DecodedJwt {
    /// The JOSE header (`alg`, `kid`, `typ`, ...).
    pub header: Map<String, Value>,
    /// The claims; free-form by nature, GoTrue adds its own (`session_id`, `aal`, `amr`, ...).
    pub claims: Map<String, Value>,
    /// The token as decoded (wrapping such as quotes or `Bearer ` removed).
    raw: String,
    /// Length of `header.payload`, the bytes the signature covers.
    signing_input_len: usize,
    signature: Vec<u8>,
}

impl DecodedJwt {
    /// The `alg` header, exactly as written (JOSE algorithm names are case-sensitive).
    pub fn alg(&self) -> Option<&str> {
        self.header.get("alg").and_then(Value::as_str)
    }

    /// The `kid` header: which key of the project's JWKS signed the token.
    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    /// The `exp` claim in Unix seconds (fractional values are truncated).
    pub fn expires_at(&self) -> Option<i64> {
        numeric_claim(self.claims.get("exp"))
    }

    /// The `iat` claim in Unix seconds.
    pub fn issued_at(&self) -> Option<i64> {
        numeric_claim(self.claims.get("iat"))
    }

    /// GoTrue's `session_id` claim: the row in `auth.sessions` this token belongs to.
    pub fn session_id(&self) -> Option<&str> {
        self.claims.get("session_id").and_then(Value::as_str)
    }

    /// The `sub` claim: the user's id.
    pub fn subject(&self) -> Option<&str> {
        self.claims.get("sub").and_then(Value::as_str)
    }

    /// The token itself, for sending it to a server. Never display or log this; use
    /// [`DecodedJwt::fingerprint`].
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// [`fingerprint`] of the raw token.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.raw)
    }

    /// `header.payload`: the bytes the signature covers.
    pub(crate) fn signing_input(&self) -> &[u8] {
        &self.raw.as_bytes()[..self.signing_input_len]
    }

    /// The decoded signature bytes.
    pub(crate) fn signature(&self) -> &[u8] {
        &self.signature
    }
}

impl fmt::Debug for DecodedJwt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodedJwt")
            .field("token", &self.fingerprint())
            .field("header", &self.header)
            .field("claims", &self.claims)
            .field("signature_len", &self.signature.len())
            .finish()
    }
}

/// Serialized for the UI as `{ fingerprint, header, claims }`: everything worth showing,
/// nothing that could be replayed.
impl serde::Serialize for DecodedJwt {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut state = serializer.serialize_struct("DecodedJwt", 3)?;
        state.serialize_field("fingerprint", &self.fingerprint())?;
        state.serialize_field("header", &self.header)?;
        state.serialize_field("claims", &self.claims)?;
        state.end()
    }
}

fn numeric_claim(value: Option<&Value>) -> Option<i64> {
    let value = value?;
    if let Some(int) = value.as_i64() {
        return Some(int);
    }
    let float = value.as_f64()?;
    // Guard the cast: NaN cannot come out of JSON, but huge values can.
    if float.is_finite() && float.abs() < 9.0e15 {
        Some(float.trunc() as i64)
    } else {
        None
    }
}

/// A token with the wrapping people paste around it removed.
pub(crate) struct Unwrapped<'a> {
    pub token: &'a str,
    /// A `Bearer ` scheme prefix was present.
    pub bearer: bool,
    /// An `Authorization:` header name was present.
    pub header_name: bool,
}

/// Strips, repeatedly and in any order, surrounding whitespace, a matching pair of quotes
/// (`"`, `'` or a backtick), an `Authorization:` header name and a `Bearer ` scheme (both
/// case-insensitive). Repetition handles combinations like `"Authorization: Bearer x"`.
pub(crate) fn unwrap_token_input(input: &str) -> Unwrapped<'_> {
    let mut text = input;
    let mut bearer = false;
    let mut header_name = false;
    loop {
        let before = text.len();
        text = text.trim();
        text = strip_matching_quotes(text);
        if let Some(rest) = strip_header_name(text) {
            text = rest;
            header_name = true;
        }
        if let Some(rest) = strip_bearer(text) {
            text = rest;
            bearer = true;
        }
        if text.len() == before {
            break;
        }
    }
    Unwrapped {
        token: text,
        bearer,
        header_name,
    }
}

/// Removes one pair of matching surrounding quotes, if present.
pub(crate) fn strip_matching_quotes(text: &str) -> &str {
    for quote in ['"', '\'', '`'] {
        if text.len() >= 2 && text.starts_with(quote) && text.ends_with(quote) {
            return &text[1..text.len() - 1];
        }
    }
    text
}

/// `Authorization:` (any case, optional spaces before the colon) → the rest.
fn strip_header_name(text: &str) -> Option<&str> {
    const NAME: &str = "authorization";
    let head = text.get(..NAME.len())?;
    if !head.eq_ignore_ascii_case(NAME) {
        return None;
    }
    text[NAME.len()..].trim_start().strip_prefix(':')
}

/// `Bearer` (any case) followed by whitespace or nothing → the rest.
fn strip_bearer(text: &str) -> Option<&str> {
    const SCHEME: &str = "bearer";
    let head = text.get(..SCHEME.len())?;
    if !head.eq_ignore_ascii_case(SCHEME) {
        return None;
    }
    let rest = &text[SCHEME.len()..];
    // A bare "Bearer" (nothing after it) counts too: it is a header with the token missing.
    if rest.is_empty() || rest.starts_with(char::is_whitespace) {
        Some(rest.trim_start())
    } else {
        None
    }
}

/// Tolerant decode of a JWT, needing no key.
///
/// Accepts what people actually paste: surrounding whitespace and newlines, surrounding
/// quotes (`"`, `'`, `` ` ``), a leading `Bearer ` (any case, any whitespace) and a leading
/// `Authorization:` header name. Line breaks inside the token (from a wrapped terminal) are
/// dropped. The header and payload must be base64url-encoded JSON objects; the signature
/// must be base64url (it may be empty, as in `alg: none` tokens).
pub fn decode_jwt(input: &str) -> Result<DecodedJwt, TokenError> {
    let unwrapped = unwrap_token_input(input);
    let raw: String = unwrapped
        .token
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if raw.is_empty() {
        return Err(TokenError::Empty);
    }

    let parts: Vec<&str> = raw.split('.').collect();
    match parts.len() {
        3 => {}
        1 => {
            return Err(TokenError::NotAJwt(
                "it has no dots, while a JWT is three base64url parts joined by dots".into(),
            ))
        }
        2 => {
            return Err(TokenError::NotAJwt(
                "it has only 2 of the 3 dot-separated parts of a JWT (was it cut short?)".into(),
            ))
        }
        5 => {
            return Err(TokenError::NotAJwt(
                "it has 5 parts, which makes it an encrypted JWE, not a signed JWT".into(),
            ))
        }
        n => {
            return Err(TokenError::NotAJwt(format!(
                "it has {n} dot-separated parts, while a JWT has 3"
            )))
        }
    }

    let named = [
        (JwtPart::Header, parts[0]),
        (JwtPart::Payload, parts[1]),
        (JwtPart::Signature, parts[2]),
    ];
    for (part, text) in named {
        if part != JwtPart::Signature && text.is_empty() {
            return Err(TokenError::NotAJwt(format!("its {part} is empty")));
        }
        if !text.chars().all(is_b64url_char) {
            return Err(TokenError::BadBase64(part));
        }
    }

    let header = decode_json_part(parts[0], JwtPart::Header)?;
    let claims = decode_json_part(parts[1], JwtPart::Payload)?;
    let signature = b64url_decode(parts[2]).ok_or(TokenError::BadBase64(JwtPart::Signature))?;
    let signing_input_len = parts[0].len() + 1 + parts[1].len();

    Ok(DecodedJwt {
        header,
        claims,
        raw,
        signing_input_len,
        signature,
    })
}

fn decode_json_part(text: &str, part: JwtPart) -> Result<Map<String, Value>, TokenError> {
    let bytes = b64url_decode(text).ok_or(TokenError::BadBase64(part))?;
    serde_json::from_slice::<Map<String, Value>>(&bytes).map_err(|_| TokenError::BadJson(part))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::{b64, claims, hs256_token, SECRET};

    #[test]
    fn decode_reads_header_and_gotrue_claims() {
        let token = hs256_token(SECRET, &claims());
        let jwt = decode_jwt(&token).unwrap();
        assert_eq!(jwt.alg(), Some("HS256"));
        assert_eq!(jwt.kid(), None);
        assert_eq!(jwt.expires_at(), Some(1_893_456_000));
        assert_eq!(jwt.issued_at(), Some(1_893_452_400));
        assert_eq!(
            jwt.session_id(),
            Some("0a7f3f4e-5c2b-4a8e-9b1d-3e2f1a0b9c8d")
        );
        assert_eq!(jwt.subject(), Some("6d1c1c1e-0b3c-4c2e-9d57-2d4b7f2b5a10"));
        assert_eq!(jwt.raw(), token);
    }

    #[test]
    fn decode_tolerates_bearer_quotes_whitespace_and_header_name() {
        let token = hs256_token(SECRET, &claims());
        let inputs = [
            format!("  Bearer {token}  "),
            format!("\"{token}\""),
            format!("'{token}'\n"),
            format!("`{token}`"),
            format!("authorization: bearer {token}"),
            format!("Authorization:Bearer\t{token}"),
            format!("\"Authorization: BEARER   {token}\""),
            format!("\n{token}\r\n"),
        ];
        for input in inputs {
            let jwt = decode_jwt(&input).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(jwt.raw(), token);
        }
    }

    #[test]
    fn decode_joins_a_token_wrapped_over_lines() {
        let token = hs256_token(SECRET, &claims());
        let wrapped = format!("{}\n{}", &token[..40], &token[40..]);
        assert_eq!(decode_jwt(&wrapped).unwrap().raw(), token);
    }

    #[test]
    fn decode_rejects_garbage_without_echoing_it() {
        let token = hs256_token(SECRET, &claims());
        let parts: Vec<&str> = token.split('.').collect();
        let truncated = format!("{}.{}", parts[0], parts[1]);
        let bad_payload = format!("{}.{}.{}", parts[0], &parts[1][..10], parts[2]);
        let not_json = format!("{}.{}.{}", parts[0], b64(b"[1,2]"), parts[2]);
        let bad_chars = format!("{}.{}!!.{}", parts[0], parts[1], parts[2]);
        let cases = [
            ("", TokenError::Empty),
            ("   \n ", TokenError::Empty),
            ("Bearer ", TokenError::Empty),
            (
                "hello world",
                TokenError::NotAJwt(
                    "it has no dots, while a JWT is three base64url parts joined by dots".into(),
                ),
            ),
            (
                truncated.as_str(),
                TokenError::NotAJwt(
                    "it has only 2 of the 3 dot-separated parts of a JWT (was it cut short?)"
                        .into(),
                ),
            ),
            (bad_payload.as_str(), TokenError::BadJson(JwtPart::Payload)),
            (not_json.as_str(), TokenError::BadJson(JwtPart::Payload)),
            (bad_chars.as_str(), TokenError::BadBase64(JwtPart::Payload)),
            (
                "a.b.c.d.e",
                TokenError::NotAJwt(
                    "it has 5 parts, which makes it an encrypted JWE, not a signed JWT".into(),
                ),
            ),
            (".x.y", TokenError::NotAJwt("its header is empty".into())),
        ];
        for (input, expected) in cases {
            let err = decode_jwt(input).unwrap_err();
            assert_eq!(err, expected, "input {input:?}");
            let message = err.to_string();
            for part in &parts {
                assert!(
                    !message.contains(part),
                    "message echoes the token: {message}"
                );
            }
        }
    }

    #[test]
    fn debug_and_serialize_show_a_fingerprint_not_the_token() {
        let token = hs256_token(SECRET, &claims());
        let signature = token.rsplit('.').next().unwrap().to_string();
        let jwt = decode_jwt(&token).unwrap();
        let debug = format!("{jwt:?}");
        let json = serde_json::to_string(&jwt).unwrap();
        for shown in [&debug, &json] {
            assert!(!shown.contains(&token));
            assert!(!shown.contains(&signature));
            assert!(shown.contains(&fingerprint(&token)));
            assert!(shown.contains("session_id"));
        }
    }
}
