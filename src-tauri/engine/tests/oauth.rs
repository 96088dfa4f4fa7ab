//! OAuth sign-in through the browser against the real built-in server: a reqwest client that
//! never follows redirects by itself plays the browser (GoTrue's `/authorize`, the fake
//! provider's form, GoTrue's `/callback`, the engine's loopback listener), while
//! `OAuthFlow::finish` waits. Timers run in paused time.

use std::sync::Arc;
use std::time::Duration;

use local_gotrue::Server;
use reqwest::Url;
use session_engine::tokens::decode_jwt;
use session_engine::{
    AuthClient, AuthError, AuthEventKind, ClientConfig, Credentials, MemoryStore, OAuthFlow,
    SessionStore,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod common;

use common::{EMAIL, PASSWORD};

const PROFILE: &str = "oauth";

struct World {
    server: Server,
    store: Arc<MemoryStore>,
    client: AuthClient,
    browser: Browser,
}

async fn world() -> World {
    let (server, store, client) = common::server_and_client(PROFILE, |_| {}).await;
    World {
        server,
        store,
        client,
        browser: Browser::new(),
    }
}

/// The browser: one hop at a time.
struct Browser {
    http: reqwest::Client,
}

struct Page {
    status: u16,
    location: Option<String>,
    headers: reqwest::header::HeaderMap,
    text: String,
}

fn query(url: &str, key: &str) -> Option<String> {
    Url::parse(url)
        .unwrap()
        .query_pairs()
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

    async fn send(&self, request: reqwest::RequestBuilder) -> Page {
        let response = request.send().await.expect("an answer");
        Page {
            status: response.status().as_u16(),
            location: response
                .headers()
                .get("location")
                .map(|v| v.to_str().unwrap().to_string()),
            headers: response.headers().clone(),
            text: response.text().await.unwrap_or_default(),
        }
    }

    async fn get(&self, url: &str) -> Page {
        self.send(self.http.get(url)).await
    }

    /// From the authorize URL through the provider's form (signing in as `email`, or
    /// denying) to GoTrue's last redirect: the URL GoTrue sends the browser back to.
    async fn through_provider(&self, authorize_url: &str, email: &str, allow: bool) -> String {
        let to_provider = self.get(authorize_url).await;
        assert_eq!(to_provider.status, 302, "{}", to_provider.text);
        let provider_url = to_provider.location.unwrap();
        let form_page = self.get(&provider_url).await;
        assert_eq!(form_page.status, 200, "{}", form_page.text);
        let form = [
            ("state", query(&provider_url, "state").unwrap()),
            (
                "redirect_uri",
                query(&provider_url, "redirect_uri").unwrap(),
            ),
            ("decision", if allow { "allow" } else { "deny" }.into()),
            ("email", email.into()),
            ("name", "Octo Cat".into()),
            ("sub", "583231".into()),
            ("email_verified", "true".into()),
        ];
        let body: String = form
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let action = provider_url.split('?').next().unwrap().to_string();
        let to_callback = self
            .send(
                self.http
                    .post(action)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body),
            )
            .await;
        assert_eq!(to_callback.status, 302, "{}", to_callback.text);
        let back = self.get(&to_callback.location.unwrap()).await;
        assert_eq!(back.status, 302, "{}", back.text);
        back.location.unwrap()
    }
}

/// The browser goes through the provider's form and back to the listener, and the waiting
/// sign-in ends signed in (after whatever the test did to the listener meanwhile).
async fn signs_in_through_the_browser(
    w: &World,
    authorize_url: &str,
    finishing: tokio::task::JoinHandle<Result<session_engine::AuthResponse, AuthError>>,
) {
    let back = w
        .browser
        .through_provider(authorize_url, "octo@example.com", true)
        .await;
    assert_eq!(w.browser.get(&back).await.status, 200);
    assert!(finishing.await.unwrap().is_ok());
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn start(w: &World) -> OAuthFlow {
    w.client.start_oauth("github", None).await.unwrap()
}

fn finish_in_background(
    flow: OAuthFlow,
) -> tokio::task::JoinHandle<Result<session_engine::AuthResponse, AuthError>> {
    tokio::spawn(flow.finish())
}

/// The listener's port answers no more.
async fn is_closed(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).await.is_err()
}

fn port_of(url: &str) -> u16 {
    Url::parse(url).unwrap().port().unwrap()
}

