//! Signature verification for access tokens, with whatever key material the user has: the
//! project's HS256 JWT secret and/or its JWKS. Every algorithm GoTrue can sign with
//! (`conf/jwk.go`): HS256, RS256, RS512, ES256 (P-256), ES512 (P-521) and EdDSA (Ed25519).
//!
//! Keys and tokens alike are untrusted input here: hostile values make a verification fail
//! with a reason, never panic, and attacker-controlled header values are sanitized before
//! they appear in a message.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha512};

use super::encoding::b64url_decode;
use super::jwt::DecodedJwt;

/// The outcome of checking a JWT, for display. `Verified` and `InvalidSignature` are local
/// checks of the signature; `NotVerified` means "could not check" (its `cause` says why);
/// `ServerAccepted` / `ServerRejected` are the server's answer to `GET /user` with the token,
/// the fallback auth-js `getClaims` uses when it has no key (HS256, or no `kid`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SignatureStatus {
    Verified {
        alg: String,
        kid: Option<String>,
    },
    InvalidSignature {
        alg: String,
        reason: String,
        cause: Invalid,
    },
    NotVerified {
        reason: String,
        cause: Unverified,
    },
    /// The server answered `GET /user` with this token: it accepts the token as its own.
    ServerAccepted {
        alg: String,
    },
    /// The server refused the token on `GET /user` (`code` is GoTrue's, e.g. `bad_jwt`).
    ServerRejected {
        alg: String,
        http_status: u16,
        code: Option<String>,
        reason: String,
    },
}

/// Why a signature was checked and found unacceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Invalid {
    /// The signature does not match the key.
    Mismatch,
    /// `alg: none` or no `alg`: an unsigned token.
    Unsigned,
    /// The key the `kid` names is for another algorithm: the token's `alg` is not allowed
    /// with it.
    AlgorithmNotAllowed,
    /// The signature bytes cannot be a signature of this algorithm (length, range).
    Malformed,
}

/// Why a signature could not be checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Unverified {
    /// HS256: only the project's JWT secret can check it, and none was given.
    NeedsSecret,
    /// The token's `kid` is not in the project's JWKS, even freshly fetched.
    UnknownKid,
    /// No JWKS, or no single key in it for this algorithm.
    NoKey,
    /// The JWKS key is not a usable public key (bad coordinates, too short a modulus).
    UnusableKey,
    /// An algorithm GoTrue does not issue.
    UnsupportedAlgorithm,
    /// The JWKS could not be fetched.
    JwksUnavailable,
    /// The server could not be asked (`GET /user` failed without an answer about the token).
    ServerUnreachable,
    /// The token has expired, so the server is not asked: it would refuse any expired token,
    /// whatever its signature (auth-js `getClaims` checks `exp` first, too).
    Expired,
}

impl SignatureStatus {
    pub fn is_verified(&self) -> bool {
        matches!(self, SignatureStatus::Verified { .. })
    }

    fn invalid(alg: &str, cause: Invalid, reason: impl Into<String>) -> SignatureStatus {
        SignatureStatus::InvalidSignature {
            alg: alg.to_string(),
            reason: reason.into(),
            cause,
        }
    }

    fn unverified(cause: Unverified, reason: impl Into<String>) -> SignatureStatus {
        SignatureStatus::NotVerified {
            reason: reason.into(),
            cause,
        }
    }
}

/// The algorithms GoTrue can sign access tokens with (`conf/jwk.go` `GetSigningAlg`).
pub const GOTRUE_ALGORITHMS: [&str; 6] = ["HS256", "RS256", "RS512", "ES256", "ES512", "EdDSA"];

/// A JSON Web Key Set as GoTrue publishes it at `/auth/v1/.well-known/jwks.json`.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, PartialEq)]
pub struct Jwks {
    #[serde(default)]
    pub keys: Vec<Jwk>,
}

impl Jwks {
    pub fn has_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }
}

