//! GoTrue's identity rules (`internal/api/identity.go`, `external.go` linking, the
//! `/user/identities` routes in `api.go`, `middleware.go` `requireManualLinkingEnabled`), and
//! the answers of the features this server leaves off as GoTrue leaves them by default:
//! SAML (`requireSAMLEnabled`), the Web3 grant (`web3.go`), the ID-token grant's provider
//! checks (`token_oidc.go`). One test per rule, named for it.

mod common;

use common::{start_with, Harness};
use reqwest::{StatusCode, Url};
use serde_json::{json, Value};

const SUB: &str = "90210";

fn query(url: &Url, key: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// The message in whichever envelope the request asked for.
fn msg(reply: &common::Reply) -> &str {
    reply.body["msg"]
        .as_str()
        .or(reply.body["message"].as_str())
        .unwrap_or_default()
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Plays the browser at the fake provider: allows `email`/`sub`, verified, and follows the
/// provider's redirect to `/callback`. Returns where `/callback` sends the browser.
async fn through_provider(provider_url: &str, email: &str, sub: &str) -> Url {
    through_provider_as(provider_url, email, sub, true).await
}

/// [`through_provider`], saying whether the provider verified the email.
async fn through_provider_as(provider_url: &str, email: &str, sub: &str, verified: bool) -> Url {
    let http = no_redirects();
    let url = Url::parse(provider_url).unwrap();
    let form = [
        ("state", query(&url, "state").unwrap()),
        ("redirect_uri", query(&url, "redirect_uri").unwrap()),
        ("decision", "allow".into()),
        ("email", email.into()),
        ("name", "Linked Person".into()),
        ("sub", sub.into()),
        ("email_verified", verified.to_string()),
    ];
    let action = format!("{}{}", &url[..url::Position::BeforePath], url.path());
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&form)
        .finish();
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
    let last = http.get(callback).send().await.unwrap();
    assert_eq!(last.status(), 302);
    Url::parse(last.headers()["location"].to_str().unwrap()).unwrap()
}

fn fragment(url: &Url, key: &str) -> Option<String> {
    form_urlencoded::parse(url.fragment()?.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

async fn link_url(h: &Harness, token: &str, provider: &str) -> common::Reply {
    h.send(
        h.http
            .get(h.url(&format!(
                "/user/identities/authorize?provider={provider}&skip_http_redirect=true"
            )))
            .bearer_auth(token),
    )
    .await
}

async fn unlink(h: &Harness, token: &str, id: &str) -> common::Reply {
    h.send(
        h.http
            .delete(h.url(&format!("/user/identities/{id}")))
            .bearer_auth(token),
    )
    .await
}

async fn linking_on() -> (Harness, String) {
    let h = start_with(|c| c.manual_linking = true).await;
    let token = h.sign_in().await.access_token();
    (h, token)
}

/// Links a GitHub identity (`SUB`) to the signed-in user through the whole flow.
async fn link_github(h: &Harness, token: &str) -> Url {
    let reply = link_url(h, token, "github").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    through_provider(reply.body["url"].as_str().unwrap(), "octo@example.com", SUB).await
}

async fn identities(h: &Harness, token: &str) -> Vec<Value> {
    h.get_user(token).await.body["identities"]
        .as_array()
        .unwrap()
        .clone()
}

/// `/user` is behind `requireAuthentication`, which runs before `requireManualLinkingEnabled`.
#[tokio::test]
async fn identities_routes_ask_for_a_bearer_token_first() {
    let h = start_with(|_| {}).await;
    for request in [
        h.http
            .get(h.url("/user/identities/authorize?provider=github")),
        h.http
            .delete(h.url(&format!("/user/identities/{}", uuid::Uuid::new_v4()))),
    ] {
        let reply = h.send(request).await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (401, "no_authorization")
        );
    }
}

/// `requireManualLinkingEnabled`: 404 `manual_linking_disabled` while
/// `SECURITY_MANUAL_LINKING_ENABLED` is off, its default.
#[tokio::test]
async fn manual_linking_is_disabled_by_default() {
    let h = start_with(|_| {}).await;
    let token = h.sign_in().await.access_token();
    let id = identities(&h, &token).await[0]["identity_id"]
        .as_str()
        .unwrap()
        .to_string();
    for reply in [
        link_url(&h, &token, "github").await,
        unlink(&h, &token, &id).await,
    ] {
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (404, "manual_linking_disabled")
        );
        assert_eq!(msg(&reply), "Manual linking is disabled");
    }
}

/// `LinkIdentity` + `linkIdentityToUser`: the flow started by a signed-in user ends with the
/// provider's identity on that user (no new user), `app_metadata.providers` updated, and a
/// session for the user as a sign-in ends.
#[tokio::test]
async fn a_linking_flow_adds_the_identity_to_the_signed_in_user() {
    let (h, token) = linking_on().await;
    let me = h.get_user(&token).await.body["id"].clone();
    let landed = link_github(&h, &token).await;
    let session_token = fragment(&landed, "access_token").expect("a session in the fragment");
    assert_eq!(common::claims(&session_token)["sub"], me);

    let user = h.get_user(&token).await.body;
    let providers: Vec<&str> = user["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["provider"].as_str().unwrap())
        .collect();
    assert_eq!(providers, ["email", "github"]);
    assert_eq!(
        user["app_metadata"]["providers"],
        json!(["email", "github"])
    );
    assert_eq!(user["identities"][1]["id"], SUB);
    assert_eq!(user["identities"][1]["user_id"], me);
    assert_eq!(user["email"], common::EMAIL, "the user keeps its email");
    let users = h.control(reqwest::Method::GET, "/users", None).await.body;
    assert_eq!(users.as_array().map(Vec::len), Some(1), "no new user");
}

/// `linkIdentityToUser`: an identity that already belongs to someone is
/// `identity_already_exists` (sent back to the redirect as the callback's error).
#[tokio::test]
async fn an_identity_that_is_already_linked_is_identity_already_exists() {
    let (h, token) = linking_on().await;
    link_github(&h, &token).await;
    let again = link_github(&h, &token).await;
    assert_eq!(
        query(&again, "error_code").as_deref(),
        Some("identity_already_exists")
    );
    assert_eq!(
        query(&again, "error_description").as_deref(),
        Some("Identity is already linked")
    );

    // Another user's identity.
    let other = h
        .post(
            "/signup",
            json!({"email": "other@example.com", "password": "pass-word-1"}),
        )
        .await
        .access_token();
    let taken = link_github(&h, &other).await;
    assert_eq!(
        query(&taken, "error_code").as_deref(),
        Some("identity_already_exists")
    );
    assert_eq!(
        query(&taken, "error_description").as_deref(),
        Some("Identity is already linked to another user")
    );
}

/// `DeleteIdentity`: a user keeps at least one identity.
#[tokio::test]
async fn the_last_identity_is_single_identity_not_deletable() {
    let (h, token) = linking_on().await;
    let id = identities(&h, &token).await[0]["identity_id"]
        .as_str()
        .unwrap()
        .to_string();
    let reply = unlink(&h, &token, &id).await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (422, "single_identity_not_deletable")
    );
}

/// `DeleteIdentity`: a malformed id is 404 `validation_failed`, an id the user has no identity
/// by is 422 `identity_not_found`.
#[tokio::test]
async fn an_unknown_identity_is_identity_not_found() {
    let (h, token) = linking_on().await;
    link_github(&h, &token).await;
    let reply = unlink(&h, &token, "not-a-uuid").await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (404, "validation_failed")
    );
    let reply = unlink(&h, &token, &uuid::Uuid::new_v4().to_string()).await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (422, "identity_not_found")
    );
}

