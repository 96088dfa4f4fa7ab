//! Session lifetime checks, sign-up, sign-out scopes, bans, protected routes, persistence.

mod common;

use std::time::Duration;

use common::{claims, start, start_with, EMAIL, PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn the_session_timebox_ends_sessions_after_their_lifetime() {
    let h = start_with(|c| c.sessions.timebox = Some(Duration::from_secs(60))).await;
    let token = h.sign_in().await.refresh_token();
    let token = h.refreshed(&token).await;
    h.skew_clock(61.0).await;
    let reply = h.refresh(&token).await;
    assert_eq!(reply.code(), "session_expired");
    assert_eq!(
        reply.body["message"],
        "Invalid Refresh Token: Session Expired"
    );
}

#[tokio::test]
async fn the_inactivity_timeout_counts_from_the_last_refresh() {
    let h = start_with(|c| c.sessions.inactivity_timeout = Some(Duration::from_secs(60))).await;
    let token = h.sign_in().await.refresh_token();
    h.skew_clock(50.0).await;
    let token = h.refreshed(&token).await;
    h.skew_clock(100.0).await;
    let token = h.refreshed(&token).await;
    h.skew_clock(161.0).await;
    let reply = h.refresh(&token).await;
    assert_eq!(reply.code(), "session_expired");
    assert_eq!(
        reply.body["message"],
        "Invalid Refresh Token: Session Expired (Inactivity)"
    );
}

#[tokio::test]
async fn with_single_session_per_user_only_the_newest_session_refreshes() {
    let h = start_with(|c| c.sessions.single_per_user = true).await;
    let older = h.sign_in().await.refresh_token();
    tokio::time::sleep(Duration::from_millis(2)).await;
    let newer = h.sign_in().await.refresh_token();
    let reply = h.refresh(&older).await;
    assert_eq!(reply.code(), "session_expired");
    assert_eq!(
        reply.body["message"],
        "Invalid Refresh Token: Session Expired (Revoked by Newer Login)"
    );
    assert_eq!(h.refresh(&newer).await.status, 200);
}

#[tokio::test]
async fn session_checks_are_off_by_default() {
    let h = start().await;
    let token = h.sign_in().await.refresh_token();
    h.skew_clock(30.0 * 86_400.0).await;
    assert_eq!(h.refresh(&token).await.status, 200);
}

#[tokio::test]
async fn signup_with_autoconfirm_returns_a_session() {
    let h = start().await;
    let reply = h
        .post(
            "/signup",
            json!({"email": "New@Example.com", "password": "secret-123", "data": {"plan": "pro"}}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["user"]["email"], "new@example.com");
    assert_eq!(reply.body["user"]["user_metadata"]["plan"], "pro");
    assert!(reply.body["user"]["email_confirmed_at"].is_string());
    assert_eq!(
        claims(&reply.access_token())["amr"][0]["method"],
        "password"
    );
    h.sign_in_as("new@example.com", "secret-123").await;
}

#[tokio::test]
async fn signup_without_autoconfirm_returns_the_bare_user() {
    let h = start_with(|c| c.autoconfirm = false).await;
    let reply = h
        .post(
            "/signup",
            json!({"email": "wait@example.com", "password": "secret-123"}),
        )
        .await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.get("access_token").is_none());
    assert_eq!(reply.body["email"], "wait@example.com");
    let login = h
        .post(
            "/token?grant_type=password",
            json!({"email": "wait@example.com", "password": "secret-123"}),
        )
        .await;
    assert_eq!(login.code(), "email_not_confirmed");
}

#[tokio::test]
async fn signup_with_neither_email_nor_phone_is_an_anonymous_sign_in() {
    let h = start().await;
    let reply = h.post("/signup", json!({})).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["user"]["is_anonymous"], true);
    let claims = claims(&reply.access_token());
    assert_eq!(claims["is_anonymous"], true);
    assert_eq!(claims["amr"][0]["method"], "anonymous");
    assert_eq!(reply.body["user"]["identities"], json!([]));
}

