//! GoTrue's one-time code rules as supabase/auth implements them (`internal/api/otp.go`,
//! `magic_link.go`, `recover.go`, `verify.go`, `mail.go`, `phone.go`), one test per rule,
//! named for it. Codes and links are read from the server's inbox.

mod common;

use std::time::Duration;

use common::{assert_error, claims, start, start_with, Harness, Reply, EMAIL};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha224};

const PHONE: &str = "15550100199";

async fn otp(h: &Harness, body: Value) -> Reply {
    h.post("/otp", body).await
}

async fn verify(h: &Harness, body: Value) -> Reply {
    h.post("/verify", body).await
}

/// The messages sent to `to`, oldest first, through the control surface.
async fn inbox(h: &Harness, to: &str) -> Vec<Value> {
    let reply = h
        .control(Method::GET, &format!("/inbox?to={}", urlencode(to)), None)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.body.as_array().cloned().unwrap_or_default()
}

async fn last_message(h: &Harness, to: &str) -> Value {
    inbox(h, to).await.pop().expect("a message was sent")
}

fn urlencode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn code_of(message: &Value) -> String {
    message["code"].as_str().expect("a code").to_string()
}

/// The `token` parameter of a message's link: the token hash.
fn token_hash_of(message: &Value) -> String {
    let link = message["link"].as_str().expect("a link");
    let query = link.split_once('?').expect("a query").1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "token")
        .expect("a token")
        .1
        .into_owned()
}

