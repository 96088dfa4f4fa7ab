//! GoTrue's OAuth sign-in rules as supabase/auth implements them (`internal/api/external.go`,
//! `external_oauth.go`, `token.go` `PKCE`, `pkce.go`, `models/flow_state.go`,
//! `models/linking.go`, `utilities/request.go`), one test per rule, named for it. A reqwest
//! client that never follows redirects plays the browser: `/authorize`, the fake provider's
//! form, `/callback`, and where GoTrue sends it last.

mod common;

use base64::Engine as _;
use common::{claims, start, start_with, Harness, EMAIL};
use reqwest::{Method, StatusCode, Url};
use serde_json::{json, Value};
use sha2::Digest as _;

/// RFC 7636's example verifier (43 characters).
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const REDIRECT_TO: &str = "http://127.0.0.1:43210/callback/st4te?keep=1";

fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier))
}

/// Who the fake provider's form signs in.
#[derive(Clone)]
struct Person {
    email: &'static str,
    name: &'static str,
    sub: &'static str,
    verified: bool,
}

const OCTOCAT: Person = Person {
    email: "Octo.Cat@Example.com",
    name: "Octo Cat",
    sub: "583231",
    verified: true,
};

/// The hops a browser makes, without following any redirect itself.
struct Browser {
    http: reqwest::Client,
}

/// One response as the browser saw it.
struct Hop {
    status: StatusCode,
    location: Option<String>,
    text: String,
    body: Value,
    headers: reqwest::header::HeaderMap,
}

impl Hop {
    fn location(&self) -> Url {
        Url::parse(self.location.as_deref().expect("a Location header")).expect("a URL")
    }

    fn code(&self) -> &str {
        self.body["error_code"]
            .as_str()
            .or(self.body["code"].as_str())
            .unwrap_or_default()
    }
}

