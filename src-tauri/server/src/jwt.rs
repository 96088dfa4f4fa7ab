//! Access tokens and API keys: JWS compact serialization, signed as GoTrue signs them
//! (`conf/jwk.go`): HS256 with the project secret (with a `kid` when `GOTRUE_JWT_KEY_ID` is
//! set), or an asymmetric key published in the JWKS: ES256, ES512, RS256, RS512 or EdDSA.
//!
//! The signing key can be rotated (the control surface does it): the new key signs, the old
//! ones stay published and keep verifying, as after a rotation on hosted Supabase, until they
//! are retired.

use std::sync::RwLock;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::{Digest, Sha256, Sha512};

use crate::config::SigningAlgorithm;

pub struct Keys {
    secret: Vec<u8>,
    /// The HS256 secret's `kid` (GoTrue's `JWT_KEY_ID`).
    secret_kid: Option<String>,
    /// The id of the database's own P-256 key, whatever signs.
    ec_kid: String,
    published: RwLock<Published>,
}

/// The asymmetric keys in the JWKS, and which of them signs (none: the secret signs).
struct Published {
    keys: Vec<KeyPair>,
    signing: Option<usize>,
}

struct KeyPair {
    kid: String,
    algorithm: SigningAlgorithm,
    private: Private,
}

pub(crate) enum Private {
    P256(p256::ecdsa::SigningKey),
    P521(p521::ecdsa::SigningKey),
    Rsa(Box<rsa::RsaPrivateKey>),
    Ed25519(ed25519_dalek::SigningKey),
    /// A symmetric key of a key file (`kty: oct`): HS256 with these bytes. GoTrue verifies
    /// with it by `kid` (and signs with it when it is the signing key) but never publishes it.
    Oct(Vec<u8>),
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

/// The JWS `alg` of an algorithm.
pub fn alg_name(algorithm: SigningAlgorithm) -> &'static str {
    match algorithm {
        SigningAlgorithm::Hs256 => "HS256",
        SigningAlgorithm::Es256 => "ES256",
        SigningAlgorithm::Es512 => "ES512",
        SigningAlgorithm::Rs256 => "RS256",
        SigningAlgorithm::Rs512 => "RS512",
        SigningAlgorithm::EdDsa => "EdDSA",
    }
}

/// A `kid` derived from the public key, so the same key always has the same id.
fn kid_of(public: &[u8]) -> String {
    b64(&crate::hash::sha256(public)[..12])
}

impl Private {
    /// The private key from its stored bytes (`private_bytes`' format).
    fn from_bytes(algorithm: SigningAlgorithm, bytes: &[u8]) -> Option<Private> {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        Some(match algorithm {
            SigningAlgorithm::Hs256 => return None,
            SigningAlgorithm::Es256 => {
                Private::P256(p256::ecdsa::SigningKey::from_slice(bytes).ok()?)
            }
            SigningAlgorithm::Es512 => {
                Private::P521(p521::ecdsa::SigningKey::from_slice(bytes).ok()?)
            }
            SigningAlgorithm::Rs256 | SigningAlgorithm::Rs512 => {
                Private::Rsa(Box::new(rsa::RsaPrivateKey::from_pkcs1_der(bytes).ok()?))
            }
            SigningAlgorithm::EdDsa => Private::Ed25519(ed25519_dalek::SigningKey::from_bytes(
                bytes.try_into().ok()?,
            )),
        })
    }

    /// The public key's JWK members (besides `kid`, `alg`, `use`, `key_ops`).
    pub(crate) fn public_jwk(&self) -> Value {
        match self {
            Private::P256(key) => {
                let point = key.verifying_key().to_encoded_point(false);
                json!({"kty": "EC", "crv": "P-256",
                    "x": b64(point.x().expect("uncompressed")), "y": b64(point.y().expect("uncompressed"))})
            }
            Private::P521(key) => {
                let point = p521::ecdsa::VerifyingKey::from(key).to_encoded_point(false);
                json!({"kty": "EC", "crv": "P-521",
                    "x": b64(point.x().expect("uncompressed")), "y": b64(point.y().expect("uncompressed"))})
            }
            Private::Rsa(key) => {
                use rsa::traits::PublicKeyParts;
                json!({"kty": "RSA", "n": b64(&key.n().to_bytes_be()), "e": b64(&key.e().to_bytes_be())})
            }
            Private::Ed25519(key) => {
                json!({"kty": "OKP", "crv": "Ed25519", "x": b64(key.verifying_key().as_bytes())})
            }
            // No public part; `jwks` never lists it.
            Private::Oct(_) => json!({"kty": "oct"}),
        }
    }

