//! Changing the signed-in user (`update_user`, `reauthenticate`, `resend`,
//! `reset_password_for_email`, confirming an email change), against the real local GoTrue
//! server: codes and links are read from its inbox.

use std::sync::Arc;

use local_gotrue::{Config, Server};
use session_engine::{
    AuthClient, AuthError, AuthEventKind, Cause, Credentials, EmailChangeConfirmation, MemoryStore,
    ResendKind, Session, SessionStore, UserAttributes,
};

mod common;

use common::{EMAIL, PASSWORD};
const PROFILE: &str = "account";
const NEW_EMAIL: &str = "changed@example.com";

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

impl World {
    fn last_message(&self, to: &str) -> local_gotrue::InboxMessage {
        self.server
            .inbox_to(to)
            .pop()
            .unwrap_or_else(|| panic!("nothing was sent to {to}"))
    }

    fn stored(&self) -> Option<Session> {
        self.store.load(PROFILE).unwrap()
    }

    async fn signed_in(&self) -> Session {
        self.client
            .sign_in_with_password(Credentials::Email {
                email: EMAIL.into(),
                password: PASSWORD.into(),
            })
            .await
            .expect("password sign-in works")
            .session
    }
}

fn code(error: &AuthError) -> &str {
    error.code().unwrap_or_default()
}

#[tokio::test]
async fn an_email_change_waits_for_both_confirmations_then_signs_in_with_the_new_email() {
    let w = world_with(|c| c.autoconfirm = false).await;
    w.signed_in().await;
    let mut events = w.client.subscribe();
    assert_eq!(
        events.next().await.unwrap().kind,
        AuthEventKind::InitialSession
    );
    let user = w
        .client
        .update_user(UserAttributes {
            email: Some(NEW_EMAIL.into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(user.email, EMAIL);
    assert_eq!(user.new_email.as_deref(), Some(NEW_EMAIL));
    let event = events.next().await.unwrap();
    assert_eq!(event.kind, AuthEventKind::UserUpdated);
    assert_eq!(event.cause, Some(Cause::UserUpdate));
    assert_eq!(
        w.stored().unwrap().user.new_email.as_deref(),
        Some(NEW_EMAIL),
        "the stored session's user is the answer"
    );

    let to_new = w.last_message(NEW_EMAIL);
    let first = w
        .client
        .confirm_email_change_code(NEW_EMAIL, &to_new.code)
        .await
        .unwrap();
    assert!(
        matches!(&first, EmailChangeConfirmation::FirstOfTwo { message } if message.starts_with("Confirmation link accepted")),
        "{first:?}"
    );
    let to_current = w.last_message(EMAIL);
    let second = w
        .client
        .confirm_email_change_link(to_current.link.as_deref().unwrap())
        .await
        .unwrap();
    let EmailChangeConfirmation::Applied(response) = second else {
        panic!("the second confirmation applies the change");
    };
    assert_eq!(response.user.email, NEW_EMAIL);
    assert_eq!(response.user.new_email, None);
    assert_eq!(w.client.current_session().unwrap().user.email, NEW_EMAIL);
    // The confirmed change signs in with new tokens, caused by the user update.
    let signed_in = std::iter::from_fn(|| events.try_next())
        .find(|e| e.kind == AuthEventKind::SignedIn)
        .expect("the applied change is told");
    assert_eq!(signed_in.cause, Some(Cause::UserUpdate));
}

#[tokio::test]
async fn change_password_sends_the_current_password_a_project_requires_and_never_logs_it() {
    let w = world_with(|c| c.require_current_password = true).await;
    w.signed_in().await;
    let refused = w
        .client
        .change_password("a-new-password".into(), None, None)
        .await
        .unwrap_err();
    assert_eq!(code(&refused), "current_password_required", "{refused}");
    // A blank current password is not sent at all.
    let blank = w
        .client
        .change_password("a-new-password".into(), None, Some("".into()))
        .await
        .unwrap_err();
    assert_eq!(code(&blank), "current_password_required", "{blank}");
    w.client
        .change_password("a-new-password".into(), None, Some(PASSWORD.into()))
        .await
        .unwrap();
    for exchange in w.client.recorder().recent() {
        let seen = format!("{} {:?}", exchange.url, exchange.request_body);
        assert!(!seen.contains(PASSWORD), "{seen}");
    }
}

#[tokio::test]
async fn a_password_change_with_a_nonce_from_reauthenticate_works_and_the_nonce_is_not_logged() {
    let w = world_with(|c| {
        c.secure_password_change = true;
        c.jwt_expiry = std::time::Duration::from_secs(3 * 24 * 3600);
        c.mailer_otp_exp = std::time::Duration::from_secs(3 * 24 * 3600);
    })
    .await;
    w.signed_in().await;
    // The session is older than GoTrue's 24 hours by the server's clock.
    w.server.state().clock.set_skew_ms(25 * 3600 * 1000);
    let refused = w
        .client
        .update_user(UserAttributes {
            password: Some("a-new-password".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(code(&refused), "reauthentication_needed", "{refused}");
    w.client.reauthenticate().await.unwrap();
    let nonce = w.last_message(EMAIL).code;
    w.client
        .update_user(UserAttributes {
            password: Some("a-new-password".into()),
            nonce: Some(nonce.clone().into()),
            ..Default::default()
        })
        .await
        .unwrap();
    for exchange in w.client.recorder().recent() {
        let seen = format!("{} {:?}", exchange.url, exchange.request_body);
        assert!(!seen.contains(&nonce), "{seen}");
        assert!(!seen.contains("a-new-password"), "{seen}");
    }
}

#[tokio::test]
async fn update_user_without_a_session_is_session_missing() {
    let w = world_with(|_| {}).await;
    let error = w
        .client
        .update_user(UserAttributes::default())
        .await
        .unwrap_err();
    assert!(matches!(error, AuthError::SessionMissing), "{error}");
    let error = w.client.reauthenticate().await.unwrap_err();
    assert!(matches!(error, AuthError::SessionMissing), "{error}");
}

#[tokio::test]
async fn resend_and_password_reset_reach_the_inbox() {
    let w = world_with(|c| {
        c.autoconfirm = false;
        c.max_frequency = std::time::Duration::ZERO;
    })
    .await;
    w.signed_in().await;
    w.client
        .update_user(UserAttributes {
            email: Some(NEW_EMAIL.into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let before = w.server.inbox_to(NEW_EMAIL).len();
    w.client
        .resend(ResendKind::EmailChange, EMAIL)
        .await
        .unwrap();
    assert_eq!(w.server.inbox_to(NEW_EMAIL).len(), before + 1);

    w.client
        .reset_password_for_email(EMAIL, Some("http://127.0.0.1:3000/reset"))
        .await
        .unwrap();
    let reset = w.last_message(EMAIL);
    assert_eq!(reset.kind, local_gotrue::InboxKind::Recovery);
    assert!(
        reset.link.as_deref().unwrap().contains("redirect_to="),
        "{:?}",
        reset.link
    );
    let error = w.client.resend(ResendKind::Signup, " ").await.unwrap_err();
    assert!(matches!(error, AuthError::InvalidInput(_)), "{error}");
}
