//! The token tools (src-tauri/engine/src/tokens): `decode_jwt` and `verify_jwt` on hostile
//! tokens and hostile key sets.
//!
//! The input (lossy UTF-8) is tried three ways: as a token, checked against a fixed HS256
//! secret and a fixed JWKS (one P-256 key, one RSA-2048 key); as a JWKS, against fixed tokens
//! signed with those keys; and, split at its first line break, as `<token>\n<JWKS JSON>`.
//!
//! Checked: a decoded token has three parts and no whitespace, and neither its `Debug` nor its
//! serialized form repeats it; without key material (or with an empty secret and an empty
//! JWKS) nothing verifies; `alg: none` never verifies; a verified token names its own
//! algorithm (and, for a token with a `kid`, that `kid`); and every reason is a short line
//! without control characters, whatever the token or the keys hold.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use session_engine::tokens::{
    decode_jwt, verify_jwt, DecodedJwt, Jwks, SignatureStatus, GOTRUE_ALGORITHMS,
};

/// The Supabase CLI's local-development JWT secret.
const SECRET: &[u8] = b"super-secret-jwt-token-with-at-least-32-characters-long";

/// GoTrue's JWKS shape: the P-256 key (`fuzz-ec-1`) that signed `ES256_*`, and the RSA key
/// (`rsa-test-1`, the engine's test vector) that signed `RS256_KID`.
const JWKS: &str = r#"{"keys":[{"alg":"ES256","crv":"P-256","ext":true,"key_ops":["verify"],"kid":"fuzz-ec-1","kty":"EC","use":"sig","x":"HhhTL9R1TALzBB2cdc6zO4P_2BrHzk_ogsyxyYvFiW4","y":"pGwxHE4v9A3ZajZT5uRURdMt_khuztdcepDGoYiBwKM"},{"alg":"RS256","e":"AQAB","kid":"rsa-test-1","kty":"RSA","n":"oJyyLBuCBJdgcnxhehgsje5ple0MG_ve8orMdvZw-HIN_nFzRaNK0qsHY2smam9K34DG0lXzJn1t7iCCUAgT_GGKhfjEl6c3LLaudfwhykoDNv11kXvbUvh2aCanCFAMKKZczV441TWRRwlrGVe05DqMh1UpAdJqG8_GODk-umAGTzf75FTPa4wIpwVblz7FsHxMBZ4nXAGZb50fSfXpdTmrcAGqY5Zy0LkTthw8ZB2yxJo_GxSr4cwMogvxsJD4nmB3GgVbvJiKeCy8xLoaraOAqY2NziwzAyh-WP4HhFf1HJt2Ze8gIr2I8D5uj-yxjcJuyTbHL74RGEBmR2lUtQ","use":"sig"}]}"#;

const HS256: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI2ZDFjMWMxZS0wYjNjLTRjMmUtOWQ1Ny0yZDRiN2YyYjVhMTAiLCJleHAiOjE4OTM0NTYwMDAsInNlc3Npb25faWQiOiIwYTdmM2Y0ZS01YzJiLTRhOGUtOWIxZC0zZTJmMWEwYjljOGQiLCJyb2xlIjoiYXV0aGVudGljYXRlZCJ9.SJzKxSW4hIsN2T2TflEha_Gv70BmRRggCsvyUiOrJ1I";
const ES256_KID: &str = "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImZ1enotZWMtMSJ9.eyJzdWIiOiI2ZDFjMWMxZS0wYjNjLTRjMmUtOWQ1Ny0yZDRiN2YyYjVhMTAiLCJleHAiOjE4OTM0NTYwMDAsInNlc3Npb25faWQiOiIwYTdmM2Y0ZS01YzJiLTRhOGUtOWIxZC0zZTJmMWEwYjljOGQiLCJyb2xlIjoiYXV0aGVudGljYXRlZCJ9.u-kwqG_IBkm9dkWMfXT19vUFngcbyWsw0O-0tfixQx3eI1gPxRzecgEkNjtqo89htvSur4IA2jR4_IH4Zvt3HQ";
const ES256_NO_KID: &str = "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI2ZDFjMWMxZS0wYjNjLTRjMmUtOWQ1Ny0yZDRiN2YyYjVhMTAiLCJleHAiOjE4OTM0NTYwMDAsInNlc3Npb25faWQiOiIwYTdmM2Y0ZS01YzJiLTRhOGUtOWIxZC0zZTJmMWEwYjljOGQiLCJyb2xlIjoiYXV0aGVudGljYXRlZCJ9.CmsSooZ_0UjjGPkrBFebqTrmjXiW9qSIbsbaH6TsYe5qL0TTo15f_LOJ2cysmBVztCrMcClW4H-o7IXJkp_aEg";
const RS256_KID: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6InJzYS10ZXN0LTEiLCJ0eXAiOiJKV1QifQ.eyJzdWIiOiI2ZDFjMWMxZS0wYjNjLTRjMmUtOWQ1Ny0yZDRiN2YyYjVhMTAiLCJzZXNzaW9uX2lkIjoiMGE3ZjNmNGUtNWMyYi00YThlLTliMWQtM2UyZjFhMGI5YzhkIiwiZXhwIjoxODkzNDU2MDAwLCJpYXQiOjE4OTM0NTI0MDAsInJvbGUiOiJhdXRoZW50aWNhdGVkIn0.D931tVv09so6x0Z5vJ6Hb2lltCgt6FWmW7_G1taKck39TA7TGGHzlB41fgyCntK5w285Wd_jVWQ0TgstzEC_yVW99wUerfV7Vfy-OibiVcHU8VAjw4pJTNzgQfNQTxqui_iAezeZ4SkgPoDBPRtYLFJdD7mUp_I8YS5k1QbqeAANlIQ11XHylLXvzCVLtyVuA7gLH7h6Nl9CJpXGijNzimsFrRpJEyOmcxsUb-V_R0Ogg49lUT-30uuNrA2fWGsYUY3cbeqfvJ2CaF5ZDGQcbQYGmmW1150FIU-2x-t6QhGH34P65MD9zb9b5bPXceDoGlwHWmv5YrKNvS2CAWgjHA";

