//! GoTrue's MFA rules as supabase/auth implements them (`internal/api/mfa.go`,
//! `updateMFASessionAndClaims` in `internal/api/token.go`, `models/factor.go`,
//! `models/challenge.go`, `models/sessions.go`), one test per rule, named for it. TOTP codes
//! are computed here, by a helper of the tests' own (checked against RFC 6238), never by the
//! server's code.

mod common;

use std::time::Duration;

use common::{assert_error, claims, ok, start, start_with, Harness, Reply, EMAIL, PASSWORD};
use local_gotrue::refresh_token::V2Token;
use local_gotrue::RefreshTokenFormat;
use reqwest::Method;
use serde_json::{json, Value};

// ---- RFC 6238 (SHA-1, 6 digits, 30 s), the tests' own -----------------------------------------

fn hmac_sha1(key: &[u8], message: &[u8]) -> [u8; 20] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..20].copy_from_slice(&sha1_smol::Sha1::from(key).digest().bytes());
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|b| b ^ byte).collect::<Vec<u8>>();
    let inner = sha1_smol::Sha1::from([pad(0x36), message.to_vec()].concat())
        .digest()
        .bytes();
    sha1_smol::Sha1::from([pad(0x5c), inner.to_vec()].concat())
        .digest()
        .bytes()
}

fn totp(key: &[u8], unix_secs: i64, digits: u32) -> String {
    let mac = hmac_sha1(key, &((unix_secs / 30) as u64).to_be_bytes());
    let at = (mac[19] & 15) as usize;
    let value = u32::from_be_bytes([mac[at] & 0x7f, mac[at + 1], mac[at + 2], mac[at + 3]]);
    format!(
        "{:0width$}",
        value % 10u32.pow(digits),
        width = digits as usize
    )
}

fn base32_decode(text: &str) -> Vec<u8> {
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut out, mut buffer, mut bits) = (Vec::new(), 0u64, 0);
    for c in text.trim_end_matches('=').chars() {
        buffer = (buffer << 5) | alphabet.find(c).expect("base32") as u64;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

/// The code of `secret` (base32) at `unix_secs`.
fn code(secret: &str, unix_secs: i64) -> String {
    totp(&base32_decode(secret), unix_secs, 6)
}

#[test]
fn the_tests_totp_helper_matches_rfc_6238() {
    let key = b"12345678901234567890";
    assert_eq!(totp(key, 59, 8), "94287082");
    assert_eq!(totp(key, 1_111_111_109, 8), "07081804");
    assert_eq!(totp(key, 1_234_567_890, 8), "89005924");
    assert_eq!(totp(key, 2_000_000_000, 8), "69279037");
    assert_eq!(totp(key, 1_234_567_890, 6), "005924");
}

// ---- Helpers ------------------------------------------------------------------------------------

async fn call(h: &Harness, method: Method, path: &str, token: &str, body: Option<Value>) -> Reply {
    let mut request = h
        .http
        .request(method, h.url(path))
        .header("X-Supabase-Api-Version", "2024-01-01")
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    h.send(request).await
}

async fn enroll(h: &Harness, token: &str, body: Value) -> Reply {
    call(h, Method::POST, "/factors", token, Some(body)).await
}

async fn challenge(h: &Harness, token: &str, factor: &str) -> Reply {
    call(
        h,
        Method::POST,
        &format!("/factors/{factor}/challenge"),
        token,
        Some(json!({})),
    )
    .await
}

async fn verify(h: &Harness, token: &str, factor: &str, challenge: &str, code: &str) -> Reply {
    call(
        h,
        Method::POST,
        &format!("/factors/{factor}/verify"),
        token,
        Some(json!({"challenge_id": challenge, "code": code})),
    )
    .await
}

async fn unenroll(h: &Harness, token: &str, factor: &str) -> Reply {
    call(
        h,
        Method::DELETE,
        &format!("/factors/{factor}"),
        token,
        None,
    )
    .await
}

/// The server's "now" (its clock moves with the skew tests set).
async fn server_now(h: &Harness) -> i64 {
    let clock = h.control(Method::GET, "/clock", None).await.body;
    chrono::DateTime::parse_from_rfc3339(clock["now"].as_str().unwrap())
        .unwrap()
        .timestamp()
}

fn text<'a>(reply: &'a Reply, pointer: &str) -> &'a str {
    reply
        .body
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no {pointer} in {}", reply.text))
}

