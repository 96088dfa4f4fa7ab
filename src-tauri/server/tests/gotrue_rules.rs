//! GoTrue's rules as supabase/auth implements them (`internal/tokens/service.go`
//! `RefreshTokenGrant`, `internal/api/token.go`, `signup.go`, `user.go`, `logout.go`,
//! `errors.go`), one test per rule, named for it.

mod common;

use std::time::Duration;

use common::{start, start_with, Harness, EMAIL, PASSWORD};
use local_gotrue::refresh_token::V2Token;
use local_gotrue::{RateLimit, RefreshTokenFormat};
use reqwest::Method;
use serde_json::{json, Value};

const REUSE: &str = "sb-auth-refresh-token-reuse";
const CAUSE: &str = "sb-auth-refresh-token-reuse-cause";
const ROTATED: &str = "sb-auth-refresh-token-rotated";
const PREFIX: &str = "sb-auth-refresh-token-prefix";
const COUNTER: &str = "sb-auth-refresh-token-counter";
const USER_ID: &str = "sb-auth-user-id";
const SESSION_ID: &str = "sb-auth-session-id";

async fn v2() -> Harness {
    start_with(|c| c.refresh_token_format = RefreshTokenFormat::V2).await
}

/// Signs in and refreshes `refreshes` times: the chain of refresh tokens, oldest first.
async fn chain(h: &Harness, refreshes: usize) -> Vec<String> {
    let mut tokens = vec![h.sign_in().await.refresh_token()];
    for _ in 0..refreshes {
        let next = h.refreshed(tokens.last().unwrap()).await;
        tokens.push(next);
    }
    tokens
}

async fn user_count(h: &Harness) -> usize {
    let users = h.control(Method::GET, "/users", None).await.body;
    users.as_array().map_or(0, Vec::len)
}

async fn user_id(h: &Harness, access_token: &str) -> String {
    h.get_user(access_token).await.body["id"]
        .as_str()
        .expect("a user id")
        .to_string()
}

async fn create_user(h: &Harness, user: Value) -> Value {
    let reply = h.control(Method::POST, "/users", Some(user)).await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    reply.body
}

async fn put_user(h: &Harness, access_token: &str, body: Value) -> common::Reply {
    h.send(
        h.http
            .put(h.url("/user"))
            .header("X-Supabase-Api-Version", "2024-01-01")
            .bearer_auth(access_token)
            .json(&body),
    )
    .await
}

// ---- 1. Rotation and reuse -------------------------------------------------------------------

#[tokio::test]
async fn legacy_tokens_rotate_even_with_rotation_off() {
    let h = start_with(|c| c.rotation_enabled = false).await;
    let t0 = h.sign_in().await.refresh_token();
    let t1 = h.refreshed(&t0).await;
    assert_ne!(t1, t0, "GrantRefreshTokenSwap runs whatever the setting");
    let t2 = h.refreshed(&t1).await;
    // Reuse outside the interval still fails; without rotation the family is not revoked.
    h.skew_clock(11.0).await;
    assert_eq!(h.refresh(&t0).await.code(), "refresh_token_already_used");
    assert_eq!(h.refresh(&t2).await.status, 200, "the family survives");
}

#[tokio::test]
async fn legacy_reuse_outside_the_interval_revokes_the_family_with_rotation_on() {
    let h = start().await;
    let [t0, _, t2] = <[String; 3]>::try_from(chain(&h, 2).await).unwrap();
    h.skew_clock(11.0).await;
    assert_eq!(h.refresh(&t0).await.code(), "refresh_token_already_used");
    // `RevokeTokenFamily` also sets `updated_at = now()`, so the revoked head is itself a
    // reuse inside the interval for 10 s (GoTrue's behaviour, kept); after that it is dead.
    h.skew_clock(22.0).await;
    assert_eq!(h.refresh(&t2).await.code(), "refresh_token_already_used");
}

