//! GoTrue's account-change rules as supabase/auth implements them (`internal/api/user.go`
//! `UserUpdate`, `verify.go` `emailChangeVerify` and `smsVerify`, `mail.go` `sendEmailChange`
//! and `sendReauthenticationOtp`, `phone.go`, `reauthenticate.go`, `resend.go`), one test per
//! rule, named for it. Codes and links are read from the server's inbox.

mod common;

use std::time::Duration;

use common::{assert_error, start, start_with, Harness, Reply, EMAIL, PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};

const NEW_EMAIL: &str = "changed@example.com";
const PHONE: &str = "15550100177";

async fn update(h: &Harness, token: &str, body: Value) -> Reply {
    h.send(
        h.http
            .put(h.url("/user"))
            .header("X-Supabase-Api-Version", "2024-01-01")
            .bearer_auth(token)
            .json(&body),
    )
    .await
}

async fn reauthenticate(h: &Harness, token: &str) -> Reply {
    h.send(
        h.http
            .get(h.url("/reauthenticate"))
            .header("X-Supabase-Api-Version", "2024-01-01")
            .bearer_auth(token),
    )
    .await
}

async fn inbox(h: &Harness, to: &str) -> Vec<Value> {
    let to: String = form_urlencoded::byte_serialize(to.as_bytes()).collect();
    let reply = h
        .control(Method::GET, &format!("/inbox?to={to}"), None)
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.body.as_array().cloned().unwrap_or_default()
}

async fn last_message(h: &Harness, to: &str) -> Value {
    inbox(h, to).await.pop().expect("a message was sent")
}

fn code_of(message: &Value) -> String {
    message["code"].as_str().expect("a code").to_string()
}

fn token_hash_of(message: &Value) -> String {
    let link = message["link"].as_str().expect("a link");
    let query = link.split_once('?').expect("a query").1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "token")
        .expect("a token")
        .1
        .into_owned()
}

fn no_autoconfirm() -> impl FnOnce(&mut local_gotrue::Config) {
    |c| c.autoconfirm = false
}

async fn signed_in_token(h: &Harness) -> String {
    h.sign_in().await.access_token()
}

// ---- PUT /user: email ---------------------------------------------------------------------------

#[tokio::test]
async fn user_update_refuses_an_invalid_email() {
    let h = start().await;
    let token = signed_in_token(&h).await;
    let reply = update(&h, &token, json!({"email": "not-an-email"})).await;
    assert_error(
        &reply,
        400,
        "validation_failed",
        "Unable to validate email address: invalid format",
    );
}

#[tokio::test]
async fn user_update_with_the_same_email_changes_nothing() {
    let h = start().await;
    let token = signed_in_token(&h).await;
    let reply = update(&h, &token, json!({"email": EMAIL.to_uppercase()})).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(reply.body.get("new_email").is_none(), "{}", reply.text);
    assert!(reply.body.get("email_change_sent_at").is_none());
    assert!(inbox(&h, EMAIL).await.is_empty());
}

#[tokio::test]
async fn user_update_refuses_an_email_another_user_has_with_email_exists() {
    let h = start().await;
    let other = h
        .post(
            "/signup",
            json!({"email": NEW_EMAIL, "password": "other-password"}),
        )
        .await;
    assert_eq!(other.status, 200, "{}", other.text);
    let token = signed_in_token(&h).await;
    let reply = update(&h, &token, json!({"email": NEW_EMAIL})).await;
    assert_error(
        &reply,
        422,
        "email_exists",
        "A user with this email address has already been registered",
    );
}