/// An enrolled (unverified) TOTP factor: its id and secret.
struct Enrolled {
    id: String,
    secret: String,
}

async fn enrolled(h: &Harness, token: &str, name: &str) -> Enrolled {
    let reply = enroll(
        h,
        token,
        json!({"factor_type": "totp", "friendly_name": name}),
    )
    .await;
    ok(&reply);
    Enrolled {
        id: text(&reply, "/id").to_string(),
        secret: text(&reply, "/totp/secret").to_string(),
    }
}

/// Challenges and verifies `factor` with the right code; the verification's answer.
async fn verified(h: &Harness, token: &str, factor: &Enrolled) -> Reply {
    let challenge = challenge(h, token, &factor.id).await;
    ok(&challenge);
    let code = code(&factor.secret, server_now(h).await);
    let reply = verify(h, token, &factor.id, text(&challenge, "/id"), &code).await;
    ok(&reply);
    reply
}

/// A code for no step near the server's now.
async fn wrong_code(h: &Harness, secret: &str) -> String {
    let now = server_now(h).await;
    let near: Vec<String> = (-3..=3).map(|step| code(secret, now + 30 * step)).collect();
    (0..)
        .map(|n| format!("{:06}", (n * 7919) % 1_000_000))
        .find(|candidate| !near.contains(candidate))
        .unwrap()
}

/// Signs in and verifies a new factor: the aal1 sign-in, the factor and the verification.
async fn signed_in_with_mfa(h: &Harness) -> (Reply, Enrolled, Reply) {
    let signed_in = h.sign_in().await;
    let factor = enrolled(h, &signed_in.access_token(), "phone app").await;
    let raised = verified(h, &signed_in.access_token(), &factor).await;
    (signed_in, factor, raised)
}

fn amr_methods(access_token: &str) -> Vec<String> {
    claims(access_token)["amr"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["method"].as_str().unwrap().to_string())
        .collect()
}

// ---- 1. Enrollment --------------------------------------------------------------------------

#[tokio::test]
async fn enrollment_answers_the_factor_with_a_totp_secret_uri_and_qr_code() {
    let h = start().await;
    let token = h.sign_in().await.access_token();
    let reply = enroll(
        &h,
        &token,
        json!({"factor_type": "totp", "friendly_name": "phone"}),
    )
    .await;
    ok(&reply);
    assert_eq!(reply.body["type"], "totp");
    assert_eq!(reply.body["friendly_name"], "phone");
    assert!(uuid::Uuid::parse_str(text(&reply, "/id")).is_ok());
    let secret = text(&reply, "/totp/secret");
    assert_eq!(secret.len(), 32, "20 random bytes, unpadded base32");
    assert!(secret
        .bytes()
        .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)));
    assert_eq!(
        text(&reply, "/totp/uri"),
        format!(
            "otpauth://totp/127.0.0.1:3000:{EMAIL}?algorithm=SHA1&digits=6\
             &issuer=127.0.0.1%3A3000&period=30&secret={secret}"
        ),
        "issuer: the default site URL's host; account: the email"
    );
    let qr = text(&reply, "/totp/qr_code");
    assert!(qr.starts_with("<?xml") && qr.contains("<svg") && qr.trim_end().ends_with("</svg>"));
    assert!(!qr.contains(secret));
}

