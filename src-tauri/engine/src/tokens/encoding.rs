//! The byte-level encodings the token tools share: base64 as JWTs, GoTrue and cookies write
//! it, and the fingerprint that stands in for a secret wherever one would be shown.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
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

/// Decodes base64url (padding optional): JWT parts, JWK members, v2 refresh tokens.
pub(super) fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    B64URL.decode(text).ok()
}

/// Decodes base64 in either alphabet (standard `+/` or url-safe `-_`), padding optional,
/// ignoring embedded whitespace. Cookie values and hand-copied data come in all variants.
/// Shared with the importer.
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

/// Whether `c` can appear in base64url text (padding included).
pub(super) fn is_b64url_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '='
}

/// A short, stable, non-reversible fingerprint of a secret for logs and UI:
/// `"fp:"` + the first 12 hex characters of its SHA-256.
///
/// Why: users need to tell tokens apart ("is this the same refresh token as before the
/// rotation?") without the inspector ever displaying or logging the secret itself.
/// 48 bits is plenty to distinguish a handful of tokens and far too little to recover one.
pub fn fingerprint(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    format!("fp:{}", hex::encode(&digest[..6]))
}

/// The whole SHA-256 of a token, in hex: what in-memory tables (the refresh flights, the
/// failure memory) are keyed by, so they hold no token in plain text and no two tokens share
/// a key in practice (a fingerprint is 48 bits; this is 256).
pub fn token_key(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