    fn kid(&self) -> String {
        kid_of(self.public_jwk().to_string().as_bytes())
    }

    fn sign(&self, algorithm: SigningAlgorithm, input: &[u8]) -> Vec<u8> {
        use ed25519_dalek::Signer as _;
        match self {
            Private::P256(key) => {
                let signature: p256::ecdsa::Signature =
                    p256::ecdsa::signature::Signer::sign(key, input);
                signature.to_bytes().to_vec()
            }
            Private::P521(key) => {
                let signature: p521::ecdsa::Signature =
                    p521::ecdsa::signature::Signer::sign(key, input);
                signature.to_bytes().to_vec()
            }
            Private::Rsa(key) => {
                let (scheme, digest) = rsa_scheme(algorithm, input);
                key.sign(scheme, &digest)
                    .expect("an RSA key signs any digest")
            }
            Private::Ed25519(key) => key.sign(input).to_bytes().to_vec(),
            Private::Oct(secret) => hs256(secret, input),
        }
    }

    fn verify(&self, algorithm: SigningAlgorithm, input: &[u8], signature: &[u8]) -> bool {
        match self {
            Private::P256(key) => p256::ecdsa::Signature::from_slice(signature).is_ok_and(|sig| {
                p256::ecdsa::signature::Verifier::verify(key.verifying_key(), input, &sig).is_ok()
            }),
            Private::P521(key) => p521::ecdsa::Signature::from_slice(signature).is_ok_and(|sig| {
                let public = p521::ecdsa::VerifyingKey::from(key);
                p521::ecdsa::signature::Verifier::verify(&public, input, &sig).is_ok()
            }),
            Private::Rsa(key) => {
                let (scheme, digest) = rsa_scheme(algorithm, input);
                key.to_public_key()
                    .verify(scheme, &digest, signature)
                    .is_ok()
            }
            Private::Ed25519(key) => ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|sig| key.verifying_key().verify_strict(input, &sig).is_ok()),
            Private::Oct(secret) => constant_time_eq(&hs256(secret, input), signature),
        }
    }
}

fn rsa_scheme(algorithm: SigningAlgorithm, input: &[u8]) -> (rsa::Pkcs1v15Sign, Vec<u8>) {
    if algorithm == SigningAlgorithm::Rs512 {
        (
            rsa::Pkcs1v15Sign::new::<Sha512>(),
            Sha512::digest(input).to_vec(),
        )
    } else {
        (
            rsa::Pkcs1v15Sign::new::<Sha256>(),
            Sha256::digest(input).to_vec(),
        )
    }
}

impl Keys {
    /// `ec_private` is the 32-byte P-256 scalar (kept by the store so keys survive restarts).
    /// An asymmetric `algorithm` other than ES256 signs with a key made now (see
    /// [`Keys::with_signing_key`] to give a stored one).
    pub fn new(secret: &str, algorithm: SigningAlgorithm, ec_private: &[u8]) -> Option<Keys> {
        let own = match algorithm {
            SigningAlgorithm::Hs256 | SigningAlgorithm::Es256 => None,
            other => Some(Keys::generate_private(other)),
        };
        Keys::with_signing_key(secret, algorithm, ec_private, own.as_deref())
    }

    /// As [`Keys::new`], with the stored private key of `algorithm` when it is neither HS256
    /// nor ES256 (bytes from [`Keys::generate_private`]).
    pub fn with_signing_key(
        secret: &str,
        algorithm: SigningAlgorithm,
        ec_private: &[u8],
        signing_private: Option<&[u8]>,
    ) -> Option<Keys> {
        let ec = Private::from_bytes(SigningAlgorithm::Es256, ec_private)?;
        let ec_kid = ec.kid_es256();
        let published = match algorithm {
            SigningAlgorithm::Hs256 => Published {
                keys: vec![],
                signing: None,
            },
            SigningAlgorithm::Es256 => Published {
                keys: vec![KeyPair {
                    kid: ec_kid.clone(),
                    algorithm,
                    private: ec,
                }],
                signing: Some(0),
            },
            other => {
                let private = Private::from_bytes(other, signing_private?)?;
                Published {
                    keys: vec![KeyPair {
                        kid: private.kid(),
                        algorithm,
                        private,
                    }],
                    signing: Some(0),
                }
            }
        };
        Some(Keys {
            secret: secret.as_bytes().to_vec(),
            secret_kid: None,
            ec_kid,
            published: RwLock::new(published),
        })
    }