#[tokio::test]
async fn the_issuer_is_the_requests_or_the_site_urls_host() {
    let h = start_with(|c| c.site_url = "https://app.example.com/welcome".into()).await;
    let token = h.sign_in().await.access_token();
    let reply = enroll(
        &h,
        &token,
        json!({"factor_type": "totp", "friendly_name": "a"}),
    )
    .await;
    assert!(text(&reply, "/totp/uri").starts_with("otpauth://totp/app.example.com:demo@"));
    let reply = enroll(
        &h,
        &token,
        json!({"factor_type": "totp", "friendly_name": "b", "issuer": "My App"}),
    )
    .await;
    let uri = text(&reply, "/totp/uri");
    assert!(uri.starts_with("otpauth://totp/My%20App:demo@"), "{uri}");
    assert!(uri.contains("&issuer=My+App&"), "{uri}");
}

#[tokio::test]
async fn factor_routes_need_a_bearer_token_of_a_permanent_user() {
    let h = start().await;
    let reply = h.post("/factors", json!({"factor_type": "totp"})).await;
    assert_error(
        &reply,
        401,
        "no_authorization",
        "This endpoint requires a valid Bearer token",
    );
    let anonymous = h.post("/signup", json!({})).await;
    let reply = enroll(
        &h,
        &anonymous.access_token(),
        json!({"factor_type": "totp"}),
    )
    .await;
    assert_error(
        &reply,
        403,
        "no_authorization",
        "Anonymous user not allowed to perform these actions",
    );
}

#[tokio::test]
async fn an_unknown_factor_type_is_validation_failed() {
    let h = start().await;
    let token = h.sign_in().await.access_token();
    for body in [json!({"factor_type": "sms"}), json!({})] {
        let reply = enroll(&h, &token, body).await;
        assert_error(
            &reply,
            400,
            "validation_failed",
            "factor_type needs to be totp, phone, or webauthn",
        );
    }
}

#[tokio::test]
async fn phone_and_webauthn_factors_are_disabled_as_by_default_in_gotrue() {
    let h = start().await;
    let token = h.sign_in().await.access_token();
    let reply = enroll(
        &h,
        &token,
        json!({"factor_type": "phone", "phone": "+15555550100"}),
    )
    .await;
    assert_error(
        &reply,
        422,
        "mfa_phone_enroll_not_enabled",
        "MFA enroll is disabled for Phone",
    );
    let reply = enroll(&h, &token, json!({"factor_type": "webauthn"})).await;
    assert_error(
        &reply,
        422,
        "mfa_webauthn_enroll_not_enabled",
        "MFA enroll is disabled for WebAuthn",
    );
}

#[tokio::test]
async fn totp_enrollment_can_be_switched_off() {
    let h = start_with(|c| c.mfa.totp_enroll_enabled = false).await;
    let token = h.sign_in().await.access_token();
    let reply = enroll(&h, &token, json!({"factor_type": "totp"})).await;
    assert_error(
        &reply,
        422,
        "mfa_totp_enroll_not_enabled",
        "MFA enroll is disabled for TOTP",
    );
}

#[tokio::test]
async fn a_friendly_name_already_used_by_the_user_conflicts_even_an_empty_one() {
    let h = start().await;
    let token = h.sign_in().await.access_token();
    enrolled(&h, &token, "phone").await;
    let reply = enroll(
        &h,
        &token,
        json!({"factor_type": "totp", "friendly_name": "phone"}),
    )
    .await;
    assert_error(
        &reply,
        422,
        "mfa_factor_name_conflict",
        "A factor with the friendly name \"phone\" for this user already exists",
    );
    ok(&enroll(&h, &token, json!({"factor_type": "totp"})).await);
    let reply = enroll(&h, &token, json!({"factor_type": "totp"})).await;
    assert_error(
        &reply,
        422,
        "mfa_factor_name_conflict",
        "A factor with the friendly name \"\" for this user already exists",
    );
}

#[tokio::test]
async fn ten_factors_of_any_status_are_the_most_a_user_can_have() {
    let h = start().await;
    let token = h.sign_in().await.access_token();
    for n in 0..10 {
        enrolled(&h, &token, &format!("factor {n}")).await;
    }
    let reply = enroll(
        &h,
        &token,
        json!({"factor_type": "totp", "friendly_name": "one more"}),
    )
    .await;
    assert_error(
        &reply,
        422,
        "too_many_enrolled_mfa_factors",
        "Maximum number of verified factors reached, unenroll to continue",
    );
}

