//! One-time codes and emailed links, against the real local GoTrue server: codes and links
//! are read from its inbox, as a tester reads them from Mailpit.

use std::sync::Arc;

use local_gotrue::{Config, InboxMessage, Server};
use session_engine::{
    AuthClient, AuthError, AuthEventKind, Credentials, EventStream, MemoryStore, OtpKind,
    OtpRecipient, Session, SessionStore,
};

mod common;

use common::{EMAIL, PASSWORD};
const PROFILE: &str = "otp";
const PHONE: &str = "+1 555-010-0199";

struct World {
    server: Server,
    store: Arc<MemoryStore>,
    client: AuthClient,
}

async fn world_with(configure: impl FnOnce(&mut Config)) -> World {
    let (server, store, client) = common::server_and_client(PROFILE, configure).await;
    World {
        server,
        store,
        client,
    }
}

async fn world() -> World {
    world_with(|_| {}).await
}

impl World {
    fn last_message(&self, to: &str) -> InboxMessage {
        self.server
            .inbox_to(to)
            .pop()
            .unwrap_or_else(|| panic!("nothing was sent to {to}"))
    }

    fn stored(&self) -> Option<Session> {
        self.store.load(PROFILE).unwrap()
    }

    async fn sign_in_with_password(&self) -> Session {
        self.client
            .sign_in_with_password(Credentials::Email {
                email: EMAIL.into(),
                password: PASSWORD.into(),
            })
            .await
            .expect("password sign-in works")
            .session
    }

    /// Moves the server's clock (not ours): codes expire by the server's time.
    fn skew_server_clock(&self, seconds: i64) {
        self.server.state().clock.set_skew_ms(seconds * 1000);
    }
}

fn email() -> OtpRecipient {
    OtpRecipient::parse(EMAIL).unwrap()
}

/// A subscriber that has heard `INITIAL_SESSION` and nothing else yet.
async fn listening(client: &AuthClient) -> EventStream {
    let mut stream = client.subscribe();
    let initial = stream.next().await.unwrap();
    assert_eq!(initial.kind, AuthEventKind::InitialSession);
    stream
}