fn sha224_hex(text: &str) -> String {
    Sha224::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn users(h: &Harness) -> Vec<Value> {
    let reply = h.control(Method::GET, "/users", None).await;
    reply.body.as_array().cloned().unwrap_or_default()
}

async fn user_by_email(h: &Harness, email: &str) -> Option<Value> {
    users(h).await.into_iter().find(|u| u["email"] == email)
}

fn amr_method(reply: &Reply) -> Value {
    claims(&reply.access_token())["amr"][0]["method"].clone()
}

/// A client that shows redirects instead of following them.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

// ---- Sending ----------------------------------------------------------------------------------

#[tokio::test]
async fn otp_to_an_unknown_email_without_autoconfirm_signs_up_and_sends_a_confirmation() {
    let h = start_with(|c| c.autoconfirm = false).await;
    let reply = otp(
        &h,
        json!({"email": "New@Example.com", "data": {"plan": "pro"}}),
    )
    .await;
    assert_eq!(
        (reply.status.as_u16(), &reply.body),
        (200, &json!({})),
        "{}",
        reply.text
    );
    let user = user_by_email(&h, "new@example.com").await.expect("created");
    assert!(
        user["email_confirmed_at"].is_null(),
        "unconfirmed until verified"
    );
    assert_eq!(user["user_metadata"]["plan"], "pro");
    let message = last_message(&h, "new@example.com").await;
    assert_eq!(message["kind"], "signup");
    assert_eq!(message["subject"], "Confirm your email address");
    let code = code_of(&message);
    assert!(
        code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
        "{code}"
    );
    let expected_link = format!(
        "{}/verify?token={}&type=signup&redirect_to=http://127.0.0.1:3000",
        h.server.auth_url(),
        sha224_hex(&format!("new@example.com{code}"))
    );
    assert_eq!(message["link"], expected_link.as_str());
}

#[tokio::test]
async fn otp_to_an_unknown_email_with_autoconfirm_confirms_and_sends_a_magic_link() {
    let h = start().await;
    assert_eq!(
        otp(&h, json!({"email": "auto@example.com"})).await.status,
        200
    );
    let user = user_by_email(&h, "auto@example.com")
        .await
        .expect("created");
    assert!(user["email_confirmed_at"].is_string());
    assert_eq!(user["user_metadata"]["email_verified"], true);
    assert_eq!(
        last_message(&h, "auto@example.com").await["kind"],
        "magiclink"
    );
}

#[tokio::test]
async fn otp_to_a_known_user_sends_a_magic_link_whose_code_signs_in_with_amr_otp() {
    let h = start().await;
    assert_eq!(otp(&h, json!({"email": EMAIL})).await.status, 200);
    let message = last_message(&h, EMAIL).await;
    assert_eq!(
        (&message["kind"], &message["subject"]),
        (&json!("magiclink"), &json!("Your sign-in link"))
    );
    let reply = verify(
        &h,
        json!({"email": EMAIL, "token": code_of(&message), "type": "email"}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["user"]["email"], EMAIL);
    assert_eq!(amr_method(&reply), "otp");
    assert_eq!(h.get_user(&reply.access_token()).await.status, 200);
}

#[tokio::test]
async fn create_user_false_for_an_unknown_address_is_otp_disabled() {
    let h = start().await;
    for body in [
        json!({"email": "nobody@example.com", "create_user": false}),
        json!({"phone": PHONE, "create_user": false}),
        // GoTrue answers an address that does not validate the same way.
        json!({"email": "not-an-email", "create_user": false}),
    ] {
        let reply = otp(&h, body).await;
        assert_error(&reply, 422, "otp_disabled", "Signups not allowed for otp");
    }
    assert_eq!(users(&h).await.len(), 1, "only the demo user");
    assert!(h.server.inbox().is_empty());
    let known = otp(&h, json!({"email": EMAIL, "create_user": false})).await;
    assert_eq!(known.status, 200, "{}", known.text);
}

#[tokio::test]
async fn disable_signup_refuses_new_users_everywhere_but_not_known_ones() {
    let h = start_with(|c| c.disable_signup = true).await;
    let message = "Signups not allowed for this instance";
    assert_error(
        &otp(&h, json!({"email": "new@example.com"})).await,
        422,
        "signup_disabled",
        message,
    );
    assert_error(
        &otp(&h, json!({"phone": PHONE})).await,
        422,
        "signup_disabled",
        message,
    );
    assert_error(
        &h.post(
            "/signup",
            json!({"email": "new@example.com", "password": "secret-123"}),
        )
        .await,
        422,
        "signup_disabled",
        message,
    );
    assert_error(
        &h.post("/signup", json!({})).await,
        422,
        "signup_disabled",
        message,
    );
    assert_eq!(otp(&h, json!({"email": EMAIL})).await.status, 200);
    assert_eq!(users(&h).await.len(), 1);
}

#[tokio::test]
async fn otp_request_checks_come_in_gotrue_order() {
    let h = start().await;
    let cases = [
        (
            json!({"email": EMAIL, "phone": PHONE}),
            "Only an email address or phone number should be provided",
        ),
        (
            json!({"email": EMAIL, "channel": "sms"}),
            "Channel should only be specified with Phone OTP",
        ),
        (
            json!({"email": EMAIL, "code_challenge": "x".repeat(43)}),
            "PKCE flow requires code_challenge_method and code_challenge",
        ),
        (json!({}), "One of email or phone must be set"),
        (
            json!({"email": "a b@example.com"}),
            "Unable to validate email address: invalid format",
        ),
        (
            json!({"phone": "12ab"}),
            "Invalid phone number format (E.164 required)",
        ),
        (
            json!({"phone": PHONE, "channel": "whatsapp"}),
            "Invalid channel, supported values are 'sms' or 'whatsapp'. 'whatsapp' is only supported if Twilio or Twilio Verify is used as the provider.",
        ),
    ];
    for (body, message) in cases {
        assert_error(&otp(&h, body).await, 400, "validation_failed", message);
    }
    assert!(h.server.inbox().is_empty());
}

#[tokio::test]
async fn a_second_email_within_the_max_frequency_is_429_with_the_seconds_left() {
    let h = start().await;
    assert_eq!(otp(&h, json!({"email": EMAIL})).await.status, 200);
    let again = otp(&h, json!({"email": EMAIL})).await;
    assert_error(
        &again,
        429,
        "over_email_send_rate_limit",
        "For security purposes, you can only request this after 59 seconds.",
    );
    assert_eq!(
        inbox(&h, EMAIL).await.len(),
        1,
        "nothing sent the second time"
    );
    h.skew_clock(45.0).await;
    let later = otp(&h, json!({"email": EMAIL})).await;
    assert_eq!(later.status, 429);
    assert!(
        later.body["message"]
            .as_str()
            .unwrap()
            .contains("after 14 seconds"),
        "{}",
        later.text
    );
    h.skew_clock(61.0).await;
    assert_eq!(otp(&h, json!({"email": EMAIL})).await.status, 200);
}

#[tokio::test]
async fn a_second_sms_within_the_max_frequency_is_429_over_sms_send_rate_limit() {
    let h = start().await;
    assert_eq!(otp(&h, json!({"phone": PHONE})).await.status, 200);
    assert_error(
        &otp(&h, json!({"phone": format!("+{PHONE}")})).await,
        429,
        "over_sms_send_rate_limit",
        "For security purposes, you can only request this after 59 seconds.",
    );
}

#[tokio::test]
async fn magic_links_and_password_resets_share_one_timer() {
    let h = start().await;
    assert_eq!(otp(&h, json!({"email": EMAIL})).await.status, 200);
    let reset = h.post("/recover", json!({"email": EMAIL})).await;
    assert_eq!(
        (reset.status.as_u16(), reset.code()),
        (429, "over_email_send_rate_limit")
    );
}

#[tokio::test]
async fn the_resend_limit_outlives_the_used_code() {
    let h = start().await;
    otp(&h, json!({"email": EMAIL})).await;
    let code = code_of(&last_message(&h, EMAIL).await);
    let signed_in = verify(
        &h,
        json!({"email": EMAIL, "token": code, "type": "magiclink"}),
    )
    .await;
    assert_eq!(signed_in.status, 200);
    assert_eq!(otp(&h, json!({"email": EMAIL})).await.status, 429);
}

#[tokio::test]
async fn max_frequency_zero_turns_the_limit_off_and_a_new_code_replaces_the_old() {
    let h = start_with(|c| c.max_frequency = Duration::ZERO).await;
    otp(&h, json!({"email": EMAIL})).await;
    otp(&h, json!({"email": EMAIL})).await;
    let sent = inbox(&h, EMAIL).await;
    assert_eq!(sent.len(), 2);
    let old = verify(
        &h,
        json!({"email": EMAIL, "token": code_of(&sent[0]), "type": "email"}),
    )
    .await;
    if code_of(&sent[0]) != code_of(&sent[1]) {
        assert_eq!(old.status, 403, "the older code no longer works");
    }
    let new = verify(
        &h,
        json!({"email": EMAIL, "token": code_of(&sent[1]), "type": "email"}),
    )
    .await;
    assert_eq!(new.status, 200, "{}", new.text);
}

#[tokio::test]
async fn phone_codes_go_to_the_inbox_and_verify_with_type_sms() {
    let h = start_with(|c| c.phone_autoconfirm = false).await;
    let reply = otp(
        &h,
        json!({"phone": "+1 555 010 0199", "data": {"via": "sms"}}),
    )
    .await;
    assert_eq!(
        (reply.status.as_u16(), &reply.body),
        (200, &json!({})),
        "{}",
        reply.text
    );
    let user = users(&h)
        .await
        .into_iter()
        .find(|u| u["phone"] == PHONE)
        .expect("a phone user, stored as GoTrue stores the number");
    assert!(user["phone_confirmed_at"].is_null());
    let message = last_message(&h, "+1 555 010 0199").await;
    assert_eq!(
        (&message["kind"], &message["link"]),
        (&json!("sms"), &Value::Null)
    );
    let code = code_of(&message);
    assert_eq!(message["subject"], format!("Your code is {code}"));
    let reply = verify(
        &h,
        json!({"phone": format!("+{PHONE}"), "token": code, "type": "sms"}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(amr_method(&reply), "otp");
    assert!(reply.body["user"]["phone_confirmed_at"].is_string());
}

#[tokio::test]
async fn the_magiclink_route_takes_email_only() {
    let h = start().await;
    assert_eq!(
        h.post("/magiclink", json!({"email": EMAIL})).await.status,
        200
    );
    assert_eq!(last_message(&h, EMAIL).await["kind"], "magiclink");
    assert_error(
        &h.post("/magiclink", json!({"phone": PHONE})).await,
        422,
        "validation_failed",
        "Password recovery requires an email",
    );
    let broken = h
        .send(
            h.http
                .post(h.url("/magiclink"))
                .header("X-Supabase-Api-Version", "2024-01-01")
                .body("{"),
        )
        .await;
    assert_eq!((broken.status.as_u16(), broken.code()), (400, "bad_json"));
    assert!(broken.body["message"]
        .as_str()
        .unwrap()
        .starts_with("Could not read verification params: "));
}

#[tokio::test]
async fn recover_sends_a_reset_to_known_addresses_and_answers_the_same_for_unknown_ones() {
    let h = start().await;
    let unknown = h
        .post("/recover", json!({"email": "nobody@example.com"}))
        .await;
    assert_eq!((unknown.status.as_u16(), &unknown.body), (200, &json!({})));
    assert!(h.server.inbox().is_empty());
    assert_eq!(
        h.post("/recover", json!({"email": EMAIL})).await.status,
        200
    );
    let message = last_message(&h, EMAIL).await;
    assert_eq!(message["kind"], "recovery");
    let reply = verify(
        &h,
        json!({"email": EMAIL, "token": code_of(&message), "type": "recovery"}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(amr_method(&reply), "otp");
    assert_error(
        &h.post("/recover", json!({})).await,
        400,
        "validation_failed",
        "Password recovery requires an email",
    );
}

#[tokio::test]
async fn only_the_hash_of_address_and_code_is_stored() {
    let h = start().await;
    otp(&h, json!({"email": EMAIL})).await;
    let code = code_of(&last_message(&h, EMAIL).await);
    let stored: Vec<String> = h.server.state().db.run(|conn| {
        let mut statement = conn
            .prepare("SELECT token_hash FROM one_time_tokens WHERE token_hash IS NOT NULL")
            .unwrap();
        let rows = statement.query_map([], |row| row.get(0)).unwrap();
        rows.map(Result::unwrap).collect()
    });
    assert_eq!(stored, vec![sha224_hex(&format!("{EMAIL}{code}"))]);
}

// ---- Verifying --------------------------------------------------------------------------------

#[tokio::test]
async fn a_wrong_code_is_403_otp_expired() {
    let h = start().await;
    otp(&h, json!({"email": EMAIL})).await;
    let code = code_of(&last_message(&h, EMAIL).await);
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let reply = verify(&h, json!({"email": EMAIL, "token": wrong, "type": "email"})).await;
    assert_error(
        &reply,
        403,
        "otp_expired",
        "Token has expired or is invalid",
    );
    let unknown = verify(
        &h,
        json!({"email": "nobody@example.com", "token": code, "type": "email"}),
    )
    .await;
    assert_error(
        &unknown,
        403,
        "otp_expired",
        "Token has expired or is invalid",
    );
}

#[tokio::test]
async fn an_emailed_code_expires_after_mailer_otp_exp() {
    let h = start().await;
    otp(&h, json!({"email": EMAIL})).await;
    let code = code_of(&last_message(&h, EMAIL).await);
    h.skew_clock(3601.0).await;
    let reply = verify(&h, json!({"email": EMAIL, "token": code, "type": "email"})).await;
    assert_error(
        &reply,
        403,
        "otp_expired",
        "Token has expired or is invalid",
    );
}

#[tokio::test]
async fn a_texted_code_expires_after_sms_otp_exp() {
    let h = start_with(|c| c.sms_otp_exp = Duration::from_secs(30)).await;
    otp(&h, json!({"phone": PHONE})).await;
    let code = code_of(&last_message(&h, PHONE).await);
    h.skew_clock(31.0).await;
    let reply = verify(&h, json!({"phone": PHONE, "token": code, "type": "sms"})).await;
    assert_error(
        &reply,
        403,
        "otp_expired",
        "Token has expired or is invalid",
    );
}

#[tokio::test]
async fn a_code_works_once_and_uses_up_every_token_of_the_user() {
    let h = start_with(|c| c.max_frequency = Duration::ZERO).await;
    h.post("/recover", json!({"email": EMAIL})).await;
    let reset = last_message(&h, EMAIL).await;
    let first = verify(
        &h,
        json!({"email": EMAIL, "token": code_of(&reset), "type": "recovery"}),
    )
    .await;
    assert_eq!(first.status, 200, "{}", first.text);
    let again = verify(
        &h,
        json!({"email": EMAIL, "token": code_of(&reset), "type": "recovery"}),
    )
    .await;
    assert_error(
        &again,
        403,
        "otp_expired",
        "Token has expired or is invalid",
    );
    let by_hash = verify(
        &h,
        json!({"token_hash": token_hash_of(&reset), "type": "recovery"}),
    )
    .await;
    assert_error(
        &by_hash,
        403,
        "otp_expired",
        "Email link is invalid or has expired",
    );
}

#[tokio::test]
async fn a_token_hash_signs_in_once_and_type_email_finds_either_slot() {
    let h = start_with(|c| c.autoconfirm = false).await;
    otp(&h, json!({"email": "hash@example.com"})).await;
    let confirmation = last_message(&h, "hash@example.com").await;
    assert_eq!(confirmation["kind"], "signup");
    let reply = verify(
        &h,
        json!({"token_hash": token_hash_of(&confirmation), "type": "email"}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(amr_method(&reply), "otp");
    assert!(reply.body["user"]["email_confirmed_at"].is_string());
    assert_eq!(reply.body["user"]["user_metadata"]["email_verified"], true);
    let again = verify(
        &h,
        json!({"token_hash": token_hash_of(&confirmation), "type": "email"}),
    )
    .await;
    assert_error(
        &again,
        403,
        "otp_expired",
        "Email link is invalid or has expired",
    );

    otp(&h, json!({"email": EMAIL})).await;
    let magic = last_message(&h, EMAIL).await;
    let reply = verify(
        &h,
        json!({"token_hash": token_hash_of(&magic), "type": "email"}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
}

#[tokio::test]
async fn an_expired_link_is_email_link_invalid() {
    let h = start_with(|c| c.mailer_otp_exp = Duration::from_secs(120)).await;
    otp(&h, json!({"email": EMAIL})).await;
    let message = last_message(&h, EMAIL).await;
    h.skew_clock(121.0).await;
    let reply = verify(
        &h,
        json!({"token_hash": token_hash_of(&message), "type": "magiclink"}),
    )
    .await;
    assert_error(
        &reply,
        403,
        "otp_expired",
        "Email link is invalid or has expired",
    );
}

#[tokio::test]
async fn verify_request_checks_come_in_gotrue_order() {
    let h = start().await;
    let cases = [
        (
            json!({"token": "123456", "email": EMAIL}),
            400,
            "Verify requires a verification type",
        ),
        (
            json!({"type": "email", "token": "1", "token_hash": "h", "email": EMAIL}),
            400,
            "Verify requires either a token or a token hash",
        ),
        (
            json!({"type": "email", "token": "123456"}),
            400,
            "Only an email address or phone number should be provided on verify",
        ),
        (
            json!({"type": "email", "token": "123456", "email": "bad"}),
            422,
            "Invalid email format",
        ),
        (
            json!({"type": "magiclink", "token_hash": "h", "email": EMAIL}),
            400,
            "Only the token_hash and type should be provided",
        ),
        (
            json!({"type": "sms", "token_hash": "h"}),
            400,
            "Invalid email verification type",
        ),
        (
            json!({"type": "sms", "token": "123456", "phone": "12ab"}),
            400,
            "Invalid phone number format (E.164 required)",
        ),
    ];
    for (body, status, message) in cases {
        assert_error(
            &verify(&h, body).await,
            status,
            "validation_failed",
            message,
        );
    }
}

#[tokio::test]
async fn a_banned_user_cannot_verify() {
    let h = start().await;
    otp(&h, json!({"email": EMAIL})).await;
    let message = last_message(&h, EMAIL).await;
    let id = user_by_email(&h, EMAIL).await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    h.control(Method::POST, &format!("/users/{id}/ban"), Some(json!({})))
        .await;
    let reply = verify(
        &h,
        json!({"email": EMAIL, "token": code_of(&message), "type": "email"}),
    )
    .await;
    assert_error(&reply, 403, "user_banned", "User is banned");
}

// ---- The link in a browser --------------------------------------------------------------------

#[tokio::test]
async fn the_link_redirects_with_the_session_in_the_fragment() {
    let h = start().await;
    let redirect = "http://127.0.0.1:5173/welcome";
    h.post(
        &format!("/otp?redirect_to={}", urlencode(redirect)),
        json!({"email": EMAIL}),
    )
    .await;
    let link = last_message(&h, EMAIL).await["link"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        link.ends_with(&format!("&redirect_to={redirect}")),
        "{link}"
    );
    // A browser has no API key: the gateway lets /verify through, as the hosted one does.
    let response = no_redirects().get(&link).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let (target, fragment) = location.split_once('#').expect("a fragment");
    assert_eq!(target, redirect);
    let keys: Vec<String> = form_urlencoded::parse(fragment.as_bytes())
        .map(|(k, _)| k.into_owned())
        .collect();
    assert_eq!(
        keys,
        [
            "access_token",
            "expires_at",
            "expires_in",
            "refresh_token",
            "sb",
            "token_type",
            "type"
        ]
    );
    let value = |key: &str| {
        form_urlencoded::parse(fragment.as_bytes())
            .find(|(k, _)| k == key)
            .unwrap()
            .1
            .into_owned()
    };
    assert_eq!(
        (value("type"), value("token_type")),
        ("magiclink".into(), "bearer".into())
    );
    assert_eq!(h.get_user(&value("access_token")).await.status, 200);
    assert_eq!(h.refresh(&value("refresh_token")).await.status, 200);
}

#[tokio::test]
async fn a_used_link_redirects_with_the_error_in_the_fragment() {
    let h = start_with(|c| c.require_api_key = true).await;
    let otp_reply = h
        .send(
            h.http
                .post(h.url("/otp"))
                .header("apikey", h.server.anon_key())
                .json(&json!({"email": EMAIL})),
        )
        .await;
    assert_eq!(otp_reply.status, 200, "{}", otp_reply.text);
    let link = last_message(&h, EMAIL).await["link"]
        .as_str()
        .unwrap()
        .to_string();
    let client = no_redirects();
    assert_eq!(client.get(&link).send().await.unwrap().status(), 303);
    let second = client.get(&link).send().await.unwrap();
    assert_eq!(second.status(), 303);
    assert_eq!(
        second.headers()["location"],
        "http://127.0.0.1:3000#error=access_denied&error_code=otp_expired&error_description=Email+link+is+invalid+or+has+expired&sb="
    );
    let no_type = client.get(h.url("/verify?token=abc")).send().await.unwrap();
    assert_eq!(
        no_type.status(),
        400,
        "a missing type is a JSON error, not a redirect"
    );
}

#[tokio::test]
async fn redirect_to_must_be_the_site_or_a_loopback_address() {
    let h = start_with(|c| c.max_frequency = Duration::ZERO).await;
    for (asked, kept) in [
        ("https://evil.example/x", "http://127.0.0.1:3000"),
        ("http://127.0.0.1:8080/cb", "http://127.0.0.1:8080/cb"),
        (
            "http://127.0.0.1:3000/next?a=1&b=2",
            "http%3A%2F%2F127.0.0.1%3A3000%2Fnext%3Fa%3D1%26b%3D2",
        ),
    ] {
        h.post(
            &format!("/otp?redirect_to={}", urlencode(asked)),
            json!({"email": EMAIL}),
        )
        .await;
        let link = last_message(&h, EMAIL).await["link"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            link.ends_with(&format!("&redirect_to={kept}")),
            "{asked}: {link}"
        );
    }
}

// ---- Settings and the inbox -------------------------------------------------------------------

#[tokio::test]
async fn settings_announce_phone_and_the_sign_up_switches() {
    let h = start_with(|c| {
        c.disable_signup = true;
        c.phone_autoconfirm = false;
        c.autoconfirm = false;
    })
    .await;
    let settings = h.send(h.http.get(h.url("/settings"))).await.body;
    assert_eq!(settings["external"]["phone"], true);
    assert_eq!(settings["external"]["email"], true);
    assert_eq!(settings["disable_signup"], true);
    assert_eq!(settings["phone_autoconfirm"], false);
    assert_eq!(settings["mailer_autoconfirm"], false);
}

#[tokio::test]
async fn the_inbox_is_behind_the_control_token() {
    let token = "t".repeat(40);
    let h = start_with(|c| c.control_token = Some("t".repeat(40))).await;
    otp(&h, json!({"email": EMAIL})).await;
    let refused = h.control(Method::GET, "/inbox", None).await;
    assert_eq!(
        (refused.status.as_u16(), refused.code()),
        (401, "control_token_required")
    );
    let listed = h
        .send(
            h.http
                .get(h.emulator("/inbox"))
                .header("x-emulator-token", &token),
        )
        .await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.body.as_array().map(Vec::len), Some(1));
    assert_eq!(listed.body[0]["to"], EMAIL);
    assert!(listed.body[0]["sentAt"].is_string());
    let cleared = h
        .send(
            h.http
                .delete(h.emulator("/inbox"))
                .header("x-emulator-token", &token),
        )
        .await;
    assert_eq!(cleared.status, 204);
    assert!(h.server.inbox().is_empty());
}

#[tokio::test]
async fn without_an_sms_provider_a_texted_code_is_500_and_nothing_is_kept() {
    // GoTrue's sendPhoneConfirmation: GetSmsProvider fails → "Unable to get SMS provider", and
    // the transaction that made the user is rolled back.
    let h = start_with(|c| c.sms_provider = false).await;
    assert_error(
        &otp(&h, json!({"phone": PHONE})).await,
        500,
        "unexpected_failure",
        "Unable to get SMS provider",
    );
    assert!(users(&h).await.iter().all(|u| u["phone"] != PHONE));
    assert!(inbox(&h, &format!("+{PHONE}")).await.is_empty());
    // Email codes do not need it.
    assert_eq!(otp(&h, json!({"email": EMAIL})).await.status, 200);
}

#[tokio::test]
async fn a_test_otp_number_signs_in_with_its_fixed_code_even_without_a_provider() {
    // GoTrue's SMS_TEST_OTP: the configured code is used as it is.
    let h = start_with(|c| {
        c.sms_provider = false;
        c.sms_test_otp = vec![(PHONE.to_string(), "424242".to_string())];
    })
    .await;
    assert_eq!(
        otp(&h, json!({"phone": format!("+{PHONE}")})).await.status,
        200
    );
    let reply = verify(
        &h,
        json!({"phone": PHONE, "token": "424242", "type": "sms"}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
}

/// GoTrue's `verifyUserAndToken`: the configured test OTP is accepted for `sms` whenever it
/// is given (no send needed, no expiry); `sendPhoneConfirmation` never sends it, and `/otp`
/// answers its message id `test-otp` (`SmsOtpResponse`), as `/reauthenticate` does.
#[tokio::test]
async fn a_test_otp_is_never_sent_answers_test_otp_and_verifies_without_expiry() {
    let h = start_with(|c| {
        c.phone_autoconfirm = false;
        c.sms_test_otp = vec![(PHONE.to_string(), "424242".to_string())];
    })
    .await;
    let sent = otp(&h, json!({"phone": PHONE})).await;
    assert_eq!(sent.status, 200, "{}", sent.text);
    assert_eq!(sent.body, json!({"message_id": "test-otp"}));
    assert!(
        inbox(&h, PHONE).await.is_empty(),
        "a test number gets nothing"
    );
    h.skew_clock(2.0 * 3600.0).await;
    let reply = verify(
        &h,
        json!({"phone": PHONE, "token": "424242", "type": "sms"}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let reauth = h
        .send(
            h.http
                .get(h.url("/reauthenticate"))
                .bearer_auth(reply.access_token()),
        )
        .await;
    assert_eq!(
        reauth.body,
        json!({"message_id": "test-otp"}),
        "{}",
        reauth.text
    );
    assert!(inbox(&h, PHONE).await.is_empty());

    // A number without a test OTP: the code goes to the inbox and the answer carries no id
    // (GoTrue loses a real provider's id).
    let other = otp(&h, json!({"phone": "15550100198"})).await;
    assert_eq!(other.body, json!({}), "{}", other.text);
    assert_eq!(inbox(&h, "15550100198").await.len(), 1);
}