#[tokio::test]
async fn enrolling_beside_a_verified_factor_needs_aal2() {
    let h = start().await;
    let (_, _, raised) = signed_in_with_mfa(&h).await;
    let aal1 = h.sign_in().await.access_token();
    let reply = enroll(
        &h,
        &aal1,
        json!({"factor_type": "totp", "friendly_name": "second"}),
    )
    .await;
    assert_error(
        &reply,
        403,
        "insufficient_aal",
        "AAL2 required to enroll a new factor",
    );
    let reply = enroll(
        &h,
        &raised.access_token(),
        json!({"factor_type": "totp", "friendly_name": "second"}),
    )
    .await;
    ok(&reply);
}

#[tokio::test]
async fn unverified_factors_never_challenged_expire_after_five_minutes() {
    let h = start().await;
    let token = h.sign_in().await.access_token();
    enrolled(&h, &token, "abandoned").await;
    let challenged = enrolled(&h, &token, "challenged").await;
    ok(&challenge(&h, &token, &challenged.id).await);
    h.skew_clock(301.0).await;
    let token = h.sign_in().await.access_token();
    ok(&enroll(
        &h,
        &token,
        json!({"factor_type": "totp", "friendly_name": "abandoned"}),
    )
    .await);
    let reply = enroll(
        &h,
        &token,
        json!({"factor_type": "totp", "friendly_name": "challenged"}),
    )
    .await;
    assert_eq!(
        reply.code(),
        "mfa_factor_name_conflict",
        "a challenged factor stays"
    );
}

