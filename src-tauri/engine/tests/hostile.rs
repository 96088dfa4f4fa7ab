//! The engine against servers that misbehave on purpose: redirects that would replay a token
//! elsewhere, answers too large to hold, server text that echoes secrets, absurd times. Each
//! hostile server is a few lines of raw HTTP on loopback; where a real GoTrue is needed as the
//! other end (the redirect's target), it is the built-in server.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Value};
use session_engine::{AuthClient, AuthError, ClientConfig, MemoryStore};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What a canned server sends back.
#[derive(Clone)]
enum Reply {
    /// These bytes, then the connection closes.
    Bytes(Vec<u8>),
    /// A head, then body bytes forever (chunked), until the client hangs up.
    Endless { status: u16 },
    /// A head announcing `length` bytes, then zeros until they are sent or the client hangs up.
    Declared { length: u64 },
}

/// A loopback HTTP server that answers every request with what `reply` picks for its request
/// line, and keeps every request it received (head and body) as text.
struct Canned {
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Canned {
    async fn start(reply: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Canned {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let reply = Arc::new(reply);
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (reply, log) = (reply.clone(), log.clone());
                tokio::spawn(async move {
                    let _ = serve(stream, &*reply, &log).await;
                });
            }
        });
        Canned { url, seen }
    }

    fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

async fn serve(
    mut stream: TcpStream,
    reply: &(dyn Fn(&str) -> Reply + Send + Sync),
    log: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        request.extend_from_slice(&buf[..n]);
        if let Some(at) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
    };
    let head = String::from_utf8_lossy(&request[..head_end]).to_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while request.len() < head_end + length {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        request.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&request).into_owned();
    let first_line = text.lines().next().unwrap_or("").to_string();
    log.lock().unwrap().push(text);
    match reply(&first_line) {
        Reply::Bytes(bytes) => stream.write_all(&bytes).await?,
        Reply::Endless { status } => {
            let head = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
            );
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(b"6\r\n{\"a\":\"\r\n").await?;
            let chunk = format!("10000\r\n{}\r\n", "a".repeat(0x10000));
            loop {
                stream.write_all(chunk.as_bytes()).await?;
            }
        }
        Reply::Declared { length } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {length}\r\n\r\n"
            );
            stream.write_all(head.as_bytes()).await?;
            let zeros = vec![b' '; 0x10000];
            let mut sent = 0u64;
            while sent < length {
                stream.write_all(&zeros).await?;
                sent += zeros.len() as u64;
            }
        }
    }
    stream.shutdown().await
}

fn http(status: u16, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut out = format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\n", body.len());
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("connection: close\r\n\r\n");
    out.push_str(body);
    Reply::Bytes(out.into_bytes())
}

async fn client_for(url: &str) -> AuthClient {
    let mut config = ClientConfig::new(url, "anon-key-for-the-hostile-tests");
    config.retry_budget = Duration::ZERO;
    config.request_timeout = Duration::from_secs(20);
    AuthClient::new(config, Arc::new(MemoryStore::new()), "hostile")
        .await
        .unwrap()
}

/// An unsigned JWT with these claims (decoding never needs the signature).
fn jwt(claims: Value) -> String {
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.c2lnbmF0dXJl",
        b64(&json!({"alg": "HS256", "typ": "JWT"})),
        b64(&claims)
    )
}

fn session_json(access_token: &str, expires_at: Value, refresh_token: &str) -> String {
    json!({
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": 3600,
        "expires_at": expires_at,
        "refresh_token": refresh_token,
        "user": {"id": "u1", "aud": "authenticated", "role": "authenticated", "email": "a@b.co"},
    })
    .to_string()
}

const PASTED: &str = "pastedrefreshtoken1";