fn amr_method(session: &Session) -> String {
    let decoded = session_engine::tokens::decode_jwt(session.access_token.as_str()).unwrap();
    decoded.claims["amr"][0]["method"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn api_error(error: &AuthError) -> (u16, &str, String) {
    (
        error.status().unwrap_or_default(),
        error.code().unwrap_or_default(),
        error.to_string(),
    )
}

#[tokio::test]
async fn an_emailed_code_signs_in_with_amr_otp() {
    let w = world().await;
    let mut events = listening(&w.client).await;
    let sent = w.client.sign_in_with_otp(&email(), true).await.unwrap();
    assert_eq!(sent.message_id, None, "GoTrue answers {{}} for email");
    assert!(
        w.client.current_session().is_none(),
        "no session before the code"
    );
    let code = w.last_message(EMAIL).code;
    let response = w
        .client
        .verify_otp(
            &email(),
            &format!(" {} {} ", &code[..3], &code[3..]),
            OtpKind::Email,
        )
        .await
        .unwrap();
    assert_eq!(response.user.email, EMAIL);
    assert_eq!(amr_method(&response.session), "otp");
    let event = events.next().await.unwrap();
    assert_eq!(event.kind, AuthEventKind::SignedIn);
    assert_eq!(event.cause, Some(session_engine::Cause::SignIn));
    assert_eq!(event.session.as_ref(), Some(&response.session));
    assert_eq!(w.client.current_session().as_ref(), Some(&response.session));
    assert_eq!(w.stored().as_ref(), Some(&response.session), "saved");
    // The code never reaches the exchange log.
    for exchange in w.client.recorder().recent() {
        let seen = format!("{} {:?}", exchange.url, exchange.request_body);
        assert!(!seen.contains(&code), "{seen}");
    }
}

#[tokio::test]
async fn a_pasted_magic_link_signs_in_without_being_opened() {
    let w = world().await;
    w.client.sign_in_with_otp(&email(), true).await.unwrap();
    let link = w.last_message(EMAIL).link.expect("an email link");
    let pasted = format!("  <{}>\n", link.replace('&', "&amp;"));
    let (token_hash, kind) = AuthClient::parse_email_link(&pasted).unwrap();
    assert_eq!(kind, OtpKind::Magiclink);
    let mut events = listening(&w.client).await;
    let response = w.client.verify_token_hash(&token_hash, kind).await.unwrap();
    assert_eq!(amr_method(&response.session), "otp");
    assert_eq!(events.next().await.unwrap().kind, AuthEventKind::SignedIn);
    assert_eq!(w.stored().as_ref(), Some(&response.session));
    let exchanges = w.client.recorder().recent();
    assert!(
        exchanges.iter().all(|e| e.method == "POST"),
        "the link itself was never requested"
    );
    for exchange in exchanges {
        let seen = format!("{} {:?}", exchange.url, exchange.request_body);
        assert!(
            !seen.contains(&token_hash),
            "the token hash is redacted: {seen}"
        );
    }
}

#[tokio::test]
async fn a_pasted_link_of_the_project_signs_in_and_one_of_another_server_is_refused_unsent() {
    let w = world().await;
    w.client.sign_in_with_otp(&email(), true).await.unwrap();
    let link = w.last_message(EMAIL).link.expect("an email link");
    // The same link, as if another project had sent it: its token must not reach this one.
    let elsewhere = url::Url::parse(&link).unwrap();
    let mut foreign = elsewhere.clone();
    foreign.set_host(Some("project-b.example.com")).unwrap();
    let before = w.client.recorder().recent().len();
    let error = w
        .client
        .verify_email_link(foreign.as_str())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), "linkForAnotherProject", "{error}");
    assert!(
        error.to_string().contains("project-b.example.com")
            && error.to_string().contains("was not sent"),
        "{error}"
    );
    assert_eq!(
        w.client.recorder().recent().len(),
        before,
        "nothing was sent"
    );
    assert_eq!(w.client.current_session(), None);
    // The project's own link signs in.
    let response = w.client.verify_email_link(&link).await.unwrap();
    assert_eq!(amr_method(&response.session), "otp");
    assert_eq!(w.stored().as_ref(), Some(&response.session));
}

#[tokio::test]
async fn a_texted_code_signs_in_a_new_phone_user() {
    let w = world().await;
    let phone = OtpRecipient::parse(PHONE).unwrap();
    assert_eq!(phone, OtpRecipient::Phone("15550100199".into()));
    w.client.sign_in_with_otp(&phone, true).await.unwrap();
    let message = w.last_message(PHONE);
    assert_eq!(message.link, None);
    let response = w
        .client
        .verify_otp(&phone, &message.code, OtpKind::Sms)
        .await
        .unwrap();
    assert_eq!(response.user.phone, "15550100199");
    assert_eq!(amr_method(&response.session), "otp");
    assert_eq!(w.stored().as_ref(), Some(&response.session));
}

#[tokio::test]
async fn a_wrong_code_fails_clearly_and_leaves_the_session_alone() {
    let w = world().await;
    let before = w.sign_in_with_password().await;
    let mut events = listening(&w.client).await;
    w.client.sign_in_with_otp(&email(), true).await.unwrap();
    let code = w.last_message(EMAIL).code;
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let error = w
        .client
        .verify_otp(&email(), wrong, OtpKind::Email)
        .await
        .unwrap_err();
    assert_eq!(
        api_error(&error),
        (403, "otp_expired", "Token has expired or is invalid".into())
    );
    assert_eq!(
        w.client.current_session().as_ref(),
        Some(&before),
        "still current"
    );
    assert_eq!(w.stored().as_ref(), Some(&before), "still stored");
    assert!(events.try_next().is_none(), "no event");
    // The right code still works afterwards: a wrong guess does not burn it.
    w.client
        .verify_otp(&email(), &code, OtpKind::Email)
        .await
        .unwrap();
}

