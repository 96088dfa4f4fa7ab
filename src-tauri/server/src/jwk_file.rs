//! Signing keys from a file: a JSON array of private JWKs, the Supabase CLI's
//! `signing_keys_path` format, which it hands to GoTrue as `GOTRUE_JWT_KEYS`.
//!
//! As GoTrue's `conf/jwk.go` reads them: every key's public part is published and verifies;
//! exactly one key has `sign` in its `key_ops`, and it signs access tokens. RSA (`RS256`,
//! `RS512`), EC P-256 (`ES256`), EC P-521 (`ES512`), Ed25519 (`EdDSA`) and symmetric (`oct`,
//! HS256) keys are read; a symmetric key verifies HS256 tokens naming it by `kid` (and signs
//! when it is the signing key) but is never published.
//!
//! GoTrue files the keys by `kid` (`JwtKeysDecoder`): a key without one is filed under the
//! empty id, and a later key with an id already seen replaces the earlier one.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;

use crate::config::SigningAlgorithm;
use crate::jwt::Private;

/// One key of the file.
pub(crate) struct FileKey {
    /// The JWK's `kid`, empty when it has none (tokens it signs then carry no `kid`).
    pub kid: String,
    pub algorithm: SigningAlgorithm,
    pub private: Private,
    /// `sign` is in its `key_ops`.
    pub signs: bool,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyFileError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("not a JSON array of JWKs: {0}")]
    NotAnArray(String),
    #[error("key {index}: {reason}")]
    BadKey { index: usize, reason: String },
    /// GoTrue's `Validate`: "no signing key detected".
    #[error("no signing key detected (no key has \"sign\" in key_ops)")]
    NoSigningKey,
    /// GoTrue's `Validate`: "multiple signing keys detected, only 1 signing key is supported".
    #[error("multiple signing keys detected, only 1 signing key is supported")]
    MultipleSigningKeys,
}

/// Reads and checks the file.
pub(crate) fn read(path: &std::path::Path) -> Result<Vec<FileKey>, KeyFileError> {
    let text = std::fs::read_to_string(path).map_err(|e| KeyFileError::Read {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    parse(&text)
}

/// Parses the array; fails as GoTrue's `Validate` does unless exactly one key signs.
pub(crate) fn parse(text: &str) -> Result<Vec<FileKey>, KeyFileError> {
    let items: Vec<Value> =
        serde_json::from_str(text).map_err(|e| KeyFileError::NotAnArray(e.to_string()))?;
    let mut keys: Vec<FileKey> = Vec::new();
    for (index, jwk) in items.iter().enumerate() {
        let key = parse_key(jwk).map_err(|reason| KeyFileError::BadKey { index, reason })?;
        match keys.iter_mut().find(|known| known.kid == key.kid) {
            Some(known) => *known = key,
            None => keys.push(key),
        }
    }
    match keys.iter().filter(|key| key.signs).count() {
        0 => Err(KeyFileError::NoSigningKey),
        1 => Ok(keys),
        _ => Err(KeyFileError::MultipleSigningKeys),
    }
}

fn member(jwk: &Value, name: &str) -> Result<Vec<u8>, String> {
    let text = jwk[name]
        .as_str()
        .ok_or_else(|| format!("missing \"{name}\""))?;
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| format!("\"{name}\" is not base64url"))
}

fn parse_key(jwk: &Value) -> Result<FileKey, String> {
    let alg = jwk["alg"].as_str().filter(|alg| !alg.is_empty());
    let signs = jwk["key_ops"]
        .as_array()
        .is_some_and(|ops| ops.iter().any(|op| op == "sign"));
    let (algorithm, private) = match (jwk["kty"].as_str(), jwk["crv"].as_str()) {
        // GoTrue's `GetSigningAlg` signs with HS256 when the key names no algorithm, which
        // only a symmetric key can do: an asymmetric signing key without `alg` would fail
        // every sign-in there, so it is refused here at start.
        (Some(kty), _) if signs && alg.is_none() && kty != "oct" => {
            return Err(format!(
                "the signing key has no \"alg\" (GoTrue would sign with HS256, which a {kty} key cannot)"
            ))
        }
        (Some("oct"), _) => {
            if !matches!(alg, None | Some("HS256")) {
                return Err(format!(
                    "alg {} is not supported for an oct key (HS256 only)",
                    alg.unwrap_or_default()
                ));
            }
            let secret = member(jwk, "k")?;
            if secret.is_empty() {
                return Err("an oct key's \"k\" is empty".into());
            }
            (SigningAlgorithm::Hs256, Private::Oct(secret))
        }
        // A verify-only key without `alg` checks its type's usual algorithm. GoTrue would
        // check any algorithm the key type fits that another key of the file names (its
        // `ValidMethods`); files the CLI writes always carry `alg`.
        (Some("RSA"), _) => {
            let algorithm = match alg {
                None | Some("RS256") => SigningAlgorithm::Rs256,
                Some("RS512") => SigningAlgorithm::Rs512,
                Some(other) => return Err(format!("alg {other} does not fit an RSA key")),
            };
            let number = |name| member(jwk, name).map(|b| rsa::BigUint::from_bytes_be(&b));
            let key = rsa::RsaPrivateKey::from_components(
                number("n")?,
                number("e")?,
                number("d")?,
                vec![number("p")?, number("q")?],
            )
            .map_err(|e| format!("bad RSA key: {e}"))?;
            key.validate().map_err(|e| format!("bad RSA key: {e}"))?;
            (algorithm, Private::Rsa(Box::new(key)))
        }
        (Some("EC"), Some("P-256")) if matches!(alg, None | Some("ES256")) => {
            let key = p256::ecdsa::SigningKey::from_slice(&member(jwk, "d")?)
                .map_err(|_| "bad P-256 private scalar".to_string())?;
            (SigningAlgorithm::Es256, Private::P256(key))
        }
        (Some("EC"), Some("P-521")) if matches!(alg, None | Some("ES512")) => {
            let key = p521::ecdsa::SigningKey::from_slice(&member(jwk, "d")?)
                .map_err(|_| "bad P-521 private scalar".to_string())?;
            (SigningAlgorithm::Es512, Private::P521(key))
        }
        (Some("OKP"), Some("Ed25519")) if matches!(alg, None | Some("EdDSA")) => {
            let seed: [u8; 32] = member(jwk, "d")?
                .try_into()
                .map_err(|_| "an Ed25519 \"d\" is 32 bytes".to_string())?;
            (
                SigningAlgorithm::EdDsa,
                Private::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed)),
            )
        }
        (kty, crv) => {
            return Err(format!(
                "unsupported key (kty {}, crv {}, alg {})",
                kty.unwrap_or("-"),
                crv.unwrap_or("-"),
                alg.unwrap_or("-")
            ))
        }
    };
    // The public members given beside the private ones must be this key's.
    let public = private.public_jwk();
    for name in ["n", "e", "x", "y"] {
        if let (Some(given), Some(derived)) = (jwk[name].as_str(), public[name].as_str()) {
            if given.trim_end_matches('=') != derived {
                return Err(format!("\"{name}\" does not match the private key"));
            }
        }
    }
    Ok(FileKey {
        kid: jwk["kid"].as_str().unwrap_or_default().to_string(),
        algorithm,
        private,
        signs,
    })
}
