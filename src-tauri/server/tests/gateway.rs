//! Error envelopes, the API-key gateway, limits, concurrency, injected faults, counters.

mod common;

use std::time::{Duration, Instant};

use common::{claims, start, start_with};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn the_2024_envelope_is_chosen_by_the_api_version_header() {
    let h = start().await;
    let reply = h.refresh("abcdefghijkl").await;
    assert_eq!(
        reply.body,
        json!({"code": "refresh_token_not_found", "message": "Invalid Refresh Token: Refresh Token Not Found"})
    );
    assert_eq!(reply.header("x-supabase-api-version"), Some("2024-01-01"));
    assert_eq!(
        reply.header("x-sb-error-code"),
        Some("refresh_token_not_found")
    );
}

#[tokio::test]
async fn without_the_header_errors_use_the_initial_envelope() {
    let h = start().await;
    let reply = h
        .send(
            h.http
                .post(h.url("/token?grant_type=refresh_token"))
                .json(&json!({"refresh_token": "abcdefghijkl"})),
        )
        .await;
    assert_eq!(
        reply.body,
        json!({"code": 400, "error_code": "refresh_token_not_found", "msg": "Invalid Refresh Token: Refresh Token Not Found"})
    );
    assert_eq!(reply.header("x-supabase-api-version"), None);
    assert_eq!(
        reply.header("x-sb-error-code"),
        Some("refresh_token_not_found")
    );
    let old = h
        .send(
            h.http
                .post(h.url("/token?grant_type=refresh_token"))
                .header("X-Supabase-Api-Version", "2023-05-01")
                .body("{"),
        )
        .await;
    assert_eq!(
        old.body["error_code"], "bad_json",
        "dates before 2024-01-01 keep the initial shape"
    );
}

#[tokio::test]
async fn server_errors_in_the_initial_envelope_carry_an_error_id() {
    let h = start().await;
    h.control(Method::POST, "/faults", Some(json!({"status": 500})))
        .await;
    let reply = h.send(h.http.get(h.url("/settings"))).await;
    assert_eq!(reply.body["code"], 500);
    assert!(reply.body["error_id"].is_string());
}

#[tokio::test]
async fn oauth_client_sessions_fail_refresh_with_the_oauth_envelope() {
    let h = start().await;
    let user = h.sign_in().await.body["user"]["id"].clone();
    let created = h
        .control(
            Method::POST,
            "/sessions",
            Some(json!({"user_id": user, "oauth_client_id": "cli-app"})),
        )
        .await;
    assert_eq!(created.status, 201);
    let reply = h.refresh(&created.refresh_token()).await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.body,
        json!({"error": "invalid_client", "error_description": "Client authentication required for OAuth session"})
    );
}

#[tokio::test]
async fn unsupported_grant_types_and_bad_json_are_rejected() {
    let h = start().await;
    let grant = h.post("/token?grant_type=magic", json!({})).await;
    assert_eq!(
        (
            grant.status.as_u16(),
            grant.code(),
            grant.body["message"].as_str()
        ),
        (400, "invalid_credentials", Some("unsupported_grant_type"))
    );
    let bad = h
        .send(
            h.http
                .post(h.url("/token?grant_type=refresh_token"))
                .header("X-Supabase-Api-Version", "2024-01-01")
                .body("{not json"),
        )
        .await;
    assert_eq!((bad.status.as_u16(), bad.code()), (400, "bad_json"));
    assert!(bad.body["message"]
        .as_str()
        .unwrap()
        .starts_with("Could not parse request body as JSON: "));
}

#[tokio::test]
async fn bodies_over_one_mebibyte_get_413() {
    let h = start().await;
    let big = format!("{{\"refresh_token\":\"{}\"}}", "a".repeat(1 << 20));
    let reply = h
        .send(
            h.http
                .post(h.url("/token?grant_type=refresh_token"))
                .header("X-Supabase-Api-Version", "2024-01-01")
                .body(big),
        )
        .await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (413, "request_entity_too_large")
    );
}

#[tokio::test]
async fn the_gateway_requires_an_api_key_when_configured() {
    let h = start_with(|c| c.require_api_key = true).await;
    let none = h.send(h.http.get(h.url("/settings"))).await;
    assert_eq!(none.status, 401);
    assert_eq!(none.body["message"], "No API key found in request");
    let wrong = h
        .send(h.http.get(h.url("/settings")).header("apikey", "nope"))
        .await;
    assert_eq!(
        (wrong.status.as_u16(), wrong.body["message"].as_str()),
        (401, Some("Invalid API key"))
    );
    let header = h
        .send(
            h.http
                .get(h.url("/settings"))
                .header("apikey", h.server.anon_key()),
        )
        .await;
    assert_eq!(header.status, 200);
    let query = h
        .send(
            h.http
                .get(h.url(&format!("/settings?apikey={}", h.server.service_role_key()))),
        )
        .await;
    assert_eq!(query.status, 200);
    assert_eq!(
        h.control(Method::GET, "/keys", None).await.status,
        200,
        "the control surface is apart"
    );
}