#[tokio::test]
async fn anonymous_sign_ins_can_be_disabled() {
    let h = start_with(|c| c.anonymous_sign_ins = false).await;
    let reply = h.post("/signup", json!({})).await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (422, "anonymous_provider_disabled")
    );
    let settings = h.send(h.http.get(h.url("/settings"))).await;
    assert_eq!(settings.body["external"]["anonymous_users"], false);
    assert_eq!(settings.body["external"]["email"], true);
}

#[tokio::test]
async fn signup_rejects_duplicates_weak_passwords_and_bad_emails() {
    let h = start().await;
    let dup = h
        .post("/signup", json!({"email": EMAIL, "password": "another-1"}))
        .await;
    assert_eq!(
        (dup.status.as_u16(), dup.code()),
        (422, "user_already_exists")
    );
    let weak = h
        .post(
            "/signup",
            json!({"email": "weak@example.com", "password": "123"}),
        )
        .await;
    assert_eq!((weak.status.as_u16(), weak.code()), (422, "weak_password"));
    assert_eq!(weak.body["weak_password"]["reasons"], json!(["length"]));
    let bad = h
        .post(
            "/signup",
            json!({"email": "not-an-email", "password": "secret-123"}),
        )
        .await;
    assert_eq!(bad.code(), "validation_failed");
}

#[tokio::test]
async fn wrong_passwords_and_unknown_users_are_invalid_credentials() {
    let h = start().await;
    for body in [
        json!({"email": EMAIL, "password": "wrong"}),
        json!({"email": "nobody@example.com", "password": PASSWORD}),
    ] {
        let reply = h.post("/token?grant_type=password", body).await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (400, "invalid_credentials")
        );
        assert_eq!(reply.body["message"], "Invalid login credentials");
    }
    let missing = h
        .post("/token?grant_type=password", json!({"password": "x"}))
        .await;
    assert_eq!(missing.code(), "validation_failed");
}

#[tokio::test]
async fn get_user_returns_the_user_of_the_bearer_token() {
    let h = start().await;
    let reply = h.sign_in().await;
    let user = h.get_user(&reply.access_token()).await;
    assert_eq!(user.status, 200);
    assert_eq!(user.body["email"], EMAIL);
    assert_eq!(user.body["id"], reply.body["user"]["id"]);
}

#[tokio::test]
async fn protected_routes_check_the_bearer_token() {
    let h = start().await;
    let none = h
        .send(
            h.http
                .get(h.url("/user"))
                .header("X-Supabase-Api-Version", "2024-01-01"),
        )
        .await;
    assert_eq!(
        (none.status.as_u16(), none.code()),
        (401, "no_authorization")
    );
    let garbage = h.get_user("not.a.jwt").await;
    assert_eq!((garbage.status.as_u16(), garbage.code()), (403, "bad_jwt"));
    let token = h.sign_in().await.access_token();
    let mut forged = token.clone();
    forged.truncate(token.len() - 4);
    forged.push_str("AAAA");
    assert_eq!(h.get_user(&forged).await.code(), "bad_jwt");
    h.skew_clock(3601.0).await;
    assert_eq!(h.get_user(&token).await.code(), "bad_jwt", "expired");
}

async fn two_sessions(h: &common::Harness) -> (common::Reply, common::Reply) {
    (h.sign_in().await, h.sign_in().await)
}

async fn logout(h: &common::Harness, access_token: &str, scope: Option<&str>) -> common::Reply {
    let url = match scope {
        Some(scope) => h.url(&format!("/logout?scope={scope}")),
        None => h.url("/logout"),
    };
    h.send(
        h.http
            .post(url)
            .header("X-Supabase-Api-Version", "2024-01-01")
            .bearer_auth(access_token),
    )
    .await
}