/// `DeleteIdentity`: the identity goes, `{}` comes back, and `app_metadata.providers` is
/// derived again from what is left (`UpdateAppMetaDataProviders`).
#[tokio::test]
async fn unlinking_removes_the_identity_and_its_provider() {
    let (h, token) = linking_on().await;
    link_github(&h, &token).await;
    let github = identities(&h, &token).await[1]["identity_id"]
        .as_str()
        .unwrap()
        .to_string();
    let reply = unlink(&h, &token, &github).await;
    assert_eq!((reply.status, &reply.body), (StatusCode::OK, &json!({})));
    let user = h.get_user(&token).await.body;
    assert_eq!(user["identities"].as_array().unwrap().len(), 1);
    assert_eq!(user["app_metadata"]["providers"], json!(["email"]));
    assert_eq!(user["app_metadata"]["provider"], "email");
}

/// `requireSAMLEnabled` guards the whole `/sso` group: 404 `saml_provider_disabled`.
#[tokio::test]
async fn sso_routes_answer_saml_disabled() {
    let h = start_with(|_| {}).await;
    for request in [
        h.http
            .post(h.url("/sso"))
            .json(&json!({"domain": "example.com"})),
        h.http.get(h.url("/sso/saml/metadata")),
        h.http.post(h.url("/sso/saml/acs")),
    ] {
        let reply = h.send(request).await;
        assert_eq!(
            (reply.status.as_u16(), reply.code()),
            (404, "saml_provider_disabled")
        );
        assert_eq!(msg(&reply), "SAML 2.0 is disabled");
    }
}