#[tokio::test]
async fn a_user_without_an_email_cannot_enroll_totp() {
    let h = start().await;
    let reply = h
        .control(
            Method::POST,
            "/users",
            Some(json!({"phone": "15555550100", "password": PASSWORD})),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let signed_in = h
        .post(
            "/token?grant_type=password",
            json!({"phone": "15555550100", "password": PASSWORD}),
        )
        .await;
    let reply = enroll(
        &h,
        &signed_in.access_token(),
        json!({"factor_type": "totp"}),
    )
    .await;
    assert_error(
        &reply,
        500,
        "unexpected_failure",
        "Error generating QR Code",
    );
}

// ---- 2. Challenges --------------------------------------------------------------------------

#[tokio::test]
async fn a_challenge_answers_its_id_type_and_expiry_300_seconds_on() {
    let h = start().await;
    let token = h.sign_in().await.access_token();
    let factor = enrolled(&h, &token, "phone").await;
    let before = server_now(&h).await;
    let reply = challenge(&h, &token, &factor.id).await;
    ok(&reply);
    assert_eq!(reply.body["type"], "totp");
    assert!(uuid::Uuid::parse_str(text(&reply, "/id")).is_ok());
    let expires_at = reply.body["expires_at"].as_i64().unwrap();
    assert!(
        (before + 300..=before + 301).contains(&expires_at),
        "{expires_at} vs {before}"
    );
}

#[tokio::test]
async fn a_challenge_expiry_below_300_seconds_is_raised_to_300() {
    for (configured, expected) in [(60, 300), (600, 600)] {
        let h = start_with(|c| c.mfa.challenge_expiry = Duration::from_secs(configured)).await;
        let token = h.sign_in().await.access_token();
        let factor = enrolled(&h, &token, "phone").await;
        let before = server_now(&h).await;
        let reply = challenge(&h, &token, &factor.id).await;
        let expires_at = reply.body["expires_at"].as_i64().unwrap();
        assert!(
            (before + expected..=before + expected + 1).contains(&expires_at),
            "configured {configured}: {expires_at} vs {before}"
        );
    }
}

#[tokio::test]
async fn a_factor_id_that_is_not_a_uuid_or_not_the_users_is_404() {
    let h = start().await;
    let token = h.sign_in().await.access_token();
    let reply = challenge(&h, &token, "not-a-uuid").await;
    assert_error(
        &reply,
        404,
        "validation_failed",
        "factor_id must be an UUID",
    );
    let reply = challenge(&h, &token, &uuid::Uuid::new_v4().to_string()).await;
    assert_error(&reply, 404, "mfa_factor_not_found", "Factor not found");

    let other = "other@example.com";
    let created = h
        .control(
            Method::POST,
            "/users",
            Some(json!({"email": other, "password": PASSWORD})),
        )
        .await;
    assert_eq!(created.status, 201);
    let theirs = enrolled(&h, &h.sign_in_as(other, PASSWORD).await.access_token(), "x").await;
    for reply in [
        challenge(&h, &token, &theirs.id).await,
        unenroll(&h, &token, &theirs.id).await,
        verify(
            &h,
            &token,
            &theirs.id,
            &uuid::Uuid::new_v4().to_string(),
            "123456",
        )
        .await,
    ] {
        assert_error(&reply, 404, "mfa_factor_not_found", "Factor not found");
    }
}

// ---- 3. Verification ------------------------------------------------------------------------

#[tokio::test]
async fn the_right_code_raises_the_session_to_aal2_with_new_tokens() {
    let h = start().await;
    let signed_in = h.sign_in().await;
    let token = signed_in.access_token();
    assert_eq!(claims(&token)["aal"], "aal1");
    let factor = enrolled(&h, &token, "phone").await;
    // The password's AMR entry is strictly older, so the order is certain.
    h.skew_clock(2.0).await;
    let raised = verified(&h, &token, &factor).await;
    let access = raised.access_token();
    let claims = claims(&access);
    assert_eq!(claims["aal"], "aal2");
    assert_eq!(
        amr_methods(&access),
        ["totp", "password"],
        "most recent first"
    );
    assert_eq!(
        claims["session_id"],
        common::claims(&token)["session_id"],
        "the same session"
    );
    assert_ne!(raised.refresh_token(), signed_in.refresh_token());
    assert_eq!(raised.body["token_type"], "bearer");
    assert!(raised.body["expires_in"].as_i64().unwrap() > 3500);
    let factors = &raised.body["user"]["factors"];
    assert_eq!(factors[0]["id"], factor.id.as_str());
    assert_eq!(factors[0]["status"], "verified");
    assert_eq!(h.sessions().await[0]["aal"], "aal2");
    h.assert_consistent().await;
}

#[tokio::test]
async fn a_legacy_session_gets_a_child_of_its_live_refresh_token() {
    let h = start().await;
    let (signed_in, _, raised) = signed_in_with_mfa(&h).await;
    let (old, new) = (signed_in.refresh_token(), raised.refresh_token());
    assert_eq!(new.len(), 12);
    let tokens = h.sessions().await[0]["refresh_tokens"].clone();
    let row = |token: &str| {
        tokens
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["token"] == token)
            .cloned()
            .unwrap()
    };
    assert_eq!(row(&old)["revoked"], true);
    assert_eq!(
        (row(&new)["revoked"].clone(), row(&new)["parent"].clone()),
        (json!(false), json!(old))
    );
    h.assert_consistent().await;
}

#[tokio::test]
async fn a_v2_session_counter_steps_by_two() {
    let h = start_with(|c| c.refresh_token_format = RefreshTokenFormat::V2).await;
    let (signed_in, _, raised) = signed_in_with_mfa(&h).await;
    let before = V2Token::decode(&signed_in.refresh_token()).unwrap();
    let after = V2Token::decode(&raised.refresh_token()).unwrap();
    assert_eq!(after.session_id, before.session_id);
    assert_eq!(after.counter, before.counter + 2);
    assert_eq!(
        h.sessions().await[0]["refreshed_at"],
        Value::Null,
        "no refresh happened"
    );
    // Outside the reuse interval the aal1 token is a reuse like any other.
    h.skew_clock(11.0).await;
    assert_eq!(
        h.refresh(&signed_in.refresh_token()).await.code(),
        "refresh_token_already_used"
    );
}