#[tokio::test]
async fn logout_local_ends_only_this_session() {
    let h = start().await;
    let (a, b) = two_sessions(&h).await;
    let reply = logout(&h, &a.access_token(), Some("local")).await;
    assert_eq!(reply.status, 204);
    assert!(reply.text.is_empty());
    assert_eq!(
        h.refresh(&a.refresh_token()).await.code(),
        "refresh_token_not_found"
    );
    assert_eq!(h.refresh(&b.refresh_token()).await.status, 200);
    let user = h.get_user(&a.access_token()).await;
    assert_eq!(
        (user.status.as_u16(), user.code()),
        (403, "session_not_found")
    );
}

#[tokio::test]
async fn logout_global_ends_every_session_of_the_user() {
    let h = start().await;
    let (a, b) = two_sessions(&h).await;
    assert_eq!(logout(&h, &a.access_token(), None).await.status, 204);
    for reply in [&a, &b] {
        assert_eq!(
            h.refresh(&reply.refresh_token()).await.code(),
            "refresh_token_not_found"
        );
    }
    assert_eq!(h.sessions().await, json!([]));
}

#[tokio::test]
async fn logout_others_keeps_only_this_session() {
    let h = start().await;
    let (a, b) = two_sessions(&h).await;
    assert_eq!(
        logout(&h, &a.access_token(), Some("others")).await.status,
        204
    );
    assert_eq!(h.refresh(&a.refresh_token()).await.status, 200);
    assert_eq!(
        h.refresh(&b.refresh_token()).await.code(),
        "refresh_token_not_found"
    );
}

#[tokio::test]
async fn logout_rejects_unknown_scopes_and_repeated_logouts() {
    let h = start().await;
    let a = h.sign_in().await;
    let bad = logout(&h, &a.access_token(), Some("everyone")).await;
    assert_eq!(
        (bad.status.as_u16(), bad.code()),
        (400, "validation_failed")
    );
    assert_eq!(bad.body["message"], "Unsupported logout scope \"everyone\"");
    assert_eq!(logout(&h, &a.access_token(), None).await.status, 204);
    assert_eq!(
        logout(&h, &a.access_token(), None).await.code(),
        "session_not_found"
    );
}

#[tokio::test]
async fn banned_users_cannot_refresh_sign_in_or_read_themselves() {
    let h = start().await;
    let a = h.sign_in().await;
    let id = a.body["user"]["id"].as_str().unwrap().to_string();
    let ban = h
        .control(
            Method::POST,
            &format!("/users/{id}/ban"),
            Some(json!({"seconds": 600})),
        )
        .await;
    assert_eq!(ban.status, 200);
    let refresh = h.refresh(&a.refresh_token()).await;
    assert_eq!(
        (refresh.code(), refresh.body["message"].as_str()),
        ("user_banned", Some("Invalid Refresh Token: User Banned"))
    );
    assert_eq!(h.get_user(&a.access_token()).await.code(), "user_banned");
    let login = h
        .post(
            "/token?grant_type=password",
            json!({"email": EMAIL, "password": PASSWORD}),
        )
        .await;
    assert_eq!(login.code(), "user_banned");
    assert_eq!(
        h.control(Method::DELETE, &format!("/users/{id}/ban"), None)
            .await
            .status,
        204
    );
    assert_eq!(h.refresh(&a.refresh_token()).await.status, 200);
}