/// `Web3Grant` with neither chain enabled: 422 `web3_provider_disabled`, before the body.
#[tokio::test]
async fn the_web3_grant_is_web3_provider_disabled() {
    let h = start_with(|_| {}).await;
    let reply = h
        .post(
            "/token?grant_type=web3",
            json!({"chain": "solana", "message": "m", "signature": "s"}),
        )
        .await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (422, "web3_provider_disabled")
    );
    assert_eq!(msg(&reply), "Web3 provider is disabled");
}

/// `IdTokenGrant`'s checks in its order: the token, a provider (or client id and issuer), the
/// provider known and enabled; past them GoTrue verifies with the provider's keys, which this
/// server does not hold: "Bad ID token".
#[tokio::test]
async fn the_id_token_grant_checks_params_and_provider_as_gotrue() {
    let h = start_with(|c| c.external_providers = vec!["github".into()]).await;
    let grant = |body: Value| h.post("/token?grant_type=id_token", body);
    let oauth = |reply: &common::Reply| {
        (
            reply.status.as_u16(),
            reply.body["error"].clone(),
            reply.body["error_description"].clone(),
        )
    };
    let reply = grant(json!({"provider": "google"})).await;
    assert_eq!(
        oauth(&reply),
        (400, json!("invalid request"), json!("id_token required"))
    );
    let reply = grant(json!({"id_token": "x"})).await;
    assert_eq!(
        oauth(&reply),
        (
            400,
            json!("invalid request"),
            json!("provider or client_id and issuer required")
        )
    );
    let reply = grant(json!({"id_token": "x", "provider": "google"})).await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (400, "provider_disabled")
    );
    assert_eq!(
        msg(&reply),
        "Provider (issuer \"https://accounts.google.com\") is not enabled"
    );
    let reply = grant(json!({"id_token": "x", "provider": "custom:mine"})).await;
    assert_eq!(msg(&reply), "Custom OAuth providers are disabled");
    let reply = grant(json!({"id_token": "x", "provider": "github"})).await;
    assert_eq!(msg(&reply), "Custom OIDC provider \"github\" not allowed");
    let reply = grant(json!({"id_token": "x", "provider": "google", "link_identity": true})).await;
    assert_eq!(
        oauth(&reply).2,
        json!("Linking requires a valid user access token in Authorization")
    );

    let enabled = start_with(|_| {}).await; // google on
    let reply = enabled
        .post(
            "/token?grant_type=id_token",
            json!({"id_token": "mock", "provider": "google"}),
        )
        .await;
    assert_eq!(
        oauth(&reply),
        (400, json!("invalid request"), json!("Bad ID token"))
    );
}