/// One public key of a JWKS. Only the members needed to verify EC, RSA and OKP (Ed25519)
/// signatures are kept; keys of other kinds parse fine and are simply never chosen. Private
/// members (`d`, `p`, `q`, ...) are deliberately not captured, so a private JWK pasted by
/// mistake is never stored or serialized back.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize, PartialEq)]
pub struct Jwk {
    /// Key type: `EC`, `RSA`, `OKP`, `oct`, ... (a missing `kty` counts as an unknown kind).
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
/// Key choice: HS256 uses the shared secret; the asymmetric algorithms use the JWK whose `kid`
/// matches the token's, or, when the token has no `kid`, the only key of that kind. That last
/// case is this function's leniency: GoTrue refuses an asymmetric token without `kid`, and
/// `AuthClient::check_access_token` therefore leaves such a token to the server. `alg: none` (in any capitalization) is always `InvalidSignature`: an unsigned token
/// must never look acceptable. Algorithms GoTrue does not issue are reported as unsupported.
/// Never panics on hostile tokens or keys.
pub fn verify_jwt(
    jwt: &DecodedJwt,
    hs256_secret: Option<&[u8]>,
    jwks: Option<&Jwks>,
) -> SignatureStatus {
    let Some(alg) = jwt.alg() else {
        return SignatureStatus::invalid(
            "",
            Invalid::Unsigned,
            "the header names no algorithm (alg), so no server would accept it",
        );
    };
    if alg.eq_ignore_ascii_case("none") {
        return SignatureStatus::invalid(
            alg,
            Invalid::Unsigned,
            "alg none: the token is unsigned and must not be trusted",
        );
    }
    if alg == "HS256" {
        return verify_hs256(jwt, hs256_secret);
    }
    if !GOTRUE_ALGORITHMS.contains(&alg) {
        return SignatureStatus::unverified(
            Unverified::UnsupportedAlgorithm,
            format!("unsupported algorithm: {}", printable(alg)),
        );
    }
    let Some(jwks) = jwks else {
        return SignatureStatus::unverified(
            Unverified::NoKey,
            format!("no key: {alg} tokens need the project's JWKS"),
        );
    };
    let jwk = match select_jwk(jwks, alg, jwt.kid()) {
        Ok(jwk) => jwk,
        Err(status) => return status,
    };
    verify_with_jwk(jwt, alg, jwk)
}

/// Checks `jwt` (signed with `alg`, an asymmetric algorithm) against one chosen key.
fn verify_with_jwk(jwt: &DecodedJwt, alg: &str, jwk: &Jwk) -> SignatureStatus {
    let checked = match alg {
        "ES256" => verify_ecdsa::<P256>(jwt, jwk),
        "ES512" => verify_ecdsa::<P521>(jwt, jwk),
        "RS256" => verify_rsa::<Sha256>(jwt, jwk, alg),
        "RS512" => verify_rsa::<Sha512>(jwt, jwk, alg),
        "EdDSA" => verify_ed25519(jwt, jwk),
        _ => unreachable!("select_jwk only picks keys for GoTrue's asymmetric algorithms"),
    };
    match checked {
        Ok(true) => SignatureStatus::Verified {
            alg: alg.to_string(),
            kid: jwk.kid.clone().or_else(|| jwt.kid().map(str::to_string)),
        },
        Ok(false) => SignatureStatus::invalid(
            alg,
            Invalid::Mismatch,
            format!("the signature does not match {}", key_label(jwk)),
        ),
        Err(status) => status,
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
            return SignatureStatus::unverified(
                Unverified::NeedsSecret,
                "no key: the JWT secret given is empty",
            )
        }
        None => {
            return SignatureStatus::unverified(
                Unverified::NeedsSecret,
                "no key: HS256 tokens need the project's JWT secret",
            )
        }
    };
    // HMAC accepts keys of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return SignatureStatus::unverified(
            Unverified::NeedsSecret,
            "no key: the JWT secret could not be used",
        );
    };
    mac.update(jwt.signing_input());
    // verify_slice compares in constant time.
    if mac.verify_slice(jwt.signature()).is_ok() {
        SignatureStatus::Verified {
            alg: "HS256".into(),
            kid: jwt.kid().map(str::to_string),
        }
    } else {
        SignatureStatus::invalid(
            "HS256",
            Invalid::Mismatch,
            "the signature does not match this JWT secret",
        )
    }
}

