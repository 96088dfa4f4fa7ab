//! Token tools the inspector shows: decoding access tokens (JWTs) without a key, verifying
//! their signatures with whatever key material the user has, and explaining refresh tokens
//! from their shape alone.
//!
//! Everything here works on untrusted, pasted input. Two rules follow from that:
//! nothing panics on hostile input, and nothing ever echoes a token back (errors describe
//! what is wrong; `Debug` output shows a fingerprint instead of the token).

use std::fmt;

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::ser::SerializeStruct;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// base64url as JWTs and GoTrue use it, decoded leniently: padding may or may not be present
/// and non-canonical trailing bits are accepted (Go's and browsers' decoders accept them too,
/// and signatures are checked over the original text anyway, so leniency cannot forge one).
const B64URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Decodes base64url (padding optional). Shared with the importer.
pub(crate) fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    B64URL.decode(text).ok()
}

/// Decodes base64 in either alphabet (standard `+/` or url-safe `-_`), padding optional,
/// ignoring embedded whitespace. Cookie values and hand-copied data come in all variants.
pub(crate) fn b64_decode_any(text: &str) -> Option<Vec<u8>> {
    let normalized: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            other => other,
        })
        .collect();
    b64url_decode(&normalized)
}

/// A short, stable, non-reversible fingerprint of a secret for logs and UI:
/// `"fp:"` + the first 12 hex characters of its SHA-256.
///
/// Why: users need to tell tokens apart ("is this the same refresh token as before the
/// rotation?") without the inspector ever displaying or logging the secret itself.
/// 48 bits is plenty to distinguish a handful of tokens and far too little to recover one.
pub fn fingerprint(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let mut out = String::with_capacity(15);
    out.push_str("fp:");
    for byte in &digest[..6] {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

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
/// checked (see [`verify_jwt`]).
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

fn is_b64url_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '='
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

/// The outcome of checking a JWT's signature, for display. Each non-verified outcome carries
/// a human reason; `NotVerified` means "could not check", which is different from
/// `InvalidSignature` ("checked, and it is wrong or unacceptable").
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SignatureStatus {
    Verified { alg: String, kid: Option<String> },
    InvalidSignature { alg: String, reason: String },
    NotVerified { reason: String },
}

impl SignatureStatus {
    pub fn is_verified(&self) -> bool {
        matches!(self, SignatureStatus::Verified { .. })
    }
}

/// A JSON Web Key Set as GoTrue publishes it at `/auth/v1/.well-known/jwks.json`.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, PartialEq)]
pub struct Jwks {
    #[serde(default)]
    pub keys: Vec<Jwk>,
}

/// One public key of a JWKS. Only the members needed to verify EC P-256 and RSA signatures
/// are kept; keys of other kinds parse fine and are simply never chosen. Private members
/// (`d`, `p`, `q`, ...) are deliberately not captured, so a private JWK pasted by mistake is
/// never stored or serialized back.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, PartialEq)]
pub struct Jwk {
    /// Key type: `EC`, `RSA`, `oct`, `OKP`, ... (a missing `kty` counts as an unknown kind).
    #[serde(default)]
    pub kty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// `sig` or `enc`; encryption keys are never used to verify.
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub key_use: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
}

/// Verifies a JWT's signature with whatever the caller has: the project's HS256 JWT secret
/// and/or its JWKS.
///
/// Key choice follows GoTrue: HS256 uses the shared secret; ES256 and RS256 use the JWK whose
/// `kid` matches the token's, or, when the token has no `kid`, the only key of that type.
/// `alg: none` (in any capitalization) is always `InvalidSignature`: an unsigned token must
/// never look acceptable. Algorithms GoTrue does not issue are reported as unsupported.
/// Never panics on hostile tokens or keys.
pub fn verify_jwt(
    jwt: &DecodedJwt,
    hs256_secret: Option<&[u8]>,
    jwks: Option<&Jwks>,
) -> SignatureStatus {
    let Some(alg) = jwt.alg() else {
        return SignatureStatus::InvalidSignature {
            alg: String::new(),
            reason: "the header names no algorithm (alg), so no server would accept it".into(),
        };
    };
    if alg.eq_ignore_ascii_case("none") {
        return SignatureStatus::InvalidSignature {
            alg: alg.to_string(),
            reason: "alg none: the token is unsigned and must not be trusted".into(),
        };
    }
    match alg {
        "HS256" => verify_hs256(jwt, hs256_secret),
        "ES256" | "RS256" => {
            let Some(jwks) = jwks else {
                return SignatureStatus::NotVerified {
                    reason: format!("no key: {alg} tokens need the project's JWKS"),
                };
            };
            let jwk = match select_jwk(jwks, alg, jwt.kid()) {
                Ok(jwk) => jwk,
                Err(status) => return status,
            };
            if alg == "ES256" {
                verify_es256(jwt, jwk)
            } else {
                verify_rs256(jwt, jwk)
            }
        }
        other => SignatureStatus::NotVerified {
            reason: format!("unsupported algorithm: {}", printable(other)),
        },
    }
}

/// Makes an attacker-controlled header value safe and short for display.
fn printable(text: &str) -> String {
    const MAX: usize = 64;
    let mut out: String = text
        .chars()
        .take(MAX)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if text.chars().count() > MAX {
        out.push('…');
    }
    out
}

fn verify_hs256(jwt: &DecodedJwt, secret: Option<&[u8]>) -> SignatureStatus {
    let secret = match secret {
        Some(secret) if !secret.is_empty() => secret,
        Some(_) => {
            return SignatureStatus::NotVerified {
                reason: "no key: the JWT secret given is empty".into(),
            }
        }
        None => {
            return SignatureStatus::NotVerified {
                reason: "no key: HS256 tokens need the project's JWT secret".into(),
            }
        }
    };
    // HMAC accepts keys of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return SignatureStatus::NotVerified {
            reason: "no key: the JWT secret could not be used".into(),
        };
    };
    mac.update(jwt.signing_input());
    // verify_slice compares in constant time.
    if mac.verify_slice(jwt.signature()).is_ok() {
        SignatureStatus::Verified {
            alg: "HS256".into(),
            kid: jwt.kid().map(str::to_string),
        }
    } else {
        SignatureStatus::InvalidSignature {
            alg: "HS256".into(),
            reason: "the signature does not match this JWT secret".into(),
        }
    }
}

