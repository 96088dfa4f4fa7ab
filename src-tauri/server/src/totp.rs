//! Time-based one-time passwords as GoTrue issues and checks them for its `totp` factor
//! (through `pquerna/otp` v1.4): a 20-byte random secret shown as unpadded RFC 4648 base32,
//! HMAC-SHA-1, 6 digits, 30-second steps, and one step of tolerance either side. Also the
//! `otpauth://` URI an authenticator app reads, and the `qr_code` field of the enrollment
//! answer (see [`qr_code_svg`]).

use sha1_smol::Sha1;

/// Seconds per step (RFC 6238's X).
pub const PERIOD_SECS: i64 = 30;
/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Steps accepted either side of the current one (GoTrue's `Skew: 1`).
pub const SKEW_STEPS: i64 = 1;
/// Bytes of a new secret (pquerna/otp's default `SecretSize`).
pub const SECRET_BYTES: usize = 20;

const BASE32_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// HMAC (RFC 2104) over SHA-1, the hash RFC 6238's default mode uses.
pub fn hmac_sha1(key: &[u8], message: &[u8]) -> [u8; 20] {
    const BLOCK: usize = 64;
    let mut padded = [0u8; BLOCK];
    if key.len() > BLOCK {
        padded[..20].copy_from_slice(&Sha1::from(key).digest().bytes());
    } else {
        padded[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha1::new();
    inner.update(&padded.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha1::new();
    outer.update(&padded.map(|b| b ^ 0x5c));
    outer.update(&inner.digest().bytes());
    outer.digest().bytes()
}

/// RFC 4226's HOTP value for `counter`, `digits` long (leading zeros kept).
pub fn hotp(key: &[u8], counter: u64, digits: u32) -> String {
    let mac = hmac_sha1(key, &counter.to_be_bytes());
    let offset = usize::from(mac[19] & 0x0f);
    let truncated = u32::from_be_bytes([
        mac[offset] & 0x7f,
        mac[offset + 1],
        mac[offset + 2],
        mac[offset + 3],
    ]);
    let value = u64::from(truncated) % 10u64.pow(digits);
    format!("{value:0width$}", width = digits as usize)
}

/// The code of the step that contains `unix_secs`.
pub fn code_at(key: &[u8], unix_secs: i64) -> String {
    hotp(key, step(unix_secs) as u64, DIGITS)
}

fn step(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(PERIOD_SECS)
}

/// Whether `passcode` is the code of the current step or of one step either side, as
/// pquerna/otp's `ValidateCustom` decides: surrounding whitespace is ignored, any other
/// length than six is wrong, and an unreadable secret accepts nothing.
pub fn is_valid(passcode: &str, secret_base32: &str, unix_secs: i64) -> bool {
    let passcode = passcode.trim();
    if passcode.chars().count() != DIGITS as usize {
        return false;
    }
    let Some(key) = base32_decode(secret_base32) else {
        return false;
    };
    let now = step(unix_secs);
    (-SKEW_STEPS..=SKEW_STEPS)
        .filter_map(|skew| u64::try_from(now + skew).ok())
        .any(|counter| {
            constant_time_eq(hotp(&key, counter, DIGITS).as_bytes(), passcode.as_bytes())
        })
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A new secret: `SECRET_BYTES` random bytes in unpadded base32.
pub fn new_secret() -> String {
    base32_encode(&crate::hash::random_bytes::<SECRET_BYTES>())
}

/// RFC 4648 base32, standard alphabet, without padding.
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for byte in bytes {
        buffer = (buffer << 8) | u32::from(*byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(BASE32_ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(BASE32_ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Reads base32 as pquerna/otp does before hashing: surrounding whitespace ignored, any case,
/// padding optional. `None` for anything else.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim().trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let value = BASE32_ALPHABET
            .iter()
            .position(|a| *a == c.to_ascii_uppercase())?;
        buffer = (buffer << 5) | value as u32;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

/// The key URI pquerna/otp v1.4 builds: `otpauth://totp/<issuer>:<account>?<query>`, the label
/// escaped as Go escapes a URL path and the query as Go's `url.Values.Encode` writes it (keys
/// sorted, spaces as `+`).
pub fn otpauth_uri(issuer: &str, account: &str, secret_base32: &str) -> String {
    let query = [
        ("algorithm", "SHA1".to_string()),
        ("digits", DIGITS.to_string()),
        ("issuer", issuer.to_string()),
        ("period", PERIOD_SECS.to_string()),
        ("secret", secret_base32.to_string()),
    ]
    .iter()
    .map(|(key, value)| format!("{key}={}", go_query_escape(value)))
    .collect::<Vec<_>>()
    .join("&");
    format!(
        "otpauth://totp/{}?{query}",
        go_path_escape(&format!("{issuer}:{account}"))
    )
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// Go's `url.QueryEscape`.
fn go_query_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b' ' => out.push('+'),
            b if is_unreserved(b) => out.push(b as char),
            b => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Go's escaping of a URL's path: the reserved characters a path may hold stay, `?` does not.
fn go_path_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if is_unreserved(b) || b"$&+,/:;=@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The enrollment answer's `qr_code`. GoTrue draws the key URI as a QR code (error correction
/// level H, 3-pixel modules) in an SVG document. This server has no QR encoder among its
/// dependencies, so it answers an SVG document of the same kind that says, in text, where the
/// key is instead: a client that shows the image shows that note, and a client (such as the
/// inspector's window) that draws its own QR code from `uri` loses nothing. The note holds no
/// part of the secret.
pub fn qr_code_svg() -> String {
    concat!(
        "<?xml version=\"1.0\"?>\n",
        "<svg width=\"240\" height=\"60\"\n",
        "     xmlns=\"http://www.w3.org/2000/svg\"\n",
        "     xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n",
        "<rect x=\"0\" y=\"0\" width=\"240\" height=\"60\" style=\"fill:white\" />\n",
        "<text x=\"8\" y=\"26\" style=\"font-family:sans-serif;font-size:11px\">",
        "local-gotrue draws no QR code:</text>\n",
        "<text x=\"8\" y=\"44\" style=\"font-family:sans-serif;font-size:11px\">",
        "use totp.uri or totp.secret</text>\n",
        "</svg>\n"
    )
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, appendix B: the SHA-1 secret is the ASCII text "12345678901234567890".
    #[test]
    fn rfc_6238_sha1_test_vectors() {
        let key = b"12345678901234567890";
        for (time, expected) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(hotp(key, (time / 30) as u64, 8), expected, "T = {time}");
            assert_eq!(code_at(key, time), expected[2..], "six digits at {time}");
        }
    }

    #[test]
    fn rfc_2202_hmac_sha1_with_a_long_key() {
        let mac = hmac_sha1(
            &[0xaa; 80],
            b"Test Using Larger Than Block-Size Key - Hash Key First",
        );
        assert_eq!(
            crate::hash::hex(&mac),
            "aa4ae5e15272d00e95705637ce8a3b55ed402112"
        );
    }

    #[test]
    fn base32_round_trips_without_padding() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_decode("mzxw6ytboi======").unwrap(), b"foobar");
        let secret = new_secret();
        assert_eq!(secret.len(), 32, "20 bytes are 32 characters");
        assert_eq!(base32_decode(&secret).unwrap().len(), SECRET_BYTES);
        assert!(base32_decode("not base32!").is_none());
    }

    #[test]
    fn a_code_is_accepted_one_step_either_side_and_no_further() {
        let secret = base32_encode(b"12345678901234567890");
        let now = 1_111_111_111;
        for (offset, accepted) in [
            (-60, false),
            (-30, true),
            (0, true),
            (30, true),
            (60, false),
        ] {
            let code = code_at(b"12345678901234567890", now + offset);
            assert_eq!(is_valid(&code, &secret, now), accepted, "offset {offset}");
        }
        let code = code_at(b"12345678901234567890", now);
        assert!(
            is_valid(&format!(" {code}\n"), &secret, now),
            "whitespace ignored"
        );
        assert!(!is_valid(&code[..5], &secret, now));
        assert!(!is_valid(&code, "!!", now));
    }

    #[test]
    fn the_uri_is_written_as_pquerna_otp_writes_it() {
        assert_eq!(
            otpauth_uri("127.0.0.1:3000", "a b@example.com", "ABC"),
            "otpauth://totp/127.0.0.1:3000:a%20b@example.com?algorithm=SHA1&digits=6\
             &issuer=127.0.0.1%3A3000&period=30&secret=ABC"
        );
        assert_eq!(go_query_escape("My App/2"), "My+App%2F2");
    }
}