/// A raw request to the listener: its answer's status line.
async fn raw(port: u16, bytes: &[u8]) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let _ = stream.write_all(bytes).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn the_authorize_url_asks_gotrue_for_the_provider_with_an_s256_challenge() {
    let w = world().await;
    let flow = w
        .client
        .start_oauth(" GitHub ", Some("repo gist"))
        .await
        .unwrap();
    let url = flow.authorize_url();
    assert!(
        url.starts_with(&format!("{}/authorize?", w.server.auth_url())),
        "{url}"
    );
    assert_eq!(query(url, "provider").as_deref(), Some("github"));
    assert_eq!(
        query(url, "redirect_to").as_deref(),
        Some(flow.redirect_to())
    );
    assert_eq!(query(url, "scopes").as_deref(), Some("repo gist"));
    assert_eq!(query(url, "code_challenge_method").as_deref(), Some("s256"));
    assert_eq!(query(url, "code_challenge").unwrap().len(), 43);
    let redirect_to = Url::parse(flow.redirect_to()).unwrap();
    assert_eq!(redirect_to.host_str(), Some("127.0.0.1"));
    assert!(redirect_to.path().starts_with("/callback/"));
    assert_eq!(
        OAuthFlow::allow_list_entry(),
        "http://127.0.0.1:*/callback/*"
    );
    assert!(!format!("{flow:?}").contains("verifier"), "{flow:?}");
}

#[tokio::test]
async fn signing_in_with_a_provider_adopts_the_session_as_signed_in() {
    let w = world().await;
    let mut events = w.client.subscribe();
    assert_eq!(
        events.next().await.unwrap().kind,
        AuthEventKind::InitialSession
    );
    let flow = start(&w).await;
    let redirect_to = flow.redirect_to().to_string();
    let authorize_url = flow.authorize_url().to_string();
    let finishing = finish_in_background(flow);

    let back = w
        .browser
        .through_provider(&authorize_url, "octo@example.com", true)
        .await;
    assert!(back.starts_with(&format!("{redirect_to}?code=")), "{back}");
    let page = w.browser.get(&back).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("Signed in"), "{}", page.text);
    assert_eq!(
        page.headers["content-security-policy"],
        "default-src 'none'; style-src 'unsafe-inline'"
    );

    let signed_in = finishing.await.unwrap().unwrap();
    assert_eq!(signed_in.user.email, "octo@example.com");
    assert_eq!(signed_in.user.app_metadata["provider"], "github");
    let claims = decode_jwt(&signed_in.session.access_token).unwrap().claims;
    assert_eq!(claims["amr"][0]["method"], "oauth");
    assert!(signed_in.session.provider_token.is_some());
    let event = events.next().await.unwrap();
    assert_eq!(event.kind, AuthEventKind::SignedIn);
    assert_eq!(
        event.session.unwrap().refresh_token,
        signed_in.session.refresh_token
    );
    assert_eq!(
        w.store.load(PROFILE).unwrap().unwrap().refresh_token,
        signed_in.session.refresh_token
    );
    assert!(
        is_closed(port_of(&redirect_to)).await,
        "the listener is closed"
    );

    // The exchange is in the log without its secrets.
    let code = query(&back, "code").unwrap();
    let exchange = w
        .client
        .recorder()
        .recent()
        .into_iter()
        .find(|e| e.url.contains("grant_type=pkce"))
        .expect("the exchange is recorded");
    let sent = exchange.request_body.unwrap();
    assert!(
        sent.contains("code_verifier") && !sent.contains(&code),
        "{sent}"
    );
}

#[tokio::test]
async fn a_provider_denial_ends_the_sign_in_in_plain_words_and_keeps_the_session() {
    let w = world().await;
    let before = w
        .client
        .sign_in_with_password(Credentials::email(EMAIL, PASSWORD).unwrap())
        .await
        .unwrap()
        .session;
    let flow = start(&w).await;
    let authorize_url = flow.authorize_url().to_string();
    let finishing = finish_in_background(flow);
    let back = w
        .browser
        .through_provider(&authorize_url, "octo@example.com", false)
        .await;
    let page = w.browser.get(&back).await;
    assert_eq!(page.status, 400);
    assert!(
        page.text
            .contains("The user has denied your application access."),
        "{}",
        page.text
    );

    let error = finishing.await.unwrap().unwrap_err();
    assert_eq!(
        error,
        AuthError::OAuthCallback {
            error: "access_denied".into(),
            code: None,
            description: "The user has denied your application access.".into(),
        }
    );
    assert_eq!(error.kind(), "oauthCallback");
    assert_eq!(
        error.to_string(),
        "the sign-in did not complete: The user has denied your application access."
    );
    let after = w.client.current_session().unwrap();
    assert_eq!(
        after.refresh_token, before.refresh_token,
        "the session is untouched"
    );
}