#[tokio::test]
async fn allow_reuse_applies_to_v2_tokens_only() {
    let legacy = start_with(|c| c.allow_reuse = true).await;
    let t0 = chain(&legacy, 2).await.swap_remove(0);
    legacy.skew_clock(3600.0).await;
    assert_eq!(
        legacy.refresh(&t0).await.code(),
        "refresh_token_already_used",
        "the legacy path never reads REFRESH_TOKEN_ALLOW_REUSE"
    );

    let h = start_with(|c| {
        c.refresh_token_format = RefreshTokenFormat::V2;
        c.allow_reuse = true;
    })
    .await;
    let [v0, _, v2] = <[String; 3]>::try_from(chain(&h, 2).await).unwrap();
    h.skew_clock(3600.0).await;
    let reply = h.refresh(&v0).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.refresh_token(), v2);
    assert_eq!(reply.header(CAUSE), Some("always-allow"));
}

// ---- 2. The sb-auth-* headers ------------------------------------------------------------------

#[tokio::test]
async fn legacy_swaps_say_reuse_false_with_a_prefix_and_nothing_else() {
    let h = start().await;
    let t0 = h.sign_in().await.refresh_token();
    let reply = h.refresh(&t0).await;
    assert_eq!(reply.header(REUSE), Some("false"));
    assert_eq!(reply.header(PREFIX), Some(&reply.refresh_token()[..5]));
    for absent in [CAUSE, ROTATED, COUNTER] {
        assert_eq!(reply.header(absent), None, "{absent}");
    }
    assert!(reply.header(USER_ID).is_some() && reply.header(SESSION_ID).is_some());
}

#[tokio::test]
async fn legacy_reuse_inside_the_interval_is_a_swap_with_reuse_false() {
    let h = start().await;
    let [t0, _, t2] = <[String; 3]>::try_from(chain(&h, 2).await).unwrap();
    let reply = h.refresh(&t0).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_ne!(reply.refresh_token(), t2, "a new child of the reused token");
    assert_eq!(reply.header(REUSE), Some("false"));
    assert_eq!(reply.header(CAUSE), None, "legacy never sends a cause");
    assert_eq!(reply.header(ROTATED), None);
}

#[tokio::test]
async fn legacy_each_accepted_reuse_starts_the_tokens_interval_again() {
    // `GrantRefreshTokenSwap` writes the accepted token with `UpdateOnly`, which renews
    // `updated_at` even on a row already revoked: a reuse 8 s after the first use, then
    // (once its child rotated on, so t0 is no parent of the active token) another 8 s later,
    // 16 s after the first use, are both inside the interval.
    let h = start().await;
    let [t0, _, _] = <[String; 3]>::try_from(chain(&h, 2).await).unwrap();
    h.skew_clock(8.0).await;
    let first = h.refresh(&t0).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let next = h.refreshed(&first.refresh_token()).await;
    h.skew_clock(16.0).await;
    let again = h.refresh(&t0).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_ne!(
        again.refresh_token(),
        next,
        "a new child of t0, not the active token"
    );
    h.refreshed(&again.refresh_token()).await;
    h.skew_clock(27.0).await;
    assert_eq!(h.refresh(&t0).await.code(), "refresh_token_already_used");
}

#[tokio::test]
async fn legacy_parent_of_the_active_token_gets_it_again_without_a_reuse_header() {
    let h = start().await;
    let t0 = h.sign_in().await.refresh_token();
    let t1 = h.refreshed(&t0).await;
    h.skew_clock(3600.0).await;
    let reply = h.refresh(&t0).await;
    assert_eq!(reply.refresh_token(), t1);
    assert_eq!(reply.header(REUSE), None);
    assert_eq!(reply.header(CAUSE), None);
    assert_eq!(reply.header(PREFIX), Some(&t1[..5]));
}

#[tokio::test]
async fn v2_reuse_causes_are_joined_by_commas() {
    let h = v2().await;
    let t0 = h.sign_in().await.refresh_token();
    let t1 = h.refreshed(&t0).await;
    let reply = h.refresh(&t0).await;
    assert_eq!(reply.refresh_token(), t1);
    assert_eq!(reply.header(CAUSE), Some("concurrent-refresh,fail-to-save"));
    assert_eq!(
        reply.header(REUSE),
        None,
        "GoTrue sets reuse only on normal use"
    );
    assert_eq!(reply.header(COUNTER), Some("1"));
    assert_eq!(reply.header(ROTATED), None);

    let normal = h.refresh(&t1).await;
    assert_eq!(normal.header(REUSE), Some("false"));
    assert_eq!(normal.header(COUNTER), Some("2"));
    assert_eq!(normal.header(CAUSE), None);
    assert_eq!(normal.header(PREFIX), None);
}