#[tokio::test]
async fn secure_email_change_mails_both_addresses_and_needs_both_confirmations() {
    let h = start_with(no_autoconfirm()).await;
    let token = signed_in_token(&h).await;
    let reply = update(&h, &token, json!({"email": NEW_EMAIL})).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        reply.body["email"], EMAIL,
        "the email stays until confirmed"
    );
    assert_eq!(reply.body["new_email"], NEW_EMAIL);
    assert!(reply.body["email_change_sent_at"].is_string());
    let to_new = last_message(&h, NEW_EMAIL).await;
    let to_current = last_message(&h, EMAIL).await;
    assert_eq!(to_new["kind"], "email_change");
    assert_eq!(to_current["kind"], "email_change");

    let first = h
        .post(
            "/verify",
            json!({"type": "email_change", "email": NEW_EMAIL, "token": code_of(&to_new)}),
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(
        first.body,
        json!({
            "msg": "Confirmation link accepted. Please proceed to confirm link sent to the other email",
            "code": "200"
        })
    );
    let still = h.get_user(&token).await;
    assert_eq!(still.body["email"], EMAIL);

    let second = h
        .post(
            "/verify",
            json!({"type": "email_change", "email": EMAIL, "token": code_of(&to_current)}),
        )
        .await;
    assert_eq!(second.status, 200, "{}", second.text);
    assert_eq!(second.body["user"]["email"], NEW_EMAIL);
    assert!(second.body["user"].get("new_email").is_none());
    assert!(second.body["access_token"].is_string());
    h.sign_in_as(NEW_EMAIL, PASSWORD).await;
}

#[tokio::test]
async fn without_secure_email_change_one_mail_to_the_new_address_applies_it() {
    let h = start_with(|c| {
        c.autoconfirm = false;
        c.secure_email_change = false;
    })
    .await;
    let token = signed_in_token(&h).await;
    let reply = update(&h, &token, json!({"email": NEW_EMAIL})).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(
        inbox(&h, EMAIL).await.is_empty(),
        "nothing to the current address"
    );
    let to_new = last_message(&h, NEW_EMAIL).await;
    let verified = h
        .post(
            "/verify",
            json!({"type": "email_change", "token_hash": token_hash_of(&to_new)}),
        )
        .await;
    assert_eq!(verified.status, 200, "{}", verified.text);
    assert_eq!(verified.body["user"]["email"], NEW_EMAIL);
}

#[tokio::test]
async fn with_email_autoconfirm_one_confirmation_applies_a_secure_change() {
    // `emailChangeVerify` asks for the second link only when MAILER_AUTOCONFIRM is off.
    let h = start().await;
    let token = signed_in_token(&h).await;
    update(&h, &token, json!({"email": NEW_EMAIL})).await;
    let to_current = last_message(&h, EMAIL).await;
    let verified = h
        .post(
            "/verify",
            json!({"type": "email_change", "token_hash": token_hash_of(&to_current)}),
        )
        .await;
    assert_eq!(verified.status, 200, "{}", verified.text);
    assert_eq!(verified.body["user"]["email"], NEW_EMAIL);
}

#[tokio::test]
async fn the_first_of_two_email_change_links_redirects_with_the_message() {
    let h = start_with(no_autoconfirm()).await;
    let token = signed_in_token(&h).await;
    update(&h, &token, json!({"email": NEW_EMAIL})).await;
    let link = last_message(&h, NEW_EMAIL).await["link"]
        .as_str()
        .unwrap()
        .to_string();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client.get(&link).send().await.unwrap();
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap();
    assert!(
        location.ends_with(
            "#message=Confirmation+link+accepted.+Please+proceed+to+confirm+link+sent+to+the+other+email&sb="
        ),
        "{location}"
    );
}

#[tokio::test]
async fn an_anonymous_user_adding_an_email_under_autoconfirm_gets_it_at_once() {
    let h = start().await;
    let anonymous = h.post("/signup", json!({})).await;
    let reply = update(&h, &anonymous.access_token(), json!({"email": NEW_EMAIL})).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["email"], NEW_EMAIL);
    assert_eq!(reply.body["is_anonymous"], false);
    assert!(reply.body["email_confirmed_at"].is_string());
    assert!(inbox(&h, NEW_EMAIL).await.is_empty());
}

#[tokio::test]
async fn email_change_mails_obey_the_resend_limit() {
    let h = start_with(no_autoconfirm()).await;
    let token = signed_in_token(&h).await;
    update(&h, &token, json!({"email": NEW_EMAIL})).await;
    let again = update(&h, &token, json!({"email": "third@example.com"})).await;
    assert_eq!(again.status, 429, "{}", again.text);
    assert_eq!(again.code(), "over_email_send_rate_limit");
}