#[tokio::test]
async fn a_refresh_keeps_aal2_and_the_amr() {
    for format in [RefreshTokenFormat::Legacy, RefreshTokenFormat::V2] {
        let h = start_with(|c| c.refresh_token_format = format).await;
        let (_, _, raised) = signed_in_with_mfa(&h).await;
        let mut refresh_token = raised.refresh_token();
        for _ in 0..2 {
            let reply = h.refresh(&refresh_token).await;
            ok(&reply);
            assert_eq!(claims(&reply.access_token())["aal"], "aal2", "{format:?}");
            let mut methods = amr_methods(&reply.access_token());
            methods.sort();
            assert_eq!(methods, ["password", "totp"], "{format:?}");
            assert_eq!(reply.body["user"]["factors"][0]["status"], "verified");
            refresh_token = reply.refresh_token();
        }
    }
}

#[tokio::test]
async fn a_wrong_code_is_mfa_verification_failed_and_leaves_the_challenge_usable() {
    let h = start().await;
    let signed_in = h.sign_in().await;
    let token = signed_in.access_token();
    let factor = enrolled(&h, &token, "phone").await;
    let id = text(&challenge(&h, &token, &factor.id).await, "/id").to_string();
    let reply = verify(
        &h,
        &token,
        &factor.id,
        &id,
        &wrong_code(&h, &factor.secret).await,
    )
    .await;
    assert_error(
        &reply,
        422,
        "mfa_verification_failed",
        "Invalid TOTP code entered",
    );
    assert_eq!(h.sessions().await[0]["aal"], "aal1");
    assert_eq!(
        h.refresh(&signed_in.refresh_token()).await.status,
        200,
        "tokens untouched"
    );
    let right = code(&factor.secret, server_now(&h).await);
    ok(&verify(&h, &token, &factor.id, &id, &right).await);
}

#[tokio::test]
async fn a_code_one_step_away_passes_and_two_steps_away_fails() {
    let h = start().await;
    // Put the server 5 s into a 30 s step, so the test cannot straddle a step boundary.
    let now = server_now(&h).await;
    h.skew_clock((now.div_euclid(30) * 30 + 35 - now) as f64)
        .await;
    let now = server_now(&h).await;
    let token = h.sign_in().await.access_token();
    let factor = enrolled(&h, &token, "phone").await;
    for (offset, passes) in [(-60, false), (60, false), (-30, true), (30, true)] {
        let id = text(&challenge(&h, &token, &factor.id).await, "/id").to_string();
        let reply = verify(
            &h,
            &token,
            &factor.id,
            &id,
            &code(&factor.secret, now + offset),
        )
        .await;
        assert_eq!(
            reply.status == 200,
            passes,
            "offset {offset}: {}",
            reply.text
        );
    }
}

#[tokio::test]
async fn an_expired_challenge_is_mfa_challenge_expired_and_deleted() {
    let h = start().await;
    let token = h.sign_in().await.access_token();
    let factor = enrolled(&h, &token, "phone").await;
    let id = text(&challenge(&h, &token, &factor.id).await, "/id").to_string();
    h.skew_clock(301.0).await;
    let right = code(&factor.secret, server_now(&h).await);
    let reply = verify(&h, &token, &factor.id, &id, &right).await;
    assert_error(
        &reply,
        422,
        "mfa_challenge_expired",
        &format!(
            "MFA challenge {id} has expired, verify against another challenge or create a new challenge."
        ),
    );
    let reply = verify(&h, &token, &factor.id, &id, &right).await;
    assert_eq!(
        reply.code(),
        "mfa_factor_not_found",
        "the expired challenge is gone"
    );
}

#[tokio::test]
async fn a_challenge_of_another_factor_or_none_is_not_found() {
    let h = start().await;
    let token = h.sign_in().await.access_token();
    let a = enrolled(&h, &token, "a").await;
    let b = enrolled(&h, &token, "b").await;
    let of_a = text(&challenge(&h, &token, &a.id).await, "/id").to_string();
    let right = code(&b.secret, server_now(&h).await);
    let message = "MFA factor with the provided challenge ID not found";
    let reply = verify(&h, &token, &b.id, &of_a, &right).await;
    assert_error(&reply, 422, "mfa_factor_not_found", message);
    let reply = call(
        &h,
        Method::POST,
        &format!("/factors/{}/verify", b.id),
        &token,
        Some(json!({"code": right})),
    )
    .await;
    assert_error(&reply, 422, "mfa_factor_not_found", message);
}