#[tokio::test]
async fn v2_rotated_true_only_on_the_error_that_terminates_the_session() {
    let h = v2().await;
    let t0 = h.sign_in().await.refresh_token();
    let session = V2Token::decode(&t0).unwrap().session_id.to_string();
    let t1 = h.refreshed(&t0).await;
    let t2 = h.refreshed(&t1).await;
    assert_eq!(h.refresh(&t2).await.header(ROTATED), None, "normal use");
    h.skew_clock(11.0).await;
    let reply = h.refresh(&t0).await;
    assert_eq!(reply.code(), "refresh_token_already_used");
    assert_eq!(reply.header(ROTATED), Some("true"));
    assert_eq!(reply.header(SESSION_ID), Some(session.as_str()));
    assert!(reply.header(USER_ID).is_some());

    let kept = start_with(|c| {
        c.refresh_token_format = RefreshTokenFormat::V2;
        c.rotation_enabled = false;
    })
    .await;
    let [k0, _, k2] = <[String; 3]>::try_from(chain(&kept, 2).await).unwrap();
    kept.skew_clock(11.0).await;
    let reply = kept.refresh(&k0).await;
    assert_eq!(reply.code(), "refresh_token_already_used");
    assert_eq!(reply.header(ROTATED), None, "nothing was terminated");
    assert_eq!(kept.refresh(&k2).await.status, 200);
}

#[tokio::test]
async fn user_and_session_ids_come_on_errors_after_the_lookup() {
    let h = start_with(|c| c.sessions.timebox = Some(Duration::from_secs(60))).await;
    let first = h.sign_in().await;
    let id = user_id(&h, &first.access_token()).await;
    h.skew_clock(61.0).await;
    let expired = h.refresh(&first.refresh_token()).await;
    assert_eq!(expired.code(), "session_expired");
    assert_eq!(expired.header(USER_ID), Some(id.as_str()));
    assert!(expired.header(SESSION_ID).is_some());

    let banned = start().await;
    let reply = banned.sign_in().await;
    let id = user_id(&banned, &reply.access_token()).await;
    banned
        .control(
            Method::POST,
            &format!("/users/{id}/ban"),
            Some(json!({"seconds": 600})),
        )
        .await;
    let refused = banned.refresh(&reply.refresh_token()).await;
    assert_eq!(refused.code(), "user_banned");
    assert_eq!(refused.header(USER_ID), Some(id.as_str()));
    assert_eq!(refused.header(SESSION_ID), None, "set after the ban check");

    let unknown = banned.refresh("abcdefghijkl").await;
    assert_eq!(unknown.header(USER_ID), None);
}

// ---- 3. Small rules --------------------------------------------------------------------------

#[tokio::test]
async fn an_empty_body_is_bad_json() {
    let h = start().await;
    for path in [
        "/signup",
        "/token?grant_type=refresh_token",
        "/token?grant_type=password",
    ] {
        let reply = h
            .send(
                h.http
                    .post(h.url(path))
                    .header("X-Supabase-Api-Version", "2024-01-01"),
            )
            .await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (400, "bad_json"),
            "{path}"
        );
    }
    assert_eq!(user_count(&h).await, 1, "no anonymous user was made");
}

#[tokio::test]
async fn unsupported_grant_type_is_answered_before_the_rate_limiter() {
    let h = start_with(|c| {
        c.rate_limit = Some(RateLimit {
            per_five_minutes: 1,
            burst: 2,
        })
    })
    .await;
    for _ in 0..5 {
        let reply = h.post("/token?grant_type=magic", json!({})).await;
        assert_eq!(reply.status, 400);
        assert_eq!(reply.body["message"], "unsupported_grant_type");
    }
    assert_eq!(h.sign_in().await.status, 200, "no token was taken");
}

