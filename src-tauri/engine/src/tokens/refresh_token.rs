//! Refresh tokens explained from their shape alone. Clients treat refresh tokens as opaque;
//! the inspector tells GoTrue's two formats apart and reads what a v2 token reveals (its
//! session and its position in the rotation sequence) without any key.

use sha2::{Digest, Sha256};

use super::encoding::{b64url_decode, is_b64url_char};
use super::jwt::strip_matching_quotes;

/// What a refresh token is, judged from its shape alone. Clients treat refresh tokens as
/// opaque; the inspector explains them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(
    tag = "format",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum RefreshTokenShape {
    /// GoTrue's original format: 12 random lowercase characters, looked up in
    /// `auth.refresh_tokens`.
    Legacy,
    /// GoTrue's signed format: names its session and its position in the rotation sequence.
    V2 {
        #[ts(type = "string")]
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
    use crate::test_fixtures::{b64, v2_token};

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
}