#[tokio::test]
async fn a_redirect_is_not_followed_and_the_token_is_not_sent_again() {
    // The redirect's target is a real GoTrue that would count a refresh grant.
    let elsewhere = local_gotrue::start(local_gotrue::Config::default())
        .await
        .unwrap();
    for status in [301u16, 302, 307, 308] {
        let location = format!("{}/auth/v1/token?grant_type=refresh_token", elsewhere.url());
        let target = location.clone();
        let proxy = Canned::start(move |_| http(status, &[("location", &target)], "")).await;
        let client = client_for(&proxy.url).await;

        let error = client.refresh_session(Some(PASTED)).await.unwrap_err();
        assert_eq!(error.kind(), "redirected", "HTTP {status}: {error:?}");
        assert_eq!(error.status(), Some(status));
        assert!(error.to_string().contains(&location), "{error}");
        assert_eq!(proxy.requests().len(), 1, "sent once, to the profile's URL");

        // The log names where the server wanted the request to go.
        let logged = client.recorder().recent().pop().unwrap();
        assert_eq!(logged.status, Some(status));
        assert!(
            logged.error.as_deref().unwrap_or("").contains(&location),
            "{logged:?}"
        );
    }
    let counts: Value = reqwest::get(format!("{}/_emulator/requests", elsewhere.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        counts["routes"]["POST /token?grant_type=refresh_token"].as_u64(),
        None,
        "the redirect's target never received the refresh token: {counts}"
    );
}

#[tokio::test]
async fn a_redirected_jwks_cannot_make_a_forged_token_verify() {
    // The forger runs a real server with its own ES256 key and mints a token with it.
    let forger = local_gotrue::start(local_gotrue::Config {
        signing: local_gotrue::SigningAlgorithm::Es256,
        ..local_gotrue::Config::default()
    })
    .await
    .unwrap();
    let control = |path: &str, body: Value| {
        let request = reqwest::Client::new()
            .post(format!("{}/_emulator{path}", forger.url()))
            .json(&body);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let user = control("/users", json!({"email": "victim@example.com"})).await;
    let minted = control("/sessions", json!({"user_id": user["id"]})).await;
    let forged = minted["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{minted}"));
    let jwks = format!("{}/auth/v1/.well-known/jwks.json", forger.url());
    let proxy = Canned::start(move |_| http(302, &[("location", &jwks)], "")).await;
    let client = client_for(&proxy.url).await;

    let (_, status) = client.verify_access_token(forged, None).await.unwrap();
    assert!(!status.is_verified(), "{status:?}");
    assert_eq!(proxy.requests().len(), 1);
}

#[tokio::test]
async fn an_answer_declaring_100_mb_is_refused_before_it_is_read() {
    let proxy = Canned::start(|_| Reply::Declared {
        length: 100 * 1024 * 1024,
    })
    .await;
    let client = client_for(&proxy.url).await;
    let error = client.refresh_session(Some(PASTED)).await.unwrap_err();
    assert_eq!(error.kind(), "responseTooLarge", "{error:?}");
    assert_eq!(error.status(), Some(200));
    assert!(error.to_string().contains("1 MiB"), "{error}");
    let logged = client.recorder().recent().pop().unwrap();
    assert!(logged.response_body.is_none(), "nothing was read");
}

#[tokio::test]
async fn an_endless_answer_is_cut_at_the_cap_and_only_its_start_is_kept() {
    let proxy = Canned::start(|_| Reply::Endless { status: 400 }).await;
    let client = client_for(&proxy.url).await;
    let error = client.refresh_session(Some(PASTED)).await.unwrap_err();
    // Not by the request timeout: that would be a `retryableFetch` with status 0.
    assert_eq!(error.kind(), "responseTooLarge", "{error:?}");
    assert_eq!(error.status(), Some(400));
    let logged = client.recorder().recent().pop().unwrap();
    let kept = logged.response_body.unwrap();
    assert!(kept.len() <= 70 * 1024, "kept {} bytes", kept.len());
    assert!(kept.starts_with("{\"a\":\"aaaa"), "{}", &kept[..20]);
}

#[tokio::test]
async fn server_text_that_echoes_a_token_is_redacted_in_the_error() {
    let access = jwt(json!({"sub": "u1", "exp": 4_000_000_000i64}));
    // A proxy's error page that echoes the request body, and a JSON `msg` with a JWT in it.
    let page = format!("<html><body><h1>400 Bad Request</h1><p>body: {{\"refresh_token\":\"{PASTED}\"}}</p></body></html>");
    let message = format!("token {access} rejected for {PASTED}");
    let replies = [
        http(400, &[("content-type", "text/html")], &page),
        http(
            400,
            &[("content-type", "application/json")],
            &json!({"code": 400, "error_code": "bad_jwt", "msg": message}).to_string(),
        ),
        http(
            503,
            &[("content-type", "application/json")],
            &json!({"message": message}).to_string(),
        ),
    ];
    for reply in replies {
        let proxy = Canned::start(move |_| reply.clone()).await;
        let client = client_for(&proxy.url).await;
        let error = client.refresh_session(Some(PASTED)).await.unwrap_err();
        let shown = error.to_string();
        assert!(!shown.contains(PASTED), "{shown}");
        assert!(!shown.contains(&access), "{shown}");
        assert!(
            shown.contains("fp:"),
            "the secret is named by its fingerprint: {shown}"
        );
    }
}

#[tokio::test]
async fn a_hostile_expires_at_falls_back_to_the_access_tokens_exp() {
    let exp = 2_000_000_000i64;
    let access = jwt(json!({"sub": "u1", "exp": exp, "session_id": "s1"}));
    for hostile in [json!(9_300_000_000_000_000i64), json!(i64::MAX), json!(-5)] {
        let body = session_json(&access, hostile.clone(), "newrefreshtoken1");
        let proxy =
            Canned::start(move |_| http(200, &[("content-type", "application/json")], &body)).await;
        let client = client_for(&proxy.url).await;
        let refreshed = client.refresh_session(Some(PASTED)).await.unwrap();
        assert_eq!(refreshed.response.session.expires_at, exp, "for {hostile}");
        // Reading the session back does arithmetic on the time: it must not overflow.
        let session = client.get_session().await.unwrap().unwrap();
        assert_eq!(session.expires_at, exp);
    }
}

#[tokio::test]
async fn a_hostile_expires_at_without_a_usable_exp_is_refused_and_loses_nothing() {
    let body = session_json(
        "not-a-jwt",
        json!(9_300_000_000_000_000i64),
        "newrefreshtoken1",
    )
    .replace("\"expires_in\":3600", "\"expires_in\":9300000000000000");
    assert!(body.contains("\"expires_in\":9300000000000000"), "{body}");
    let proxy =
        Canned::start(move |_| http(200, &[("content-type", "application/json")], &body)).await;
    let client = client_for(&proxy.url).await;
    let error = client.refresh_session(Some(PASTED)).await.unwrap_err();
    assert!(
        matches!(error, AuthError::InvalidTokenResponse(_)),
        "{error:?}"
    );
    assert!(client.current_session().is_none());
}

#[tokio::test]
async fn a_server_that_returns_the_same_refresh_token_gets_every_refresh_sent() {
    // Not GoTrue (it rotates), but the app may face any server: a refresh that hands back the
    // token it was sent used nothing up, so the next refresh of the current session is sent
    // (not answered from the memory of refreshes that landed).
    let access = jwt(json!({"sub": "u1", "exp": 2_000_000_000i64, "session_id": "s1"}));
    let body = session_json(&access, json!(2_000_000_000i64), PASTED);
    let server =
        Canned::start(move |_| http(200, &[("content-type", "application/json")], &body)).await;
    let client = client_for(&server.url).await;
    client.refresh_session(Some(PASTED)).await.unwrap();
    for sent in 2..=4 {
        let refreshed = client.refresh_session(None).await.unwrap();
        assert!(!refreshed.joined);
        assert_eq!(server.requests().len(), sent, "refresh {sent} was not sent");
    }
}