#[tokio::test]
async fn api_keys_are_project_jwts_with_their_roles() {
    let h = start().await;
    assert_eq!(claims(h.server.anon_key())["role"], "anon");
    assert_eq!(claims(h.server.service_role_key())["role"], "service_role");
    let verified = h
        .server
        .state()
        .keys
        .verify(h.server.anon_key(), chrono::Utc::now().timestamp());
    assert!(verified.is_ok(), "signed with the project secret");
}

/// The router in process, without a socket: in paused time nothing moves tokio's clock but
/// `tokio::time::advance` and the server's own timers. (Over loopback, the clock jumps to the
/// next timer whenever the runtime waits for the socket.)
struct InProcess(axum::Router);

impl InProcess {
    fn of(h: &common::Harness) -> InProcess {
        InProcess(local_gotrue::router(h.server.state().clone()))
    }

    /// Sends `method path` with `body` as JSON; the status and the body (2024 envelope).
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value) {
        use tower::ServiceExt as _;
        let request = axum::http::Request::builder()
            .method(method.as_str())
            .uri(path)
            .header("content-type", "application/json")
            .header("x-supabase-api-version", "2024-01-01")
            .body(axum::body::Body::from(body.to_string()))
            .unwrap();
        let response = self.0.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, serde_json::from_slice(&body).unwrap_or_default())
    }

    /// A refresh with `token`: the status and the error code, if any.
    async fn refresh(&self, token: &str) -> (u16, String) {
        let (status, body) = self
            .call(
                Method::POST,
                "/token?grant_type=refresh_token",
                json!({ "refresh_token": token }),
            )
            .await;
        (
            status,
            body["code"].as_str().unwrap_or_default().to_string(),
        )
    }
}

/// GoTrue's default limit, 150 per 5 minutes with a burst of 30: thirty requests at once,
/// then 429 until the bucket has refilled one (0.5 a second: 2 s), in paused time so that no
/// slowness of the machine refills it meanwhile.
#[tokio::test(start_paused = true)]
async fn the_token_rate_limit_allows_a_burst_of_30_then_answers_429_and_refills_one_in_2_s() {
    let h = start_with(|c| c.rate_limit = Some(local_gotrue::RateLimit::default())).await;
    let app = InProcess::of(&h);
    for n in 1..=30 {
        assert_eq!(
            app.refresh("abcdefghijkl").await,
            (400, "refresh_token_not_found".into()),
            "request {n} of the burst"
        );
    }
    let limited = (429, "over_request_rate_limit".to_string());
    let (status, body) = app
        .call(
            Method::POST,
            "/token?grant_type=refresh_token",
            json!({"refresh_token": "abcdefghijkl"}),
        )
        .await;
    assert_eq!(
        (status, &body),
        (
            429,
            &json!({"code": "over_request_rate_limit", "message": "Request rate limit reached"})
        ),
        "the 31st"
    );
    tokio::time::advance(Duration::from_millis(1400)).await;
    assert_eq!(app.refresh("abcdefghijkl").await, limited, "at 1.4 s");
    tokio::time::advance(Duration::from_millis(700)).await;
    assert_eq!(
        app.refresh("abcdefghijkl").await.0,
        400,
        "at 2.1 s, one more request"
    );
    assert_eq!(app.refresh("abcdefghijkl").await, limited, "and only one");
    assert_eq!(
        app.call(Method::GET, "/settings", json!({})).await.0,
        200,
        "only /token is limited"
    );
}

#[tokio::test(start_paused = true)]
async fn rate_limiting_is_off_by_default_and_switchable() {
    let h = start().await;
    let app = InProcess::of(&h);
    for _ in 0..40 {
        assert_eq!(app.refresh("abcdefghijkl").await.0, 400);
    }
    let switched = app
        .call(
            Method::PUT,
            "/_emulator/rate-limit",
            json!({"enabled": true, "burst": 2}),
        )
        .await;
    assert_eq!(switched.0, 204);
    let mut codes = Vec::new();
    for _ in 0..3 {
        codes.push(app.refresh("abcdefghijkl").await.0);
    }
    assert_eq!(codes, vec![400, 400, 429]);
}