#[tokio::test]
async fn an_empty_logout_scope_means_global() {
    let h = start().await;
    let a = h.sign_in().await;
    let b = h.sign_in().await;
    let reply = h
        .send(
            h.http
                .post(h.url("/logout?scope="))
                .bearer_auth(a.access_token()),
        )
        .await;
    assert_eq!(reply.status, 204, "{}", reply.text);
    assert_eq!(
        h.refresh(&b.refresh_token()).await.code(),
        "refresh_token_not_found"
    );
}

#[tokio::test]
async fn password_grant_checks_a_ban_before_the_password() {
    let h = start().await;
    let id = user_id(&h, &h.sign_in().await.access_token()).await;
    h.control(
        Method::POST,
        &format!("/users/{id}/ban"),
        Some(json!({"seconds": 600})),
    )
    .await;
    let reply = h
        .post(
            "/token?grant_type=password",
            json!({"email": EMAIL, "password": "not-the-password"}),
        )
        .await;
    assert_eq!(reply.code(), "user_banned");
}

#[tokio::test]
async fn password_grant_refuses_email_and_phone_together() {
    let h = start().await;
    let reply = h
        .post(
            "/token?grant_type=password",
            json!({"email": EMAIL, "phone": "15555550100", "password": PASSWORD}),
        )
        .await;
    assert_eq!(reply.code(), "validation_failed");
    assert_eq!(
        reply.body["message"],
        "Only an email address or phone number should be provided on login."
    );
}

#[tokio::test]
async fn password_grant_reports_a_weak_password_beside_the_session() {
    let h = start().await;
    create_user(&h, json!({"email": "old@example.com", "password": "abc"})).await;
    let reply = h.sign_in_as("old@example.com", "abc").await;
    assert!(reply.body["access_token"].is_string());
    assert_eq!(reply.body["weak_password"]["reasons"], json!(["length"]));
    assert!(reply.body["weak_password"]["message"].is_string());
    assert!(h.sign_in().await.body.get("weak_password").is_none());
}

#[tokio::test]
async fn the_weak_password_error_of_the_2024_envelope_has_no_error_code_header() {
    let h = start().await;
    let body = json!({"email": "weak@example.com", "password": "abc"});
    let v2024 = h.post("/signup", body.clone()).await;
    assert_eq!(
        (v2024.status.as_u16(), v2024.code()),
        (422, "weak_password")
    );
    assert_eq!(v2024.header("x-sb-error-code"), None);
    let initial = h.send(h.http.post(h.url("/signup")).json(&body)).await;
    assert_eq!(initial.header("x-sb-error-code"), Some("weak_password"));
}

