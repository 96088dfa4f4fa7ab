//! Checking access tokens against the real built-in server: every algorithm GoTrue can issue,
//! the JWKS fetched again for an unknown `kid` (auth-js `fetchJwk`), and the server's own
//! verdict (`GET /user`) when there is no key to check with (auth-js `getClaims`).

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use local_gotrue::{Config, DemoUser, Server, SigningAlgorithm};
use serde_json::{json, Value};
use session_engine::tokens::{Invalid, SignatureStatus, Unverified};
use session_engine::{AuthClient, ClientConfig, Credentials, MemoryStore};

mod common;

use common::{EMAIL, PASSWORD};
const SECRET: &[u8] = local_gotrue::config::DEFAULT_JWT_SECRET.as_bytes();

struct World {
    server: Server,
    client: AuthClient,
}

async fn world(configure: impl FnOnce(&mut Config)) -> World {
    let mut config = Config {
        demo_user: Some(DemoUser {
            email: EMAIL.into(),
            password: PASSWORD.into(),
        }),
        ..Config::default()
    };
    configure(&mut config);
    let server = local_gotrue::start(config).await.unwrap();
    let settings = ClientConfig::new(server.url(), server.anon_key());
    let client = AuthClient::new(settings, Arc::new(MemoryStore::new()), "test")
        .await
        .unwrap();
    World { server, client }
}

async fn signing(algorithm: SigningAlgorithm) -> World {
    world(|c| c.signing = algorithm).await
}

impl World {
    /// A fresh access token from the server (the client's own session is left alone).
    async fn token(&self) -> String {
        common::signed_in_elsewhere(&self.server)
            .await
            .access_token
            .as_str()
            .to_string()
    }

    async fn rotate(&self, body: Value) -> Value {
        reqwest::Client::new()
            .post(format!(
                "{}/_emulator/signing-keys/rotate",
                self.server.url()
            ))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn verify(&self, token: &str, secret: Option<&[u8]>) -> SignatureStatus {
        self.client
            .verify_access_token(token, secret)
            .await
            .unwrap()
            .1
    }

    async fn check(&self, token: &str, secret: Option<&[u8]>) -> SignatureStatus {
        self.client
            .check_access_token(token, secret)
            .await
            .unwrap()
            .1
    }

    fn requests_to(&self, path: &str) -> usize {
        self.client
            .recorder()
            .recent()
            .iter()
            .filter(|e| e.url.ends_with(path))
            .count()
    }

    fn jwks_fetches(&self) -> usize {
        self.requests_to("/.well-known/jwks.json")
    }
}

/// The token with its header replaced (the signature no longer covers it).
fn with_header(token: &str, header: Value) -> String {
    let (_, rest) = token.split_once('.').unwrap();
    format!(
        "{}.{rest}",
        URL_SAFE_NO_PAD.encode(header.to_string().as_bytes())
    )
}

/// The token with one claim changed, keeping header and signature.
fn tampered(token: &str) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["role"] = json!("service_role");
    format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(claims.to_string().as_bytes()),
        parts[2]
    )
}

#[tokio::test]
async fn a_rotated_signing_key_verifies_at_once_by_refetching_the_jwks() {
    let w = signing(SigningAlgorithm::Es256).await;
    let before = w.token().await;
    assert!(w.verify(&before, None).await.is_verified());
    assert_eq!(w.jwks_fetches(), 1);

    w.rotate(json!({})).await;
    let after = w.token().await;
    let status = w.verify(&after, None).await;
    assert!(status.is_verified(), "{status:?}");
    assert_eq!(w.jwks_fetches(), 2, "one refetch for the new kid");

    assert!(w.verify(&after, None).await.is_verified());
    assert!(w.verify(&before, None).await.is_verified());
    assert_eq!(w.jwks_fetches(), 2, "both kids are in the cached set now");
}

