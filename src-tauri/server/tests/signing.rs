//! Access-token signing as GoTrue's `conf/jwk.go` allows it: every algorithm it can issue, the
//! HS256 `kid` (`GOTRUE_JWT_KEY_ID`), the JWKS (public keys only) and key rotation through the
//! control surface.

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use common::{start_with, Harness};
use local_gotrue::SigningAlgorithm;
use reqwest::Method;
use serde_json::{json, Value};

fn header(jwt: &str) -> Value {
    let part = jwt.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

async fn jwks(h: &Harness) -> Value {
    h.send(h.http.get(h.url("/.well-known/jwks.json")))
        .await
        .body
}

async fn rotate(h: &Harness, body: Value) -> Value {
    let reply = h
        .control(Method::POST, "/signing-keys/rotate", Some(body))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.body
}

#[tokio::test]
async fn every_algorithm_gotrue_issues_signs_tokens_the_server_accepts() {
    for (algorithm, alg, kty, crv) in [
        (SigningAlgorithm::Es256, "ES256", "EC", Some("P-256")),
        (SigningAlgorithm::Es512, "ES512", "EC", Some("P-521")),
        (SigningAlgorithm::Rs256, "RS256", "RSA", None),
        (SigningAlgorithm::Rs512, "RS512", "RSA", None),
        (SigningAlgorithm::EdDsa, "EdDSA", "OKP", Some("Ed25519")),
    ] {
        let h = start_with(|c| c.signing = algorithm).await;
        let token = h.sign_in().await.access_token();
        let keys = jwks(&h).await;
        let key = &keys["keys"][0];
        assert_eq!(keys["keys"].as_array().unwrap().len(), 1, "{alg}");
        assert_eq!(
            (
                key["kty"].as_str(),
                key["crv"].as_str(),
                key["alg"].as_str()
            ),
            (Some(kty), crv, Some(alg))
        );
        assert!(key.get("d").is_none(), "{alg}: no private member");
        assert_eq!(header(&token)["alg"], alg);
        assert_eq!(header(&token)["kid"], key["kid"], "{alg}");
        assert_eq!(h.get_user(&token).await.status, 200, "{alg}");
    }
}

#[tokio::test]
async fn hs256_tokens_carry_the_configured_key_id_and_the_jwks_stays_empty() {
    let h = start_with(|c| c.jwt_key_id = Some("legacy-secret-1".into())).await;
    let token = h.sign_in().await.access_token();
    assert_eq!(
        header(&token),
        json!({"alg": "HS256", "kid": "legacy-secret-1", "typ": "JWT"})
    );
    assert_eq!(h.get_user(&token).await.status, 200);
    assert_eq!(
        jwks(&h).await,
        json!({"keys": []}),
        "HMAC keys are never listed"
    );
    // API keys are the project's, not the access tokens': no kid.
    assert!(header(h.server.anon_key()).get("kid").is_none());

    let plain = start_with(|_| {}).await;
    let token = plain.sign_in().await.access_token();
    assert!(
        header(&token).get("kid").is_none(),
        "no kid unless configured"
    );
}

#[tokio::test]
async fn a_rotated_key_signs_and_the_previous_one_still_verifies() {
    let h = start_with(|c| c.signing = SigningAlgorithm::Es256).await;
    let old = h.sign_in().await.access_token();
    let old_kid = header(&old)["kid"].clone();

    let rotated = rotate(&h, json!({"algorithm": "eddsa"})).await;
    assert_eq!(rotated["alg"], "EdDSA");
    let new = h.sign_in().await.access_token();
    assert_eq!(header(&new)["alg"], "EdDSA");
    assert_eq!(header(&new)["kid"], rotated["kid"]);
    assert_ne!(header(&new)["kid"], old_kid);

    let kids: Vec<Value> = jwks(&h).await["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].clone())
        .collect();
    assert_eq!(kids, vec![old_kid, rotated["kid"].clone()]);
    assert_eq!(
        h.get_user(&old).await.status,
        200,
        "the old key still verifies"
    );
    assert_eq!(h.get_user(&new).await.status, 200);
}

#[tokio::test]
async fn retiring_previous_keys_rejects_what_they_signed() {
    let h = start_with(|c| c.signing = SigningAlgorithm::Es256).await;
    let old = h.sign_in().await.access_token();
    let rotated = rotate(&h, json!({"retire_previous": true})).await;
    assert_eq!(
        rotated["alg"], "ES256",
        "the current algorithm when none is named"
    );
    assert_eq!(jwks(&h).await["keys"].as_array().unwrap().len(), 1);
    let reply = h.get_user(&old).await;
    assert_eq!((reply.status.as_u16(), reply.code()), (403, "bad_jwt"));

    // Back to the secret: HS256 tokens again, and the JWKS keeps the asymmetric key.
    let back = rotate(&h, json!({"algorithm": "hs256"})).await;
    assert_eq!(back, json!({"alg": "HS256", "kid": null}));
    let token = h.sign_in().await.access_token();
    assert_eq!(header(&token)["alg"], "HS256");
    assert_eq!(h.get_user(&token).await.status, 200);

    let refused = h
        .control(
            Method::POST,
            "/signing-keys/rotate",
            Some(json!({"algorithm": "ps256"})),
        )
        .await;
    assert_eq!(refused.status, 400);
}

#[tokio::test]
async fn a_data_file_keeps_the_rsa_signing_key() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("auth.sqlite");
    let configure = |c: &mut local_gotrue::Config| {
        c.signing = SigningAlgorithm::Rs256;
        c.data_path = Some(path.clone());
    };
    let (kid, token) = {
        let h = start_with(configure).await;
        (
            jwks(&h).await["keys"][0]["kid"].clone(),
            h.sign_in().await.access_token(),
        )
    };
    let h = start_with(configure).await;
    assert_eq!(jwks(&h).await["keys"][0]["kid"], kid);
    assert_eq!(h.get_user(&token).await.status, 200);
}

/// A test-only key file: an RSA key that signs and a P-256 key that only verifies.
fn key_file() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/signing_keys.json")
}