#[tokio::test]
async fn a_data_file_keeps_users_sessions_and_keys_across_restarts() {
    let dir = std::env::temp_dir().join(format!("local-gotrue-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("auth.sqlite");
    let configure = |c: &mut local_gotrue::Config| {
        c.data_path = Some(path.clone());
        c.signing = local_gotrue::SigningAlgorithm::Es256;
    };
    let (token, kid) = {
        let h = start_with(configure).await;
        let token = h.sign_in().await.refresh_token();
        let jwks = h.send(h.http.get(h.url("/.well-known/jwks.json"))).await;
        (
            h.refreshed(&token).await,
            jwks.body["keys"][0]["kid"].clone(),
        )
    };
    let h = start_with(configure).await;
    let reply = h.refresh(&token).await;
    assert_eq!(
        reply.status, 200,
        "the stored session refreshes after a restart: {}",
        reply.text
    );
    let jwks = h.send(h.http.get(h.url("/.well-known/jwks.json"))).await;
    assert_eq!(jwks.body["keys"][0]["kid"], kid, "the signing key survived");
    let users: Value = h.control(Method::GET, "/users", None).await.body;
    assert_eq!(
        users.as_array().unwrap().len(),
        1,
        "the demo user was not created twice"
    );
    drop(h);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn put_user_merges_metadata_and_changes_the_password() {
    let h = start().await;
    let token = h.sign_in().await.access_token();
    let put = |body: Value| {
        h.http
            .put(h.url("/user"))
            .header("X-Supabase-Api-Version", "2024-01-01")
            .bearer_auth(&token)
            .json(&body)
    };
    let reply = h
        .send(put(json!({"data": {"plan": "pro", "name": null}})))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        reply.body["user_metadata"],
        json!({"plan": "pro"}),
        "merged; null removes"
    );
    assert_eq!(
        h.send(put(json!({"password": "123"}))).await.code(),
        "weak_password"
    );
    assert_eq!(
        h.send(put(json!({"password": "a-new-password"})))
            .await
            .status,
        200
    );
    h.sign_in_as(EMAIL, "a-new-password").await;
}

/// A token signed with the server's own secret carrying `claims`.
fn signed(claims: Value) -> String {
    use local_gotrue::config::{SigningAlgorithm, DEFAULT_JWT_SECRET};
    use local_gotrue::jwt::Keys;
    Keys::new(
        DEFAULT_JWT_SECRET,
        SigningAlgorithm::Hs256,
        &Keys::generate_ec_private(),
    )
    .expect("keys")
    .sign_hs256(&claims)
}

#[tokio::test]
async fn maybe_load_user_or_session_refuses_a_session_id_that_is_not_a_uuid() {
    let h = start().await;
    let user = claims(&h.sign_in().await.access_token())["sub"].clone();
    let token = signed(json!({"sub": user, "role": "authenticated", "session_id": "abc"}));
    let reply = h.get_user(&token).await;
    assert_eq!(
        (
            reply.status.as_u16(),
            reply.code(),
            reply.body["message"].as_str()
        ),
        (
            403,
            "bad_jwt",
            Some("invalid claim: session_id claim must be a UUID")
        ),
        "{}",
        reply.text
    );
}

#[tokio::test]
async fn maybe_load_user_or_session_treats_the_nil_session_id_as_no_session() {
    let h = start().await;
    let user = claims(&h.sign_in().await.access_token())["sub"].clone();
    let token = signed(json!({"sub": user, "role": "authenticated",
        "session_id": "00000000-0000-0000-0000-000000000000"}));
    let reply = h.get_user(&token).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["id"], user);
}

#[tokio::test]
async fn maybe_load_user_or_session_refuses_a_missing_or_malformed_sub() {
    let h = start().await;
    let reply = h.get_user(&signed(json!({"role": "authenticated"}))).await;
    assert_eq!(
        (
            reply.status.as_u16(),
            reply.code(),
            reply.body["message"].as_str()
        ),
        (403, "bad_jwt", Some("invalid claim: missing sub claim")),
        "{}",
        reply.text
    );
    let reply = h
        .get_user(&signed(json!({"sub": "nope", "role": "authenticated"})))
        .await;
    assert_eq!(
        (
            reply.status.as_u16(),
            reply.code(),
            reply.body["message"].as_str()
        ),
        (
            400,
            "bad_jwt",
            Some("invalid claim: sub claim must be a UUID")
        ),
        "{}",
        reply.text
    );
}
