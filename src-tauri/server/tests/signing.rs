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