#[tokio::test]
async fn a_gotrue_error_in_the_callback_carries_its_code() {
    let w = world().await;
    let flow = start(&w).await;
    let redirect_to = flow.redirect_to().to_string();
    let finishing = finish_in_background(flow);
    // What GoTrue sends when the provider's answer cannot be used (here: no code).
    let back = format!(
        "{redirect_to}?error=invalid_request&error_code=bad_oauth_callback\
         &error_description=OAuth+callback+with+missing+authorization+code+missing"
    );
    assert_eq!(w.browser.get(&back).await.status, 400);
    let error = finishing.await.unwrap().unwrap_err();
    assert_eq!(error.code(), Some("bad_oauth_callback"));
    assert!(
        error
            .to_string()
            .contains("OAuth callback with missing authorization code missing"),
        "{error}"
    );
}

#[tokio::test]
async fn a_callback_with_the_wrong_state_is_refused_and_the_sign_in_goes_on() {
    let w = world().await;
    let flow = start(&w).await;
    let authorize_url = flow.authorize_url().to_string();
    let redirect_to = flow.redirect_to().to_string();
    let finishing = finish_in_background(flow);
    let (base, _state) = redirect_to.rsplit_once('/').unwrap();
    let forged = format!("{base}/an-earlier-state?code=9f1c0c1e-0000-4000-8000-000000000000");
    let refused = w.browser.get(&forged).await;
    assert_eq!(refused.status, 400);
    assert!(
        refused.text.contains("not for the sign-in in progress"),
        "{}",
        refused.text
    );
    assert!(!finishing.is_finished());

    signs_in_through_the_browser(&w, &authorize_url, finishing).await;
}

#[tokio::test]
async fn other_paths_get_404_and_the_sign_in_goes_on() {
    let w = world().await;
    let flow = start(&w).await;
    let authorize_url = flow.authorize_url().to_string();
    let port = port_of(flow.redirect_to());
    let finishing = finish_in_background(flow);
    for path in ["/favicon.ico", "/", "/callback"] {
        let page = w
            .browser
            .get(&format!("http://127.0.0.1:{port}{path}"))
            .await;
        assert_eq!(page.status, 404, "{path}");
    }
    signs_in_through_the_browser(&w, &authorize_url, finishing).await;
}

#[tokio::test]
async fn garbage_and_oversized_requests_do_not_end_the_sign_in() {
    let w = world().await;
    let flow = start(&w).await;
    let authorize_url = flow.authorize_url().to_string();
    let port = port_of(flow.redirect_to());
    let finishing = finish_in_background(flow);

    assert!(raw(
        port,
        b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n"
    )
    .await
    .contains("400"));
    let mut huge = b"GET /callback/x HTTP/1.1\r\nX-Filler: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 64 * 1024));
    assert!(raw(port, &huge).await.contains("431"));
    assert!(raw(port, b"POST /callback/x HTTP/1.1\r\n\r\n")
        .await
        .contains("405"));
    // A connection that says nothing and goes away.
    drop(TcpStream::connect(("127.0.0.1", port)).await.unwrap());
    assert!(!finishing.is_finished());

    signs_in_through_the_browser(&w, &authorize_url, finishing).await;
}

#[tokio::test]
async fn a_replayed_auth_code_is_refused_by_gotrue_with_a_clear_error() {
    let w = world().await;
    let first = start(&w).await;
    let authorize_url = first.authorize_url().to_string();
    let finishing = finish_in_background(first);
    let back = w
        .browser
        .through_provider(&authorize_url, "octo@example.com", true)
        .await;
    w.browser.get(&back).await;
    let signed_in = finishing.await.unwrap().unwrap();
    let used_code = query(&back, "code").unwrap();

    // The same code, brought to a second sign-in's listener.
    let second = start(&w).await;
    let replay = format!("{}?code={used_code}", second.redirect_to());
    let finishing = finish_in_background(second);
    let page = w.browser.get(&replay).await;
    assert_eq!(page.status, 400);
    assert!(page.text.contains("Sign-in failed"), "{}", page.text);
    let error = finishing.await.unwrap().unwrap_err();
    assert_eq!(error.code(), Some("flow_state_not_found"));
    assert_eq!(error.status(), Some(404));
    assert_eq!(
        w.client.current_session().unwrap().refresh_token,
        signed_in.session.refresh_token,
        "the first sign-in's session stays"
    );
}

#[tokio::test]
async fn a_second_sign_in_with_the_same_identity_is_the_same_user() {
    let w = world().await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let flow = start(&w).await;
        let authorize_url = flow.authorize_url().to_string();
        let finishing = finish_in_background(flow);
        let back = w
            .browser
            .through_provider(&authorize_url, "octo@example.com", true)
            .await;
        w.browser.get(&back).await;
        ids.push(finishing.await.unwrap().unwrap().user.id);
    }
    assert_eq!(ids[0], ids[1]);
}