#[tokio::test]
async fn signup_of_an_existing_user_answers_422_only_with_autoconfirm() {
    let h = start().await;
    let again = h
        .post(
            "/signup",
            json!({"email": EMAIL, "password": "another-pass"}),
        )
        .await;
    assert_eq!(
        (again.status.as_u16(), again.code()),
        (422, "user_already_exists")
    );

    // GoTrue answers 422 when either email or SMS sign-ups confirm themselves.
    let quiet = start_with(|c| {
        c.autoconfirm = false;
        c.phone_autoconfirm = false;
    })
    .await;
    let real = quiet.sign_in().await.body["user"].clone();
    let reply = quiet
        .post(
            "/signup",
            json!({"email": EMAIL, "password": "another-pass", "data": {"x": 1}}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_ne!(reply.body["id"], real["id"], "an obfuscated user");
    assert_eq!(reply.body["identities"], json!([]));
    assert_eq!(reply.body["user_metadata"], json!({"x": 1}));
    assert!(reply.body["email_confirmed_at"].is_null());
    assert!(reply.body.get("access_token").is_none());
    assert_eq!(user_count(&quiet).await, 1);
}

#[tokio::test]
async fn signup_again_of_an_unconfirmed_user_is_not_an_error() {
    let h = start_with(|c| {
        c.autoconfirm = false;
        c.max_frequency = Duration::ZERO;
    })
    .await;
    let body = json!({"email": "later@example.com", "password": "secret-123"});
    let first = h.post("/signup", body.clone()).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let second = h.post("/signup", body).await;
    assert_eq!(second.status, 200, "{}", second.text);
    assert_eq!(
        second.body["id"], first.body["id"],
        "the same, still unconfirmed user"
    );
    assert_eq!(signup_mail(&h, "later@example.com").await.len(), 2);
}

async fn signup_mail(h: &Harness, to: &str) -> Vec<Value> {
    let to: String = form_urlencoded::byte_serialize(to.as_bytes()).collect();
    let reply = h
        .control(Method::GET, &format!("/inbox?to={to}"), None)
        .await;
    reply.body.as_array().cloned().unwrap_or_default()
}

/// `signup.go` → `sendConfirmation` when `MAILER_AUTOCONFIRM` is off: the confirmation goes
/// out in the sign-up's transaction, the answer is the unconfirmed user with
/// `confirmation_sent_at`, and the code (or the link's token hash) confirms it.
#[tokio::test]
async fn signup_without_autoconfirm_sends_a_confirmation_that_confirms() {
    let h = start_with(|c| c.autoconfirm = false).await;
    let reply = h
        .post(
            "/signup?redirect_to=http://127.0.0.1:3000/welcome",
            json!({"email": "later@example.com", "password": "secret-123"}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(
        reply.body["confirmation_sent_at"].is_string(),
        "{}",
        reply.text
    );
    assert!(reply.body["email_confirmed_at"].is_null());
    let mail = signup_mail(&h, "later@example.com").await;
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert_eq!(mail[0]["kind"], "signup");
    let link = mail[0]["link"].as_str().unwrap();
    assert!(link.contains("type=signup"), "{link}");
    assert!(link.contains("redirect_to=http"), "{link}");
    let verified = h
        .post(
            "/verify",
            json!({"type": "signup", "email": "later@example.com", "token": mail[0]["code"]}),
        )
        .await;
    assert_eq!(verified.status, 200, "{}", verified.text);
    assert!(verified.body["user"]["email_confirmed_at"].is_string());
}

/// `sendConfirmation` checks `SMTP_MAX_FREQUENCY` first: signing up again before it has passed
/// is GoTrue's 429, and nothing is sent.
#[tokio::test]
async fn signup_again_within_the_max_frequency_is_429_over_email_send_rate_limit() {
    let h = start_with(|c| c.autoconfirm = false).await;
    let body = json!({"email": "later@example.com", "password": "secret-123"});
    assert_eq!(h.post("/signup", body.clone()).await.status, 200);
    let again = h.post("/signup", body).await;
    assert_eq!(
        (again.status.as_u16(), again.code()),
        (429, "over_email_send_rate_limit"),
        "{}",
        again.text
    );
    assert_eq!(signup_mail(&h, "later@example.com").await.len(), 1);
}

/// `sendPhoneConfirmation` for a phone sign-up when `SMS_AUTOCONFIRM` is off: a code by text
/// (the inbox), verified with type `sms`; without an SMS provider the sign-up fails and no user
/// is kept.
#[tokio::test]
async fn phone_signup_without_autoconfirm_texts_a_code_and_needs_a_provider() {
    let h = start_with(|c| c.phone_autoconfirm = false).await;
    // One address only (`SignupParams.validate`), then `validatePhone`: digits only, E.164.
    let reply = h
        .post(
            "/signup",
            json!({"email": "both@example.com", "phone": "+15550100166", "password": "secret-123"}),
        )
        .await;
    assert_eq!(
        (
            reply.status.as_u16(),
            reply.code(),
            reply.body["msg"]
                .as_str()
                .or(reply.body["message"].as_str())
        ),
        (
            400,
            "validation_failed",
            Some("Only an email address or phone number should be provided on signup.")
        ),
        "{}",
        reply.text
    );
    let reply = h
        .post(
            "/signup",
            json!({"phone": "call me", "password": "secret-123"}),
        )
        .await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (400, "validation_failed"),
        "{}",
        reply.text
    );
    let reply = h
        .post(
            "/signup",
            json!({"phone": "+1 555 010 0166", "password": "secret-123"}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        reply.body["phone"], "15550100166",
        "kept as GoTrue keeps it"
    );
    let texts = signup_mail(&h, "15550100166").await;
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert_eq!(texts[0]["kind"], "sms");
    let verified = h
        .post(
            "/verify",
            json!({"type": "sms", "phone": "15550100166", "token": texts[0]["code"]}),
        )
        .await;
    assert_eq!(verified.status, 200, "{}", verified.text);

    let h = start_with(|c| {
        c.phone_autoconfirm = false;
        c.sms_provider = false;
    })
    .await;
    let reply = h
        .post(
            "/signup",
            json!({"phone": "+15550100166", "password": "secret-123"}),
        )
        .await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (500, "unexpected_failure"),
        "{}",
        reply.text
    );
    let users = h.control(Method::GET, "/users", None).await;
    assert!(
        users
            .body
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["phone"] != "15550100166"),
        "{}",
        users.text
    );
}

#[tokio::test]
async fn an_anonymous_user_cannot_set_a_password_without_email_or_phone() {
    let h = start().await;
    let anonymous = h.post("/signup", json!({})).await;
    assert_eq!(anonymous.status, 200, "{}", anonymous.text);
    let reply = put_user(
        &h,
        &anonymous.access_token(),
        json!({"password": "secret-123"}),
    )
    .await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (422, "validation_failed")
    );
    assert_eq!(
        reply.body["message"],
        "Updating password of an anonymous user without an email or phone is not allowed"
    );
}

#[tokio::test]
async fn the_same_password_is_refused() {
    let h = start().await;
    let session = h.sign_in().await;
    let reply = put_user(&h, &session.access_token(), json!({"password": PASSWORD})).await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (422, "same_password")
    );
}