/// A refresh of a session whose refresh lock another request holds (for 6 s) waits GoTrue's
/// 5 s for it, then answers 409 `conflict`: at 5 s exactly, before the hold ends (paused time).
#[tokio::test(start_paused = true)]
async fn concurrent_refreshes_of_one_session_are_serialized_and_conflict_after_5s() {
    let h = start().await;
    let app = InProcess::of(&h);
    let first = h.sign_in().await.refresh_token();
    let session = h.sessions().await[0]["id"].as_str().unwrap().to_string();
    let hold = app
        .call(
            Method::POST,
            &format!("/_emulator/sessions/{session}/hold"),
            json!({"ms": 6000}),
        )
        .await;
    assert_eq!(hold.0, 202);
    let started = tokio::time::Instant::now();
    assert_eq!(app.refresh(&first).await, (409, "conflict".into()));
    assert_eq!(
        started.elapsed(),
        Duration::from_secs(5),
        "gave up at the 5 s contention limit, not when the hold ended"
    );

    // Another session, with no hold: simultaneous refreshes of one token all succeed, one at
    // a time.
    let second = h.sign_in().await.refresh_token();
    let replies = futures_join(&h, &second, 8).await;
    assert!(replies.iter().all(|s| *s == 200), "{replies:?}");
    h.assert_consistent().await;
}

async fn futures_join(h: &common::Harness, token: &str, n: usize) -> Vec<u16> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let url = h.url("/token?grant_type=refresh_token");
        let http = h.http.clone();
        let body = json!({"refresh_token": token});
        tasks.spawn(async move {
            http.post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
    }
    tasks.join_all().await
}

#[tokio::test]
async fn injected_503s_hit_the_next_requests_then_the_server_recovers() {
    let h = start().await;
    let token = h.sign_in().await.refresh_token();
    h.control(
        Method::POST,
        "/faults",
        Some(json!({"count": 3, "status": 503, "path": "/token"})),
    )
    .await;
    for _ in 0..3 {
        let reply = h.refresh(&token).await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (503, "unexpected_failure")
        );
    }
    assert_eq!(h.refresh(&token).await.status, 200);
    let counts = h.control(Method::GET, "/requests", None).await;
    assert_eq!(
        counts.body["routes"]["POST /token?grant_type=refresh_token"],
        4
    );
    assert_eq!(counts.body["routes"]["POST /token?grant_type=password"], 1);
}

#[tokio::test]
async fn faults_can_send_html_malformed_or_empty_bodies() {
    let h = start().await;
    for (body, check) in [
        ("html", "<html>"),
        ("malformed", "{\"access_token\": \"eyJ"),
        ("empty", ""),
    ] {
        h.control(
            Method::POST,
            "/faults",
            Some(json!({"status": 502, "body": body})),
        )
        .await;
        let reply = h.send(h.http.get(h.url("/settings"))).await;
        assert_eq!(reply.status, 502);
        assert!(reply.text.starts_with(check), "{body}: {}", reply.text);
    }
    h.control(
        Method::POST,
        "/faults",
        Some(json!({"status": 200, "body": "malformed"})),
    )
    .await;
    let ok_but_broken = h.send(h.http.get(h.url("/settings"))).await;
    assert_eq!(ok_but_broken.status, 200);
    assert!(ok_but_broken.body.is_null(), "the body does not parse");
}

#[tokio::test]
async fn a_drop_fault_closes_the_connection_without_an_answer() {
    let h = start().await;
    h.control(Method::POST, "/faults", Some(json!({"drop": true})))
        .await;
    let result = h.http.get(h.url("/health")).send().await;
    assert!(result.is_err(), "no HTTP answer at all: {result:?}");
    assert_eq!(
        h.send(h.http.get(h.url("/health"))).await.status,
        200,
        "the next request is answered"
    );
}

#[tokio::test]
async fn a_delay_fault_slows_the_answer_without_changing_it() {
    let h = start().await;
    h.control(Method::POST, "/faults", Some(json!({"delay_ms": 300})))
        .await;
    let started = Instant::now();
    assert_eq!(h.send(h.http.get(h.url("/health"))).await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(
        h.control(Method::GET, "/faults", None).await.body,
        json!([])
    );
}

#[tokio::test]
async fn a_skewed_server_clock_shows_in_issued_tokens() {
    let h = start().await;
    h.skew_clock(-600.0).await;
    let claims = claims(&h.sign_in().await.access_token());
    let lag = chrono::Utc::now().timestamp() - claims["iat"].as_i64().unwrap();
    assert!(
        (595..=605).contains(&lag),
        "iat is 10 minutes behind: {lag}"
    );
}

#[tokio::test]
async fn the_date_header_follows_the_server_clock() {
    let h = start().await;
    h.skew_clock(-600.0).await;
    let reply = h.sign_in().await;
    let date = reply.header("date").expect("a Date header");
    let said = chrono::DateTime::parse_from_rfc2822(date).expect("an HTTP date");
    let lag = chrono::Utc::now().timestamp() - said.timestamp();
    assert!(
        (598..=602).contains(&lag),
        "Date is 10 minutes behind: {date} ({lag} s)"
    );
}