/// Whether `jwk` could verify a token signed with `alg` (one of GoTrue's asymmetric ones).
fn jwk_fits(jwk: &Jwk, alg: &str) -> bool {
    if jwk.key_use.as_deref().is_some_and(|u| u != "sig") {
        return false;
    }
    if jwk.alg.as_deref().is_some_and(|a| a != alg) {
        return false;
    }
    let curve = jwk.crv.as_deref();
    match alg {
        "ES256" => jwk.kty == "EC" && curve.is_none_or(|c| c == "P-256"),
        "ES512" => jwk.kty == "EC" && curve.is_none_or(|c| c == "P-521"),
        "RS256" | "RS512" => jwk.kty == "RSA",
        // Ed448 is also EdDSA; GoTrue signs with Ed25519 only.
        "EdDSA" => jwk.kty == "OKP" && curve == Some("Ed25519"),
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
            return Err(SignatureStatus::unverified(
                Unverified::UnknownKid,
                format!(
                    "no key: kid {} is not in the project's JWKS",
                    printable(kid)
                ),
            ));
        };
        return match same_kid.find(|k| jwk_fits(k, alg)) {
            Some(jwk) => Ok(jwk),
            None => Err(SignatureStatus::invalid(
                alg,
                Invalid::AlgorithmNotAllowed,
                format!(
                    "the JWKS key with kid {} is a {} key{}, which cannot verify {alg}",
                    printable(kid),
                    printable(&first.kty),
                    first
                        .alg
                        .as_deref()
                        .map(|a| format!(" for {}", printable(a)))
                        .unwrap_or_default(),
                ),
            )),
        };
    }
    let candidates: Vec<&Jwk> = jwks.keys.iter().filter(|k| jwk_fits(k, alg)).collect();
    match candidates.as_slice() {
        [only] => Ok(only),
        [] => Err(SignatureStatus::unverified(
            Unverified::NoKey,
            format!("no key: the project's JWKS has no {alg} key"),
        )),
        many => Err(SignatureStatus::unverified(
            Unverified::NoKey,
            format!(
                "no key: the token has no kid and the JWKS has {} {alg} keys to choose from",
                many.len()
            ),
        )),
    }
}

fn key_label(jwk: &Jwk) -> String {
    match &jwk.kid {
        Some(kid) => format!("the JWKS key {}", printable(kid)),
        None => "the JWKS key".to_string(),
    }
}

fn unusable(jwk: &Jwk, what: &str) -> SignatureStatus {
    SignatureStatus::unverified(
        Unverified::UnusableKey,
        format!("{} is not {what}", key_label(jwk)),
    )
}

/// A JWK member decoded from base64url, when it has exactly `len` bytes.
fn member(value: &Option<String>, len: usize) -> Option<Vec<u8>> {
    value
        .as_deref()
        .and_then(b64url_decode)
        .filter(|bytes| bytes.len() == len)
}

/// What differs between ES256 and ES512: the curve, and so the sizes (RFC 7518 §3.4).
trait EcdsaCurve {
    const ALG: &'static str;
    const CURVE: &'static str;
    /// Bytes of one coordinate, and of r and of s in the signature.
    const SIZE: usize;
    /// Verifies over the curve's own hash (SHA-256 for P-256, SHA-512 for P-521); `None`
    /// when the point or the signature's scalars are not valid.
    fn verify(sec1_point: &[u8], message: &[u8], signature: &[u8]) -> Result<bool, Bad>;
}

enum Bad {
    Point,
    Scalars,
}

struct P256;
struct P521;

impl EcdsaCurve for P256 {
    const ALG: &'static str = "ES256";
    const CURVE: &'static str = "P-256";
    const SIZE: usize = 32;
    fn verify(point: &[u8], message: &[u8], signature: &[u8]) -> Result<bool, Bad> {
        use p256::ecdsa::signature::Verifier as _;
        let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(|_| Bad::Point)?;
        let signature = p256::ecdsa::Signature::from_slice(signature).map_err(|_| Bad::Scalars)?;
        Ok(key.verify(message, &signature).is_ok())
    }
}

impl EcdsaCurve for P521 {
    const ALG: &'static str = "ES512";
    const CURVE: &'static str = "P-521";
    const SIZE: usize = 66;
    fn verify(point: &[u8], message: &[u8], signature: &[u8]) -> Result<bool, Bad> {
        use p521::ecdsa::signature::Verifier as _;
        let key = p521::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(|_| Bad::Point)?;
        let signature = p521::ecdsa::Signature::from_slice(signature).map_err(|_| Bad::Scalars)?;
        Ok(key.verify(message, &signature).is_ok())
    }
}