fn file_keys() -> Vec<Value> {
    serde_json::from_str(&std::fs::read_to_string(key_file()).unwrap()).unwrap()
}

/// Signs `claims` with the file's P-256 key (the one that does not sign for the server), as
/// another service holding the key file would.
fn sign_with_verify_only_key(claims: &Value) -> String {
    use p256::ecdsa::signature::Signer as _;
    let ec = &file_keys()[1];
    let d = URL_SAFE_NO_PAD.decode(ec["d"].as_str().unwrap()).unwrap();
    let key = p256::ecdsa::SigningKey::from_slice(&d).unwrap();
    let head = json!({"alg": "ES256", "kid": ec["kid"], "typ": "JWT"});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(head.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature: p256::ecdsa::Signature = key.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

/// GoTrue's `JWT_KEYS` (`conf/jwk.go`): the key with `sign` in `key_ops` signs, every key's
/// public part is published with `key_ops: ["verify"]` and `use: "sig"`, and no private member
/// leaves the server.
#[tokio::test]
async fn the_key_files_signing_key_signs_and_every_key_is_published() {
    let h = start_with(|c| c.signing_keys_path = Some(key_file())).await;
    let token = h.sign_in().await.access_token();
    assert_eq!(
        header(&token),
        json!({"alg": "RS256", "kid": "test-rsa-signing", "typ": "JWT"})
    );
    assert_eq!(h.get_user(&token).await.status, 200);
    let published = jwks(&h).await;
    let keys = published["keys"].as_array().unwrap();
    let kids: Vec<&str> = keys.iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids, ["test-rsa-signing", "test-ec-verify-only"]);
    let file = file_keys();
    for (key, given) in keys.iter().zip(&file) {
        assert_eq!(key["key_ops"], json!(["verify"]));
        assert_eq!(key["use"], "sig");
        assert_eq!(key["alg"], given["alg"]);
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(key.get(private).is_none(), "{private} published");
        }
        for public in ["n", "e", "x", "y"] {
            assert_eq!(key.get(public), given.get(public), "{public}");
        }
    }
}