fn offline_client_config() -> ClientConfig {
    let mut config = ClientConfig::new("http://127.0.0.1:9", "anon");
    config.clock = Arc::new(session_engine::clock::TokioClock::new());
    config
}

#[tokio::test(start_paused = true)]
async fn the_sign_in_times_out_after_five_minutes() {
    let client = AuthClient::new(offline_client_config(), Arc::new(MemoryStore::new()), "t")
        .await
        .unwrap();
    let started = tokio::time::Instant::now();
    let flow = client.start_oauth("github", None).await.unwrap();
    let port = port_of(flow.redirect_to());
    let mut finishing = Box::pin(flow.finish());
    assert!(
        tokio::time::timeout(Duration::from_secs(299), &mut finishing)
            .await
            .is_err(),
        "still waiting after 4:59"
    );
    assert_eq!(finishing.await.unwrap_err(), AuthError::OAuthTimedOut);
    assert_eq!(
        started.elapsed(),
        session_engine::protocol::OAUTH_CALLBACK_TIMEOUT
    );
    assert_eq!(AuthError::OAuthTimedOut.kind(), "oauthTimedOut");
    assert!(is_closed(port).await);
}

#[tokio::test]
async fn cancelling_ends_the_wait_and_closes_the_listener() {
    let client = AuthClient::new(offline_client_config(), Arc::new(MemoryStore::new()), "c")
        .await
        .unwrap();
    let flow = client.start_oauth("google", None).await.unwrap();
    let port = port_of(flow.redirect_to());
    let cancel = flow.canceller();
    let finishing = finish_in_background(flow);
    assert!(!is_closed(port).await, "listening while it waits");
    std::thread::spawn(move || cancel.cancel()).join().unwrap();
    let error = finishing.await.unwrap().unwrap_err();
    assert_eq!(error, AuthError::OAuthCancelled);
    assert_eq!(error.kind(), "oauthCancelled");
    assert!(is_closed(port).await);
}

#[tokio::test]
async fn cancelling_before_finish_is_called_still_cancels() {
    let client = AuthClient::new(offline_client_config(), Arc::new(MemoryStore::new()), "c")
        .await
        .unwrap();
    let flow = client.start_oauth("github", None).await.unwrap();
    flow.canceller().cancel();
    assert_eq!(flow.finish().await.unwrap_err(), AuthError::OAuthCancelled);
}

#[tokio::test]
async fn an_empty_provider_is_refused_before_anything_opens() {
    let w = world().await;
    let error = w.client.start_oauth("  ", None).await.unwrap_err();
    assert_eq!(error.kind(), "invalidInput");
}

/// The built-in server's `/_emulator` (no control token in these tests).
async fn emulator(
    w: &World,
    method: reqwest::Method,
    path: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let response = reqwest::Client::new()
        .request(method, format!("{}/_emulator{path}", w.server.url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    response.json().await.unwrap_or(serde_json::Value::Null)
}

#[tokio::test]
async fn cancelling_while_the_code_is_exchanged_adopts_nothing() {
    let w = world().await;
    let flow = start(&w).await;
    let authorize_url = flow.authorize_url().to_string();
    let cancel = flow.canceller();
    let finishing = finish_in_background(flow);
    let back = w
        .browser
        .through_provider(&authorize_url, "octo@example.com", true)
        .await;
    // The exchange takes 3 s; the cancel comes once it has reached the server.
    emulator(
        &w,
        reqwest::Method::POST,
        "/faults",
        serde_json::json!({"path": "/token", "delay_ms": 3000}),
    )
    .await;
    let browser = tokio::spawn(async move { Browser::new().get(&back).await });
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let counts = emulator(
            &w,
            reqwest::Method::GET,
            "/requests",
            serde_json::Value::Null,
        )
        .await;
        if counts["routes"]["POST /token?grant_type=pkce"].as_u64() == Some(1) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the exchange never started: {counts}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    cancel.cancel();
    let error = finishing.await.unwrap().unwrap_err();
    assert_eq!(error.kind(), "oauthCancelled", "{error}");
    assert_eq!(w.client.current_session(), None, "nothing adopted");
    assert!(w.store.load(PROFILE).unwrap().is_none(), "nothing stored");
    let page = browser.await.unwrap();
    assert_eq!(page.status, 400, "{}", page.text);
    assert!(page.text.contains("cancelled"), "{}", page.text);
}