/// Whether `jwk` could verify a token signed with `alg` (ES256 or RS256).
fn jwk_fits(jwk: &Jwk, alg: &str) -> bool {
    if jwk.key_use.as_deref().is_some_and(|u| u != "sig") {
        return false;
    }
    if jwk.alg.as_deref().is_some_and(|a| a != alg) {
        return false;
    }
    match alg {
        "ES256" => jwk.kty == "EC" && jwk.crv.as_deref().is_none_or(|c| c == "P-256"),
        "RS256" => jwk.kty == "RSA",
        _ => false,
    }
}

fn select_jwk<'a>(
    jwks: &'a Jwks,
    alg: &str,
    kid: Option<&str>,
) -> Result<&'a Jwk, SignatureStatus> {
    if let Some(kid) = kid {
        let mut same_kid = jwks.keys.iter().filter(|k| k.kid.as_deref() == Some(kid));
        let Some(first) = same_kid.clone().next() else {
            return Err(SignatureStatus::NotVerified {
                reason: format!(
                    "no key: kid {} is not in the project's JWKS",
                    printable(kid)
                ),
            });
        };
        return match same_kid.find(|k| jwk_fits(k, alg)) {
            Some(jwk) => Ok(jwk),
            None => Err(SignatureStatus::InvalidSignature {
                alg: alg.to_string(),
                reason: format!(
                    "the JWKS key with kid {} is a {} key{}, which cannot verify {alg}",
                    printable(kid),
                    printable(&first.kty),
                    first
                        .alg
                        .as_deref()
                        .map(|a| format!(" for {}", printable(a)))
                        .unwrap_or_default(),
                ),
            }),
        };
    }
    let candidates: Vec<&Jwk> = jwks.keys.iter().filter(|k| jwk_fits(k, alg)).collect();
    match candidates.as_slice() {
        [only] => Ok(only),
        [] => Err(SignatureStatus::NotVerified {
            reason: format!("no key: the project's JWKS has no {alg} key"),
        }),
        many => Err(SignatureStatus::NotVerified {
            reason: format!(
                "no key: the token has no kid and the JWKS has {} {alg} keys to choose from",
                many.len()
            ),
        }),
    }
}

fn key_label(jwk: &Jwk) -> String {
    match &jwk.kid {
        Some(kid) => format!("the JWKS key {}", printable(kid)),
        None => "the JWKS key".to_string(),
    }
}

fn verified_with(alg: &str, jwt: &DecodedJwt, jwk: &Jwk) -> SignatureStatus {
    SignatureStatus::Verified {
        alg: alg.to_string(),
        kid: jwk.kid.clone().or_else(|| jwt.kid().map(str::to_string)),
    }
}