/// Tokens signed by any key of the file verify (the auth-js suite signs its service_role key
/// with the file's RSA key), and so do tokens signed with the HS256 secret, which GoTrue keeps
/// accepting beside its JWKs.
#[tokio::test]
async fn tokens_signed_by_any_key_of_the_file_or_the_secret_verify() {
    let h = start_with(|c| c.signing_keys_path = Some(key_file())).await;
    let token = h.sign_in().await.access_token();
    let claims = common::claims(&token);
    let foreign = sign_with_verify_only_key(&claims);
    assert_eq!(h.get_user(&foreign).await.status, 200, "verify-only key");
    let mut tampered = claims.clone();
    tampered["role"] = json!("service_role");
    let parts: Vec<&str> = foreign.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(tampered.to_string()),
        parts[2]
    );
    let reply = h.get_user(&forged).await;
    assert_eq!((reply.status.as_u16(), reply.code()), (403, "bad_jwt"));

    let hs = start_with(|_| {}).await; // same default secret, HS256
    let secret_signed = hs.sign_in().await.access_token();
    let secret_claims = common::claims(&secret_signed);
    // The user exists only on `hs`: the signature is accepted by `h` and the user is not found.
    let reply = h.get_user(&secret_signed).await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (403, "user_not_found"),
        "{secret_claims}"
    );
}

/// GoTrue's `Validate`: exactly one key may sign; the server refuses to start otherwise, and
/// refuses a private key whose given public members are another key's.
#[tokio::test]
async fn a_key_file_without_exactly_one_signing_key_is_refused() {
    use local_gotrue::jwk_file::KeyFileError;
    use local_gotrue::StartError;
    let folder = tempfile::tempdir().unwrap();
    let write = |keys: &Value| {
        let path = folder.path().join("keys.json");
        std::fs::write(&path, keys.to_string()).unwrap();
        path
    };
    let start = |path: std::path::PathBuf| async move {
        let config = local_gotrue::Config {
            signing_keys_path: Some(path),
            ..local_gotrue::Config::default()
        };
        local_gotrue::start(config).await.err()
    };
    let mut keys = file_keys();
    keys[1]["key_ops"] = json!(["sign", "verify"]);
    assert!(matches!(
        start(write(&json!(keys))).await,
        Some(StartError::SigningKeys(KeyFileError::MultipleSigningKeys))
    ));
    keys[0]["key_ops"] = json!(["verify"]);
    keys[1]["key_ops"] = json!(["verify"]);
    assert!(matches!(
        start(write(&json!(keys))).await,
        Some(StartError::SigningKeys(KeyFileError::NoSigningKey))
    ));
    let mut mismatched = file_keys();
    mismatched[1]["x"] = mismatched[0]["n"].clone();
    assert!(matches!(
        start(write(&json!(mismatched))).await,
        Some(StartError::SigningKeys(KeyFileError::BadKey {
            index: 1,
            ..
        }))
    ));
}

/// Starts the server on a key file holding `keys`; the folder must outlive the server.
async fn start_with_keys(folder: &tempfile::TempDir, keys: &Value) -> Harness {
    let path = folder.path().join("keys.json");
    std::fs::write(&path, keys.to_string()).unwrap();
    start_with(|c| c.signing_keys_path = Some(path)).await
}