#[tokio::test]
async fn an_empty_password_in_put_user_is_a_weak_password() {
    let h = start().await;
    let session = h.sign_in().await;
    let reply = put_user(&h, &session.access_token(), json!({"password": ""})).await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (422, "weak_password")
    );
}

#[tokio::test]
async fn signup_again_of_an_unconfirmed_user_with_autoconfirm_confirms_and_signs_in() {
    let h = start().await;
    let created = create_user(
        &h,
        json!({"email": "pending@example.com", "password": "secret-123", "confirmed": false}),
    )
    .await;
    let reply = h
        .post(
            "/signup",
            json!({"email": "pending@example.com", "password": "secret-123"}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["user"]["id"], created["id"], "the same user");
    assert!(reply.body["access_token"].is_string(), "signed in");
    assert!(reply.body["user"]["email_confirmed_at"].is_string());
}

#[tokio::test]
async fn an_hs256_token_naming_a_published_key_is_refused() {
    let h = start_with(|c| c.signing = local_gotrue::SigningAlgorithm::Es256).await;
    let session = h.sign_in().await;
    assert_eq!(h.get_user(&session.access_token()).await.status, 200);
    let mut keys = local_gotrue::jwt::Keys::new(
        local_gotrue::config::DEFAULT_JWT_SECRET,
        local_gotrue::SigningAlgorithm::Hs256,
        &local_gotrue::jwt::Keys::generate_ec_private(),
    )
    .unwrap();
    keys.set_secret_kid(Some(h.server.key_id().to_string()));
    let forged = keys.sign(&common::claims(&session.access_token()));
    let reply = h.get_user(&forged).await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (403, "bad_jwt"),
        "{}",
        reply.text
    );
}