// ---- PUT /user: phone ---------------------------------------------------------------------------

#[tokio::test]
async fn phone_change_without_sms_autoconfirm_texts_a_code_that_verify_applies() {
    let h = start_with(|c| c.phone_autoconfirm = false).await;
    let token = signed_in_token(&h).await;
    let reply = update(&h, &token, json!({"phone": format!("+{PHONE}")})).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["new_phone"], PHONE);
    assert_eq!(reply.body["phone"], "");
    let sms = last_message(&h, PHONE).await;
    assert_eq!(sms["kind"], "phone_change");
    let wrong = h
        .post(
            "/verify",
            json!({"type": "phone_change", "phone": PHONE, "token": "000000"}),
        )
        .await;
    assert_error(
        &wrong,
        403,
        "otp_expired",
        "Token has expired or is invalid",
    );
    let verified = h
        .post(
            "/verify",
            json!({"type": "phone_change", "phone": PHONE, "token": code_of(&sms)}),
        )
        .await;
    assert_eq!(verified.status, 200, "{}", verified.text);
    assert_eq!(verified.body["user"]["phone"], PHONE);
    assert!(verified.body["user"]["phone_confirmed_at"].is_string());
    assert!(verified.body["user"].get("new_phone").is_none());
}

#[tokio::test]
async fn phone_change_under_sms_autoconfirm_applies_at_once() {
    let h = start().await;
    let token = signed_in_token(&h).await;
    let reply = update(&h, &token, json!({"phone": PHONE})).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.body["phone"], PHONE);
    assert!(reply.body["phone_confirmed_at"].is_string());
}

#[tokio::test]
async fn user_update_refuses_a_phone_another_user_has_with_phone_exists() {
    let h = start().await;
    let other = h
        .post(
            "/signup",
            json!({"phone": PHONE, "password": "other-password"}),
        )
        .await;
    assert_eq!(other.status, 200, "{}", other.text);
    let token = signed_in_token(&h).await;
    let reply = update(&h, &token, json!({"phone": PHONE})).await;
    assert_error(
        &reply,
        422,
        "phone_exists",
        "A user with this phone number has already been registered",
    );
}

// ---- PUT /user: password ------------------------------------------------------------------------

#[tokio::test]
async fn user_update_refuses_the_same_password() {
    let h = start().await;
    let token = signed_in_token(&h).await;
    let reply = update(&h, &token, json!({"password": PASSWORD})).await;
    assert_error(
        &reply,
        422,
        "same_password",
        "New password should be different from the old password.",
    );
}

#[tokio::test]
async fn user_update_refuses_a_weak_password() {
    let h = start().await;
    let token = signed_in_token(&h).await;
    let reply = update(&h, &token, json!({"password": "12345"})).await;
    assert_eq!(reply.status, 422, "{}", reply.text);
    assert_eq!(reply.code(), "weak_password");
}

/// `SECURITY_UPDATE_PASSWORD_REQUIRE_CURRENT_PASSWORD`: with it on, a user with a password
/// needs the current one to set a new one; GoTrue gives both refusals the same message.
#[tokio::test]
async fn require_current_password_refuses_a_new_password_without_the_right_current_one() {
    let h = start_with(|c| c.require_current_password = true).await;
    let token = signed_in_token(&h).await;
    let message = "Current password required when setting new password.";
    let missing = update(&h, &token, json!({"password": "a-new-password"})).await;
    assert_error(&missing, 400, "current_password_required", message);
    let empty = update(
        &h,
        &token,
        json!({"password": "a-new-password", "current_password": ""}),
    )
    .await;
    assert_error(&empty, 400, "current_password_required", message);
    let wrong = update(
        &h,
        &token,
        json!({"password": "a-new-password", "current_password": "not-the-password"}),
    )
    .await;
    assert_error(&wrong, 400, "current_password_invalid", message);
    let right = update(
        &h,
        &token,
        json!({"password": "a-new-password", "current_password": PASSWORD}),
    )
    .await;
    assert_eq!(right.status, 200, "{}", right.text);
}