/// ES256 / ES512. High-S signatures are accepted, as Go's crypto/ecdsa (GoTrue) may produce
/// them.
fn verify_ecdsa<C: EcdsaCurve>(jwt: &DecodedJwt, jwk: &Jwk) -> Result<bool, SignatureStatus> {
    let (Some(x), Some(y)) = (member(&jwk.x, C::SIZE), member(&jwk.y, C::SIZE)) else {
        return Err(unusable(
            jwk,
            &format!("a valid {} public key (bad x or y)", C::CURVE),
        ));
    };
    let bytes = jwt.signature();
    if bytes.len() != 2 * C::SIZE {
        let hint = if bytes.first() == Some(&0x30) {
            " (it looks DER-encoded; JWTs use raw r||s)"
        } else {
            ""
        };
        return Err(SignatureStatus::invalid(
            C::ALG,
            Invalid::Malformed,
            format!(
                "an {} signature is {} bytes, this one is {}{hint}",
                C::ALG,
                2 * C::SIZE,
                bytes.len()
            ),
        ));
    }
    let point = [&[0x04][..], &x, &y].concat();
    C::verify(&point, jwt.signing_input(), bytes).map_err(|bad| match bad {
        Bad::Point => unusable(jwk, &format!("a point on the {} curve", C::CURVE)),
        Bad::Scalars => SignatureStatus::invalid(
            C::ALG,
            Invalid::Malformed,
            "the signature's r or s is out of range",
        ),
    })
}

/// RS256 / RS512: RSASSA-PKCS1-v1_5 with the digest `D`.
fn verify_rsa<D>(jwt: &DecodedJwt, jwk: &Jwk, alg: &str) -> Result<bool, SignatureStatus>
where
    D: Digest + rsa::pkcs8::AssociatedOid,
{
    use rsa::{BigUint, Pkcs1v15Sign, RsaPublicKey};

    /// RFC 7518 §3.3: RSA keys for RS* must be at least 2048 bits.
    const MIN_BITS: usize = 2048;

    let component = |c: &Option<String>| {
        c.as_deref()
            .and_then(b64url_decode)
            .filter(|bytes| !bytes.is_empty())
            .map(|bytes| BigUint::from_bytes_be(&bytes))
    };
    let (Some(n), Some(e)) = (component(&jwk.n), component(&jwk.e)) else {
        return Err(unusable(jwk, "a valid RSA public key (bad n or e)"));
    };
    let bits = n.bits();
    if bits < MIN_BITS {
        return Err(SignatureStatus::unverified(
            Unverified::UnusableKey,
            format!(
                "{} is a {bits}-bit RSA key; {alg} needs at least {MIN_BITS}",
                key_label(jwk)
            ),
        ));
    }
    // `new` also rejects moduli above 4096 bits and out-of-range exponents, which bounds the
    // work a hostile JWKS can cause.
    let Ok(key) = RsaPublicKey::new(n, e) else {
        return Err(unusable(jwk, "a usable RSA public key"));
    };
    let expected_len = bits.div_ceil(8);
    let signature = jwt.signature();
    if signature.len() != expected_len {
        return Err(SignatureStatus::invalid(
            alg,
            Invalid::Malformed,
            format!(
                "an {alg} signature for this key is {expected_len} bytes, this one is {}",
                signature.len()
            ),
        ));
    }
    let digest = D::digest(jwt.signing_input());
    Ok(key
        .verify(Pkcs1v15Sign::new::<D>(), &digest, signature)
        .is_ok())
}