fn verify_es256(jwt: &DecodedJwt, jwk: &Jwk) -> SignatureStatus {
    use p256::ecdsa::signature::Verifier as _;
    use p256::ecdsa::{Signature, VerifyingKey};

    let label = key_label(jwk);
    let coordinate = |c: &Option<String>| {
        c.as_deref()
            .and_then(b64url_decode)
            .filter(|bytes| bytes.len() == 32)
    };
    let (Some(x), Some(y)) = (coordinate(&jwk.x), coordinate(&jwk.y)) else {
        return SignatureStatus::NotVerified {
            reason: format!("{label} is not a valid P-256 public key (bad x or y)"),
        };
    };
    let point = p256::EncodedPoint::from_affine_coordinates(
        p256::FieldBytes::from_slice(&x),
        p256::FieldBytes::from_slice(&y),
        false,
    );
    let Ok(key) = VerifyingKey::from_encoded_point(&point) else {
        return SignatureStatus::NotVerified {
            reason: format!("{label} is not a point on the P-256 curve"),
        };
    };

    let bytes = jwt.signature();
    if bytes.len() != 64 {
        let hint = if bytes.first() == Some(&0x30) {
            " (it looks DER-encoded; JWTs use raw r||s)"
        } else {
            ""
        };
        return SignatureStatus::InvalidSignature {
            alg: "ES256".into(),
            reason: format!(
                "an ES256 signature is 64 bytes, this one is {}{hint}",
                bytes.len()
            ),
        };
    }
    let Ok(signature) = Signature::from_slice(bytes) else {
        return SignatureStatus::InvalidSignature {
            alg: "ES256".into(),
            reason: "the signature's r or s is out of range".into(),
        };
    };
    // Note: high-S signatures are accepted, as Go's crypto/ecdsa (GoTrue) may produce them.
    if key.verify(jwt.signing_input(), &signature).is_ok() {
        verified_with("ES256", jwt, jwk)
    } else {
        SignatureStatus::InvalidSignature {
            alg: "ES256".into(),
            reason: format!("the signature does not match {label}"),
        }
    }
}

fn verify_rs256(jwt: &DecodedJwt, jwk: &Jwk) -> SignatureStatus {
    use rsa::{BigUint, Pkcs1v15Sign, RsaPublicKey};

    /// RFC 7518 §3.3: RS256 keys must be at least 2048 bits.
    const MIN_BITS: usize = 2048;

    let label = key_label(jwk);
    let component = |c: &Option<String>| {
        c.as_deref()
            .and_then(b64url_decode)
            .filter(|bytes| !bytes.is_empty())
            .map(|bytes| BigUint::from_bytes_be(&bytes))
    };
    let (Some(n), Some(e)) = (component(&jwk.n), component(&jwk.e)) else {
        return SignatureStatus::NotVerified {
            reason: format!("{label} is not a valid RSA public key (bad n or e)"),
        };
    };
    let bits = n.bits();
    if bits < MIN_BITS {
        return SignatureStatus::NotVerified {
            reason: format!("{label} is a {bits}-bit RSA key; RS256 needs at least {MIN_BITS}"),
        };
    }
    // `new` also rejects moduli above 4096 bits and out-of-range exponents, which bounds the
    // work a hostile JWKS can cause.
    let Ok(key) = RsaPublicKey::new(n, e) else {
        return SignatureStatus::NotVerified {
            reason: format!("{label} is not a usable RSA public key"),
        };
    };
    let expected_len = bits.div_ceil(8);
    let signature = jwt.signature();
    if signature.len() != expected_len {
        return SignatureStatus::InvalidSignature {
            alg: "RS256".into(),
            reason: format!(
                "an RS256 signature for this key is {expected_len} bytes, this one is {}",
                signature.len()
            ),
        };
    }
    let digest = Sha256::digest(jwt.signing_input());
    match key.verify(Pkcs1v15Sign::new::<Sha256>(), &digest, signature) {
        Ok(()) => verified_with("RS256", jwt, jwk),
        Err(_) => SignatureStatus::InvalidSignature {
            alg: "RS256".into(),
            reason: format!("the signature does not match {label}"),
        },
    }
}

/// What a refresh token is, judged from its shape alone. Clients treat refresh tokens as
/// opaque; the inspector explains them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "format", rename_all = "snake_case")]
pub enum RefreshTokenShape {
    /// GoTrue's original format: 12 random lowercase characters, looked up in
    /// `auth.refresh_tokens`.
    Legacy,
    /// GoTrue's signed format: names its session and its position in the rotation sequence.
    V2 {
        session_id: uuid::Uuid,
        counter: u64,
    },
    Unknown,
}