    /// The keys of a key file (`jwk_file`): all published, the one marked `sign` signing.
    /// `ec_private` still names the database (see [`Keys::ec_key_id`]) but is not published.
    pub(crate) fn from_file_keys(
        secret: &str,
        ec_private: &[u8],
        file_keys: Vec<crate::jwk_file::FileKey>,
    ) -> Option<Keys> {
        let ec_kid = Private::from_bytes(SigningAlgorithm::Es256, ec_private)?.kid_es256();
        let signing = file_keys.iter().position(|key| key.signs);
        let keys = file_keys
            .into_iter()
            .map(|key| KeyPair {
                kid: key.kid,
                algorithm: key.algorithm,
                private: key.private,
            })
            .collect();
        Some(Keys {
            secret: secret.as_bytes().to_vec(),
            secret_kid: None,
            ec_kid,
            published: RwLock::new(Published { keys, signing }),
        })
    }

    /// HS256 tokens carry this `kid` (GoTrue's `JWT_KEY_ID`); API keys never do.
    pub fn set_secret_kid(&mut self, kid: Option<String>) {
        self.secret_kid = kid.filter(|kid| !kid.is_empty());
    }

    /// 32 random bytes that are a valid P-256 private scalar.
    pub fn generate_ec_private() -> Vec<u8> {
        Keys::generate_private(SigningAlgorithm::Es256)
    }

    /// A new private key for `algorithm`, as stored: the scalar for ES256/ES512, the seed for
    /// EdDSA, PKCS#1 DER for RSA (2048 bits). Empty for HS256, which has no key pair.
    pub fn generate_private(algorithm: SigningAlgorithm) -> Vec<u8> {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        match algorithm {
            SigningAlgorithm::Hs256 => vec![],
            SigningAlgorithm::Es256 => loop {
                let bytes = crate::hash::random_bytes::<32>();
                if p256::ecdsa::SigningKey::from_slice(&bytes).is_ok() {
                    return bytes.to_vec();
                }
            },
            SigningAlgorithm::Es512 => loop {
                let mut bytes = crate::hash::random_bytes::<66>();
                bytes[0] &= 0x01; // a 521-bit scalar
                if p521::ecdsa::SigningKey::from_slice(&bytes).is_ok() {
                    return bytes.to_vec();
                }
            },
            SigningAlgorithm::EdDsa => crate::hash::random_bytes::<32>().to_vec(),
            SigningAlgorithm::Rs256 | SigningAlgorithm::Rs512 => {
                let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
                    .expect("RSA key generation");
                key.to_pkcs1_der()
                    .expect("DER encoding")
                    .as_bytes()
                    .to_vec()
            }
        }
    }

    /// The algorithm access tokens are signed with now.
    pub fn algorithm(&self) -> SigningAlgorithm {
        let published = self.read();
        published
            .signing
            .map_or(SigningAlgorithm::Hs256, |i| published.keys[i].algorithm)
    }