/// An HS256 token over `claims` with `secret` and the header's `kid`.
fn hs256_token(secret: &[u8], kid: Option<&str>, claims: &Value) -> String {
    use hmac::{Hmac, Mac};
    let mut head = json!({"alg": "HS256", "typ": "JWT"});
    if let Some(kid) = kid {
        head["kid"] = json!(kid);
    }
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(head.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).unwrap();
    mac.update(input.as_bytes());
    format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

const OCT_SECRET: &[u8] = b"a-symmetric-key-from-the-key-file-0123456789";

fn oct_key(kid: &str, ops: &[&str]) -> Value {
    json!({"kty": "oct", "kid": kid, "alg": "HS256", "key_ops": ops,
        "k": URL_SAFE_NO_PAD.encode(OCT_SECRET)})
}

/// GoTrue's `conf/jwk.go` takes `oct` keys: `FindPublicKeyByKid` verifies HS256 tokens that
/// name one, and `WellKnownJwks` never publishes an HMAC key.
#[tokio::test]
async fn a_key_files_oct_key_verifies_hs256_tokens_by_kid_and_is_never_published() {
    let folder = tempfile::tempdir().unwrap();
    let mut keys = file_keys();
    keys.push(oct_key("legacy-hs", &["verify"]));
    let h = start_with_keys(&folder, &json!(keys)).await;
    let claims = common::claims(&h.sign_in().await.access_token());
    let token = hs256_token(OCT_SECRET, Some("legacy-hs"), &claims);
    assert_eq!(h.get_user(&token).await.status, 200);
    // The same kid with the project secret is not that key's signature.
    let wrong = hs256_token(
        local_gotrue::config::DEFAULT_JWT_SECRET.as_bytes(),
        Some("legacy-hs"),
        &claims,
    );
    assert_eq!(h.get_user(&wrong).await.code(), "bad_jwt");
    let published = jwks(&h).await;
    let kids: Vec<&str> = published["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, ["test-rsa-signing", "test-ec-verify-only"]);
}

/// GoTrue's `GetSigningAlg`: a signing key without `alg` signs HS256, so an `oct` signing key
/// signs HS256 tokens naming it.
#[tokio::test]
async fn an_oct_signing_key_signs_hs256_tokens_with_its_kid() {
    let folder = tempfile::tempdir().unwrap();
    let mut keys = file_keys();
    keys[0]["key_ops"] = json!(["verify"]);
    let mut oct = oct_key("legacy-hs", &["sign", "verify"]);
    oct.as_object_mut().unwrap().remove("alg");
    keys.push(oct);
    let h = start_with_keys(&folder, &json!(keys)).await;
    let token = h.sign_in().await.access_token();
    assert_eq!(
        header(&token),
        json!({"alg": "HS256", "kid": "legacy-hs", "typ": "JWT"})
    );
    let claims = common::claims(&token);
    assert_eq!(token, hs256_token(OCT_SECRET, Some("legacy-hs"), &claims));
    assert_eq!(h.get_user(&token).await.status, 200);
}

/// GoTrue's `GetSigningAlg` falls back to HS256 for a signing key without `alg`, which an
/// asymmetric key cannot sign with: such a file is refused at start.
#[tokio::test]
async fn an_asymmetric_signing_key_without_alg_is_refused() {
    use local_gotrue::jwk_file::KeyFileError;
    use local_gotrue::StartError;
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("keys.json");
    let mut keys = file_keys();
    keys[0].as_object_mut().unwrap().remove("alg");
    std::fs::write(&path, json!(keys).to_string()).unwrap();
    let config = local_gotrue::Config {
        signing_keys_path: Some(path),
        ..local_gotrue::Config::default()
    };
    assert!(matches!(
        local_gotrue::start(config).await.err(),
        Some(StartError::SigningKeys(KeyFileError::BadKey {
            index: 0,
            ..
        }))
    ));
}

/// GoTrue's `JwtKeysDecoder` files keys by `kid`: a key without one is filed under the empty
/// id (published without `kid`), and a later key with the same id replaces the earlier.
#[tokio::test]
async fn key_file_keys_are_filed_by_kid_as_gotrue_files_them() {
    let folder = tempfile::tempdir().unwrap();
    let mut keys = file_keys();
    keys[1].as_object_mut().unwrap().remove("kid");
    // A second key under the signing key's id replaces it (and signs).
    keys.push(oct_key("test-rsa-signing", &["sign"]));
    let h = start_with_keys(&folder, &json!(keys)).await;
    let token = h.sign_in().await.access_token();
    assert_eq!(header(&token)["alg"], "HS256");
    let published = jwks(&h).await;
    let published = published["keys"].as_array().unwrap();
    assert_eq!(published.len(), 1, "{published:?}");
    assert!(published[0].get("kid").is_none(), "{published:?}");
    assert_eq!(published[0]["kty"], "EC");
}
