//! Access tokens, refresh-token formats, and GoTrue's rotation and reuse rules.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{claims, start, start_with, Harness, EMAIL};
use local_gotrue::refresh_token::V2Token;
use local_gotrue::{RefreshTokenFormat, SigningAlgorithm};
use serde_json::{json, Value};

fn tokens_of(sessions: &Value) -> Vec<Value> {
    sessions[0]["refresh_tokens"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test]
async fn routes_answer_with_and_without_the_auth_v1_prefix() {
    let h = start().await;
    for url in [format!("{}/health", h.server.url()), h.url("/health")] {
        let reply = h.send(h.http.get(url)).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body["name"], "GoTrue");
    }
}

#[tokio::test]
async fn password_grant_returns_a_gotrue_token_response() {
    let h = start().await;
    let reply = h.sign_in().await;
    let body = &reply.body;
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["expires_at"], claims(&reply.access_token())["exp"]);
    assert_eq!(body["user"]["email"], EMAIL);
    for field in [
        "id",
        "aud",
        "role",
        "phone",
        "app_metadata",
        "user_metadata",
        "identities",
        "created_at",
        "updated_at",
        "is_anonymous",
    ] {
        assert!(body["user"].get(field).is_some(), "user.{field} missing");
    }
    assert_eq!(body["user"]["identities"][0]["provider"], "email");
}

#[tokio::test]
async fn access_tokens_carry_exactly_gotrue_claims() {
    let h = start().await;
    let reply = h.sign_in().await;
    let claims = claims(&reply.access_token());
    let names: BTreeSet<&str> = claims
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let expected: BTreeSet<&str> = [
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "email",
        "phone",
        "app_metadata",
        "user_metadata",
        "role",
        "aal",
        "amr",
        "session_id",
        "is_anonymous",
    ]
    .into();
    assert_eq!(names, expected);
    assert_eq!(claims["aud"], "authenticated", "aud is a single string");
    assert_eq!(claims["iss"], h.server.auth_url());
    assert_eq!(claims["role"], "authenticated");
    assert_eq!(claims["aal"], "aal1");
    assert_eq!(claims["amr"][0]["method"], "password");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    assert_eq!(claims["session_id"], h.sessions().await[0]["id"]);
}

#[tokio::test]
async fn access_token_expiry_is_configurable() {
    let h = start_with(|c| c.jwt_expiry = Duration::from_secs(120)).await;
    let reply = h.sign_in().await;
    assert_eq!(reply.body["expires_in"], 120);
    let claims = claims(&reply.access_token());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        120
    );
}

#[tokio::test]
async fn es256_tokens_verify_against_the_published_jwks() {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use p256::ecdsa::signature::Verifier;

    let h = start_with(|c| c.signing = SigningAlgorithm::Es256).await;
    let jwks = h.send(h.http.get(h.url("/.well-known/jwks.json"))).await;
    assert_eq!(jwks.header("cache-control"), Some("public, max-age=600"));
    let key = &jwks.body["keys"][0];
    assert_eq!(
        (
            key["kty"].as_str(),
            key["crv"].as_str(),
            key["alg"].as_str()
        ),
        (Some("EC"), Some("P-256"), Some("ES256"))
    );

    let token = h.sign_in().await.access_token();
    let parts: Vec<&str> = token.split('.').collect();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["kid"], key["kid"]);

    // Verify independently from the JWK's coordinates.
    let mut point = vec![4u8];
    point.extend(URL_SAFE_NO_PAD.decode(key["x"].as_str().unwrap()).unwrap());
    point.extend(URL_SAFE_NO_PAD.decode(key["y"].as_str().unwrap()).unwrap());
    let verifying = p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).unwrap();
    let signature =
        p256::ecdsa::Signature::from_slice(&URL_SAFE_NO_PAD.decode(parts[2]).unwrap()).unwrap();
    verifying
        .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
        .expect("the signature verifies with the published key");
}