/// Raw layout of a v2 refresh token (GoTrue `internal/crypto/refresh_tokens.go`):
/// version byte 0, 16-byte session UUID, unsigned LEB128 counter, 16-byte truncated
/// HMAC-SHA-256 (needs the server's per-session key, so not checked here), then a 4-byte
/// checksum = first 4 bytes of SHA-256 over everything before it.
const V2_SIGNATURE_LEN: usize = 16;
const V2_CHECKSUM_LEN: usize = 4;
const V2_MIN_RAW_LEN: usize = 1 + 16 + 1 + V2_SIGNATURE_LEN + V2_CHECKSUM_LEN;
/// 38 raw bytes in unpadded base64url.
const V2_MIN_TEXT_LEN: usize = (V2_MIN_RAW_LEN * 4).div_ceil(3);

/// Tells a legacy refresh token from a v2 one (whose session and counter it reveals), or
/// says it is neither. Surrounding whitespace and quotes are ignored.
pub fn inspect_refresh_token(token: &str) -> RefreshTokenShape {
    let token = strip_matching_quotes(token.trim()).trim();
    if token.len() == 12
        && token
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        return RefreshTokenShape::Legacy;
    }
    if token.len() < V2_MIN_TEXT_LEN || !token.chars().all(is_b64url_char) {
        return RefreshTokenShape::Unknown;
    }
    b64url_decode(token)
        .and_then(|raw| parse_v2(&raw))
        .unwrap_or(RefreshTokenShape::Unknown)
}

fn parse_v2(raw: &[u8]) -> Option<RefreshTokenShape> {
    if raw.len() < V2_MIN_RAW_LEN || raw[0] != 0 {
        return None;
    }
    let (body, checksum) = raw.split_at(raw.len() - V2_CHECKSUM_LEN);
    if Sha256::digest(body)[..V2_CHECKSUM_LEN] != *checksum {
        return None;
    }
    let session_id = uuid::Uuid::from_slice(&body[1..17]).ok()?;
    let (counter, used) = read_uvarint(&body[17..])?;
    // GoTrue stores the counter as a signed 64-bit integer and rejects larger values.
    if counter > i64::MAX as u64 {
        return None;
    }
    if body.len() - 17 - used != V2_SIGNATURE_LEN {
        return None;
    }
    Some(RefreshTokenShape::V2 {
        session_id,
        counter,
    })
}