#[tokio::test]
async fn a_verified_challenge_cannot_be_used_again() {
    let h = start().await;
    let token = h.sign_in().await.access_token();
    let factor = enrolled(&h, &token, "phone").await;
    let id = text(&challenge(&h, &token, &factor.id).await, "/id").to_string();
    let right = code(&factor.secret, server_now(&h).await);
    let raised = verify(&h, &token, &factor.id, &id, &right).await;
    ok(&raised);
    let reply = verify(&h, &raised.access_token(), &factor.id, &id, &right).await;
    // GoTrue answers a used challenge with its address-mismatch error.
    assert_error(
        &reply,
        422,
        "mfa_ip_address_mismatch",
        "Challenge and verify IP addresses mismatch.",
    );
}

/// Review 4, item 4 (stricter than GoTrue): a challenge is marked used only if it was unused,
/// in the transaction that raises the session, so of two verifications of one challenge
/// that both read it unused, the second to commit fails.
#[tokio::test]
async fn a_challenge_is_marked_used_only_once() {
    let h = start().await;
    let token = h.sign_in().await.access_token();
    let factor = enrolled(&h, &token, "phone").await;
    let id: uuid::Uuid = text(&challenge(&h, &token, &factor.id).await, "/id")
        .parse()
        .unwrap();
    let marks = h.server.state().db.run(|conn| {
        [1, 2].map(|now| local_gotrue::mfa::mark_challenge_verified(conn, id, now).unwrap())
    });
    assert_eq!(marks, [true, false]);
}

#[tokio::test]
async fn the_same_code_verifies_a_new_challenge() {
    let h = start().await;
    let token = h.sign_in().await.access_token();
    let factor = enrolled(&h, &token, "phone").await;
    let right = code(&factor.secret, server_now(&h).await);
    let first = text(&challenge(&h, &token, &factor.id).await, "/id").to_string();
    let raised = verify(&h, &token, &factor.id, &first, &right).await;
    ok(&raised);
    let token = raised.access_token();
    let second = text(&challenge(&h, &token, &factor.id).await, "/id").to_string();
    ok(&verify(&h, &token, &factor.id, &second, &right).await);
}

#[tokio::test]
async fn a_verification_needs_a_code_and_a_well_formed_challenge_id() {
    let h = start().await;
    let token = h.sign_in().await.access_token();
    let factor = enrolled(&h, &token, "phone").await;
    let id = text(&challenge(&h, &token, &factor.id).await, "/id").to_string();
    let reply = verify(&h, &token, &factor.id, &id, "").await;
    assert_error(
        &reply,
        400,
        "validation_failed",
        "Code needs to be non-empty",
    );
    let reply = verify(&h, &token, &factor.id, "not-a-uuid", "123456").await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (400, "bad_json"),
        "{}",
        reply.text
    );
}

#[tokio::test]
async fn verifying_ends_the_users_other_aal1_sessions() {
    let h = start().await;
    let other_device = h.sign_in().await;
    let (_, _, raised) = signed_in_with_mfa(&h).await;
    let reply = h.get_user(&other_device.access_token()).await;
    assert_eq!(reply.code(), "session_not_found", "{}", reply.text);
    assert_eq!(
        h.refresh(&other_device.refresh_token()).await.code(),
        "refresh_token_not_found"
    );
    ok(&h.get_user(&raised.access_token()).await);
    assert_eq!(h.sessions().await.as_array().unwrap().len(), 1);
    h.assert_consistent().await;
}

