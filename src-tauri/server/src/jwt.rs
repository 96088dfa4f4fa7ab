//! Access tokens and API keys: JWS compact serialization, HS256 with the project secret or
//! ES256 with a key published in the JWKS, as GoTrue signs them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::config::SigningAlgorithm;

pub struct Keys {
    secret: Vec<u8>,
    algorithm: SigningAlgorithm,
    es256: EcKey,
}

struct EcKey {
    kid: String,
    signing: SigningKey,
}

#[derive(Debug, PartialEq, Eq)]
pub enum VerifyError {
    Malformed,
    BadSignature,
    Expired,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn hs256(secret: &[u8], message: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

impl Keys {
    /// `ec_private` is the 32-byte P-256 scalar (kept by the store so keys survive restarts).
    pub fn new(secret: &str, algorithm: SigningAlgorithm, ec_private: &[u8]) -> Option<Keys> {
        let signing = SigningKey::from_slice(ec_private).ok()?;
        let public = signing.verifying_key().to_encoded_point(false);
        let kid = b64(&crate::hash::sha256(public.as_bytes())[..12]);
        Some(Keys {
            secret: secret.as_bytes().to_vec(),
            algorithm,
            es256: EcKey { kid, signing },
        })
    }

    /// 32 random bytes that are a valid P-256 private scalar.
    pub fn generate_ec_private() -> Vec<u8> {
        loop {
            let bytes = crate::hash::random_bytes::<32>();
            if SigningKey::from_slice(&bytes).is_ok() {
                return bytes.to_vec();
            }
        }
    }

    pub fn sign(&self, claims: &Value) -> String {
        match self.algorithm {
            SigningAlgorithm::Hs256 => self.sign_hs256(claims),
            SigningAlgorithm::Es256 => {
                let header = json!({"alg": "ES256", "kid": self.es256.kid, "typ": "JWT"});
                let input = format!(
                    "{}.{}",
                    b64(header.to_string().as_bytes()),
                    b64(claims.to_string().as_bytes())
                );
                let signature: Signature = self.es256.signing.sign(input.as_bytes());
                format!("{input}.{}", b64(&signature.to_bytes()))
            }
        }
    }

    /// API keys are always signed with the shared secret, like Supabase's anon/service keys.
    pub fn sign_hs256(&self, claims: &Value) -> String {
        let header = json!({"alg": "HS256", "typ": "JWT"});
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        format!("{input}.{}", b64(&hs256(&self.secret, input.as_bytes())))
    }

    /// Checks the signature (key chosen by `alg`/`kid`, as GoTrue does) and `exp` against `now`.
    pub fn verify(&self, token: &str, now_secs: i64) -> Result<Value, VerifyError> {
        let mut parts = token.split('.');
        let (Some(h), Some(c), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(VerifyError::Malformed);
        };
        let decode = |part: &str| {
            URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|_| VerifyError::Malformed)
        };
        let header: Value =
            serde_json::from_slice(&decode(h)?).map_err(|_| VerifyError::Malformed)?;
        let claims: Value =
            serde_json::from_slice(&decode(c)?).map_err(|_| VerifyError::Malformed)?;
        let signature = decode(s)?;
        let input = format!("{h}.{c}");
        let valid = match (header["alg"].as_str(), header["kid"].as_str()) {
            (Some("HS256"), _) => {
                let expected = hs256(&self.secret, input.as_bytes());
                constant_time_eq(&expected, &signature)
            }
            (Some("ES256"), Some(kid)) if kid == self.es256.kid => {
                let key: &VerifyingKey = self.es256.signing.verifying_key();
                Signature::from_slice(&signature)
                    .map(|sig| key.verify(input.as_bytes(), &sig).is_ok())
                    .unwrap_or(false)
            }
            _ => false,
        };
        if !valid {
            return Err(VerifyError::BadSignature);
        }
        match claims["exp"].as_i64() {
            Some(exp) if exp > now_secs => Ok(claims),
            _ => Err(VerifyError::Expired),
        }
    }

    /// The id of this database's own P-256 key, whether or not it signs: it names the key pair
    /// the database was created with, so it tells one database from another.
    pub fn ec_key_id(&self) -> &str {
        &self.es256.kid
    }

    /// The JWKS: asymmetric public keys only (GoTrue never lists HMAC secrets). The ES256 key
    /// is listed while it signs; with HS256 signing the set is empty.
    pub fn jwks(&self) -> Value {
        if self.algorithm != SigningAlgorithm::Es256 {
            return json!({"keys": []});
        }
        let point = self.es256.signing.verifying_key().to_encoded_point(false);
        json!({"keys": [{
            "kty": "EC",
            "crv": "P-256",
            "x": b64(point.x().expect("uncompressed point")),
            "y": b64(point.y().expect("uncompressed point")),
            "kid": self.es256.kid,
            "alg": "ES256",
            "use": "sig",
            "key_ops": ["verify"],
        }]})
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(algorithm: SigningAlgorithm) -> Keys {
        Keys::new(
            "secret-secret-secret-secret-secret!",
            algorithm,
            &Keys::generate_ec_private(),
        )
        .unwrap()
    }

    #[test]
    fn hs256_round_trips_and_rejects_tampering() {
        let keys = keys(SigningAlgorithm::Hs256);
        let token = keys.sign(&json!({"sub": "u", "exp": 2_000}));
        assert_eq!(keys.verify(&token, 1_000).unwrap()["sub"], "u");
        assert_eq!(keys.verify(&token, 2_000), Err(VerifyError::Expired));
        let mut tampered = token.clone();
        tampered.pop();
        tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert_eq!(
            keys.verify(&tampered, 1_000),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn es256_tokens_carry_the_published_kid() {
        let keys = keys(SigningAlgorithm::Es256);
        let token = keys.sign(&json!({"exp": 2_000}));
        let header: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(token.split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["kid"], keys.jwks()["keys"][0]["kid"]);
        assert!(keys.verify(&token, 1_000).is_ok());
    }
}
