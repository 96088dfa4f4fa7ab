//! The paste parser and the token tools take anything a user can paste: random mixes of
//! format fragments, quotes, separators and multibyte text never panic. Seeded, so a failure
//! reproduces.

use session_engine::import::parse_import;
use session_engine::tokens::{decode_jwt, inspect_refresh_token, verify_jwt, Jwks};

#[test]
fn random_pastes_never_panic() {
    let pieces = [
        "eyJhbGciOiJIUzI1NiJ9",
        ".",
        "eyJzdWIiOiJ4In0",
        "base64-",
        "sb-abc-auth-token",
        ".0=",
        ".1=",
        "; ",
        "=",
        "\"",
        "'",
        "`",
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        "Bearer ",
        "Authorization: ",
        "Cookie: ",
        "%7B%22",
        "access_token",
        "refresh_token",
        "abcdefghijkl",
        "é",
        "🔑",
        "\u{0}",
        "AAAA",
        "____",
        "-",
        " ",
        "\n",
        "null",
        "123",
        "currentSession",
        "expires_at",
    ];
    let mut state: u64 = 0x1234_5678_9ABC_DEF1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let jwks: Jwks = serde_json::from_str(r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"k","x":"AAAA","y":"AAAA"},{"kty":"RSA","kid":"r","n":"AQAB","e":"AQAB"}]}"#).unwrap();
    let mut recognized = 0;
    for _ in 0..20_000 {
        let len = (next() % 12) as usize;
        let input: String = (0..len)
            .map(|_| pieces[(next() % pieces.len() as u64) as usize])
            .collect();
        if parse_import(&input).is_ok() {
            recognized += 1;
        }
        if let Ok(jwt) = decode_jwt(&input) {
            let _ = verify_jwt(&jwt, Some(b"secret"), Some(&jwks));
        }
        let _ = inspect_refresh_token(&input);
    }
    println!("{recognized} of 20000 random pastes were recognized as something");
}