fn query(url: &Url, key: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

fn fragment(url: &Url, key: &str) -> Option<String> {
    let fragment = url.fragment()?;
    form_urlencoded::parse(fragment.as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

impl Browser {
    fn new() -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    async fn hop(&self, request: reqwest::RequestBuilder) -> Hop {
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let headers = response.headers().clone();
        let location = headers
            .get("location")
            .map(|v| v.to_str().unwrap().to_string());
        let text = response.text().await.unwrap_or_default();
        Hop {
            status,
            location,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            text,
            headers,
        }
    }

    async fn get(&self, url: &str) -> Hop {
        self.hop(self.http.get(url)).await
    }

    /// `GET /authorize` with these query parameters.
    async fn authorize(&self, h: &Harness, params: &[(&str, &str)]) -> Hop {
        let mut url = Url::parse(&h.url("/authorize")).unwrap();
        url.query_pairs_mut().extend_pairs(params);
        self.get(url.as_str()).await
    }

    /// From the provider's page to GoTrue's `/callback`: the provider's redirect.
    async fn answer_provider(&self, provider_url: &Url, person: &Person, allow: bool) -> Hop {
        let page = self.get(provider_url.as_str()).await;
        assert_eq!(page.status, 200, "the provider's page: {}", page.text);
        let mut form = vec![
            ("state", query(provider_url, "state").unwrap()),
            ("redirect_uri", query(provider_url, "redirect_uri").unwrap()),
            ("decision", if allow { "allow" } else { "deny" }.to_string()),
            ("email", person.email.to_string()),
            ("name", person.name.to_string()),
            ("sub", person.sub.to_string()),
        ];
        if person.verified {
            form.push(("email_verified", "true".into()));
        }
        let action = format!(
            "{}://{}{}",
            provider_url.scheme(),
            provider_url.host_str().unwrap(),
            provider_url
                .port()
                .map(|p| format!(":{p}"))
                .unwrap_or_default()
        ) + provider_url.path();
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&form)
            .finish();
        let request = self
            .http
            .post(action)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.hop(request).await
    }

    /// The whole flow to where GoTrue sends the browser last.
    async fn sign_in(
        &self,
        h: &Harness,
        provider: &str,
        redirect_to: Option<&str>,
        pkce: bool,
        person: &Person,
        allow: bool,
    ) -> Hop {
        let challenge = challenge(VERIFIER);
        let mut params = vec![("provider", provider)];
        if let Some(redirect_to) = redirect_to {
            params.push(("redirect_to", redirect_to));
        }
        if pkce {
            params.push(("code_challenge", &challenge));
            params.push(("code_challenge_method", "s256"));
        }
        let to_provider = self.authorize(h, &params).await;
        assert_eq!(to_provider.status, 302, "{}", to_provider.text);
        let to_callback = self
            .answer_provider(&to_provider.location(), person, allow)
            .await;
        assert_eq!(to_callback.status, 302, "{}", to_callback.text);
        self.get(to_callback.location.as_deref().unwrap()).await
    }

    /// A PKCE sign-in to `REDIRECT_TO`: the auth code.
    async fn auth_code(&self, h: &Harness, provider: &str, person: &Person) -> String {
        let last = self
            .sign_in(h, provider, Some(REDIRECT_TO), true, person, true)
            .await;
        assert_eq!(last.status, 302, "{}", last.text);
        query(&last.location(), "code").expect("a code")
    }
}

async fn exchange(h: &Harness, auth_code: &str, verifier: &str) -> common::Reply {
    h.post(
        "/token?grant_type=pkce",
        json!({"auth_code": auth_code, "code_verifier": verifier}),
    )
    .await
}

async fn users(h: &Harness) -> Vec<Value> {
    h.control(Method::GET, "/users", None)
        .await
        .body
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn user_with_email(h: &Harness, email: &str) -> Value {
    users(h)
        .await
        .into_iter()
        .find(|u| u["email"] == email)
        .unwrap_or_else(|| panic!("no user {email}"))
}

// ---- /authorize --------------------------------------------------------------------------------

#[tokio::test]
async fn an_unknown_provider_could_not_be_found() {
    let h = start().await;
    let reply = Browser::new()
        .authorize(&h, &[("provider", "Myspace")])
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.code(), "validation_failed");
    assert_eq!(
        reply.body["msg"],
        "Unsupported provider: Provider myspace could not be found"
    );
}

#[tokio::test]
async fn a_provider_gotrue_knows_but_not_enabled_is_refused() {
    let h = start().await;
    let reply = Browser::new()
        .authorize(&h, &[("provider", "gitlab")])
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.code(), "validation_failed");
    assert_eq!(
        reply.body["msg"],
        "Unsupported provider: provider is not enabled"
    );
}

#[tokio::test]
async fn a_challenge_needs_its_method_and_a_method_its_challenge() {
    let h = start().await;
    let browser = Browser::new();
    let challenge = challenge(VERIFIER);
    for params in [
        vec![
            ("provider", "github"),
            ("code_challenge", challenge.as_str()),
        ],
        vec![("provider", "github"), ("code_challenge_method", "s256")],
    ] {
        let reply = browser.authorize(&h, &params).await;
        assert_eq!(reply.status, 400);
        assert_eq!(
            reply.body["msg"],
            "PKCE flow requires code_challenge_method and code_challenge"
        );
    }
}

#[tokio::test]
async fn a_challenge_is_43_to_128_url_safe_characters() {
    let h = start().await;
    let browser = Browser::new();
    let short = "a".repeat(42);
    let plus = format!("{}+", "a".repeat(43));
    let reply = browser
        .authorize(
            &h,
            &[
                ("provider", "github"),
                ("code_challenge", &short),
                ("code_challenge_method", "s256"),
            ],
        )
        .await;
    assert_eq!(
        reply.body["msg"],
        "code challenge has to be between 43 and 128 characters"
    );
    let reply = browser
        .authorize(
            &h,
            &[
                ("provider", "github"),
                ("code_challenge", &plus),
                ("code_challenge_method", "s256"),
            ],
        )
        .await;
    assert_eq!(
        reply.body["msg"],
        "code challenge can only contain alphanumeric characters, hyphens, periods, underscores and tildes"
    );
}

#[tokio::test]
async fn a_challenge_method_other_than_s256_or_plain_is_invalid() {
    let h = start().await;
    let challenge = challenge(VERIFIER);
    let reply = Browser::new()
        .authorize(
            &h,
            &[
                ("provider", "github"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S512"),
            ],
        )
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.code(), "validation_failed");
    assert_eq!(reply.body["msg"], "Invalid code_challenge_method");
}

#[tokio::test]
async fn authorize_sends_the_browser_to_the_provider_with_the_flow_states_id() {
    let h = start().await;
    let challenge = challenge(VERIFIER);
    let reply = Browser::new()
        .authorize(
            &h,
            &[
                ("provider", "GitHub"),
                ("redirect_to", REDIRECT_TO),
                ("scopes", "repo,gist"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "s256"),
                ("skip_http_redirect", "true"),
            ],
        )
        .await;
    assert_eq!(reply.status, 302, "{}", reply.text);
    let to = reply.location();
    assert_eq!(to.path(), "/_provider/github/authorize");
    assert_eq!(query(&to, "response_type").as_deref(), Some("code"));
    assert_eq!(
        query(&to, "client_id").as_deref(),
        Some("local-gotrue-github")
    );
    assert_eq!(query(&to, "redirect_uri"), Some(h.url("/callback")));
    assert_eq!(query(&to, "scope").as_deref(), Some("user:email repo gist"));
    let state = query(&to, "state").unwrap();
    assert!(
        uuid::Uuid::parse_str(&state).is_ok(),
        "the state is a flow state id: {state}"
    );
    // Whatever else the request carried goes on to the provider; the PKCE pair does not.
    assert_eq!(query(&to, "redirect_to").as_deref(), Some(REDIRECT_TO));
    assert_eq!(query(&to, "skip_http_redirect").as_deref(), Some("true"));
    assert_eq!(query(&to, "code_challenge"), None);
}

#[tokio::test]
async fn authorize_and_callback_need_no_api_key_behind_the_gateway() {
    let h = start_with(|c| c.require_api_key = true).await;
    let browser = Browser::new();
    let last = browser
        .sign_in(&h, "github", Some(REDIRECT_TO), true, &OCTOCAT, true)
        .await;
    assert_eq!(last.status, 302, "{}", last.text);
    assert!(query(&last.location(), "code").is_some());
    let settings = browser.get(&h.url("/settings")).await;
    assert_eq!(settings.status, 401, "other routes still need the key");
}

#[tokio::test]
async fn settings_say_which_providers_are_enabled() {
    let h = start_with(|c| c.external_providers = vec!["google".into(), "discord".into()]).await;
    let settings = Browser::new().get(&h.url("/settings")).await.body;
    assert_eq!(settings["external"]["google"], true);
    assert_eq!(settings["external"]["discord"], true);
    assert_eq!(settings["external"]["github"], false);
    assert_eq!(settings["external"]["email"], true);
}

// ---- redirect_to -------------------------------------------------------------------------------

#[tokio::test]
async fn a_redirect_to_that_is_not_allowed_becomes_the_site_url() {
    let h = start_with(|c| c.site_url = "https://app.example.com/home".into()).await;
    let last = Browser::new()
        .sign_in(
            &h,
            "github",
            Some("https://evil.example.net/steal"),
            true,
            &OCTOCAT,
            true,
        )
        .await;
    assert_eq!(last.status, 302);
    let to = last.location();
    assert_eq!(
        (to.host_str(), to.path()),
        (Some("app.example.com"), "/home")
    );
    assert!(query(&to, "code").is_some());
}

#[tokio::test]
async fn a_redirect_to_matching_an_allow_list_glob_is_kept() {
    let h = start_with(|c| {
        c.additional_redirect_urls = vec!["https://*.preview.example.org/**".into()]
    })
    .await;
    let browser = Browser::new();
    let allowed = "https://pr-7.preview.example.org/auth/done";
    let last = browser
        .sign_in(&h, "github", Some(allowed), true, &OCTOCAT, true)
        .await;
    assert!(
        last.location().as_str().starts_with(allowed),
        "{:?}",
        last.location
    );
    // `*` stops at a dot: one label deeper is not allowed, so the site URL it is.
    let deeper = "https://a.pr-7.preview.example.org/auth/done";
    let last = browser
        .sign_in(&h, "github", Some(deeper), true, &OCTOCAT, true)
        .await;
    assert!(
        last.location()
            .as_str()
            .starts_with("http://127.0.0.1:3000"),
        "{:?}",
        last.location
    );
}

#[tokio::test]
async fn the_loopback_listeners_redirect_to_is_allowed_by_default() {
    let h = start_with(|c| c.site_url = "https://app.example.com".into()).await;
    let redirect_to = "http://127.0.0.1:61111/callback/Zm9vYmFyLWJhei1xdXV4";
    let last = Browser::new()
        .sign_in(&h, "github", Some(redirect_to), true, &OCTOCAT, true)
        .await;
    assert!(
        last.location().as_str().starts_with(redirect_to),
        "{:?}",
        last.location
    );
}

// ---- /callback ---------------------------------------------------------------------------------

#[tokio::test]
async fn the_pkce_callback_adds_the_code_to_redirect_tos_own_query() {
    let h = start().await;
    let last = Browser::new()
        .sign_in(&h, "github", Some(REDIRECT_TO), true, &OCTOCAT, true)
        .await;
    assert_eq!(last.status, 302);
    let location = last.location.clone().unwrap();
    let code = query(&last.location(), "code").unwrap();
    assert!(
        uuid::Uuid::parse_str(&code).is_ok(),
        "GoTrue's auth codes are UUIDs"
    );
    assert_eq!(
        location,
        format!("http://127.0.0.1:43210/callback/st4te?code={code}&keep=1"),
        "the query is re-encoded with its keys sorted"
    );
    assert_eq!(
        h.sessions().await,
        json!([]),
        "no session until the code is exchanged"
    );
}

#[tokio::test]
async fn the_implicit_callback_puts_the_session_in_the_fragment() {
    let h = start().await;
    let last = Browser::new()
        .sign_in(
            &h,
            "google",
            Some("http://127.0.0.1:43210/cb"),
            false,
            &OCTOCAT,
            true,
        )
        .await;
    assert_eq!(last.status, 302);
    let to = last.location();
    assert_eq!(to.query(), None);
    let keys: Vec<String> = form_urlencoded::parse(to.fragment().unwrap().as_bytes())
        .map(|(k, _)| k.into_owned())
        .collect();
    assert_eq!(
        keys,
        [
            "access_token",
            "expires_at",
            "expires_in",
            "provider_refresh_token",
            "provider_token",
            "refresh_token",
            "sb",
            "token_type"
        ]
    );
    assert_eq!(fragment(&to, "token_type").as_deref(), Some("bearer"));
    let access_token = fragment(&to, "access_token").unwrap();
    assert_eq!(claims(&access_token)["amr"][0]["method"], "oauth");
    let user = h.get_user(&access_token).await;
    assert_eq!(user.status, 200, "{}", user.text);
    assert_eq!(user.body["email"], "octo.cat@example.com");
    assert_eq!(h.sessions().await.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_provider_denial_comes_back_as_the_providers_error_in_query_and_fragment() {
    let h = start().await;
    let last = Browser::new()
        .sign_in(&h, "github", Some(REDIRECT_TO), true, &OCTOCAT, false)
        .await;
    assert_eq!(last.status, 302);
    let to = last.location();
    assert!(to
        .as_str()
        .starts_with("http://127.0.0.1:43210/callback/st4te?"));
    assert_eq!(query(&to, "error").as_deref(), Some("access_denied"));
    assert_eq!(
        query(&to, "error_description").as_deref(),
        Some("The user has denied your application access.")
    );
    assert_eq!(
        query(&to, "error_code"),
        None,
        "a provider's error has no GoTrue code"
    );
    assert_eq!(query(&to, "keep").as_deref(), Some("1"));
    assert_eq!(query(&to, "code"), None);
    assert_eq!(fragment(&to, "error").as_deref(), Some("access_denied"));
    assert_eq!(fragment(&to, "sb").as_deref(), Some(""));
    assert_eq!(users(&h).await.len(), 1, "only the demo user");
}

#[tokio::test]
async fn an_unknown_state_sends_the_browser_to_the_site_url_with_bad_oauth_state() {
    let h = start().await;
    let browser = Browser::new();
    let url = h.url(&format!("/callback?code=x&state={}", uuid::Uuid::new_v4()));
    let reply = browser.get(&url).await;
    assert_eq!(reply.status, 303);
    let to = reply.location();
    assert_eq!(
        to.as_str().split('?').next(),
        Some("http://127.0.0.1:3000/")
    );
    assert_eq!(query(&to, "error").as_deref(), Some("invalid_request"));
    assert_eq!(query(&to, "error_code").as_deref(), Some("bad_oauth_state"));
    assert_eq!(
        query(&to, "error_description").as_deref(),
        Some("OAuth state not found or expired")
    );
    let reply = browser
        .get(&h.url("/callback?code=x&state=not-a-uuid"))
        .await;
    assert_eq!(
        query(&reply.location(), "error_description").as_deref(),
        Some("OAuth state parameter is invalid")
    );
}

#[tokio::test]
async fn a_callback_without_a_state_is_bad_oauth_callback() {
    let h = start().await;
    let reply = Browser::new().get(&h.url("/callback?code=x")).await;
    assert_eq!(reply.status, 303);
    let to = reply.location();
    assert_eq!(
        query(&to, "error_code").as_deref(),
        Some("bad_oauth_callback")
    );
    assert_eq!(
        query(&to, "error_description").as_deref(),
        Some("OAuth state parameter missing")
    );
}

#[tokio::test]
async fn a_callback_without_a_code_is_bad_oauth_callback() {
    let h = start().await;
    let browser = Browser::new();
    let to_provider = browser
        .authorize(&h, &[("provider", "github"), ("redirect_to", REDIRECT_TO)])
        .await
        .location();
    let state = query(&to_provider, "state").unwrap();
    let reply = browser
        .get(&h.url(&format!("/callback?state={state}")))
        .await;
    assert_eq!(reply.status, 302);
    let to = reply.location();
    assert!(to
        .as_str()
        .starts_with("http://127.0.0.1:43210/callback/st4te?"));
    assert_eq!(query(&to, "error").as_deref(), Some("invalid_request"));
    assert_eq!(
        query(&to, "error_code").as_deref(),
        Some("bad_oauth_callback")
    );
    assert_eq!(
        query(&to, "error_description").as_deref(),
        Some("OAuth callback with missing authorization code missing")
    );
    assert_eq!(
        fragment(&to, "error_code").as_deref(),
        Some("bad_oauth_callback")
    );
}

#[tokio::test]
async fn a_code_the_provider_never_issued_cannot_be_exchanged() {
    let h = start().await;
    let browser = Browser::new();
    let to_provider = browser
        .authorize(&h, &[("provider", "github"), ("redirect_to", REDIRECT_TO)])
        .await
        .location();
    let state = query(&to_provider, "state").unwrap();
    let reply = browser
        .get(&h.url(&format!("/callback?state={state}&code=forged-code")))
        .await;
    let to = reply.location();
    assert_eq!(query(&to, "error").as_deref(), Some("server_error"));
    assert_eq!(
        query(&to, "error_code").as_deref(),
        Some("unexpected_failure")
    );
    assert_eq!(
        query(&to, "error_description").as_deref(),
        Some("Unable to exchange external code: forg")
    );
}

#[tokio::test]
async fn a_pkce_state_is_used_once() {
    let h = start().await;
    let browser = Browser::new();
    let challenge = challenge(VERIFIER);
    let to_provider = browser
        .authorize(
            &h,
            &[
                ("provider", "github"),
                ("redirect_to", REDIRECT_TO),
                ("code_challenge", &challenge),
                ("code_challenge_method", "s256"),
            ],
        )
        .await
        .location();
    let to_callback = browser.answer_provider(&to_provider, &OCTOCAT, true).await;
    let callback = to_callback.location.unwrap();
    assert_eq!(browser.get(&callback).await.status, 302);
    // The same state again (a second provider answer for one authorization).
    let again = browser.answer_provider(&to_provider, &OCTOCAT, true).await;
    let replay = browser.get(&again.location.unwrap()).await;
    assert_eq!(replay.status, 303);
    let to = replay.location();
    assert_eq!(
        query(&to, "error_code").as_deref(),
        Some("flow_state_already_used")
    );
    assert_eq!(
        query(&to, "error_description").as_deref(),
        Some("State has already been used")
    );
}

#[tokio::test]
async fn a_state_older_than_five_minutes_has_expired() {
    let h = start().await;
    let browser = Browser::new();
    let to_provider = browser
        .authorize(&h, &[("provider", "github"), ("redirect_to", REDIRECT_TO)])
        .await
        .location();
    h.skew_clock(301.0).await;
    let to_callback = browser.answer_provider(&to_provider, &OCTOCAT, true).await;
    let reply = browser.get(&to_callback.location.unwrap()).await;
    assert_eq!(reply.status, 303);
    assert_eq!(
        query(&reply.location(), "error_description").as_deref(),
        Some("OAuth state has expired")
    );
}

// ---- users and identities ----------------------------------------------------------------------

#[tokio::test]
async fn a_first_sign_in_creates_a_confirmed_user_with_the_providers_identity() {
    let h = start().await;
    let code = Browser::new().auth_code(&h, "github", &OCTOCAT).await;
    let reply = exchange(&h, &code, VERIFIER).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let user = &reply.body["user"];
    assert_eq!(user["email"], "octo.cat@example.com");
    assert!(
        user["email_confirmed_at"].is_string(),
        "the provider verified it"
    );
    assert_eq!(
        user["app_metadata"],
        json!({"provider": "github", "providers": ["github"]})
    );
    let identities = user["identities"].as_array().unwrap();
    assert_eq!(identities.len(), 1, "{identities:?}");
    assert_eq!(identities[0]["provider"], "github");
    assert_eq!(identities[0]["id"], "583231");
    assert_eq!(identities[0]["identity_data"]["sub"], "583231");
    assert_eq!(
        identities[0]["identity_data"]["email"],
        "octo.cat@example.com"
    );
    assert_eq!(user["user_metadata"]["full_name"], "Octo Cat");
    assert_eq!(user["user_metadata"]["email_verified"], true);
}

#[tokio::test]
async fn a_second_sign_in_finds_the_same_user_by_its_identity() {
    let h = start().await;
    let browser = Browser::new();
    let first = exchange(
        &h,
        &browser.auth_code(&h, "github", &OCTOCAT).await,
        VERIFIER,
    )
    .await;
    let renamed = Person {
        name: "Mona Lisa Octocat",
        email: "mona@example.com",
        ..OCTOCAT
    };
    let second = exchange(
        &h,
        &browser.auth_code(&h, "github", &renamed).await,
        VERIFIER,
    )
    .await;
    assert_eq!(second.status, 200, "{}", second.text);
    assert_eq!(first.body["user"]["id"], second.body["user"]["id"]);
    assert_eq!(
        second.body["user"]["email"], "octo.cat@example.com",
        "the user's email stays"
    );
    let identity = &second.body["user"]["identities"][0];
    assert_eq!(identity["identity_data"]["name"], "Mona Lisa Octocat");
    assert_eq!(
        second.body["user"]["user_metadata"]["name"],
        "Mona Lisa Octocat"
    );
    assert_eq!(users(&h).await.len(), 2, "the demo user and this one");
}

#[tokio::test]
async fn a_verified_email_links_the_identity_to_the_existing_user() {
    let h = start().await;
    let demo = Person {
        email: EMAIL,
        ..OCTOCAT
    };
    let code = Browser::new().auth_code(&h, "google", &demo).await;
    let reply = exchange(&h, &code, VERIFIER).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let user = &reply.body["user"];
    assert_eq!(user["id"], user_with_email(&h, EMAIL).await["id"]);
    assert_eq!(
        user["app_metadata"],
        json!({"provider": "email", "providers": ["email", "google"]})
    );
    let providers: Vec<&str> = user["identities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["provider"].as_str().unwrap())
        .collect();
    assert_eq!(providers, ["email", "google"]);
    // The password still works.
    h.sign_in().await;
}

#[tokio::test]
async fn an_unverified_email_without_autoconfirm_is_refused_but_the_user_is_kept() {
    let h = start_with(|c| c.autoconfirm = false).await;
    let unverified = Person {
        verified: false,
        ..OCTOCAT
    };
    let last = Browser::new()
        .sign_in(&h, "github", Some(REDIRECT_TO), true, &unverified, true)
        .await;
    let to = last.location();
    assert_eq!(query(&to, "error").as_deref(), Some("access_denied"));
    assert_eq!(
        query(&to, "error_code").as_deref(),
        Some("provider_email_needs_verification")
    );
    assert_eq!(
        query(&to, "error_description").as_deref(),
        Some(
            "Unverified email with github. A confirmation email has been sent to your github email"
        )
    );
    let user = user_with_email(&h, "octo.cat@example.com").await;
    assert!(user.get("email_confirmed_at").is_none(), "{user}");
}

#[tokio::test]
async fn a_banned_user_is_access_denied() {
    let h = start().await;
    let browser = Browser::new();
    exchange(
        &h,
        &browser.auth_code(&h, "github", &OCTOCAT).await,
        VERIFIER,
    )
    .await;
    let id = user_with_email(&h, "octo.cat@example.com").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    h.control(Method::POST, &format!("/users/{id}/ban"), Some(json!({})))
        .await;
    let last = browser
        .sign_in(&h, "github", Some(REDIRECT_TO), true, &OCTOCAT, true)
        .await;
    let to = last.location();
    assert_eq!(query(&to, "error").as_deref(), Some("access_denied"));
    assert_eq!(query(&to, "error_code").as_deref(), Some("user_banned"));
    assert_eq!(
        query(&to, "error_description").as_deref(),
        Some("User is banned")
    );
}

// ---- POST /token?grant_type=pkce ---------------------------------------------------------------

#[tokio::test]
async fn the_pkce_grant_needs_both_the_auth_code_and_the_verifier() {
    let h = start().await;
    for body in [
        json!({"auth_code": "x"}),
        json!({"code_verifier": VERIFIER}),
        json!({}),
    ] {
        let reply = h.post("/token?grant_type=pkce", body).await;
        assert_eq!(reply.status, 400);
        assert_eq!(reply.code(), "validation_failed");
        assert_eq!(
            reply.body["message"],
            "invalid request: both auth code and code verifier should be non-empty"
        );
    }
}

#[tokio::test]
async fn an_unknown_auth_code_is_flow_state_not_found() {
    let h = start().await;
    let reply = exchange(&h, &uuid::Uuid::new_v4().to_string(), VERIFIER).await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.code(), "flow_state_not_found");
    assert_eq!(
        reply.body["message"],
        "invalid flow state, no valid flow state found"
    );
}

#[tokio::test]
async fn a_flow_state_older_than_five_minutes_is_flow_state_expired() {
    let h = start().await;
    let code = Browser::new().auth_code(&h, "github", &OCTOCAT).await;
    h.skew_clock(301.0).await;
    let reply = exchange(&h, &code, VERIFIER).await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.code(), "flow_state_expired");
    assert_eq!(
        reply.body["message"],
        "invalid flow state, flow state has expired"
    );
}

#[tokio::test]
async fn a_verifier_that_does_not_match_the_challenge_is_bad_code_verifier() {
    let h = start().await;
    let code = Browser::new().auth_code(&h, "github", &OCTOCAT).await;
    let reply = exchange(&h, &code, &"x".repeat(43)).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.code(), "bad_code_verifier");
    assert_eq!(
        reply.body["message"],
        "code challenge does not match previously saved code verifier"
    );
    // Checked before anything is used up: the right verifier still works.
    assert_eq!(exchange(&h, &code, VERIFIER).await.status, 200);
}

#[tokio::test]
async fn an_auth_code_is_exchanged_once() {
    let h = start().await;
    let code = Browser::new().auth_code(&h, "github", &OCTOCAT).await;
    assert_eq!(exchange(&h, &code, VERIFIER).await.status, 200);
    let replay = exchange(&h, &code, VERIFIER).await;
    assert_eq!(replay.status, 404);
    assert_eq!(replay.code(), "flow_state_not_found");
    assert_eq!(h.sessions().await.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_pkce_grant_answers_the_session_with_the_providers_tokens() {
    let h = start().await;
    let browser = Browser::new();
    let github = exchange(
        &h,
        &browser.auth_code(&h, "github", &OCTOCAT).await,
        VERIFIER,
    )
    .await;
    assert_eq!(github.status, 200, "{}", github.text);
    let access_token = github.access_token();
    assert_eq!(claims(&access_token)["amr"][0]["method"], "oauth");
    assert!(github.body["provider_token"]
        .as_str()
        .unwrap()
        .starts_with("github-access-"));
    assert!(
        github.body.get("provider_refresh_token").is_none(),
        "GitHub apps issue no refresh token, and GoTrue omits an empty one"
    );
    let google = exchange(
        &h,
        &browser.auth_code(&h, "google", &OCTOCAT).await,
        VERIFIER,
    )
    .await;
    assert!(google.body["provider_refresh_token"]
        .as_str()
        .unwrap()
        .starts_with("google-refresh-"));
    // The session is an ordinary one: it refreshes.
    assert_eq!(h.refresh(&github.refresh_token()).await.status, 200);
    h.assert_consistent().await;
}

#[tokio::test]
async fn a_plain_challenge_is_the_verifier_itself() {
    let h = start().await;
    let browser = Browser::new();
    let to_provider = browser
        .authorize(
            &h,
            &[
                ("provider", "github"),
                ("redirect_to", REDIRECT_TO),
                ("code_challenge", VERIFIER),
                ("code_challenge_method", "PLAIN"),
            ],
        )
        .await
        .location();
    let to_callback = browser.answer_provider(&to_provider, &OCTOCAT, true).await;
    let last = browser.get(&to_callback.location.unwrap()).await;
    let code = query(&last.location(), "code").unwrap();
    assert_eq!(exchange(&h, &code, VERIFIER).await.status, 200);
}

// ---- the fake provider -------------------------------------------------------------------------

#[tokio::test]
async fn the_fake_providers_page_is_self_contained_and_checks_the_redirect_uri() {
    let h = start().await;
    let browser = Browser::new();
    let to_provider = browser
        .authorize(&h, &[("provider", "github")])
        .await
        .location();
    let page = browser.get(to_provider.as_str()).await;
    assert_eq!(page.status, 200);
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    assert!(
        !page.text.contains("<script") && !page.text.contains("src="),
        "{}",
        page.text
    );
    assert!(page.text.contains("value=\"deny\""));
    let mut foreign = to_provider.clone();
    foreign
        .query_pairs_mut()
        .clear()
        .append_pair("state", "s")
        .append_pair("redirect_uri", "https://evil.example.net/callback");
    assert_eq!(browser.get(foreign.as_str()).await.status, 400);
}
