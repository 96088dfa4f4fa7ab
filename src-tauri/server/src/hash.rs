//! Small hashing and randomness helpers shared by tokens, passwords and keys.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    bytes
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// 32 random bytes as 64 hex characters: a JWT secret (GoTrue wants at least 32 characters)
/// or a control token.
pub fn random_secret() -> String {
    hex(&random_bytes::<32>())
}

/// Salted HMAC-SHA-256. GoTrue uses bcrypt; this server holds throwaway local accounts and
/// favours speed in tests, so it says plainly that it is not a password store for real users.
pub fn hash_password(password: &str) -> String {
    let salt = random_bytes::<16>();
    format!(
        "{}${}",
        hex(&salt),
        hex(&hmac_sha256(&salt, password.as_bytes()))
    )
}

pub fn check_password(stored: &str, password: &str) -> bool {
    let Some((salt_hex, hash_hex)) = stored.split_once('$') else {
        return false;
    };
    let Some(salt) = unhex(salt_hex) else {
        return false;
    };
    hex(&hmac_sha256(&salt, password.as_bytes())) == hash_hex
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}