/// `UpdateUserEmailFromIdentities` (unlinking the identity of the user's email): the email
/// moves to the remaining identity's, `ClearAllPendingTokens` drops what was issued for the
/// old one (the pending email change and its links), and an email its provider did not
/// verify (autoconfirm off) is unconfirmed with `user_metadata.email_verified: false`.
#[tokio::test]
async fn unlinking_that_moves_the_email_clears_pending_tokens_and_unverifies() {
    let h = start_with(|c| {
        c.manual_linking = true;
        c.autoconfirm = false;
    })
    .await;
    let token = h.sign_in().await.access_token();
    let changing = h
        .send(
            h.http
                .put(h.url("/user"))
                .bearer_auth(&token)
                .json(&json!({"email": "changed@example.com"})),
        )
        .await;
    assert_eq!(changing.status, 200, "{}", changing.text);
    let reply = link_url(&h, &token, "github").await;
    through_provider_as(
        reply.body["url"].as_str().unwrap(),
        "octo@example.com",
        SUB,
        false,
    )
    .await;
    let email_identity = identities(&h, &token).await[0]["identity_id"]
        .as_str()
        .unwrap()
        .to_string();
    let reply = unlink(&h, &token, &email_identity).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let user = h.get_user(&token).await.body;
    assert_eq!(user["email"], "octo@example.com");
    assert!(user.get("new_email").is_none(), "{user}");
    assert!(user.get("email_change_sent_at").is_none(), "{user}");
    assert!(user["email_confirmed_at"].is_null(), "{user}");
    assert_eq!(user["user_metadata"]["email_verified"], false);
    let to = form_urlencoded::byte_serialize(b"changed@example.com").collect::<String>();
    let mail = h
        .control(reqwest::Method::GET, &format!("/inbox?to={to}"), None)
        .await
        .body[0]
        .clone();
    let stale = h
        .post(
            "/verify",
            json!({"type": "email_change", "email": "changed@example.com", "token": mail["code"]}),
        )
        .await;
    assert_eq!(
        (stale.status.as_u16(), stale.code()),
        (403, "otp_expired"),
        "{}",
        stale.text
    );
}

/// `linkIdentityToUser` for a user without an email: a verified provider email confirms it
/// through `User.Confirm`, which also sets `user_metadata.email_verified: true`.
#[tokio::test]
async fn linking_a_verified_email_confirms_it_as_user_confirm() {
    let h = start_with(|c| c.manual_linking = true).await;
    let token = h.post("/signup", json!({})).await.access_token();
    let reply = link_url(&h, &token, "github").await;
    let landed =
        through_provider(reply.body["url"].as_str().unwrap(), "octo@example.com", SUB).await;
    assert!(fragment(&landed, "access_token").is_some(), "{landed}");
    let user = h.get_user(&token).await.body;
    assert_eq!(user["email"], "octo@example.com");
    assert!(user["email_confirmed_at"].is_string(), "{user}");
    assert_eq!(user["user_metadata"]["email_verified"], true, "{user}");
    assert_eq!(user["is_anonymous"], false);
}

/// A failed link that GoTrue commits anyway (`NewCommitWithError`: an unverified provider
/// email for a user without one) keeps the flow's linking target: the same state used again
/// can only try linking again (`identity_already_exists`), never sign in as a plain OAuth
/// sign-in would.
#[tokio::test]
async fn a_kept_failed_link_cannot_be_replayed_as_a_sign_in() {
    let h = start_with(|c| c.manual_linking = true).await;
    let token = h.post("/signup", json!({})).await.access_token();
    let reply = link_url(&h, &token, "github").await;
    let provider_url = reply.body["url"].as_str().unwrap().to_string();
    let failed = through_provider_as(&provider_url, "octo@example.com", SUB, false).await;
    assert_eq!(
        query(&failed, "error_code").as_deref(),
        Some("email_not_confirmed"),
        "{failed}"
    );
    let replayed = through_provider_as(&provider_url, "octo@example.com", SUB, true).await;
    assert!(fragment(&replayed, "access_token").is_none(), "{replayed}");
    assert_eq!(
        query(&replayed, "error_code").as_deref(),
        Some("identity_already_exists"),
        "{replayed}"
    );
}

