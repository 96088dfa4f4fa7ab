//! Token tools the inspector shows: decoding access tokens (JWTs) without a key, verifying
//! their signatures with whatever key material the user has, and explaining refresh tokens
//! from their shape alone.
//!
//! Everything here works on untrusted, pasted input. Two rules follow from that:
//! nothing panics on hostile input, and nothing ever echoes a token back (errors describe
//! what is wrong; `Debug` output shows a fingerprint instead of the token).
//!
//! The parts, one file each: `encoding` (base64 as tokens and cookies use it, and
//! [`fingerprint`]), `jwt` ([`decode_jwt`] and the unwrapping of pasted input), `verify`
//! ([`verify_jwt`] with an HS256 secret or a JWKS) and `refresh_token`
//! ([`inspect_refresh_token`]). Their public items are re-exported here.

mod encoding;
mod jwt;
mod refresh_token;
mod verify;

pub use encoding::{fingerprint, token_key};
pub use jwt::{decode_jwt, DecodedJwt, JwtPart, TokenError};
pub use refresh_token::{inspect_refresh_token, RefreshTokenShape};
pub use verify::{verify_jwt, Invalid, Jwk, Jwks, SignatureStatus, Unverified, GOTRUE_ALGORITHMS};

pub(crate) use encoding::b64_decode_any;
pub(crate) use jwt::{strip_matching_quotes, unwrap_token_input};

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The UI tells outcomes and formats apart by these tags.
    #[test]
    fn signature_status_serializes_with_a_status_tag() {
        let status = SignatureStatus::NotVerified {
            reason: "x".into(),
            cause: Unverified::UnknownKid,
        };
        assert_eq!(
            serde_json::to_value(&status).unwrap(),
            json!({"status": "not_verified", "reason": "x", "cause": "unknown_kid"})
        );
        let status = SignatureStatus::ServerRejected {
            alg: "HS256".into(),
            http_status: 403,
            code: Some("bad_jwt".into()),
            reason: "y".into(),
        };
        assert_eq!(
            serde_json::to_value(&status).unwrap(),
            json!({"status": "server_rejected", "alg": "HS256", "http_status": 403,
                "code": "bad_jwt", "reason": "y"})
        );
        let shape = RefreshTokenShape::V2 {
            session_id: uuid::Uuid::nil(),
            counter: 3,
        };
        assert_eq!(
            serde_json::to_value(&shape).unwrap(),
            json!({"format": "v2", "sessionId": uuid::Uuid::nil(), "counter": 3})
        );
    }
}