    /// Makes a new key for `algorithm` the signing key (HS256: the secret signs again); the
    /// keys published before stay in the JWKS unless `retire_previous`. Returns the new key's
    /// `kid` (the secret's, if any, for HS256).
    pub fn rotate(&self, algorithm: SigningAlgorithm, retire_previous: bool) -> Option<String> {
        let private = Private::from_bytes(algorithm, &Keys::generate_private(algorithm));
        let mut published = self.published.write().unwrap_or_else(|p| p.into_inner());
        if retire_previous {
            published.keys.clear();
        }
        match private {
            None => {
                published.signing = None;
                self.secret_kid.clone()
            }
            Some(private) => {
                let kid = private.kid();
                published.keys.push(KeyPair {
                    kid: kid.clone(),
                    algorithm,
                    private,
                });
                published.signing = Some(published.keys.len() - 1);
                Some(kid)
            }
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Published> {
        self.published.read().unwrap_or_else(|p| p.into_inner())
    }

    pub fn sign(&self, claims: &Value) -> String {
        let published = self.read();
        let Some(pair) = published.signing.map(|i| &published.keys[i]) else {
            return self.sign_secret(claims, self.secret_kid.as_deref());
        };
        let mut header = json!({"alg": alg_name(pair.algorithm), "typ": "JWT"});
        // GoTrue names the signing key only when it has an id (a key file's key may not).
        if !pair.kid.is_empty() {
            header["kid"] = json!(pair.kid);
        }
        let input = signing_input(&header, claims);
        let signature = pair.private.sign(pair.algorithm, input.as_bytes());
        format!("{input}.{}", b64(&signature))
    }

    /// API keys are always signed with the shared secret and no `kid`, like Supabase's
    /// anon/service keys.
    pub fn sign_hs256(&self, claims: &Value) -> String {
        self.sign_secret(claims, None)
    }

    fn sign_secret(&self, claims: &Value, kid: Option<&str>) -> String {
        let mut header = json!({"alg": "HS256", "typ": "JWT"});
        if let Some(kid) = kid {
            header["kid"] = json!(kid);
        }
        let input = signing_input(&header, claims);
        format!("{input}.{}", b64(&hs256(&self.secret, input.as_bytes())))
    }

    /// Checks the signature and `exp` against `now`. The key is chosen as GoTrue's
    /// `parseJWTClaims` does: by `kid` among the server's keys first (a key file's `oct` keys
    /// too), else the secret for HS256 (with its own `kid`, an unknown one, or none). An HS256
    /// token naming an asymmetric key is refused, as GoTrue refuses it (that key cannot check
    /// an HMAC).
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
            (Some("HS256"), kid) => {
                let published = self.read();
                match kid.and_then(|kid| published.keys.iter().find(|pair| pair.kid == kid)) {
                    // A key file's symmetric key named by `kid` checks it; an asymmetric key
                    // cannot check an HMAC.
                    Some(pair) => {
                        matches!(pair.private, Private::Oct(_))
                            && pair
                                .private
                                .verify(pair.algorithm, input.as_bytes(), &signature)
                    }
                    None => constant_time_eq(&hs256(&self.secret, input.as_bytes()), &signature),
                }
            }
            (Some(alg), Some(kid)) => self.read().keys.iter().any(|pair| {
                pair.kid == kid
                    && alg_name(pair.algorithm) == alg
                    && pair
                        .private
                        .verify(pair.algorithm, input.as_bytes(), &signature)
            }),
            _ => false,
        };
        if !valid {
            return Err(VerifyError::BadSignature);
        }
        // golang-jwt (GoTrue's parser) checks `exp` only when the token has one: the admin
        // tokens auth-js's tests sign carry none.
        match &claims["exp"] {
            Value::Null => Ok(claims),
            exp => match exp.as_i64() {
                Some(exp) if exp > now_secs => Ok(claims),
                _ => Err(VerifyError::Expired),
            },
        }
    }

    /// The id of this database's own P-256 key, whether or not it signs: it names the key pair
    /// the database was created with, so it tells one database from another.
    pub fn ec_key_id(&self) -> &str {
        &self.ec_kid
    }

    /// The JWKS: asymmetric public keys only (GoTrue never lists HMAC secrets, a key file's
    /// `oct` keys included); a key without an id is listed without `kid`. Empty while
    /// the secret signs and no key was ever rotated in.
    pub fn jwks(&self) -> Value {
        let keys: Vec<Value> = self
            .read()
            .keys
            .iter()
            .filter(|pair| !matches!(pair.private, Private::Oct(_)))
            .map(|pair| {
                let mut jwk = pair.private.public_jwk();
                if !pair.kid.is_empty() {
                    jwk["kid"] = json!(pair.kid);
                }
                jwk["alg"] = json!(alg_name(pair.algorithm));
                jwk["use"] = json!("sig");
                jwk["key_ops"] = json!(["verify"]);
                jwk
            })
            .collect();
        json!({ "keys": keys })
    }
}

impl Private {
    /// The database key's id, as it has always been computed (from the SEC1 point), so a
    /// data file keeps its id.
    fn kid_es256(&self) -> String {
        match self {
            Private::P256(key) => kid_of(key.verifying_key().to_encoded_point(false).as_bytes()),
            _ => self.kid(),
        }
    }
}

fn signing_input(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    )
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