#[tokio::test]
async fn hs256_projects_publish_no_keys() {
    let h = start().await;
    let jwks = h.send(h.http.get(h.url("/.well-known/jwks.json"))).await;
    assert_eq!(jwks.body, json!({"keys": []}));
}

#[tokio::test]
async fn legacy_refresh_tokens_are_twelve_base32_characters_linked_to_their_parent() {
    let h = start().await;
    let first = h.sign_in().await.refresh_token();
    assert_eq!(first.len(), 12);
    assert!(first
        .bytes()
        .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b)));
    let second = h.refreshed(&first).await;
    let chain = tokens_of(&h.sessions().await);
    assert_eq!(chain.len(), 2);
    assert_eq!(
        (chain[0]["token"].as_str(), chain[0]["revoked"].as_bool()),
        (Some(first.as_str()), Some(true))
    );
    assert_eq!(chain[1]["token"], second);
    assert_eq!(chain[1]["parent"], first);
    assert_eq!(chain[1]["revoked"], false);
}

#[tokio::test]
async fn the_parent_of_the_active_token_gets_the_same_active_token_with_no_time_limit() {
    let h = start_with(|c| c.reuse_interval = Duration::ZERO).await;
    let parent = h.sign_in().await.refresh_token();
    let active = h.refreshed(&parent).await;
    h.skew_clock(7200.0).await;
    let reply = h.refresh(&parent).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        reply.refresh_token(),
        active,
        "the same active token, not a new one"
    );
    assert_eq!(
        reply.header("sb-auth-refresh-token-reuse-cause"),
        None,
        "legacy sends no cause"
    );
    assert_eq!(tokens_of(&h.sessions().await).len(), 2, "no new row");
}

#[tokio::test]
async fn reuse_inside_the_interval_is_tolerated() {
    let h = start().await;
    let a0 = h.sign_in().await.refresh_token();
    let a1 = h.refreshed(&a0).await;
    let a2 = h.refreshed(&a1).await;
    let reply = h.refresh(&a0).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let issued = reply.refresh_token();
    assert!(issued != a2 && issued != a1 && issued != a0);
    assert_eq!(reply.header("sb-auth-refresh-token-reuse"), Some("false"));
    let chain = tokens_of(&h.sessions().await);
    let child = chain
        .iter()
        .find(|t| t["token"] == issued.as_str())
        .unwrap();
    assert_eq!(child["parent"], a0, "a new child of the reused token");
    h.assert_consistent().await;
}

#[tokio::test]
async fn reuse_outside_the_interval_revokes_the_family_and_keeps_the_revocation() {
    let h = start().await;
    let b0 = h.sign_in().await.refresh_token();
    let b1 = h.refreshed(&b0).await;
    let b2 = h.refreshed(&b1).await;
    h.skew_clock(11.0).await;
    let reply = h.refresh(&b0).await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (400, "refresh_token_already_used")
    );
    assert_eq!(reply.body["message"], "Invalid Refresh Token: Already Used");
    // The failed request still committed the revocation: the live head is revoked now.
    assert!(tokens_of(&h.sessions().await)
        .iter()
        .all(|t| t["revoked"] == true));
    h.skew_clock(30.0).await;
    for token in [&b1, &b2] {
        assert_eq!(h.refresh(token).await.code(), "refresh_token_already_used");
    }
    h.assert_consistent().await;
}

#[tokio::test]
async fn a_reuse_interval_of_zero_tolerates_nothing() {
    let h = start_with(|c| c.reuse_interval = Duration::ZERO).await;
    let c0 = h.sign_in().await.refresh_token();
    let c1 = h.refreshed(&c0).await;
    h.refreshed(&c1).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(h.refresh(&c0).await.code(), "refresh_token_already_used");
}

#[tokio::test]
async fn refresh_answers_carry_the_informational_sb_auth_headers() {
    let h = start().await;
    let first = h.sign_in().await;
    let reply = h.refresh(&first.refresh_token()).await;
    let session = &h.sessions().await[0];
    assert_eq!(
        reply.header("sb-auth-user-id"),
        reply.body["user"]["id"].as_str()
    );
    assert_eq!(reply.header("sb-auth-session-id"), session["id"].as_str());
    assert_eq!(
        reply.header("sb-auth-refresh-token-prefix"),
        Some(&reply.refresh_token()[..5])
    );
    assert_eq!(reply.header("sb-auth-refresh-token-reuse"), Some("false"));
}

