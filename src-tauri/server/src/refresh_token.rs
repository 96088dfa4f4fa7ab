//! The two refresh-token formats GoTrue issues, and its syntax check.
//!
//! v2 layout (unpadded base64url of): version byte 0x00, the 16-byte session id, the counter
//! as an unsigned LEB128 varint, the first 16 bytes of HMAC-SHA-256 (per-session key) over
//! everything before, then the first 4 bytes of SHA-256 over everything before that.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use uuid::Uuid;

use crate::hash::{hmac_sha256, random_bytes, sha256};

const LEGACY_ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
pub const LEGACY_LEN: usize = 12;

pub fn generate_legacy() -> String {
    random_bytes::<LEGACY_LEN>()
        .iter()
        .map(|b| LEGACY_ALPHABET[(b & 31) as usize] as char)
        .collect()
}

/// GoTrue's `Validate`: under 12 characters is invalid; exactly 12 must be `[a-z0-9]`;
/// longer must parse as v2.
pub fn is_well_formed(token: &str) -> bool {
    match token.len() {
        n if n < LEGACY_LEN => false,
        LEGACY_LEN => token
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
        _ => V2Token::decode(token).is_some(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2Token {
    pub session_id: Uuid,
    pub counter: u64,
    signed: Vec<u8>,
    mac: [u8; 16],
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Go's `binary.Uvarint`: `None` when the input ends mid-number or the value overflows 64
/// bits (the tenth byte may carry one bit only), never a wrapped value.
fn take_varint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, byte) in bytes.iter().enumerate().take(10) {
        if i == 9 && *byte > 1 {
            return None;
        }
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

impl V2Token {
    pub fn encode(session_id: Uuid, counter: u64, key: &[u8]) -> String {
        let mut bytes = vec![0u8];
        bytes.extend_from_slice(session_id.as_bytes());
        put_varint(&mut bytes, counter);
        let mac = hmac_sha256(key, &bytes);
        bytes.extend_from_slice(&mac[..16]);
        let checksum = sha256(&bytes);
        bytes.extend_from_slice(&checksum[..4]);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Parses the structure and checks the checksum; the HMAC needs the session's key.
    pub fn decode(token: &str) -> Option<V2Token> {
        let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
        if bytes.len() < 38 || bytes[0] != 0 {
            return None;
        }
        let (body, checksum) = bytes.split_at(bytes.len() - 4);
        if sha256(body)[..4] != *checksum {
            return None;
        }
        let (signed, mac) = body.split_at(body.len() - 16);
        let session_id = Uuid::from_slice(&signed[1..17]).ok()?;
        let (counter, used) = take_varint(&signed[17..])?;
        if 17 + used != signed.len() {
            return None;
        }
        Some(V2Token {
            session_id,
            counter,
            signed: signed.to_vec(),
            mac: mac.try_into().ok()?,
        })
    }

    pub fn signed_by(&self, key: &[u8]) -> bool {
        hmac_sha256(key, &self.signed)[..16] == self.mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_tokens_are_twelve_base32_characters() {
        for _ in 0..100 {
            let token = generate_legacy();
            assert_eq!(token.len(), 12);
            assert!(token.bytes().all(|b| LEGACY_ALPHABET.contains(&b)));
            assert!(is_well_formed(&token));
        }
        assert!(!is_well_formed("short"));
        assert!(!is_well_formed("ABCDEFGHIJKL"));
    }

    #[test]
    fn varints_that_overflow_64_bits_are_rejected_not_wrapped() {
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(take_varint(&max), Some((u64::MAX, 10)));
        let over = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert_eq!(take_varint(&over), None);
        assert_eq!(take_varint(&[0x80, 0x80]), None, "ends mid-number");
        let mut out = Vec::new();
        put_varint(&mut out, u64::MAX);
        assert_eq!(take_varint(&out), Some((u64::MAX, 10)));
    }

    #[test]
    fn v2_round_trips_and_grows_past_counter_127() {
        let session = Uuid::new_v4();
        let key = [7u8; 32];
        let token = V2Token::encode(session, 5, &key);
        assert_eq!(token.len(), 51);
        let decoded = V2Token::decode(&token).unwrap();
        assert_eq!((decoded.session_id, decoded.counter), (session, 5));
        assert!(decoded.signed_by(&key));
        assert!(!decoded.signed_by(&[8u8; 32]));
        assert_eq!(V2Token::encode(session, 128, &key).len(), 52);
        assert!(is_well_formed(&token));
    }

    #[test]
    fn v2_checksum_catches_a_changed_character() {
        let token = V2Token::encode(Uuid::new_v4(), 1, &[1u8; 32]);
        let mut chars: Vec<char> = token.chars().collect();
        chars[20] = if chars[20] == 'A' { 'B' } else { 'A' };
        assert!(V2Token::decode(&chars.into_iter().collect::<String>()).is_none());
    }
}