/// Off by default: `current_password` is neither needed nor checked.
#[tokio::test]
async fn without_require_current_password_the_current_one_is_not_asked() {
    let h = start().await;
    let token = signed_in_token(&h).await;
    let reply = update(
        &h,
        &token,
        json!({"password": "a-new-password", "current_password": "anything"}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
}

/// A server whose tokens outlive a day, so a session can be older than the 24-hour window.
async fn secure_password_server() -> Harness {
    start_with(|c| {
        c.secure_password_change = true;
        c.jwt_expiry = Duration::from_secs(3 * 24 * 3600);
        c.mailer_otp_exp = Duration::from_secs(3 * 24 * 3600);
    })
    .await
}

#[tokio::test]
async fn secure_password_change_lets_a_recent_session_change_without_a_nonce() {
    let h = secure_password_server().await;
    let token = signed_in_token(&h).await;
    let reply = update(&h, &token, json!({"password": "a-new-password"})).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
}

#[tokio::test]
async fn secure_password_change_from_an_old_session_needs_the_reauthentication_nonce() {
    let h = secure_password_server().await;
    let token = signed_in_token(&h).await;
    h.skew_clock(25.0 * 3600.0).await;
    let missing = update(&h, &token, json!({"password": "a-new-password"})).await;
    assert_error(
        &missing,
        400,
        "reauthentication_needed",
        "Password update requires reauthentication",
    );
    let before = update(
        &h,
        &token,
        json!({"password": "a-new-password", "nonce": "123456"}),
    )
    .await;
    assert_error(
        &before,
        422,
        "reauthentication_not_valid",
        "Nonce has expired or is invalid",
    );
    let sent = reauthenticate(&h, &token).await;
    assert_eq!(sent.status, 200, "{}", sent.text);
    let nonce = code_of(&last_message(&h, EMAIL).await);
    let wrong = if nonce == "000000" {
        "111111"
    } else {
        "000000"
    };
    let bad = update(
        &h,
        &token,
        json!({"password": "a-new-password", "nonce": wrong}),
    )
    .await;
    assert_eq!(bad.code(), "reauthentication_not_valid", "{}", bad.text);
    let good = update(
        &h,
        &token,
        json!({"password": "a-new-password", "nonce": nonce}),
    )
    .await;
    assert_eq!(good.status, 200, "{}", good.text);
    let reused = update(
        &h,
        &token,
        json!({"password": "another-password", "nonce": nonce}),
    )
    .await;
    assert_eq!(
        reused.code(),
        "reauthentication_not_valid",
        "the nonce is used up"
    );
}

// ---- GET /reauthenticate ------------------------------------------------------------------------

#[tokio::test]
async fn reauthenticate_mails_a_nonce_and_obeys_the_resend_limit() {
    let h = start().await;
    let token = signed_in_token(&h).await;
    let reply = reauthenticate(&h, &token).await;
    assert_eq!((reply.status.as_u16(), &reply.body), (200, &json!({})));
    let message = last_message(&h, EMAIL).await;
    assert_eq!(message["kind"], "reauthentication");
    assert_eq!(code_of(&message).len(), 6);
    let user = h.get_user(&token).await;
    assert!(user.body["reauthentication_sent_at"].is_string());
    let again = reauthenticate(&h, &token).await;
    assert_eq!(again.status, 429, "{}", again.text);
    assert_eq!(again.code(), "over_email_send_rate_limit");
}

#[tokio::test]
async fn reauthenticate_needs_an_email_or_a_phone() {
    let h = start().await;
    let anonymous = h.post("/signup", json!({})).await;
    let reply = reauthenticate(&h, &anonymous.access_token()).await;
    assert_error(
        &reply,
        400,
        "validation_failed",
        "Reauthentication requires the user to have an email or a phone number",
    );
}

#[tokio::test]
async fn reauthenticate_needs_a_confirmed_email() {
    let h = start().await;
    let created = h
        .control(
            Method::POST,
            "/users",
            Some(json!({"email": NEW_EMAIL, "password": "some-password", "confirmed": false})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let session = h
        .control(
            Method::POST,
            "/sessions",
            Some(json!({"user_id": created.body["id"]})),
        )
        .await;
    assert!(session.status.is_success(), "{}", session.text);
    let reply = reauthenticate(&h, &session.access_token()).await;
    assert_error(
        &reply,
        422,
        "email_not_confirmed",
        "Please verify your email first.",
    );
}

// ---- POST /resend -------------------------------------------------------------------------------

#[tokio::test]
async fn resend_validates_its_type_and_address_in_gotrues_order() {
    let h = start().await;
    let cases = [
        (
            json!({"type": "nope", "email": EMAIL}),
            "Missing one of these types: signup, email_change, sms, phone_change",
        ),
        (
            json!({"type": "signup"}),
            "Type provided requires an email address",
        ),
        (
            json!({"type": "sms"}),
            "Type provided requires a phone number",
        ),
        (
            json!({"type": "email_change", "email": EMAIL, "phone": PHONE}),
            "Only an email address or phone number should be provided.",
        ),
        (
            json!({"type": "email_change"}),
            "Missing email address or phone number",
        ),
    ];
    for (body, message) in cases {
        let reply = h.post("/resend", body.clone()).await;
        assert_error(&reply, 400, "validation_failed", message);
    }
}

#[tokio::test]
async fn resend_answers_nothing_to_do_like_a_send() {
    let h = start().await;
    for body in [
        json!({"type": "signup", "email": "nobody@example.com"}),
        json!({"type": "signup", "email": EMAIL}),
        json!({"type": "email_change", "email": EMAIL}),
    ] {
        let reply = h.post("/resend", body).await;
        assert_eq!((reply.status.as_u16(), &reply.body), (200, &json!({})));
    }
    assert!(inbox(&h, EMAIL).await.is_empty());
}

#[tokio::test]
async fn resend_signup_sends_a_new_confirmation_to_an_unconfirmed_user() {
    let h = start_with(|c| {
        c.autoconfirm = false;
        c.max_frequency = Duration::ZERO;
    })
    .await;
    let signup = h
        .post(
            "/signup",
            json!({"email": NEW_EMAIL, "password": "some-password"}),
        )
        .await;
    assert_eq!(signup.status, 200, "{}", signup.text);
    let before = inbox(&h, NEW_EMAIL).await.len();
    let reply = h
        .post("/resend", json!({"type": "signup", "email": NEW_EMAIL}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let sent = inbox(&h, NEW_EMAIL).await;
    assert_eq!(sent.len(), before + 1);
    let confirmation = sent.last().unwrap();
    assert_eq!(confirmation["kind"], "signup");
    let verified = h
        .post(
            "/verify",
            json!({"type": "signup", "email": NEW_EMAIL, "token": code_of(confirmation)}),
        )
        .await;
    assert_eq!(verified.status, 200, "{}", verified.text);
}

#[tokio::test]
async fn resend_email_change_sends_the_pending_change_again() {
    let h = start_with(|c| {
        c.autoconfirm = false;
        c.max_frequency = Duration::ZERO;
    })
    .await;
    let token = signed_in_token(&h).await;
    update(&h, &token, json!({"email": NEW_EMAIL})).await;
    let first = last_message(&h, NEW_EMAIL).await;
    let reply = h
        .post("/resend", json!({"type": "email_change", "email": EMAIL}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let second = last_message(&h, NEW_EMAIL).await;
    assert_ne!(first["id"], second["id"]);
    // The first code is replaced.
    let old = h
        .post(
            "/verify",
            json!({"type": "email_change", "token_hash": token_hash_of(&first)}),
        )
        .await;
    assert_eq!(old.code(), "otp_expired", "{}", old.text);
}

#[tokio::test]
async fn resend_phone_change_texts_the_pending_number_again() {
    let h = start_with(|c| {
        c.phone_autoconfirm = false;
        c.max_frequency = Duration::ZERO;
    })
    .await;
    let token = signed_in_token(&h).await;
    let reply = update(&h, &token, json!({"phone": PHONE})).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    // GoTrue finds the user by the current phone; the demo user has none, so: `{}`.
    let none = h
        .post("/resend", json!({"type": "phone_change", "phone": PHONE}))
        .await;
    assert_eq!((none.status.as_u16(), &none.body), (200, &json!({})));
    assert_eq!(inbox(&h, PHONE).await.len(), 1);
}

// ---- what a password change revokes (GoTrue's `User.UpdatePassword`) ---------------------------

/// `User.UpdatePassword`: the confirmation, recovery, email-change, phone-change and
/// reauthentication tokens are blanked with their sent times and every one-time token is
/// cleared; the pending addresses (`new_email`, `new_phone`) stay.
#[tokio::test]
async fn a_password_change_revokes_every_outstanding_token_as_update_password() {
    let h = start_with(|c| {
        c.autoconfirm = false;
        c.phone_autoconfirm = false;
    })
    .await;
    let token = signed_in_token(&h).await;
    let changing = update(&h, &token, json!({"email": NEW_EMAIL, "phone": PHONE})).await;
    assert_eq!(changing.status, 200, "{}", changing.text);
    let email_code = code_of(&last_message(&h, NEW_EMAIL).await);
    let phone_code = code_of(&last_message(&h, PHONE).await);
    let recover = h.post("/recover", json!({"email": EMAIL})).await;
    assert_eq!(recover.status, 200, "{}", recover.text);
    let recovery = token_hash_of(&last_message(&h, EMAIL).await);
    assert_eq!(reauthenticate(&h, &token).await.status, 200);

    let changed = update(&h, &token, json!({"password": "a-brand-new-password"})).await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(
        changed.body["new_email"], NEW_EMAIL,
        "the pending address stays"
    );
    assert_eq!(changed.body["new_phone"], PHONE);
    for sent in [
        "email_change_sent_at",
        "phone_change_sent_at",
        "reauthentication_sent_at",
    ] {
        assert!(changed.body.get(sent).is_none(), "{sent}: {}", changed.text);
    }
    for body in [
        json!({"type": "email_change", "email": NEW_EMAIL, "token": email_code}),
        json!({"type": "phone_change", "phone": PHONE, "token": phone_code}),
        json!({"type": "recovery", "token_hash": recovery}),
    ] {
        let reply = h.post("/verify", body.clone()).await;
        assert_eq!(reply.status, 403, "{body}: {}", reply.text);
        assert_eq!(reply.code(), "otp_expired");
    }
    // The recovery sent time went with its token: a new link is not held back.
    let again = h.post("/recover", json!({"email": EMAIL})).await;
    assert_eq!(again.status, 200, "{}", again.text);
}

/// `ClearAllOneTimeTokensForUser` (here from a magic-link sign-in, `User.Recover` /
/// `Confirm`): GoTrue finds email-change tokens in `one_time_tokens`, so the pending change's
/// links die with every other one-time token.
#[tokio::test]
async fn a_verification_also_uses_up_the_email_change_tokens_as_clear_all_one_time_tokens() {
    let h = start_with(no_autoconfirm()).await;
    let token = signed_in_token(&h).await;
    assert_eq!(
        update(&h, &token, json!({"email": NEW_EMAIL})).await.status,
        200
    );
    let email_code = code_of(&last_message(&h, NEW_EMAIL).await);
    assert_eq!(h.post("/otp", json!({"email": EMAIL})).await.status, 200);
    let magic = last_message(&h, EMAIL).await;
    assert_eq!(magic["kind"], "magiclink");
    let signed_in = h
        .post(
            "/verify",
            json!({"type": "email", "email": EMAIL, "token": code_of(&magic)}),
        )
        .await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.text);
    let stale = h
        .post(
            "/verify",
            json!({"type": "email_change", "email": NEW_EMAIL, "token": email_code}),
        )
        .await;
    assert_eq!(
        (stale.status.as_u16(), stale.code()),
        (403, "otp_expired"),
        "{}",
        stale.text
    );
}

/// `UserUpdate` under autoconfirm only sets `EmailChange` / `PhoneChange` before confirming:
/// no `*_sent_at` is stamped, so nothing holds a later change back.
#[tokio::test]
async fn autoconfirmed_changes_stamp_no_sent_time() {
    let h = start().await;
    let anonymous = h.post("/signup", json!({})).await;
    let reply = update(&h, &anonymous.access_token(), json!({"email": NEW_EMAIL})).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(
        reply.body.get("email_change_sent_at").is_none(),
        "{}",
        reply.text
    );
    let token = signed_in_token(&h).await;
    let reply = update(&h, &token, json!({"phone": PHONE})).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(
        reply.body.get("phone_change_sent_at").is_none(),
        "{}",
        reply.text
    );
    let again = update(&h, &token, json!({"phone": "15550100178"})).await;
    assert_eq!(again.status, 200, "{}", again.text);
}

/// `smsVerify` for `phone_change`: the confirmed number creates the user's `phone` identity
/// (`phone_verified: true`), or updates the one it has.
#[tokio::test]
async fn a_confirmed_phone_change_creates_or_updates_the_phone_identity() {
    let h = start().await;
    let token = signed_in_token(&h).await;
    let phone_identities = |user: &Value| -> Vec<Value> {
        user["identities"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["provider"] == "phone")
            .cloned()
            .collect()
    };
    let first = update(&h, &token, json!({"phone": PHONE})).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let identities = phone_identities(&first.body);
    assert_eq!(identities.len(), 1, "{}", first.text);
    assert_eq!(identities[0]["identity_data"]["phone"], PHONE);
    assert_eq!(identities[0]["identity_data"]["phone_verified"], true);
    assert_eq!(identities[0]["id"], first.body["id"]);
    let second = update(&h, &token, json!({"phone": "15550100178"})).await;
    let identities = phone_identities(&second.body);
    assert_eq!(identities.len(), 1, "{}", second.text);
    assert_eq!(identities[0]["identity_data"]["phone"], "15550100178");
}

/// GoTrue's `verifyUserAndToken`: a configured test OTP verifies a phone change whenever it
/// is given; `sendPhoneConfirmation` never sends it (nothing in the inbox) and `/resend`
/// answers its message id `test-otp`.
#[tokio::test]
async fn a_test_otp_confirms_a_phone_change_and_is_never_sent() {
    let h = start_with(|c| {
        c.phone_autoconfirm = false;
        c.max_frequency = Duration::ZERO;
        c.sms_test_otp = vec![(PHONE.to_string(), "424242".to_string())];
    })
    .await;
    let token = signed_in_token(&h).await;
    let reply = update(&h, &token, json!({"phone": PHONE})).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let resent = h
        .post("/resend", json!({"type": "phone_change", "email": EMAIL}))
        .await;
    assert_eq!(
        resent.body,
        json!({"message_id": "test-otp"}),
        "{}",
        resent.text
    );
    assert!(
        inbox(&h, PHONE).await.is_empty(),
        "a test number gets nothing"
    );
    h.skew_clock(2.0 * 3600.0).await;
    let verified = h
        .post(
            "/verify",
            json!({"type": "phone_change", "phone": PHONE, "token": "424242"}),
        )
        .await;
    assert_eq!(verified.status, 200, "{}", verified.text);
    assert_eq!(verified.body["user"]["phone"], PHONE);
}

/// `verifyReauthentication` + `ConfirmReauthentication`: the nonce is used by a conditional
/// update, so of two uses (say two racing requests checked against the same snapshot) exactly
/// one wins.
#[test]
fn a_nonce_is_used_up_by_exactly_one_conditional_update() {
    use local_gotrue::pending_changes::{set_reauthentication, use_reauthentication};
    let db = local_gotrue::db::Db::open(None).unwrap();
    db.run(|conn| {
        let id = uuid::Uuid::new_v4();
        conn.execute(
            "INSERT INTO users (id, aud, role, app_metadata, user_metadata, is_anonymous, \
             created_at, updated_at) VALUES (?1, 'authenticated', 'authenticated', '{}', '{}', 0, 0, 0)",
            [id.to_string()],
        )
        .unwrap();
        set_reauthentication(conn, id, "hash-of-the-nonce", 1).unwrap();
        assert!(!use_reauthentication(conn, id, "another-hash").unwrap());
        assert!(use_reauthentication(conn, id, "hash-of-the-nonce").unwrap());
        assert!(!use_reauthentication(conn, id, "hash-of-the-nonce").unwrap());
        assert!(!use_reauthentication(conn, id, "").unwrap());
    });
}