#[tokio::test]
async fn an_unknown_kid_is_reported_after_one_refetch_and_not_fetched_for_again() {
    let w = signing(SigningAlgorithm::Es256).await;
    let token = w.token().await;
    assert!(w.verify(&token, None).await.is_verified());
    let made_up = with_header(
        &token,
        json!({"alg": "ES256", "kid": "made-up", "typ": "JWT"}),
    );

    let status = w.verify(&made_up, None).await;
    assert!(
        matches!(
            status,
            SignatureStatus::NotVerified {
                cause: Unverified::UnknownKid,
                ..
            }
        ),
        "{status:?}"
    );
    assert_eq!(w.jwks_fetches(), 2, "one refetch for the unknown kid");
    w.verify(&made_up, None).await;
    assert_eq!(
        w.jwks_fetches(),
        2,
        "a kid missing from this set is remembered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_checks_of_an_unknown_kid_share_one_fetch() {
    let w = signing(SigningAlgorithm::Es256).await;
    let token = w.token().await;
    w.verify(&token, None).await;
    let made_up = with_header(
        &token,
        json!({"alg": "ES256", "kid": "made-up", "typ": "JWT"}),
    );
    let checks: Vec<_> = (0..10)
        .map(|_| {
            let (client, token) = (w.client.clone(), made_up.clone());
            tokio::spawn(async move { client.verify_access_token(&token, None).await })
        })
        .collect();
    for check in checks {
        assert!(!check.await.unwrap().unwrap().1.is_verified());
    }
    assert_eq!(w.jwks_fetches(), 2);
}

#[tokio::test]
async fn a_retired_key_is_an_unknown_kid_after_the_refetch() {
    let w = signing(SigningAlgorithm::Es256).await;
    let old = w.token().await;
    assert!(w.verify(&old, None).await.is_verified());
    w.rotate(json!({"retire_previous": true})).await;
    let new = w.token().await;
    assert!(w.verify(&new, None).await.is_verified());
    assert!(matches!(
        w.verify(&old, None).await,
        SignatureStatus::NotVerified {
            cause: Unverified::UnknownKid,
            ..
        }
    ));
}

#[tokio::test]
async fn every_algorithm_gotrue_issues_verifies_and_tampering_is_a_bad_signature() {
    for (algorithm, alg) in [
        (SigningAlgorithm::Es256, "ES256"),
        (SigningAlgorithm::Es512, "ES512"),
        (SigningAlgorithm::Rs256, "RS256"),
        (SigningAlgorithm::Rs512, "RS512"),
        (SigningAlgorithm::EdDsa, "EdDSA"),
    ] {
        let w = signing(algorithm).await;
        let token = w.token().await;
        let status = w.verify(&token, None).await;
        assert!(
            matches!(&status, SignatureStatus::Verified { alg: a, kid: Some(_) } if a == alg),
            "{alg}: {status:?}"
        );
        let status = w.verify(&tampered(&token), None).await;
        assert!(
            matches!(
                &status,
                SignatureStatus::InvalidSignature {
                    cause: Invalid::Mismatch,
                    ..
                }
            ),
            "{alg}: {status:?}"
        );
    }
}

#[tokio::test]
async fn a_token_whose_alg_does_not_fit_its_key_is_not_allowed() {
    let w = signing(SigningAlgorithm::EdDsa).await;
    let token = w.token().await;
    let kid = w.client.project_jwks().await.unwrap().keys[0].kid.clone();
    let relabelled = with_header(&token, json!({"alg": "ES256", "kid": kid, "typ": "JWT"}));
    assert!(matches!(
        w.verify(&relabelled, None).await,
        SignatureStatus::InvalidSignature {
            cause: Invalid::AlgorithmNotAllowed,
            ..
        }
    ));
}

#[tokio::test]
async fn hs256_verifies_with_the_projects_secret_and_needs_it_otherwise() {
    let w = world(|_| {}).await;
    let token = w.token().await;
    assert_eq!(
        w.verify(&token, Some(SECRET)).await,
        SignatureStatus::Verified {
            alg: "HS256".into(),
            kid: None
        }
    );
    assert!(matches!(
        w.verify(&token, Some(b"another-secret-of-this-project"))
            .await,
        SignatureStatus::InvalidSignature {
            cause: Invalid::Mismatch,
            ..
        }
    ));
    assert!(matches!(
        w.verify(&token, None).await,
        SignatureStatus::NotVerified {
            cause: Unverified::NeedsSecret,
            ..
        }
    ));
    assert_eq!(w.jwks_fetches(), 0, "HS256 never needs the JWKS");
    assert_eq!(w.requests_to("/user"), 0, "verify never asks the server");
}

#[tokio::test]
async fn hs256_without_the_secret_asks_the_server_which_accepts_its_token() {
    let w = world(|_| {}).await;
    let token = w.token().await;
    assert_eq!(
        w.check(&token, None).await,
        SignatureStatus::ServerAccepted {
            alg: "HS256".into()
        }
    );
    assert_eq!(w.requests_to("/user"), 1);
    // With the secret there is a key: no question to the server.
    assert!(w.check(&token, Some(SECRET)).await.is_verified());
    assert_eq!(w.requests_to("/user"), 1);
}

#[tokio::test]
async fn an_expired_hs256_token_is_said_expired_without_asking_the_server() {
    let w = world(|c| c.jwt_expiry = std::time::Duration::from_secs(1)).await;
    let token = w.token().await;
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let status = w.check(&token, None).await;
    assert!(
        matches!(
            status,
            SignatureStatus::NotVerified {
                cause: session_engine::tokens::Unverified::Expired,
                ..
            }
        ),
        "{status:?}"
    );
    assert_eq!(w.requests_to("/user"), 0, "the server was not asked");
}

#[tokio::test]
async fn the_server_rejects_a_token_it_did_not_sign_and_the_session_stays() {
    let w = world(|_| {}).await;
    w.client
        .sign_in_with_password(Credentials::Email {
            email: EMAIL.into(),
            password: PASSWORD.into(),
        })
        .await
        .unwrap();
    let forged = tampered(&w.token().await);
    let status = w.check(&forged, None).await;
    assert!(
        matches!(
            &status,
            SignatureStatus::ServerRejected { alg, http_status: 403, code: Some(code), .. }
                if alg == "HS256" && code == "bad_jwt"
        ),
        "{status:?}"
    );
    assert!(w.client.current_session().is_some());
}

#[tokio::test]
async fn hs256_with_a_key_id_verifies_with_the_secret_and_skips_the_jwks() {
    let w = world(|c| c.jwt_key_id = Some("legacy-1".into())).await;
    let token = w.token().await;
    assert_eq!(
        w.verify(&token, Some(SECRET)).await,
        SignatureStatus::Verified {
            alg: "HS256".into(),
            kid: Some("legacy-1".into())
        }
    );
    assert_eq!(
        w.check(&token, None).await,
        SignatureStatus::ServerAccepted {
            alg: "HS256".into()
        }
    );
    assert_eq!(w.jwks_fetches(), 0);
}

#[tokio::test]
async fn an_asymmetric_token_without_kid_is_left_to_the_server() {
    let w = signing(SigningAlgorithm::Es256).await;
    let token = w.token().await;
    let kidless = with_header(&token, json!({"alg": "ES256", "typ": "JWT"}));
    let status = w.check(&kidless, None).await;
    // GoTrue looks keys up by kid only (HS256 aside), so it refuses this one.
    assert!(
        matches!(
            &status,
            SignatureStatus::ServerRejected {
                http_status: 403,
                ..
            }
        ),
        "{status:?}"
    );
    assert_eq!(
        w.jwks_fetches(),
        0,
        "no kid: no key to look up, as in auth-js"
    );
    assert_eq!(
        w.client.check_with_server(&token).await.unwrap().1,
        SignatureStatus::ServerAccepted {
            alg: "ES256".into()
        }
    );
}
