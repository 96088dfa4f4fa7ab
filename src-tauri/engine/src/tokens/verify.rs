//! Signature verification for access tokens, with whatever key material the user has: the
//! project's HS256 JWT secret and/or its JWKS (ES256 and RS256 keys, as GoTrue publishes
//! them).
//!
//! Keys and tokens alike are untrusted input here: hostile values make a verification fail
//! with a reason, never panic, and attacker-controlled header values are sanitized before
//! they appear in a message.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::encoding::b64url_decode;
use super::jwt::DecodedJwt;

/// The outcome of checking a JWT's signature, for display. Each non-verified outcome carries
/// a human reason; `NotVerified` means "could not check", which is different from
/// `InvalidSignature` ("checked, and it is wrong or unacceptable").
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_fixtures::{
        b64, claims, ec_jwk, ec_key, es256_token, hs256_token, rsa_jwks, signing_input,
        with_payload, RSA_TOKEN, SECRET,
    };
    use crate::tokens::decode_jwt;
    use p256::ecdsa::{Signature, SigningKey};
    use serde_json::json;

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
}