/// Unsigned LEB128 (Go's `binary.Uvarint`): value and bytes consumed, or `None` when the
/// input ends mid-number or the value overflows 64 bits.
fn read_uvarint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value: u64 = 0;
    for (index, &byte) in bytes.iter().enumerate().take(10) {
        let low = u64::from(byte & 0x7f);
        if index == 9 && byte > 1 {
            return None;
        }
        value |= low << (7 * index);
        if byte & 0x80 == 0 {
            return Some((value, index + 1));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use p256::ecdsa::signature::Signer as _;
    use p256::ecdsa::{Signature, SigningKey};
    use serde_json::json;

    const SECRET: &[u8] = b"super-secret-jwt-token-with-at-least-32-characters-long";

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn claims() -> Value {
        json!({
            "sub": "6d1c1c1e-0b3c-4c2e-9d57-2d4b7f2b5a10",
            "session_id": "0a7f3f4e-5c2b-4a8e-9b1d-3e2f1a0b9c8d",
            "exp": 1_893_456_000,
            "iat": 1_893_452_400,
            "role": "authenticated",
        })
    }

    fn signing_input(header: &Value, claims: &Value) -> String {
        format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        )
    }

    fn hs256_token(secret: &[u8], claims: &Value) -> String {
        let input = signing_input(&json!({"alg": "HS256", "typ": "JWT"}), claims);
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
        mac.update(input.as_bytes());
        format!("{input}.{}", b64(&mac.finalize().into_bytes()))
    }

    fn ec_key() -> SigningKey {
        SigningKey::from_slice(&[7u8; 32]).unwrap()
    }

    fn ec_jwk(key: &SigningKey, kid: Option<&str>) -> Jwk {
        let point = key.verifying_key().to_encoded_point(false);
        Jwk {
            kty: "EC".into(),
            kid: kid.map(str::to_string),
            alg: Some("ES256".into()),
            key_use: Some("sig".into()),
            crv: Some("P-256".into()),
            x: Some(b64(point.x().unwrap())),
            y: Some(b64(point.y().unwrap())),
            n: None,
            e: None,
        }
    }

    fn es256_token(key: &SigningKey, kid: Option<&str>, claims: &Value) -> String {
        let mut header = json!({"alg": "ES256", "typ": "JWT"});
        if let Some(kid) = kid {
            header["kid"] = json!(kid);
        }
        let input = signing_input(&header, claims);
        let signature: Signature = key.sign(input.as_bytes());
        format!("{input}.{}", b64(&signature.to_bytes()))
    }

    /// Replaces the payload, keeping the original header and signature.
    fn with_payload(token: &str, claims: &Value) -> String {
        let parts: Vec<&str> = token.split('.').collect();
        format!(
            "{}.{}.{}",
            parts[0],
            b64(claims.to_string().as_bytes()),
            parts[2]
        )
    }

    // RS256 vector made once with an external tool (2048-bit key, public half only here).
    const RSA_N: &str = "oJyyLBuCBJdgcnxhehgsje5ple0MG_ve8orMdvZw-HIN_nFzRaNK0qsHY2smam9K34DG0lXzJn1t7iCCUAgT_GGKhfjEl6c3LLaudfwhykoDNv11kXvbUvh2aCanCFAMKKZczV441TWRRwlrGVe05DqMh1UpAdJqG8_GODk-umAGTzf75FTPa4wIpwVblz7FsHxMBZ4nXAGZb50fSfXpdTmrcAGqY5Zy0LkTthw8ZB2yxJo_GxSr4cwMogvxsJD4nmB3GgVbvJiKeCy8xLoaraOAqY2NziwzAyh-WP4HhFf1HJt2Ze8gIr2I8D5uj-yxjcJuyTbHL74RGEBmR2lUtQ";
    const RSA_TOKEN: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYS10ZXN0LTEiLCJ0eXAiOiJKV1QifQ.eyJzdWIiOiI2ZDFjMWMxZS0wYjNjLTRjMmUtOWQ1Ny0yZDRiN2YyYjVhMTAiLCJzZXNzaW9uX2lkIjoiMGE3ZjNmNGUtNWMyYi00YThlLTliMWQtM2UyZjFhMGI5YzhkIiwiZXhwIjoxODkzNDU2MDAwLCJpYXQiOjE4OTM0NTI0MDAsInJvbGUiOiJhdXRoZW50aWNhdGVkIn0.D931tVv09so6x0Z5vJ6Hb2lltCgt6FWmW7_G1taKck39TA7TGGHzlB41fgyCntK5w285Wd_jVWQ0TgstzEC_yVW99wUerfV7Vfy-OibiVcHU8VAjw4pJTNzgQfNQTxqui_iAezeZ4SkgPoDBPRtYLFJdD7mUp_I8YS5k1QbqeAANlIQ11XHylLXvzCVLtyVuA7gLH7h6Nl9CJpXGijNzimsFrRpJEyOmcxsUb-V_R0Ogg49lUT-30uuNrA2fWGsYUY3cbeqfvJ2CaF5ZDGQcbQYGmmW1150FIU-2x-t6QhGH34P65MD9zb9b5bPXceDoGlwHWmv5YrKNvS2CAWgjHA";

    fn rsa_jwks() -> Jwks {
        Jwks {
            keys: vec![Jwk {
                kty: "RSA".into(),
                kid: Some("rsa-test-1".into()),
                alg: Some("RS256".into()),
                key_use: Some("sig".into()),
                crv: None,
                x: None,
                y: None,
                n: Some(RSA_N.into()),
                e: Some("AQAB".into()),
            }],
        }
    }

    fn v2_token(session: uuid::Uuid, counter: u64) -> String {
        let mut raw = vec![0u8];
        raw.extend_from_slice(session.as_bytes());
        let mut value = counter;
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                raw.push(byte);
                break;
            }
            raw.push(byte | 0x80);
        }
        raw.extend_from_slice(&[0xab; 16]);
        let checksum = Sha256::digest(&raw);
        raw.extend_from_slice(&checksum[..4]);
        b64(&raw)
    }

    #[test]
    fn fingerprint_is_stable_prefixed_and_short() {
        let a = fingerprint("some-refresh-token");
        assert_eq!(a, fingerprint("some-refresh-token"));
        assert!(a.starts_with("fp:"));
        assert_eq!(a.len(), 15);
        assert!(a[3..].chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, fingerprint("some-refresh-tokem"));
        // SHA-256("abc") starts with ba7816bf8f01.
        assert_eq!(fingerprint("abc"), "fp:ba7816bf8f01");
    }

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

    #[test]
    fn hs256_verifies_with_the_right_secret_only() {
        let jwt = decode_jwt(&hs256_token(SECRET, &claims())).unwrap();
        assert_eq!(
            verify_jwt(&jwt, Some(SECRET), None),
            SignatureStatus::Verified {
                alg: "HS256".into(),
                kid: None
            }
        );
        assert!(matches!(
            verify_jwt(&jwt, Some(b"another-secret"), None),
            SignatureStatus::InvalidSignature { .. }
        ));
    }

    #[test]
    fn hs256_without_a_secret_is_not_verified_and_says_why() {
        let jwt = decode_jwt(&hs256_token(SECRET, &claims())).unwrap();
        assert_eq!(
            verify_jwt(&jwt, None, Some(&Jwks { keys: vec![] })),
            SignatureStatus::NotVerified {
                reason: "no key: HS256 tokens need the project's JWT secret".into()
            }
        );
    }

    #[test]
    fn tampered_payload_is_an_invalid_signature() {
        let token = hs256_token(SECRET, &claims());
        let mut forged = claims();
        forged["role"] = json!("service_role");
        let jwt = decode_jwt(&with_payload(&token, &forged)).unwrap();
        assert!(matches!(
            verify_jwt(&jwt, Some(SECRET), None),
            SignatureStatus::InvalidSignature { .. }
        ));

        let key = ec_key();
        let token = es256_token(&key, Some("k1"), &claims());
        let jwks = Jwks {
            keys: vec![ec_jwk(&key, Some("k1"))],
        };
        let jwt = decode_jwt(&with_payload(&token, &forged)).unwrap();
        assert_eq!(
            verify_jwt(&jwt, None, Some(&jwks)),
            SignatureStatus::InvalidSignature {
                alg: "ES256".into(),
                reason: "the signature does not match the JWKS key k1".into()
            }
        );
    }

    #[test]
    fn es256_verifies_with_the_matching_jwk() {
        let key = ec_key();
        let jwt = decode_jwt(&es256_token(&key, Some("k1"), &claims())).unwrap();
        let other = SigningKey::from_slice(&[9u8; 32]).unwrap();
        let jwks = Jwks {
            keys: vec![ec_jwk(&other, Some("k0")), ec_jwk(&key, Some("k1"))],
        };
        assert_eq!(
            verify_jwt(&jwt, Some(SECRET), Some(&jwks)),
            SignatureStatus::Verified {
                alg: "ES256".into(),
                kid: Some("k1".into())
            }
        );
    }

    #[test]
    fn es256_without_kid_uses_the_only_ec_key() {
        let key = ec_key();
        let jwt = decode_jwt(&es256_token(&key, None, &claims())).unwrap();
        let mut rsa_and_ec = rsa_jwks();
        rsa_and_ec.keys.push(ec_jwk(&key, Some("k1")));
        assert!(verify_jwt(&jwt, None, Some(&rsa_and_ec)).is_verified());

        let other = SigningKey::from_slice(&[9u8; 32]).unwrap();
        rsa_and_ec.keys.push(ec_jwk(&other, Some("k2")));
        assert_eq!(
            verify_jwt(&jwt, None, Some(&rsa_and_ec)),
            SignatureStatus::NotVerified {
                reason: "no key: the token has no kid and the JWKS has 2 ES256 keys to choose from"
                    .into()
            }
        );
    }

    #[test]
    fn es256_accepts_high_s_signatures_as_go_produces_them() {
        let key = ec_key();
        let token = es256_token(&key, Some("k1"), &claims());
        let parts: Vec<&str> = token.split('.').collect();
        let low = Signature::from_slice(&b64url_decode(parts[2]).unwrap()).unwrap();
        let (r, s) = low.split_scalars();
        let high = Signature::from_scalars(*r, -*s).unwrap();
        assert!(
            high.normalize_s().is_some(),
            "test signature should be high-S"
        );
        let token = format!("{}.{}.{}", parts[0], parts[1], b64(&high.to_bytes()));
        let jwks = Jwks {
            keys: vec![ec_jwk(&key, Some("k1"))],
        };
        let jwt = decode_jwt(&token).unwrap();
        assert!(verify_jwt(&jwt, None, Some(&jwks)).is_verified());
    }

    #[test]
    fn unknown_kid_is_not_verified() {
        let key = ec_key();
        let jwt = decode_jwt(&es256_token(&key, Some("abc"), &claims())).unwrap();
        let jwks = Jwks {
            keys: vec![ec_jwk(&key, Some("k1"))],
        };
        assert_eq!(
            verify_jwt(&jwt, None, Some(&jwks)),
            SignatureStatus::NotVerified {
                reason: "no key: kid abc is not in the project's JWKS".into()
            }
        );
        assert_eq!(
            verify_jwt(&jwt, None, None),
            SignatureStatus::NotVerified {
                reason: "no key: ES256 tokens need the project's JWKS".into()
            }
        );
    }

    #[test]
    fn kid_pointing_at_a_key_of_another_type_is_invalid() {
        let key = ec_key();
        let jwt = decode_jwt(&es256_token(&key, Some("rsa-test-1"), &claims())).unwrap();
        assert!(matches!(
            verify_jwt(&jwt, None, Some(&rsa_jwks())),
            SignatureStatus::InvalidSignature { .. }
        ));
    }

    #[test]
    fn alg_none_is_an_invalid_signature() {
        for alg in ["none", "None", "NONE"] {
            let token = format!(
                "{}.",
                signing_input(&json!({"alg": alg, "typ": "JWT"}), &claims())
            );
            let jwt = decode_jwt(&token).unwrap();
            assert!(matches!(
                verify_jwt(&jwt, Some(SECRET), Some(&rsa_jwks())),
                SignatureStatus::InvalidSignature { .. }
            ));
        }
    }

    #[test]
    fn unsupported_algorithms_are_named() {
        let token = format!(
            "{}.c2ln",
            signing_input(&json!({"alg": "PS256"}), &claims())
        );
        let jwt = decode_jwt(&token).unwrap();
        assert_eq!(
            verify_jwt(&jwt, Some(SECRET), Some(&rsa_jwks())),
            SignatureStatus::NotVerified {
                reason: "unsupported algorithm: PS256".into()
            }
        );
    }

    #[test]
    fn rs256_verifies_with_the_matching_jwk_and_rejects_tampering() {
        let jwks = rsa_jwks();
        let jwt = decode_jwt(RSA_TOKEN).unwrap();
        assert_eq!(
            verify_jwt(&jwt, None, Some(&jwks)),
            SignatureStatus::Verified {
                alg: "RS256".into(),
                kid: Some("rsa-test-1".into())
            }
        );
        let mut forged = claims();
        forged["role"] = json!("service_role");
        let jwt = decode_jwt(&with_payload(RSA_TOKEN, &forged)).unwrap();
        assert!(matches!(
            verify_jwt(&jwt, None, Some(&jwks)),
            SignatureStatus::InvalidSignature { .. }
        ));
    }

    #[test]
    fn hostile_keys_and_signatures_never_panic() {
        let key = ec_key();
        let token = es256_token(&key, Some("k1"), &claims());
        let input = token.rsplit_once('.').unwrap().0.to_string();
        let mut bad_ec = ec_jwk(&key, Some("k1"));
        bad_ec.x = Some(b64(&[0xff; 32]));
        let mut short_ec = ec_jwk(&key, Some("k1"));
        short_ec.y = Some("AAAA".into());
        let mut tiny_rsa = rsa_jwks().keys[0].clone();
        tiny_rsa.kid = Some("k1".into());
        tiny_rsa.n = Some(b64(&[0x01]));
        let mut huge_rsa = tiny_rsa.clone();
        huge_rsa.n = Some(b64(&[0xff; 1024]));
        let mut zero_e = rsa_jwks().keys[0].clone();
        zero_e.e = Some("AA".into());

        let signatures = [
            String::new(),
            b64(&[0u8; 64]),
            b64(&[0xff; 64]),
            b64(&[0x30; 70]),
            b64(&[1u8; 256]),
        ];
        let keysets = [
            Jwks { keys: vec![bad_ec] },
            Jwks {
                keys: vec![short_ec],
            },
            Jwks {
                keys: vec![tiny_rsa],
            },
            Jwks {
                keys: vec![huge_rsa],
            },
            Jwks { keys: vec![zero_e] },
            Jwks { keys: vec![] },
        ];
        for alg in ["ES256", "RS256"] {
            let header = b64(json!({"alg": alg, "kid": "k1"}).to_string().as_bytes());
            let payload = input.split_once('.').unwrap().1;
            for signature in &signatures {
                let jwt = decode_jwt(&format!("{header}.{payload}.{signature}")).unwrap();
                for jwks in &keysets {
                    assert!(!verify_jwt(&jwt, Some(b""), Some(jwks)).is_verified());
                }
            }
        }
    }

    #[test]
    fn jwks_parses_gotrue_shape_and_ignores_unknown_kinds() {
        let text = r#"{"keys":[
            {"alg":"ES256","crv":"P-256","ext":true,"key_ops":["verify"],"kid":"k1","kty":"EC","use":"sig","x":"AA","y":"BB"},
            {"kty":"OKP","crv":"Ed25519","x":"CC"},
            {"kty":"oct","k":"c2VjcmV0"},
            {"kid":"no-kty"}
        ]}"#;
        let jwks: Jwks = serde_json::from_str(text).unwrap();
        assert_eq!(jwks.keys.len(), 4);
        assert_eq!(jwks.keys[0].key_use.as_deref(), Some("sig"));
        assert_eq!(jwks.keys[3].kty, "");
        // The oct key's secret is not captured, so it can never be echoed back.
        assert!(!serde_json::to_string(&jwks).unwrap().contains("c2VjcmV0"));
    }

    #[test]
    fn legacy_refresh_tokens_are_12_lowercase_alphanumerics() {
        assert_eq!(
            inspect_refresh_token("abcdefgh2345"),
            RefreshTokenShape::Legacy
        );
        assert_eq!(
            inspect_refresh_token(" \"y7kfqnm3h2xa\" "),
            RefreshTokenShape::Legacy
        );
        assert_eq!(
            inspect_refresh_token("Abcdefgh2345"),
            RefreshTokenShape::Unknown
        );
        assert_eq!(
            inspect_refresh_token("abcdefgh234"),
            RefreshTokenShape::Unknown
        );
        assert_eq!(
            inspect_refresh_token("abcdefgh-345"),
            RefreshTokenShape::Unknown
        );
    }

    #[test]
    fn v2_refresh_token_reveals_session_and_counter() {
        let session = uuid::Uuid::parse_str("0a7f3f4e-5c2b-4a8e-9b1d-3e2f1a0b9c8d").unwrap();
        for counter in [0u64, 1, 127, 128, 300, 1 << 40, i64::MAX as u64] {
            let token = v2_token(session, counter);
            assert!(token.len() >= 51);
            assert_eq!(
                inspect_refresh_token(&token),
                RefreshTokenShape::V2 {
                    session_id: session,
                    counter
                },
                "counter {counter}"
            );
        }
        // 128 needs a two-byte varint, making the token one byte longer.
        assert_eq!(v2_token(session, 0).len(), 51);
        assert!(v2_token(session, 128).len() > 51);
    }

    #[test]
    fn v2_refresh_token_with_bad_checksum_or_layout_is_unknown() {
        let session = uuid::Uuid::new_v4();
        let token = v2_token(session, 200);
        let mut raw = b64url_decode(&token).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 0x01;
        assert_eq!(
            inspect_refresh_token(&b64(&raw)),
            RefreshTokenShape::Unknown
        );

        // Counter bytes corrupted: checksum catches it too.
        let mut raw = b64url_decode(&token).unwrap();
        raw[17] ^= 0x02;
        assert_eq!(
            inspect_refresh_token(&b64(&raw)),
            RefreshTokenShape::Unknown
        );

        // Wrong version byte with a valid checksum.
        let mut raw = b64url_decode(&token).unwrap();
        raw.truncate(raw.len() - 4);
        raw[0] = 1;
        let checksum = Sha256::digest(&raw);
        raw.extend_from_slice(&checksum[..4]);
        assert_eq!(
            inspect_refresh_token(&b64(&raw)),
            RefreshTokenShape::Unknown
        );

        // Truncated token.
        assert_eq!(
            inspect_refresh_token(&token[..50]),
            RefreshTokenShape::Unknown
        );
        assert_eq!(inspect_refresh_token(""), RefreshTokenShape::Unknown);
    }

    #[test]
    fn uvarint_rejects_overflow_and_truncation() {
        assert_eq!(read_uvarint(&[0x80, 0x01]), Some((128, 2)));
        assert_eq!(read_uvarint(&[0x80]), None);
        assert_eq!(read_uvarint(&[0xff; 10]), None);
        let mut max = vec![0xff; 9];
        max.push(0x01);
        assert_eq!(read_uvarint(&max), Some((u64::MAX, 10)));
    }

    #[test]
    fn signature_status_serializes_with_a_status_tag() {
        let status = SignatureStatus::NotVerified { reason: "x".into() };
        assert_eq!(
            serde_json::to_value(&status).unwrap(),
            json!({"status": "not_verified", "reason": "x"})
        );
        let shape = RefreshTokenShape::V2 {
            session_id: uuid::Uuid::nil(),
            counter: 3,
        };
        assert_eq!(
            serde_json::to_value(&shape).unwrap(),
            json!({"format": "v2", "session_id": uuid::Uuid::nil(), "counter": 3})
        );
    }
}
