//! Fixtures shared by the unit tests of `tokens` and `import`: JWTs (HS256, ES256 and a fixed
//! RS256 vector), the keys and JWKS that verify them, v2 refresh tokens made by the local
//! GoTrue's own encoder, and a supabase-js session holding them. One place, so the token
//! tools and the importer are tested against the same tokens.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use local_gotrue::refresh_token::V2Token;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::import::Imported;
use crate::tokens::{Jwk, Jwks};

/// The HS256 JWT secret the test tokens are signed with.
pub const SECRET: &[u8] = b"super-secret-jwt-token-with-at-least-32-characters-long";
/// The `sub` (user id) of every test token.
pub const SUB: &str = "6d1c1c1e-0b3c-4c2e-9d57-2d4b7f2b5a10";
/// The `session_id` of every test token.
pub const SESSION_ID: &str = "0a7f3f4e-5c2b-4a8e-9b1d-3e2f1a0b9c8d";
/// The `exp` of every test token: 2030-01-01T00:00:00Z.
pub const EXP: i64 = 1_893_456_000;
/// A legacy (12 lowercase alphanumerics) refresh token.
pub const LEGACY: &str = "y7kfqnm3h2xa";

/// Unpadded base64url, as JWTs and GoTrue write it.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The claims of an access token as GoTrue issues it.
pub fn claims() -> Value {
    json!({
        "sub": SUB,
        "session_id": SESSION_ID,
        "exp": EXP,
        "iat": 1_893_452_400,
        "role": "authenticated",
    })
}

/// `header.payload`, the part of a JWT its signature covers.
pub fn signing_input(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    )
}

pub fn hs256_token(secret: &[u8], claims: &Value) -> String {
    let input = signing_input(&json!({"alg": "HS256", "typ": "JWT"}), claims);
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", b64(&mac.finalize().into_bytes()))
}

pub fn ec_key() -> SigningKey {
    SigningKey::from_slice(&[7u8; 32]).unwrap()
}

/// The public half of `key` as a JWKS entry.
pub fn ec_jwk(key: &SigningKey, kid: Option<&str>) -> Jwk {
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

pub fn es256_token(key: &SigningKey, kid: Option<&str>, claims: &Value) -> String {
    let mut header = json!({"alg": "ES256", "typ": "JWT"});
    if let Some(kid) = kid {
        header["kid"] = json!(kid);
    }
    let input = signing_input(&header, claims);
    let signature: Signature = key.sign(input.as_bytes());
    format!("{input}.{}", b64(&signature.to_bytes()))
}

/// Replaces the payload, keeping the original header and signature.
pub fn with_payload(token: &str, claims: &Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!(
        "{}.{}.{}",
        parts[0],
        b64(claims.to_string().as_bytes()),
        parts[2]
    )
}

// RS256 vector made once with an external tool (2048-bit key, public half only here).
pub const RSA_N: &str = "oJyyLBuCBJdgcnxhehgsje5ple0MG_ve8orMdvZw-HIN_nFzRaNK0qsHY2smam9K34DG0lXzJn1t7iCCUAgT_GGKhfjEl6c3LLaudfwhykoDNv11kXvbUvh2aCanCFAMKKZczV441TWRRwlrGVe05DqMh1UpAdJqG8_GODk-umAGTzf75FTPa4wIpwVblz7FsHxMBZ4nXAGZb50fSfXpdTmrcAGqY5Zy0LkTthw8ZB2yxJo_GxSr4cwMogvxsJD4nmB3GgVbvJiKeCy8xLoaraOAqY2NziwzAyh-WP4HhFf1HJt2Ze8gIr2I8D5uj-yxjcJuyTbHL74RGEBmR2lUtQ";
pub const RSA_TOKEN: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYS10ZXN0LTEiLCJ0eXAiOiJKV1QifQ.eyJzdWIiOiI2ZDFjMWMxZS0wYjNjLTRjMmUtOWQ1Ny0yZDRiN2YyYjVhMTAiLCJzZXNzaW9uX2lkIjoiMGE3ZjNmNGUtNWMyYi00YThlLTliMWQtM2UyZjFhMGI5YzhkIiwiZXhwIjoxODkzNDU2MDAwLCJpYXQiOjE4OTM0NTI0MDAsInJvbGUiOiJhdXRoZW50aWNhdGVkIn0.D931tVv09so6x0Z5vJ6Hb2lltCgt6FWmW7_G1taKck39TA7TGGHzlB41fgyCntK5w285Wd_jVWQ0TgstzEC_yVW99wUerfV7Vfy-OibiVcHU8VAjw4pJTNzgQfNQTxqui_iAezeZ4SkgPoDBPRtYLFJdD7mUp_I8YS5k1QbqeAANlIQ11XHylLXvzCVLtyVuA7gLH7h6Nl9CJpXGijNzimsFrRpJEyOmcxsUb-V_R0Ogg49lUT-30uuNrA2fWGsYUY3cbeqfvJ2CaF5ZDGQcbQYGmmW1150FIU-2x-t6QhGH34P65MD9zb9b5bPXceDoGlwHWmv5YrKNvS2CAWgjHA";

/// A JWKS holding the public key of [`RSA_TOKEN`] (kid `rsa-test-1`).
pub fn rsa_jwks() -> Jwks {
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

/// A v2 refresh token for `session` at rotation `counter`, made by the local GoTrue's
/// encoder (the HMAC key is arbitrary: reading a token's shape never needs it).
pub fn v2_token(session: uuid::Uuid, counter: u64) -> String {
    V2Token::encode(session, counter, &[0xab; 32])
}

/// A JWT with real base64url JSON parts and a fake signature.
pub fn jwt() -> String {
    let header = json!({"alg": "HS256", "typ": "JWT"});
    let claims = json!({"sub": SUB, "exp": EXP, "session_id": SESSION_ID});
    format!(
        "{}.{}",
        signing_input(&header, &claims),
        b64(b"not-a-real-signature-but-32-byte")
    )
}

/// A v2 refresh token for session `00000000-0000-0000-1234-56789abcdef0` at rotation 150.
pub fn v2_refresh() -> String {
    v2_token(uuid::Uuid::from_u128(0x1234_5678_9abc_def0), 150)
}

/// A session as supabase-js stores it and GoTrue's token endpoint returns it.
pub fn session() -> Value {
    json!({
        "access_token": jwt(),
        "token_type": "bearer",
        "expires_in": 3600,
        "expires_at": EXP,
        "refresh_token": LEGACY,
        "user": {"id": SUB, "email": "someone@example.com"}
    })
}

/// `imported` holds the tokens and expiry of [`session`].
pub fn assert_session(imported: &Imported) {
    assert_eq!(imported.access_token(), Some(jwt().as_str()));
    assert_eq!(imported.refresh_token(), Some(LEGACY));
    assert_eq!(imported.expires_at, Some(EXP));
}