/// `IsDuplicatedEmail` looks at other users' identities first: an email only another user's
/// linked identity has is taken for `PUT /user` too.
#[tokio::test]
async fn the_new_email_check_counts_other_users_identities_as_is_duplicated_email() {
    let (h, token) = linking_on().await;
    link_github(&h, &token).await;
    let other = h
        .post(
            "/signup",
            json!({"email": "other@example.com", "password": "pass-word-1"}),
        )
        .await
        .access_token();
    let reply = h
        .send(
            h.http
                .put(h.url("/user"))
                .bearer_auth(&other)
                .json(&json!({"email": "octo@example.com"})),
        )
        .await;
    assert_eq!(
        (reply.status.as_u16(), reply.code()),
        (422, "email_exists"),
        "{}",
        reply.text
    );
}

/// An unsigned token whose claims are `claims` (GoTrue reads Apple's and Azure's issuer from
/// the token before verifying it).
fn unverified_token(claims: Value) -> String {
    use base64::Engine as _;
    let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    format!("{}.{}.sig", b64(json!({"alg": "RS256"})), b64(claims))
}

/// `getProvider`: Apple and Azure are chosen by name or by the request's issuer, the token's
/// issuer must be theirs and match a given issuer, and only then is the provider's switch
/// checked (naming the detected issuer).
#[tokio::test]
async fn get_provider_detects_apple_and_azure_by_issuer_and_checks_the_tokens_issuer() {
    let h = start_with(|c| c.external_providers = vec!["github".into()]).await;
    let message = |body: Value| {
        let h = &h;
        async move {
            let reply = h.post("/token?grant_type=id_token", body).await;
            (reply.code().to_string(), msg(&reply).to_string())
        }
    };
    let apple = unverified_token(json!({"iss": "https://appleid.apple.com"}));
    let azure = unverified_token(json!({"iss": "https://login.microsoftonline.com/tenant/v2.0"}));
    let google = unverified_token(json!({"iss": "https://accounts.google.com"}));
    // Chosen by issuer alone, with a client id.
    assert_eq!(
        message(
            json!({"id_token": apple, "client_id": "c", "issuer": "https://appleid.apple.com"})
        )
        .await,
        (
            "provider_disabled".into(),
            "Provider (issuer \"https://appleid.apple.com\") is not enabled".into()
        )
    );
    assert_eq!(
        message(json!({"id_token": azure, "client_id": "c",
            "issuer": "https://login.microsoftonline.com/tenant/v2.0"}))
        .await,
        (
            "provider_disabled".into(),
            "Provider (issuer \"https://login.microsoftonline.com/tenant/v2.0\") is not enabled"
                .into()
        )
    );
    // The token's issuer must be the provider's.
    assert_eq!(
        message(json!({"id_token": google, "provider": "apple"})).await,
        (
            "validation_failed".into(),
            "Detected ID token issuer is not an Apple ID token issuer".into()
        )
    );
    assert_eq!(
        message(json!({"id_token": google, "provider": "azure"})).await,
        (
            "validation_failed".into(),
            "Detected ID token issuer is not an Azure ID token issuer".into()
        )
    );
    // A given issuer must be the token's.
    assert_eq!(
        message(
            json!({"id_token": apple, "provider": "apple", "issuer": "https://account.apple.com"})
        )
        .await,
        (
            "validation_failed".into(),
            "Provided issuer does not match ID token issuer".into()
        )
    );
    assert_eq!(
        message(json!({"id_token": azure, "provider": "azure",
            "issuer": "https://login.microsoftonline.com/other/v2.0"}))
        .await,
        (
            "validation_failed".into(),
            "Provided issuer does not match ID token issuer".into()
        )
    );
    // Apple's case comes first: an Apple issuer wins over the Google provider name.
    assert_eq!(
        message(
            json!({"id_token": google, "provider": "google", "issuer": "https://appleid.apple.com"})
        )
        .await,
        (
            "validation_failed".into(),
            "Detected ID token issuer is not an Apple ID token issuer".into()
        )
    );
    // A token GoTrue cannot read: not three parts.
    assert_eq!(
        message(json!({"id_token": "a.b", "provider": "azure"})).await,
        (
            "validation_failed".into(),
            "Unable to detect issuer in ID token for Azure provider".into()
        )
    );
}
