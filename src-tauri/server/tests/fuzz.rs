//! Random bodies, headers and grant types: the server answers every one without a 5xx or a
//! panic, its state stays consistent, and every route was reached: each answers with the rules
//! written below for it (its successes and the rule that refused each bad request), not only
//! with the router's 404 and 405. Deterministic (seeded), so a failure reproduces.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use axum::body::{to_bytes, Body};
use axum::http::Request;
use common::{start, EMAIL, PASSWORD};
use tower::ServiceExt;

/// xorshift64*: small, seedable, good enough to pick cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = (self.next() % max as u64) as usize;
        (0..len).map(|_| self.next() as u8).collect()
    }
}

#[tokio::test]
async fn random_requests_never_break_the_server_or_its_state() {
    let h = start().await;
    let live = h.sign_in().await;
    let tokens = [live.refresh_token(), live.access_token()];
    let app = local_gotrue::router(h.server.state().clone());
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let paths = [
        "/token?grant_type=refresh_token",
        "/token?grant_type=password",
        "/token?grant_type=",
        "/token",
        "/token?grant_type=pkce",
        "/auth/v1/token?grant_type=refresh_token",
        "/signup",
        "/logout?scope=local",
        "/logout?scope=%ff",
        "/user",
        "/settings",
        "/.well-known/jwks.json",
        "/nope",
        "/_emulator/faults",
        "/_emulator/clock",
    ];
    let fields = [
        "refresh_token",
        "email",
        "password",
        "phone",
        "data",
        "grant_type",
        "seconds",
    ];
    // What each route answered: "STATUS CODE" (the error code in the body, if any).
    let mut answers = BTreeMap::<&str, BTreeSet<String>>::new();
    for case in 0..1500 {
        let path = rng.pick(&paths);
        let body: Vec<u8> = match rng.next() % 6 {
            0 => rng.bytes(200),
            1 => serde_json::json!({ rng.pick(&fields): rng.pick(&["", "x", "abcdefghijkl", &tokens[0], "a@b.co"]) }).to_string().into_bytes(),
            2 => format!("{{\"{}\": {}}}", rng.pick(&fields), rng.next() as i64).into_bytes(),
            3 => b"[1,2,3]".to_vec(),
            // A body a client would send: the live refresh token, the demo user's password.
            4 => match rng.next() % 2 {
                0 => serde_json::json!({"refresh_token": tokens[0]}),
                _ => serde_json::json!({"email": EMAIL, "password": PASSWORD}),
            }
            .to_string()
            .into_bytes(),
            _ => Vec::new(),
        };
        let method = if rng.next().is_multiple_of(4) {
            "GET"
        } else {
            "POST"
        };
        let mut request = Request::builder().method(method).uri(path);
        if rng.next().is_multiple_of(2) {
            request = request.header(
                "X-Supabase-Api-Version",
                rng.pick(&["2024-01-01", "garbage", "1999-01-01"]),
            );
        }
        if rng.next().is_multiple_of(3) {
            let auth = rng.pick(&["Bearer", "Bearer a.b.c", "bearer   x", "Basic zz"]);
            let auth = if rng.next().is_multiple_of(4) {
                format!("Bearer {}", tokens[1])
            } else {
                auth.to_string()
            };
            request = request.header("Authorization", auth);
        }
        let response = app
            .clone()
            .oneshot(request.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        assert!(status < 500, "case {case}: server error {status}");
        let body = to_bytes(response.into_body(), 1 << 20).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let code = ["error_code", "code", "error"]
            .iter()
            .find_map(|field| body[field].as_str())
            .unwrap_or("-");
        answers
            .entry(path)
            .or_default()
            .insert(format!("{status} {code}"));
    }
    // Faults queued by the fuzzer (it can reach /_emulator/faults) are cleared first.
    app.clone()
        .oneshot(
            Request::delete("/_emulator/faults")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    h.assert_consistent().await;

    let expected: BTreeMap<&str, BTreeSet<String>> = EXPECTED
        .iter()
        .map(|(path, answers)| (*path, answers.iter().map(|a| a.to_string()).collect()))
        .collect();
    let mut wrong = Vec::new();
    for path in paths {
        let got = answers.get(path).cloned().unwrap_or_default();
        let want = expected.get(path).cloned().unwrap_or_default();
        if got != want {
            wrong.push(format!(
                "{path}:\n    expected {want:?}\n    got      {got:?}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "the answers of 1500 random requests, by route:\n  {}",
        wrong.join("\n  ")
    );
}

/// Each route's answers to the 1500 requests above, as "STATUS CODE": its success where a
/// request can succeed, and the rule that refused each other request (405 is the router's, a
/// method the route does not take; `/token` without a grant type is GoTrue's
/// `invalid_credentials`). A route missing an answer here was not reached, or a rule stopped
/// refusing what it refused.
const EXPECTED: &[(&str, &[&str])] = &[
    (
        "/token?grant_type=refresh_token",
        &[
            "200 -",
            "400 bad_json",
            "400 refresh_token_not_found",
            "400 validation_failed",
            "405 -",
        ],
    ),
    (
        "/token?grant_type=password",
        &[
            "200 -",
            "400 bad_json",
            "400 invalid_credentials",
            "400 validation_failed",
            "405 -",
        ],
    ),
    ("/token?grant_type=", &["400 invalid_credentials", "405 -"]),
    ("/token", &["400 invalid_credentials", "405 -"]),
    (
        "/token?grant_type=pkce",
        &["400 bad_json", "400 validation_failed", "405 -"],
    ),
    (
        "/auth/v1/token?grant_type=refresh_token",
        &[
            "200 -",
            "400 bad_json",
            "400 refresh_token_not_found",
            "400 validation_failed",
            "405 -",
        ],
    ),
    (
        "/signup",
        &[
            "200 -",
            "400 bad_json",
            "400 validation_failed",
            "405 -",
            "422 user_already_exists",
        ],
    ),
    (
        "/logout?scope=local",
        &[
            "204 -",
            "401 no_authorization",
            "403 bad_jwt",
            "403 session_not_found",
            "405 -",
        ],
    ),
    (
        "/logout?scope=%ff",
        &[
            "400 validation_failed",
            "401 no_authorization",
            "403 bad_jwt",
            "405 -",
        ],
    ),
    (
        "/user",
        &[
            "200 -",
            "401 no_authorization",
            "403 bad_jwt",
            "403 session_not_found",
            "405 -",
        ],
    ),
    ("/settings", &["200 -", "405 -"]),
    ("/.well-known/jwks.json", &["200 -", "405 -"]),
    ("/nope", &["404 not_found"]),
    ("/_emulator/faults", &["200 -", "201 -", "400 bad_json"]),
    ("/_emulator/clock", &["200 -", "405 -"]),
];