#[tokio::test]
async fn verifying_drops_the_users_other_unverified_factors_of_the_type() {
    let h = start().await;
    let token = h.sign_in().await.access_token();
    let kept = enrolled(&h, &token, "kept").await;
    let dropped = enrolled(&h, &token, "dropped").await;
    let raised = verified(&h, &token, &kept).await;
    // GoTrue reads the answer's user before it deletes them.
    assert_eq!(raised.body["user"]["factors"].as_array().unwrap().len(), 2);
    let user = h.get_user(&raised.access_token()).await;
    let factors = user.body["factors"].as_array().unwrap();
    assert_eq!(factors.len(), 1);
    assert_eq!(factors[0]["id"], kept.id.as_str());
    let reply = challenge(&h, &raised.access_token(), &dropped.id).await;
    assert_eq!(reply.code(), "mfa_factor_not_found");
}

// ---- 4. Unenrollment ------------------------------------------------------------------------

#[tokio::test]
async fn unenrolling_a_verified_factor_needs_aal2() {
    let h = start().await;
    let (_, factor, _) = signed_in_with_mfa(&h).await;
    let aal1 = h.sign_in().await.access_token();
    let reply = unenroll(&h, &aal1, &factor.id).await;
    assert_error(
        &reply,
        422,
        "insufficient_aal",
        "AAL2 required to unenroll verified factor",
    );
}

#[tokio::test]
async fn an_unverified_factor_is_unenrolled_at_aal1() {
    let h = start().await;
    let token = h.sign_in().await.access_token();
    let factor = enrolled(&h, &token, "phone").await;
    let reply = unenroll(&h, &token, &factor.id).await;
    ok(&reply);
    assert_eq!(reply.body, json!({"id": factor.id}));
    assert_eq!(h.get_user(&token).await.body.get("factors"), None);
}

#[tokio::test]
async fn unenrolling_takes_the_sessions_raised_with_the_factor_back_to_aal1() {
    let h = start().await;
    let (_, factor, raised) = signed_in_with_mfa(&h).await;
    let reply = unenroll(&h, &raised.access_token(), &factor.id).await;
    ok(&reply);
    assert_eq!(reply.body["id"], factor.id.as_str());
    assert_eq!(h.sessions().await[0]["aal"], "aal1");
    // The access token in hand still says aal2; the next one does not.
    assert_eq!(claims(&raised.access_token())["aal"], "aal2");
    let refreshed = h.refresh(&raised.refresh_token()).await;
    ok(&refreshed);
    assert_eq!(claims(&refreshed.access_token())["aal"], "aal1");
    assert_eq!(amr_methods(&refreshed.access_token()), ["password"]);
    assert_eq!(refreshed.body["user"].get("factors"), None);
    h.assert_consistent().await;
}

// ---- 5. The user object ---------------------------------------------------------------------

#[tokio::test]
async fn the_user_lists_its_factors_only_when_it_has_some() {
    let h = start().await;
    let signed_in = h.sign_in().await;
    let token = signed_in.access_token();
    assert_eq!(signed_in.body["user"].get("factors"), None);
    assert_eq!(h.get_user(&token).await.body.get("factors"), None);
    let factor = enrolled(&h, &token, "phone").await;
    let user = h.get_user(&token).await.body;
    let listed = &user["factors"][0];
    assert_eq!(listed["id"], factor.id.as_str());
    assert_eq!(listed["status"], "unverified");
    assert_eq!(listed["factor_type"], "totp");
    assert_eq!(listed["friendly_name"], "phone");
    assert_eq!(listed["phone"], "");
    assert_eq!(listed["last_challenged_at"], Value::Null);
    assert!(listed["created_at"].is_string() && listed["updated_at"].is_string());
    assert!(listed.get("secret").is_none(), "never the secret");
    ok(&challenge(&h, &token, &factor.id).await);
    let user = h.get_user(&token).await.body;
    assert!(user["factors"][0]["last_challenged_at"].is_string());
    // A password sign-in's answer carries them too.
    let again = h.sign_in_as(EMAIL, PASSWORD).await;
    assert_eq!(again.body["user"]["factors"][0]["id"], factor.id.as_str());
}