/// The longest reason `verify_jwt` can give: its longest sentence holds three values cut to
/// 64 characters (plus `…`) each.
const MAX_REASON_CHARS: usize = 320;

struct Fixed {
    jwks: Jwks,
    empty: Jwks,
    tokens: Vec<DecodedJwt>,
}

fn fixed() -> &'static Fixed {
    static FIXED: OnceLock<Fixed> = OnceLock::new();
    FIXED.get_or_init(|| {
        let jwks: Jwks = serde_json::from_str(JWKS).expect("the fixed JWKS parses");
        let tokens: Vec<DecodedJwt> = [HS256, ES256_KID, ES256_NO_KID, RS256_KID]
            .iter()
            .map(|t| decode_jwt(t).expect("the fixed tokens decode"))
            .collect();
        // The fixed material is right, or the target would test nothing.
        for token in &tokens {
            assert!(
                verify_jwt(token, Some(SECRET), Some(&jwks)).is_verified(),
                "{token:?}"
            );
        }
        Fixed {
            jwks,
            empty: Jwks { keys: Vec::new() },
            tokens,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let fixed = fixed();
    let text = String::from_utf8_lossy(data);

    if let Ok(jwt) = decode_jwt(&text) {
        check_decoded(&jwt);
        check_status(&jwt, verify_jwt(&jwt, Some(SECRET), Some(&fixed.jwks)));
        check_status(&jwt, verify_jwt(&jwt, Some(b"wrong"), Some(&fixed.jwks)));
        let without_keys = [
            verify_jwt(&jwt, None, None),
            verify_jwt(&jwt, Some(b""), Some(&fixed.empty)),
        ];
        for status in without_keys {
            assert!(
                !status.is_verified(),
                "verified without any key: {status:?}"
            );
            check_status(&jwt, status);
        }
    }

    if let Ok(jwks) = serde_json::from_str::<Jwks>(&text) {
        for token in &fixed.tokens {
            check_status(token, verify_jwt(token, Some(SECRET), Some(&jwks)));
        }
    }

    if let Some((token, keys)) = text.split_once('\n') {
        if let (Ok(jwt), Ok(jwks)) = (decode_jwt(token), serde_json::from_str::<Jwks>(keys)) {
            check_decoded(&jwt);
            check_status(&jwt, verify_jwt(&jwt, Some(SECRET), Some(&jwks)));
        }
    }
});

fn check_decoded(jwt: &DecodedJwt) {
    let raw = jwt.raw();
    assert!(!raw.is_empty() && !raw.contains(char::is_whitespace));
    assert_eq!(raw.split('.').count(), 3);
    // Header and claims are decoded from parts of the token, so they are shorter than it:
    // the token can only show up if Debug or Serialize printed it.
    let debug = format!("{jwt:?}");
    assert!(!debug.contains(raw), "Debug shows the token: {debug}");
    let json = serde_json::to_string(jwt).expect("a decoded JWT serializes");
    assert!(!json.contains(raw), "Serialize shows the token: {json}");
    let _ = (jwt.alg(), jwt.kid(), jwt.expires_at(), jwt.issued_at());
}

fn check_status(jwt: &DecodedJwt, status: SignatureStatus) {
    match &status {
        SignatureStatus::Verified { alg, kid } => {
            assert!(GOTRUE_ALGORITHMS.contains(&alg.as_str()), "{status:?}");
            assert_eq!(jwt.alg(), Some(alg.as_str()), "{status:?}");
            if let Some(token_kid) = jwt.kid() {
                if alg != "HS256" {
                    assert_eq!(kid.as_deref(), Some(token_kid), "{status:?}");
                }
            }
        }
        SignatureStatus::InvalidSignature { alg, reason, .. } => {
            check_reason(reason);
            assert!(!alg.contains(char::is_control), "{status:?}");
        }
        SignatureStatus::NotVerified { reason, .. } => check_reason(reason),
        // Only `check_access_token` asks the server; `verify_jwt` never does.
        SignatureStatus::ServerAccepted { .. } | SignatureStatus::ServerRejected { .. } => {
            panic!("verify_jwt reported a server's answer: {status:?}")
        }
    }
    if jwt
        .alg()
        .is_some_and(|alg| alg.eq_ignore_ascii_case("none"))
    {
        assert!(!status.is_verified(), "alg none verified: {status:?}");
    }
}

fn check_reason(reason: &str) {
    assert!(!reason.is_empty());
    assert!(
        !reason.contains(char::is_control),
        "a reason with control characters: {reason:?}"
    );
    assert!(
        reason.chars().count() <= MAX_REASON_CHARS,
        "a reason too long to be a line: {reason:?}"
    );
}