#[tokio::test]
async fn a_password_change_signs_out_every_other_session() {
    let h = start().await;
    let this = h.sign_in().await;
    let other = h.sign_in().await;
    let reply = put_user(
        &h,
        &this.access_token(),
        json!({"password": "a-new-password"}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(h.refresh(&this.refresh_token()).await.status, 200);
    assert_eq!(
        h.refresh(&other.refresh_token()).await.code(),
        "refresh_token_not_found"
    );
}

#[tokio::test]
async fn single_per_user_ignores_sessions_that_are_no_longer_valid() {
    let h = start_with(|c| c.sessions.single_per_user = true).await;
    let older = h.sign_in().await;
    let id = user_id(&h, &older.access_token()).await;
    tokio::time::sleep(Duration::from_millis(2)).await;
    // A newer session that ends after one second (as an SSO session's `not_after` does).
    let newer = h
        .control(
            Method::POST,
            "/sessions",
            Some(json!({"user_id": id, "not_after_seconds": 1})),
        )
        .await;
    assert_eq!(newer.status, 201, "{}", newer.text);
    assert_eq!(
        h.refresh(&older.refresh_token()).await.code(),
        "session_expired",
        "a valid newer session wins"
    );
    h.skew_clock(2.0).await;
    let reply = h.refresh(&older.refresh_token()).await;
    assert_eq!(
        reply.status, 200,
        "an ended session is not the user's active one: {}",
        reply.text
    );
}

// ---- 3. The legacy → v2 upgrade ----------------------------------------------------------------

#[tokio::test]
async fn legacy_sessions_upgrade_to_v2_mid_session() {
    let dir = std::env::temp_dir().join(format!("local-gotrue-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("auth.sqlite");
    let legacy = start_with(|c| c.data_path = Some(path.clone())).await;
    let t0 = legacy.sign_in().await.refresh_token();
    assert_eq!(t0.len(), 12);
    legacy.server.shutdown();

    let h = start_with(|c| {
        c.data_path = Some(path.clone());
        c.refresh_token_format = RefreshTokenFormat::V2;
        c.refresh_token_upgrade_percentage = 100;
    })
    .await;
    let reply = h.refresh(&t0).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let upgraded = reply.refresh_token();
    let decoded = V2Token::decode(&upgraded).expect("a v2 token");
    assert_eq!(decoded.counter, 0);
    assert_eq!(reply.header(COUNTER), Some("0"));
    assert_eq!(reply.header(REUSE), Some("false"));
    assert_eq!(reply.header(PREFIX), Some(&upgraded[..5]));
    let next = h.refresh(&upgraded).await;
    assert_eq!(next.status, 200, "{}", next.text);
    assert_eq!(V2Token::decode(&next.refresh_token()).unwrap().counter, 1);
    h.assert_consistent().await;
    drop(h);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn without_the_upgrade_legacy_sessions_stay_legacy_on_a_v2_server() {
    let dir = std::env::temp_dir().join(format!("local-gotrue-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("auth.sqlite");
    let legacy = start_with(|c| c.data_path = Some(path.clone())).await;
    let t0 = legacy.sign_in().await.refresh_token();
    legacy.server.shutdown();
    let h = start_with(|c| {
        c.data_path = Some(path.clone());
        c.refresh_token_format = RefreshTokenFormat::V2;
    })
    .await;
    let reply = h.refresh(&t0).await;
    assert_eq!(reply.refresh_token().len(), 12);
    assert_eq!(reply.header(COUNTER), None);
    drop(h);
    let _ = std::fs::remove_dir_all(dir);
}

// ---- 4. The anonymous sign-up limit ------------------------------------------------------------

#[tokio::test]
async fn anonymous_sign_ups_are_limited_to_30_an_hour_with_rate_limiting_on() {
    let h = start_with(|c| c.rate_limit = Some(RateLimit::default())).await;
    for n in 0..30 {
        let reply = h.post("/signup", json!({})).await;
        assert_eq!(reply.status, 200, "sign-up {n}: {}", reply.text);
    }
    let refused = h.post("/signup", json!({})).await;
    assert_eq!(
        (refused.status.as_u16(), refused.code()),
        (429, "over_request_rate_limit")
    );
    let email = h
        .post(
            "/signup",
            json!({"email": "n@example.com", "password": "secret-123"}),
        )
        .await;
    assert_eq!(
        email.status, 200,
        "only anonymous sign-ups count: {}",
        email.text
    );

    let open = start().await;
    for _ in 0..31 {
        assert_eq!(open.post("/signup", json!({})).await.status, 200);
    }
}
