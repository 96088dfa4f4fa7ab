//! The control surface the app's playground drives: session limits changed on the running
//! server, a session made older than it is, and the server down for a while. One test per
//! rule, named for it.

mod common;

use std::time::Duration;

use common::{claims, start, Harness};
use reqwest::Method;
use serde_json::json;

async fn set_policy(h: &Harness, policy: serde_json::Value) -> common::Reply {
    h.control(Method::PUT, "/sessions-policy", Some(policy))
        .await
}

async fn age(h: &Harness, session_id: &str, seconds: f64) {
    let reply = h
        .control(
            Method::POST,
            &format!("/sessions/{session_id}/age"),
            Some(json!({ "seconds": seconds })),
        )
        .await;
    assert_eq!(reply.status, 204, "{}", reply.text);
}

/// Signs in: the refresh token and the session's id.
async fn signed_in(h: &Harness) -> (String, String) {
    let reply = h.sign_in().await;
    let session = claims(&reply.access_token())["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    (reply.refresh_token(), session)
}

#[tokio::test]
async fn a_timebox_set_at_run_time_ends_sessions_older_than_it_until_the_policy_is_reset() {
    let h = start().await;
    let (token, session) = signed_in(&h).await;
    let reply = set_policy(&h, json!({"timebox_seconds": 600})).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["timebox_seconds"], 600.0);
    // Younger than the timebox: refreshes.
    let token = h.refreshed(&token).await;
    age(&h, &session, 601.0).await;
    let reply = h.refresh(&token).await;
    assert_eq!(reply.code(), "session_expired", "{}", reply.text);
    assert_eq!(
        reply.body["message"],
        "Invalid Refresh Token: Session Expired"
    );
    // Back to the configured limits (none): the same token refreshes again.
    let reset = h.control(Method::DELETE, "/sessions-policy", None).await;
    assert_eq!(reset.status, 204);
    let policy = h.control(Method::GET, "/sessions-policy", None).await;
    assert!(policy.body["timebox_seconds"].is_null(), "{}", policy.text);
    assert_eq!(h.refresh(&token).await.status, 200);
}

#[tokio::test]
async fn an_inactivity_timeout_set_at_run_time_counts_from_the_last_refresh() {
    let h = start().await;
    let (token, session) = signed_in(&h).await;
    set_policy(&h, json!({"inactivity_timeout_seconds": 300})).await;
    age(&h, &session, 299.0).await;
    let token = h.refreshed(&token).await;
    // The refresh just now counts: 299 s more is still inside the timeout.
    age(&h, &session, 299.0).await;
    let token = h.refreshed(&token).await;
    age(&h, &session, 301.0).await;
    let reply = h.refresh(&token).await;
    assert_eq!(reply.code(), "session_expired", "{}", reply.text);
    assert_eq!(
        reply.body["message"],
        "Invalid Refresh Token: Session Expired (Inactivity)"
    );
}

#[tokio::test]
async fn a_session_policy_out_of_range_is_refused() {
    let h = start().await;
    for policy in [
        json!({"timebox_seconds": -1}),
        json!({"inactivity_timeout_seconds": 1e12}),
    ] {
        let reply = set_policy(&h, policy).await;
        assert_eq!(reply.status, 400, "{}", reply.text);
    }
}

#[tokio::test]
async fn aging_a_session_puts_a_used_token_outside_the_reuse_interval() {
    let h = start().await;
    let (first, session) = signed_in(&h).await;
    let second = h.refreshed(&first).await;
    let _third = h.refreshed(&second).await;
    // Made 11 s older than it is, the grandparent's use is outside the 10 s interval: refused,
    // and the family revoked.
    age(&h, &session, 11.0).await;
    let reply = h.refresh(&first).await;
    assert_eq!(reply.code(), "refresh_token_already_used", "{}", reply.text);
    let tokens = h.sessions().await[0]["refresh_tokens"].clone();
    assert!(
        tokens
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["revoked"] == true),
        "{tokens}"
    );
}

#[tokio::test]
async fn aging_an_unknown_session_is_not_found() {
    let h = start().await;
    let reply = h
        .control(
            Method::POST,
            "/sessions/00000000-0000-4000-8000-000000000000/age",
            Some(json!({"seconds": 5})),
        )
        .await;
    assert_eq!(reply.status, 404, "{}", reply.text);
}

#[tokio::test]
async fn an_outage_closes_every_connection_unanswered_until_it_ends_by_itself() {
    let h = start().await;
    let (token, _) = signed_in(&h).await;
    let reply = h
        .control(Method::POST, "/outage", Some(json!({"seconds": 0.5})))
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.body["down"], true);
    let started = std::time::Instant::now();
    let attempt = h
        .http
        .post(h.url("/token?grant_type=refresh_token"))
        .json(&json!({"refresh_token": token}))
        .send()
        .await;
    assert!(attempt.is_err(), "no answer while down: {attempt:?}");
    // The control surface stays up.
    let state = h.control(Method::GET, "/outage", None).await;
    assert_eq!(state.body["down"], true);
    // Up again by itself once the time has passed.
    loop {
        let state = h.control(Method::GET, "/outage", None).await;
        if state.body["down"] == false {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "still down");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(started.elapsed() >= Duration::from_millis(500));
    assert_eq!(h.refresh(&token).await.status, 200);
}

#[tokio::test]
async fn an_outage_ended_early_answers_at_once() {
    let h = start().await;
    let (token, _) = signed_in(&h).await;
    h.control(Method::POST, "/outage", Some(json!({"seconds": 60})))
        .await;
    let ended = h.control(Method::DELETE, "/outage", None).await;
    assert_eq!(ended.status, 204);
    assert_eq!(h.refresh(&token).await.status, 200);
}

#[tokio::test]
async fn an_injected_429_answers_with_gotrues_rate_limit_message() {
    let h = start().await;
    let (token, _) = signed_in(&h).await;
    let queued = h
        .control(
            Method::POST,
            "/faults",
            Some(json!({"count": 1, "path": "/token", "status": 429})),
        )
        .await;
    assert!(queued.status.is_success(), "{}", queued.text);
    let reply = h.refresh(&token).await;
    assert_eq!(reply.status, 429, "{}", reply.text);
    assert_eq!(reply.code(), "over_request_rate_limit");
    // The limiter's own words (protocol §1.7), not the HTTP reason phrase.
    assert_eq!(
        reply.body["message"], "Request rate limit reached",
        "{}",
        reply.text
    );
}

#[tokio::test]
async fn a_reuse_outside_the_interval_leaves_every_token_of_the_family_revoked() {
    let h = start().await;
    let (first, session) = signed_in(&h).await;
    let second = h.refreshed(&first).await;
    let _third = h.refreshed(&second).await;
    assert_eq!(h.server.family_revoked(&session).unwrap(), Some(false));
    age(&h, &session, 11.0).await;
    let reply = h.refresh(&first).await;
    assert_eq!(reply.code(), "refresh_token_already_used", "{}", reply.text);
    assert_eq!(h.server.family_revoked(&session).unwrap(), Some(true));
    assert_eq!(h.server.family_revoked("not-a-session").unwrap(), None);
}