#[tokio::test]
async fn an_expired_code_fails_clearly_and_leaves_the_session_alone() {
    let w = world().await;
    let before = w.sign_in_with_password().await;
    w.client.sign_in_with_otp(&email(), true).await.unwrap();
    let message = w.last_message(EMAIL);
    w.skew_server_clock(3601);
    let error = w
        .client
        .verify_otp(&email(), &message.code, OtpKind::Magiclink)
        .await
        .unwrap_err();
    assert_eq!(
        api_error(&error),
        (403, "otp_expired", "Token has expired or is invalid".into())
    );
    let (hash, kind) = AuthClient::parse_email_link(&message.link.unwrap()).unwrap();
    let error = w.client.verify_token_hash(&hash, kind).await.unwrap_err();
    assert_eq!(
        api_error(&error),
        (
            403,
            "otp_expired",
            "Email link is invalid or has expired".into()
        )
    );
    assert_eq!(w.client.current_session().as_ref(), Some(&before));
    assert_eq!(w.stored().as_ref(), Some(&before));
}

#[tokio::test]
async fn a_resend_too_soon_is_gotrue_429_with_its_code_and_message() {
    let w = world().await;
    w.client.sign_in_with_otp(&email(), true).await.unwrap();
    let error = w.client.sign_in_with_otp(&email(), true).await.unwrap_err();
    assert_eq!(
        api_error(&error),
        (
            429,
            "over_email_send_rate_limit",
            "For security purposes, you can only request this after 59 seconds.".into()
        )
    );
    assert_eq!(error.kind(), "api");
    assert!(!error.is_retryable(), "retrying at once cannot help");
    assert_eq!(w.server.inbox_to(EMAIL).len(), 1);
}

#[tokio::test]
async fn create_user_false_refuses_an_unknown_address() {
    let w = world().await;
    let stranger = OtpRecipient::parse("stranger@example.com").unwrap();
    let error = w
        .client
        .sign_in_with_otp(&stranger, false)
        .await
        .unwrap_err();
    assert_eq!(
        api_error(&error),
        (422, "otp_disabled", "Signups not allowed for otp".into())
    );
    assert!(w.server.inbox().is_empty(), "nothing was sent");
    w.client.sign_in_with_otp(&email(), false).await.unwrap();
}

#[tokio::test]
async fn a_recovery_code_is_announced_as_password_recovery() {
    let w = world().await;
    let reply = reqwest::Client::new()
        .post(format!("{}/recover", w.server.auth_url()))
        .json(&serde_json::json!({"email": EMAIL}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let message = w.last_message(EMAIL);
    let mut events = listening(&w.client).await;
    let response = w
        .client
        .verify_otp(&email(), &message.code, OtpKind::Recovery)
        .await
        .unwrap();
    let event = events.next().await.unwrap();
    assert_eq!(event.kind, AuthEventKind::PasswordRecovery);
    assert_eq!(event.kind.as_str(), "PASSWORD_RECOVERY");
    assert!(event.kind.is_auth_js());
    assert_eq!(event.session.as_ref(), Some(&response.session));
    assert_eq!(w.stored().as_ref(), Some(&response.session));
}

#[tokio::test]
async fn mismatched_kinds_are_refused_before_any_request() {
    let w = world().await;
    let phone = OtpRecipient::parse(PHONE).unwrap();
    for (to, kind) in [(&phone, OtpKind::Email), (&email(), OtpKind::Sms)] {
        let error = w.client.verify_otp(to, "123456", kind).await.unwrap_err();
        assert!(matches!(error, AuthError::InvalidInput(_)), "{error:?}");
    }
    let empty = w.client.verify_otp(&email(), "  ", OtpKind::Email).await;
    assert!(matches!(empty, Err(AuthError::InvalidInput(_))));
    assert!(w.client.recorder().recent().is_empty(), "nothing was sent");
}