async fn v2_harness() -> Harness {
    start_with(|c| c.refresh_token_format = RefreshTokenFormat::V2).await
}

#[tokio::test]
async fn v2_tokens_encode_the_session_and_counter() {
    let h = v2_harness().await;
    let token = h.sign_in().await.refresh_token();
    assert_eq!(token.len(), 51);
    let decoded = V2Token::decode(&token).expect("a v2 token");
    assert_eq!(
        decoded.session_id.to_string(),
        h.sessions().await[0]["id"].as_str().unwrap()
    );
    assert_eq!(decoded.counter, 0);
    let next = h.refresh(&token).await;
    assert_eq!(V2Token::decode(&next.refresh_token()).unwrap().counter, 1);
    assert_eq!(next.header("sb-auth-refresh-token-counter"), Some("1"));
}

#[tokio::test]
async fn v2_one_behind_gets_the_current_token_again_without_advancing() {
    let h = v2_harness().await;
    let t0 = h.sign_in().await.refresh_token();
    let t1 = h.refreshed(&t0).await;
    h.skew_clock(3600.0).await;
    let reply = h.refresh(&t0).await;
    assert_eq!(reply.refresh_token(), t1);
    assert_eq!(h.sessions().await[0]["counter"], 1);
}

#[tokio::test]
async fn v2_two_behind_inside_the_interval_is_tolerated_and_outside_deletes_the_session() {
    let h = v2_harness().await;
    let t0 = h.sign_in().await.refresh_token();
    let t1 = h.refreshed(&t0).await;
    let t2 = h.refreshed(&t1).await;
    assert_eq!(
        h.refresh(&t0).await.refresh_token(),
        t2,
        "inside the interval: the current token"
    );
    h.skew_clock(11.0).await;
    assert_eq!(h.refresh(&t0).await.code(), "refresh_token_already_used");
    assert_eq!(h.sessions().await, json!([]), "the session is deleted");
    assert_eq!(h.refresh(&t2).await.code(), "refresh_token_not_found");
}

#[tokio::test]
async fn v2_counter_ahead_of_the_server_is_not_issued_by_this_server() {
    let h = v2_harness().await;
    let t0 = h.sign_in().await.refresh_token();
    let session = V2Token::decode(&t0).unwrap().session_id;
    let key = h
        .server
        .state()
        .db
        .run(|conn| local_gotrue::db::session_by_id(conn, session))
        .unwrap()
        .unwrap()
        .hmac_key
        .unwrap();
    let forged = V2Token::encode(session, 5, &key);
    let reply = h.refresh(&forged).await;
    assert_eq!(reply.code(), "validation_failed");
    assert_eq!(
        reply.body["message"],
        "Invalid Refresh Token: Not Issued By This Server"
    );
}

#[tokio::test]
async fn v2_tokens_signed_with_another_key_are_not_found() {
    let h = v2_harness().await;
    let t0 = h.sign_in().await.refresh_token();
    let forged = V2Token::encode(V2Token::decode(&t0).unwrap().session_id, 0, &[9u8; 32]);
    assert_eq!(h.refresh(&forged).await.code(), "refresh_token_not_found");
}

#[tokio::test]
async fn malformed_refresh_tokens_fail_validation() {
    let h = start().await;
    for token in [
        "",
        "short",
        "ABCDEFGHIJKL",
        "not-a-v2-token-at-all-but-long-enough-to-try-decoding",
    ] {
        let reply = h.refresh(token).await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (400, "validation_failed"),
            "{token:?}"
        );
        assert_eq!(reply.body["message"], "Refresh token is not valid");
    }
    assert_eq!(
        h.refresh("abcdefghijkl").await.code(),
        "refresh_token_not_found"
    );
}
