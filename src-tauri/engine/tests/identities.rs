//! Linked identities against the real built-in server: `get_user_identities`,
//! `link_identity` (the OAuth flow through the fake provider back to the engine's loopback
//! listener, with the session's bearer) and `unlink_identity`, and GoTrue's refusals.

use reqwest::Url;
use session_engine::{AuthError, Credentials};

mod common;

use common::{EMAIL, PASSWORD};

fn query(url: &str, key: &str) -> String {
    Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

/// The browser at the provider's page: allows, follows GoTrue's `/callback` to the listener.
async fn through_provider(provider_url: &str) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut form = Url::parse("http://form.invalid/").unwrap();
    form.query_pairs_mut().extend_pairs([
        ("state", query(provider_url, "state")),
        ("redirect_uri", query(provider_url, "redirect_uri")),
        ("decision", "allow".into()),
        ("email", "octo@example.com".into()),
        ("name", "Octo Cat".into()),
        ("sub", "583231".into()),
        ("email_verified", "true".into()),
    ]);
    let body = form.query().unwrap().to_string();
    let action = provider_url.split('?').next().unwrap().to_string();
    let to_callback = http
        .post(action)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(to_callback.status(), 302);
    let callback = to_callback.headers()["location"]
        .to_str()
        .unwrap()
        .to_string();
    let to_listener = http.get(callback).send().await.unwrap();
    assert_eq!(to_listener.status(), 302);
    let listener = to_listener.headers()["location"]
        .to_str()
        .unwrap()
        .to_string();
    http.get(listener).send().await.unwrap();
}

async fn signed_in(manual_linking: bool) -> (local_gotrue::Server, session_engine::AuthClient) {
    let (server, _store, client) =
        common::server_and_client("identities", |c| c.manual_linking = manual_linking).await;
    client
        .sign_in_with_password(Credentials::Email {
            email: EMAIL.into(),
            password: PASSWORD.into(),
        })
        .await
        .unwrap();
    (server, client)
}

fn providers(identities: &[serde_json::Value]) -> Vec<&str> {
    identities
        .iter()
        .map(|i| i["provider"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn linking_a_provider_then_unlinking_it() {
    let (_server, client) = signed_in(true).await;
    let me = client.current_session().unwrap().user.id;
    assert_eq!(
        providers(&client.get_user_identities().await.unwrap()),
        ["email"]
    );

    let flow = client.link_identity("github", None).await.unwrap();
    assert!(flow.authorize_url().contains("/_provider/github/authorize"));
    let provider_url = flow.authorize_url().to_string();
    let finishing = tokio::spawn(flow.finish());
    through_provider(&provider_url).await;
    let linked = finishing.await.unwrap().unwrap();
    assert_eq!(linked.user.id, me, "the same user, not a new one");

    let identities = client.get_user_identities().await.unwrap();
    assert_eq!(providers(&identities), ["email", "github"]);
    let github = identities[1]["identity_id"].as_str().unwrap().to_string();
    client.unlink_identity(&github).await.unwrap();
    assert_eq!(
        providers(&client.get_user_identities().await.unwrap()),
        ["email"]
    );
}

#[tokio::test]
async fn gotrue_refusals_come_back_with_their_codes() {
    let (_server, client) = signed_in(false).await;
    let refused = client.link_identity("github", None).await.unwrap_err();
    assert_eq!(refused.code(), Some("manual_linking_disabled"));
    let id = client.get_user_identities().await.unwrap()[0]["identity_id"]
        .as_str()
        .unwrap()
        .to_string();
    let refused = client.unlink_identity(&id).await.unwrap_err();
    assert_eq!(refused.code(), Some("manual_linking_disabled"));

    let (_server, client) = signed_in(true).await;
    let id = client.get_user_identities().await.unwrap()[0]["identity_id"]
        .as_str()
        .unwrap()
        .to_string();
    let refused = client.unlink_identity(&id).await.unwrap_err();
    assert_eq!(refused.code(), Some("single_identity_not_deletable"));
    assert!(matches!(
        client.unlink_identity("../logout").await,
        Err(AuthError::InvalidInput(_))
    ));
    client
        .sign_out(session_engine::SignOutScope::Local)
        .await
        .unwrap();
    assert_eq!(
        client.link_identity("github", None).await.unwrap_err(),
        AuthError::SessionMissing
    );
}