/// EdDSA over Ed25519 (RFC 8037): a 32-byte public key `x`, a 64-byte signature.
fn verify_ed25519(jwt: &DecodedJwt, jwk: &Jwk) -> Result<bool, SignatureStatus> {
    use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};

    let Some(x) = member(&jwk.x, 32) else {
        return Err(unusable(jwk, "a valid Ed25519 public key (bad x)"));
    };
    let x: [u8; 32] = x.try_into().expect("member checked the length");
    let Ok(key) = VerifyingKey::from_bytes(&x) else {
        return Err(unusable(jwk, "a point on Ed25519"));
    };
    let Ok(bytes) = <[u8; 64]>::try_from(jwt.signature()) else {
        return Err(SignatureStatus::invalid(
            "EdDSA",
            Invalid::Malformed,
            format!(
                "an Ed25519 signature is 64 bytes, this one is {}",
                jwt.signature().len()
            ),
        ));
    };
    let signature = Signature::from_bytes(&bytes);
    Ok(key.verify(jwt.signing_input(), &signature).is_ok())
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
                reason: "no key: HS256 tokens need the project's JWT secret".into(),
                cause: Unverified::NeedsSecret,
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
                reason: "the signature does not match the JWKS key k1".into(),
                cause: Invalid::Mismatch,
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
                    .into(),
                cause: Unverified::NoKey,
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
                reason: "no key: kid abc is not in the project's JWKS".into(),
                cause: Unverified::UnknownKid,
            }
        );
        assert_eq!(
            verify_jwt(&jwt, None, None),
            SignatureStatus::NotVerified {
                reason: "no key: ES256 tokens need the project's JWKS".into(),
                cause: Unverified::NoKey,
            }
        );
    }

    #[test]
    fn kid_pointing_at_a_key_of_another_type_is_invalid() {
        let key = ec_key();
        let jwt = decode_jwt(&es256_token(&key, Some("rsa-test-1"), &claims())).unwrap();
        assert!(matches!(
            verify_jwt(&jwt, None, Some(&rsa_jwks())),
            SignatureStatus::InvalidSignature {
                cause: Invalid::AlgorithmNotAllowed,
                ..
            }
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
                reason: "unsupported algorithm: PS256".into(),
                cause: Unverified::UnsupportedAlgorithm,
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

    /// A JWT signed by `sign` over its signing input, with `alg` and `kid` in the header.
    fn signed_with(alg: &str, kid: &str, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
        let input = signing_input(&json!({"alg": alg, "kid": kid, "typ": "JWT"}), &claims());
        format!("{input}.{}", b64(&sign(input.as_bytes())))
    }

    #[test]
    fn es512_verifies_with_a_p521_jwk_and_rejects_tampering() {
        use p521::ecdsa::signature::Verifier as _;
        let key = p521::ecdsa::SigningKey::from_slice(&[0x01; 66]).unwrap();
        let public = p521::ecdsa::VerifyingKey::from(&key);
        let point = public.to_encoded_point(false);
        let jwk = Jwk {
            kty: "EC".into(),
            kid: Some("p521".into()),
            alg: Some("ES512".into()),
            key_use: Some("sig".into()),
            crv: Some("P-521".into()),
            x: Some(b64(point.x().unwrap())),
            y: Some(b64(point.y().unwrap())),
            n: None,
            e: None,
        };
        let jwks = Jwks { keys: vec![jwk] };
        let token = signed_with("ES512", "p521", |input| {
            use p521::ecdsa::signature::hazmat::PrehashSigner as _;
            let signature: p521::ecdsa::Signature =
                key.sign_prehash(&Sha512::digest(input)).unwrap();
            assert!(public.verify(input, &signature).is_ok());
            signature.to_bytes().to_vec()
        });
        let jwt = decode_jwt(&token).unwrap();
        assert_eq!(
            verify_jwt(&jwt, None, Some(&jwks)),
            SignatureStatus::Verified {
                alg: "ES512".into(),
                kid: Some("p521".into())
            }
        );
        let mut forged = claims();
        forged["role"] = json!("service_role");
        let jwt = decode_jwt(&with_payload(&token, &forged)).unwrap();
        assert!(matches!(
            verify_jwt(&jwt, None, Some(&jwks)),
            SignatureStatus::InvalidSignature {
                cause: Invalid::Mismatch,
                ..
            }
        ));
    }

    #[test]
    fn eddsa_verifies_with_an_ed25519_jwk_and_rejects_tampering() {
        use ed25519_dalek::Signer as _;
        let key = ed25519_dalek::SigningKey::from_bytes(&[5u8; 32]);
        let jwks = Jwks {
            keys: vec![Jwk {
                kty: "OKP".into(),
                kid: Some("ed".into()),
                alg: Some("EdDSA".into()),
                key_use: Some("sig".into()),
                crv: Some("Ed25519".into()),
                x: Some(b64(key.verifying_key().as_bytes())),
                y: None,
                n: None,
                e: None,
            }],
        };
        let token = signed_with("EdDSA", "ed", |input| key.sign(input).to_bytes().to_vec());
        let jwt = decode_jwt(&token).unwrap();
        assert!(verify_jwt(&jwt, None, Some(&jwks)).is_verified());
        let mut forged = claims();
        forged["role"] = json!("service_role");
        let jwt = decode_jwt(&with_payload(&token, &forged)).unwrap();
        assert!(matches!(
            verify_jwt(&jwt, None, Some(&jwks)),
            SignatureStatus::InvalidSignature {
                cause: Invalid::Mismatch,
                ..
            }
        ));
        // The same key cannot stand in for an ES256 token naming it.
        let es = es256_token(&ec_key(), Some("ed"), &claims());
        assert!(matches!(
            verify_jwt(&decode_jwt(&es).unwrap(), None, Some(&jwks)),
            SignatureStatus::InvalidSignature {
                cause: Invalid::AlgorithmNotAllowed,
                ..
            }
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
        for alg in GOTRUE_ALGORITHMS {
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
