//! The engine against the real local GoTrue server on loopback.

use std::future::Future as _;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use local_gotrue::{Config, DemoUser, Server};
use serde_json::{json, Value};
use session_engine::{
    AuthClient, AuthError, AuthEventKind, Cause, ClientConfig, Credentials, MemoryStore,
    SessionStore, SignOutScope,
};

mod common;

use common::{EMAIL, PASSWORD};
const PROFILE: &str = "test";

struct World {
    server: Server,
    store: Arc<MemoryStore>,
    client: AuthClient,
    http: reqwest::Client,
    /// Between `client` and the server, in a world made by `gated_world`.
    gate: Option<Gate>,
}

async fn world_with(
    configure: impl FnOnce(&mut Config),
    client_config: impl FnOnce(&mut ClientConfig),
) -> World {
    world_on(configure, client_config, false).await
}

/// A world whose client reaches the server through a `Gate`, which can hold a request on its
/// way: a refresh "in flight" for as long as a test needs, with no timing involved.
async fn gated_world() -> World {
    world_on(|_| {}, |_| {}, true).await
}

async fn world_on(
    configure: impl FnOnce(&mut Config),
    client_config: impl FnOnce(&mut ClientConfig),
    gated: bool,
) -> World {
    let mut config = Config {
        demo_user: Some(DemoUser {
            email: EMAIL.into(),
            password: PASSWORD.into(),
        }),
        ..Config::default()
    };
    configure(&mut config);
    let server = local_gotrue::start(config).await.unwrap();
    let gate = match gated {
        true => Some(Gate::start(&server).await),
        false => None,
    };
    let url = gate.as_ref().map_or(server.url(), |gate| gate.url.clone());
    let mut settings = ClientConfig::new(url, server.anon_key());
    client_config(&mut settings);
    let store = Arc::new(MemoryStore::new());
    let client = AuthClient::new(settings, store.clone(), PROFILE)
        .await
        .unwrap();
    World {
        server,
        store,
        client,
        http: reqwest::Client::new(),
        gate,
    }
}

/// A loopback TCP relay in front of the server. Once `hold_next` arms it, the first bytes a
/// client connection sends wait in the relay (the server has not seen them) until `release`;
/// `held` returns once they are waiting. Everything else passes straight through.
struct Gate {
    url: String,
    state: Arc<GateState>,
}

#[derive(Default)]
struct GateState {
    armed: AtomicBool,
    held: tokio::sync::Notify,
    release: tokio::sync::Notify,
}

impl Gate {
    async fn start(server: &Server) -> Gate {
        let upstream = server.url().trim_start_matches("http://").to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(GateState::default());
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let server = tokio::net::TcpStream::connect(&upstream).await.unwrap();
                tokio::spawn(Gate::relay(client, server, shared.clone()));
            }
        });
        Gate { url, state }
    }

    async fn relay(
        client: tokio::net::TcpStream,
        server: tokio::net::TcpStream,
        state: Arc<GateState>,
    ) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut from_client, mut to_client) = client.into_split();
        let (mut from_server, mut to_server) = server.into_split();
        let upstream = async move {
            let mut buffer = vec![0u8; 64 * 1024];
            while let Ok(read @ 1..) = from_client.read(&mut buffer).await {
                if state.armed.swap(false, Ordering::SeqCst) {
                    state.held.notify_one();
                    state.release.notified().await;
                }
                if to_server.write_all(&buffer[..read]).await.is_err() {
                    break;
                }
            }
            let _ = to_server.shutdown().await;
        };
        let downstream = async move {
            let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
            let _ = to_client.shutdown().await;
        };
        tokio::join!(upstream, downstream);
    }

    fn hold_next(&self) {
        self.state.armed.store(true, Ordering::SeqCst);
    }

    async fn held(&self) {
        tokio::time::timeout(Duration::from_secs(10), self.state.held.notified())
            .await
            .expect("a request reaches the gate within 10 s");
    }

    fn release(&self) {
        self.state.release.notify_one();
    }
}

/// Polls `condition` until it holds; fails after 10 s, naming `what` it waited for.
async fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "waited 10 s for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn world() -> World {
    world_with(|_| {}, |_| {}).await
}

impl World {
    async fn control(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method, format!("{}/_emulator{path}", self.server.url()));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        response.json().await.unwrap_or(Value::Null)
    }

    async fn fault(&self, fault: Value) {
        self.control(reqwest::Method::POST, "/faults", Some(fault))
            .await;
    }

    async fn skew(&self, seconds: f64) {
        self.control(
            reqwest::Method::PUT,
            "/clock",
            Some(json!({"skew_seconds": seconds})),
        )
        .await;
    }

    async fn refresh_requests(&self) -> u64 {
        let counts = self.control(reqwest::Method::GET, "/requests", None).await;
        counts["routes"]["POST /token?grant_type=refresh_token"]
            .as_u64()
            .unwrap_or(0)
    }

    async fn sign_in(&self) -> session_engine::Session {
        self.client
            .sign_in_with_password(Credentials::Email {
                email: EMAIL.into(),
                password: PASSWORD.into(),
            })
            .await
            .expect("sign-in works")
            .session
    }

    fn stored(&self) -> Option<session_engine::Session> {
        self.store.load(PROFILE).unwrap()
    }
}

/// A session signed in by another client (a token "held elsewhere").
async fn session_from_another_client(w: &World) -> session_engine::Session {
    common::signed_in_elsewhere(&w.server).await
}

/// Signs in (in a `gated_world`), then starts a refresh that the gate holds before the server
/// sees it; returns once it is held there. `release` lets it go on.
async fn refresh_held_on_its_way(
    w: &World,
) -> tokio::task::JoinHandle<Result<session_engine::Refreshed, AuthError>> {
    let gate = w.gate.as_ref().expect("a gated world");
    w.sign_in().await;
    gate.hold_next();
    let client = w.client.clone();
    let flight = tokio::spawn(async move { client.refresh_session(None).await });
    gate.held().await;
    flight
}

/// A subscription whose events the test reads with `heard`.
fn collect(client: &AuthClient) -> session_engine::EventStream {
    client.subscribe()
}

/// Every event `stream` has been sent so far, with its reason. No waiting is needed: the
/// engine puts an event in each subscriber's queue before the call that caused it returns.
fn heard(stream: &mut session_engine::EventStream) -> Vec<(AuthEventKind, Option<String>)> {
    std::iter::from_fn(|| stream.try_next())
        .map(|event| (event.kind, event.reason))
        .collect()
}

#[tokio::test]
async fn refresh_session_always_posts_and_rotates_the_current_session() {
    let w = world().await;
    let first = w.sign_in().await;
    let refreshed = w.client.refresh_session(None).await.unwrap();
    let session = refreshed.response.session;
    assert_ne!(session.refresh_token, first.refresh_token);
    assert_eq!(refreshed.response.user.email, EMAIL);
    assert_eq!(w.client.current_session().unwrap(), session, "made current");
    assert_eq!(w.stored().unwrap(), session, "persisted");
    assert_eq!(w.refresh_requests().await, 1);
    // Not expiring at all, yet refresh_session still goes to the server.
    w.client.refresh_session(None).await.unwrap();
    assert_eq!(w.refresh_requests().await, 2);
}

#[tokio::test]
async fn refresh_session_without_token_or_session_is_session_missing() {
    let w = world().await;
    assert_eq!(
        w.client.refresh_session(None).await.unwrap_err(),
        AuthError::SessionMissing
    );
    assert_eq!(
        w.client.refresh_session(Some("  ")).await.unwrap_err(),
        AuthError::SessionMissing
    );
    assert_eq!(w.refresh_requests().await, 0, "nothing was sent");
}

#[tokio::test]
async fn a_token_held_elsewhere_becomes_the_current_session() {
    let w = world().await;
    let outside = session_from_another_client(&w).await;
    assert!(w.client.current_session().is_none());
    let refreshed = w
        .client
        .refresh_session(Some(&outside.refresh_token))
        .await
        .unwrap();
    assert_eq!(
        w.client.current_session().unwrap(),
        refreshed.response.session
    );
    assert_eq!(w.stored().unwrap(), refreshed.response.session);
}

#[tokio::test]
async fn an_answer_without_a_session_is_session_missing_and_a_broken_one_is_invalid() {
    // No failure cooldown: the second refresh must reach the server, not the first's memory.
    let w = world_with(|_| {}, |c| c.refresh_failure_cooldown = Duration::ZERO).await;
    let session = w.sign_in().await;
    w.fault(json!({"status": 200, "path": "/token"})).await;
    assert_eq!(
        w.client.refresh_session(None).await.unwrap_err(),
        AuthError::SessionMissing
    );
    w.fault(json!({"status": 200, "body": "malformed", "path": "/token"}))
        .await;
    assert!(matches!(
        w.client.refresh_session(None).await.unwrap_err(),
        AuthError::InvalidTokenResponse(_)
    ));
    assert_eq!(
        w.client.current_session().unwrap(),
        session,
        "the session survives both"
    );
}

#[tokio::test]
async fn a_thousand_concurrent_refreshes_send_one_request_and_share_its_session() {
    const CALLERS: usize = 1000;
    let w = gated_world().await;
    w.sign_in().await;
    // The first caller's request waits at the gate until all the callers are in flight.
    let gate = w.gate.as_ref().unwrap();
    gate.hold_next();
    let in_flight = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CALLERS {
        let (client, in_flight) = (w.client.clone(), in_flight.clone());
        tasks.spawn(async move {
            let mut call = std::pin::pin!(client.refresh_session(None));
            // Its first poll starts the refresh or joins the one under way, which cannot
            // land while the gate holds its request.
            let first = std::future::poll_fn(|cx| std::task::Poll::Ready(call.as_mut().poll(cx)));
            assert!(first.await.is_pending(), "the refresh cannot have landed");
            in_flight.fetch_add(1, Ordering::SeqCst);
            call.await.unwrap()
        });
    }
    gate.held().await;
    wait_until("every caller in flight", || {
        in_flight.load(Ordering::SeqCst) == CALLERS
    })
    .await;
    gate.release();
    let results = tasks.join_all().await;
    assert_eq!(
        w.refresh_requests().await,
        1,
        "exactly one request reached the server"
    );
    let first = &results[0].response.session;
    assert!(
        results.iter().all(|r| &r.response.session == first),
        "everyone got the same session"
    );
    assert_eq!(results.iter().filter(|r| r.joined).count(), CALLERS - 1);
}

#[tokio::test]
async fn subscribers_see_initial_session_then_signed_in_then_token_refreshed_in_order() {
    let w = world().await;
    let mut stream = w.client.subscribe();
    w.sign_in().await;
    w.client.refresh_session(None).await.unwrap();
    let kinds: Vec<_> = [
        stream.next().await,
        stream.next().await,
        stream.next().await,
    ]
    .into_iter()
    .map(|e| e.unwrap())
    .collect();
    assert_eq!(
        kinds.iter().map(|e| e.kind).collect::<Vec<_>>(),
        [
            AuthEventKind::InitialSession,
            AuthEventKind::SignedIn,
            AuthEventKind::TokenRefreshed
        ]
    );
    assert_eq!(
        kinds[2].previous,
        Some(AuthEventKind::SignedIn),
        "SIGNED_IN → TOKEN_REFRESHED"
    );
    assert!(kinds[2].session.is_some() && kinds[2].exchange_id.is_some());
    assert!(kinds[0].session.is_none(), "nobody was signed in yet");
}

#[tokio::test]
async fn each_new_subscriber_gets_initial_session_once_with_the_current_session() {
    let w = world().await;
    let session = w.sign_in().await;
    let mut late = w.client.subscribe();
    let first = late.next().await.unwrap();
    assert_eq!(first.kind, AuthEventKind::InitialSession);
    assert_eq!(first.session.unwrap(), session);
    assert!(late.try_next().is_none(), "only once");
}

#[tokio::test]
async fn get_session_refreshes_only_within_ten_seconds_of_expiry() {
    // The server's clock is moved back so that fresh tokens expire 11 s (then 9 s) from now.
    let w = world().await;
    w.skew(-3589.0).await;
    w.sign_in().await;
    w.client.get_session().await.unwrap().unwrap();
    assert_eq!(w.refresh_requests().await, 0, "11 s left: no refresh");

    w.skew(-3591.0).await;
    w.sign_in().await;
    let before = w.client.current_session().unwrap();
    let session = w.client.get_session().await.unwrap().unwrap();
    assert_eq!(w.refresh_requests().await, 1, "9 s left: refreshed");
    assert_ne!(session.refresh_token, before.refresh_token);
}

#[tokio::test]
async fn injected_503s_are_retried_into_one_token_refreshed_without_losing_the_session() {
    let w = world().await;
    let session = w.sign_in().await;
    let mut events = collect(&w.client);
    w.fault(json!({"count": 3, "status": 503, "path": "/token"}))
        .await;
    // The waits between the attempts (200, 400, 800 ms) are timed in paused time:
    // paused_time.rs, `retries_back_off_200_400_800_ms`.
    let refreshed = w.client.refresh_session(None).await.unwrap();
    assert_eq!(w.refresh_requests().await, 4);
    assert_ne!(
        refreshed.response.session.refresh_token,
        session.refresh_token
    );
    let seen = heard(&mut events);
    assert_eq!(
        seen.iter()
            .filter(|(k, _)| *k == AuthEventKind::TokenRefreshed)
            .count(),
        1
    );
    assert!(
        !seen.iter().any(|(k, _)| *k == AuthEventKind::SignedOut),
        "never removed: {seen:?}"
    );
}

#[tokio::test]
async fn timeouts_and_dropped_connections_are_retryable_and_keep_the_session() {
    let w = world_with(
        |_| {},
        |c| {
            c.request_timeout = Duration::from_millis(300);
            c.retry_budget = Duration::from_millis(100);
        },
    )
    .await;
    let session = w.sign_in().await;
    w.fault(json!({"delay_ms": 1000, "path": "/token"})).await;
    let error = w.client.refresh_session(None).await.unwrap_err();
    assert_eq!(
        (error.status(), error.is_retryable()),
        (Some(0), true),
        "{error}"
    );
    w.fault(json!({"drop": true, "path": "/token"})).await;
    let error = w.client.refresh_session(None).await.unwrap_err();
    assert_eq!(
        (error.status(), error.is_retryable()),
        (Some(0), true),
        "{error}"
    );
    assert_eq!(w.client.current_session().unwrap(), session);
}

#[tokio::test]
async fn a_429_is_not_retried_keeps_the_session_and_cools_down() {
    let w = world().await;
    let session = w.sign_in().await;
    w.fault(json!({"status": 429, "path": "/token"})).await;
    let error = w.client.refresh_session(None).await.unwrap_err();
    assert_eq!(
        (error.status(), error.code()),
        (Some(429), Some("over_request_rate_limit"))
    );
    assert_eq!(w.refresh_requests().await, 1, "not retried");
    let again = w.client.refresh_session(None).await.unwrap_err();
    assert_eq!(again, error, "the cooldown answers");
    assert_eq!(
        w.refresh_requests().await,
        1,
        "no storm: nothing sent during the cooldown"
    );
    assert_eq!(w.client.current_session().unwrap(), session);
    // The paste box can say beforehand that a pasted copy of this token will not be sent.
    let held = w.client.given_token_held_back(&session.refresh_token);
    assert_eq!(held, Some(error));
    assert_eq!(w.client.given_token_held_back("abcdefghijkl"), None);
}

#[tokio::test]
async fn reuse_outside_the_interval_ends_the_session_with_signed_out() {
    let w = world().await;
    // Signed in two hours ago by the server's clock: the replayed session's access token has
    // expired, so the rejection ends it (one that still works is kept: see
    // `a_rejected_refresh_token_keeps_a_session_whose_access_token_still_works`).
    w.skew(-7200.0).await;
    let first = w.sign_in().await;
    w.skew(0.0).await;
    w.client.refresh_session(None).await.unwrap();
    w.client.refresh_session(None).await.unwrap();
    w.skew(11.0).await;
    // The grandparent is replayed as if it were the current token (a restored stale copy).
    w.store.save(PROFILE, &first).unwrap();
    let stale = AuthClient::new(
        ClientConfig::new(w.server.url(), w.server.anon_key()),
        w.store.clone(),
        PROFILE,
    )
    .await
    .unwrap();
    let mut stale_events = collect(&stale);
    // Start-up refreshes the expired stored session (as auth-js's `_recoverAndRefresh`).
    let error = stale.initialize().await.unwrap_err();
    assert_eq!(error.code(), Some("refresh_token_already_used"));
    assert!(stale.current_session().is_none());
    assert!(
        w.store.load(PROFILE).unwrap().is_none(),
        "removed from storage"
    );
    assert!(heard(&mut stale_events).contains(&(
        AuthEventKind::SignedOut,
        Some("refresh_token_already_used".into())
    )));
}

#[tokio::test]
async fn a_rejected_pasted_token_leaves_the_current_session_alone() {
    let w = world().await;
    let session = w.sign_in().await;
    let error = w
        .client
        .refresh_session(Some("abcdefghijkl"))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("refresh_token_not_found"));
    assert_eq!(w.client.current_session().unwrap(), session);
    assert_eq!(w.stored().unwrap(), session);
}

#[tokio::test]
async fn a_session_adopted_during_a_refresh_is_not_overwritten_by_its_result() {
    let w = gated_world().await;
    let flight = refresh_held_on_its_way(&w).await;
    // A new sign-in lands while the refresh of the old session is in flight.
    let newer = w.sign_in().await;
    w.gate.as_ref().unwrap().release();
    assert_eq!(
        flight.await.unwrap().unwrap_err(),
        AuthError::RefreshDiscarded
    );
    assert_eq!(
        w.client.current_session().unwrap(),
        newer,
        "the newer session stands"
    );
    assert_eq!(w.stored().unwrap(), newer);
}

#[tokio::test]
async fn a_sign_out_during_a_refresh_stays_signed_out() {
    let w = gated_world().await;
    let flight = refresh_held_on_its_way(&w).await;
    w.client.sign_out(SignOutScope::Local).await.unwrap();
    w.gate.as_ref().unwrap().release();
    let error = flight.await.unwrap().unwrap_err();
    assert_eq!(
        error.code(),
        Some("refresh_token_not_found"),
        "the server ended it first"
    );
    assert!(w.client.current_session().is_none());
    assert!(w.stored().is_none());
}

#[tokio::test]
async fn sign_out_removes_the_local_session_even_when_the_server_fails() {
    let w = world().await;
    w.sign_in().await;
    let mut events = collect(&w.client);
    w.fault(json!({"status": 503, "path": "/logout"})).await;
    let error = w.client.sign_out(SignOutScope::Global).await.unwrap_err();
    assert!(error.is_retryable());
    assert!(w.client.current_session().is_none());
    assert!(w.stored().is_none());
    assert!(
        heard(&mut events).contains(&(AuthEventKind::SignedOut, Some("sign_out:global".into())))
    );
}

#[tokio::test]
async fn sign_out_ignores_401_403_404_and_others_keeps_this_session() {
    let w = world().await;
    let session = w.sign_in().await;
    w.client.sign_out(SignOutScope::Others).await.unwrap();
    assert_eq!(
        w.client.current_session().unwrap(),
        session,
        "others: this session stays"
    );
    w.fault(json!({"status": 403, "path": "/logout"})).await;
    w.client
        .sign_out(SignOutScope::Local)
        .await
        .expect("403 is ignored");
    assert!(w.client.current_session().is_none());
}

#[tokio::test]
async fn get_user_with_a_deleted_session_is_session_missing_and_signs_out() {
    let w = world().await;
    let session = w.sign_in().await;
    assert_eq!(w.client.get_user(None).await.unwrap().email, EMAIL);
    delete_server_session(&w, &session).await;
    let mut events = collect(&w.client);
    assert_eq!(
        w.client.get_user(None).await.unwrap_err(),
        AuthError::SessionMissing
    );
    assert!(w.client.current_session().is_none());
    assert!(
        heard(&mut events).contains(&(AuthEventKind::SignedOut, Some("session_not_found".into())))
    );
}

#[tokio::test]
async fn set_session_signs_in_a_valid_token_and_refreshes_an_expired_one() {
    let w = world().await;
    let other = AuthClient::new(
        ClientConfig::new(w.server.url(), w.server.anon_key()),
        Arc::new(MemoryStore::new()),
        "other",
    )
    .await
    .unwrap();
    let valid = other
        .sign_in_with_password(Credentials::Email {
            email: EMAIL.into(),
            password: PASSWORD.into(),
        })
        .await
        .unwrap()
        .session;
    let mut stream = w.client.subscribe();
    stream.next().await;
    let adopted = w
        .client
        .set_session(&valid.access_token, &valid.refresh_token)
        .await
        .unwrap();
    assert_eq!(
        adopted.session.refresh_token, valid.refresh_token,
        "a valid token is kept as is"
    );
    assert_eq!(stream.next().await.unwrap().kind, AuthEventKind::SignedIn);

    w.skew(-7200.0).await;
    let expired = other
        .sign_in_with_password(Credentials::Email {
            email: EMAIL.into(),
            password: PASSWORD.into(),
        })
        .await
        .unwrap()
        .session;
    w.skew(0.0).await;
    let refreshed = w
        .client
        .set_session(&expired.access_token, &expired.refresh_token)
        .await
        .unwrap();
    assert_ne!(refreshed.session.refresh_token, expired.refresh_token);
    let event = stream.next().await.unwrap();
    assert_eq!(
        (event.kind, event.cause),
        (AuthEventKind::TokenRefreshed, Some(Cause::SetSession))
    );
    assert_eq!(
        w.client.set_session("", "x").await.unwrap_err(),
        AuthError::SessionMissing
    );
}

#[tokio::test]
async fn anonymous_sign_in_sign_up_and_user_updates_emit_their_events() {
    let w = world().await;
    let mut stream = w.client.subscribe();
    stream.next().await;
    let anonymous = w.client.sign_in_anonymously().await.unwrap();
    assert!(anonymous.user.is_anonymous);
    assert_eq!(stream.next().await.unwrap().kind, AuthEventKind::SignedIn);
    let (user, session) = w
        .client
        .sign_up("new@example.com", "secret-123", json!({"plan": "pro"}))
        .await
        .unwrap();
    assert_eq!(
        (user.email.as_str(), session.is_some()),
        ("new@example.com", true)
    );
    assert_eq!(stream.next().await.unwrap().kind, AuthEventKind::SignedIn);
    let updated = w
        .client
        .update_user_metadata(json!({"theme": "dark"}))
        .await
        .unwrap();
    assert_eq!(updated.user_metadata["theme"], "dark");
    let event = stream.next().await.unwrap();
    assert_eq!(event.kind, AuthEventKind::UserUpdated);
    assert_eq!(event.session.unwrap().user.user_metadata["plan"], "pro");
}

#[tokio::test]
async fn a_slow_or_panicking_subscriber_blocks_nobody() {
    let w = world().await;
    w.sign_in().await;
    // The slow subscriber is stuck in its callback until the test lets it go, which it does
    // only once the engine and another subscriber have carried on without it.
    let (release, stuck) = std::sync::mpsc::channel::<()>();
    let stuck = Mutex::new(stuck);
    let slow_done = Arc::new(AtomicUsize::new(0));
    let done = slow_done.clone();
    let _slow = w.client.on_auth_state_change(move |event| {
        if event.kind == AuthEventKind::TokenRefreshed {
            let _ = stuck.lock().unwrap().recv_timeout(Duration::from_secs(30));
            done.fetch_add(1, Ordering::SeqCst);
        }
    });
    let _panicky = w.client.on_auth_state_change(|event| {
        if event.kind == AuthEventKind::TokenRefreshed {
            panic!("a subscriber bug");
        }
    });
    let mut stream = w.client.subscribe();
    stream.next().await;
    w.client.refresh_session(None).await.unwrap();
    let event = next_event(&mut stream, "TOKEN_REFRESHED").await;
    assert_eq!(event.kind, AuthEventKind::TokenRefreshed);
    assert_eq!(
        slow_done.load(Ordering::SeqCst),
        0,
        "the refresh and the other subscriber went on while the slow one was stuck"
    );
    w.client.refresh_session(None).await.unwrap();
    assert_eq!(
        next_event(&mut stream, "TOKEN_REFRESHED").await.kind,
        AuthEventKind::TokenRefreshed,
        "still delivered after the panic"
    );
    assert_eq!(slow_done.load(Ordering::SeqCst), 0);
    release.send(()).unwrap();
    release.send(()).unwrap();
    wait_until("the slow subscriber hears both refreshes", || {
        slow_done.load(Ordering::SeqCst) == 2
    })
    .await;
}

#[tokio::test]
async fn unsubscribing_stops_the_callbacks() {
    let w = world().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let subscription = w.client.on_auth_state_change(move |event| {
        sink.lock().unwrap().push(event.kind);
    });
    assert_eq!(w.client.subscriber_count(), 1);
    subscription.unsubscribe();
    assert_eq!(w.client.subscriber_count(), 0);
    // The callback's task ends, dropping the callback and its `sink`, once it has delivered
    // what was queued and the engine has let go of its queue: only then is `seen` alone.
    wait_until("the callback's task to end", || {
        Arc::strong_count(&seen) == 1
    })
    .await;
    w.sign_in().await;
    assert_eq!(
        *seen.lock().unwrap(),
        [AuthEventKind::InitialSession],
        "only the INITIAL_SESSION from before"
    );
}

#[tokio::test]
async fn requests_carry_the_supabase_headers_and_pass_a_gateway() {
    let w = world_with(|c| c.require_api_key = true, |_| {}).await;
    w.sign_in().await;
    let exchange = w.client.recorder().recent().pop().unwrap();
    let header = |name: &str| {
        exchange
            .request_headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        header("x-supabase-api-version").as_deref(),
        Some("2024-01-01")
    );
    assert!(header("x-client-info")
        .unwrap()
        .starts_with("session-inspector/"));
    assert_eq!(
        header("content-type").as_deref(),
        Some("application/json;charset=UTF-8")
    );
    assert!(
        header("apikey").unwrap().starts_with("fp:"),
        "recorded as a fingerprint"
    );
    assert!(header("authorization").unwrap().starts_with("Bearer fp:"));
}

#[tokio::test]
async fn recorded_exchanges_never_contain_a_token() {
    let w = world().await;
    let first = w.sign_in().await;
    let second = w
        .client
        .refresh_session(None)
        .await
        .unwrap()
        .response
        .session;
    w.client.get_user(None).await.unwrap();
    w.client
        .refresh_session(Some(&first.refresh_token))
        .await
        .ok();
    let recorded = serde_json::to_string(&w.client.recorder().recent()).unwrap();
    for secret in [
        first.access_token.as_str(),
        first.refresh_token.as_str(),
        second.access_token.as_str(),
        second.refresh_token.as_str(),
        PASSWORD,
    ] {
        assert!(
            !recorded.contains(secret),
            "a secret leaked into the exchange log"
        );
    }
    assert!(w
        .client
        .recorder()
        .recent()
        .iter()
        .all(|e| e.server_date.is_some()));
}

#[tokio::test]
async fn api_errors_keep_the_server_code_and_message() {
    let w = world().await;
    let error = w
        .client
        .sign_in_with_password(Credentials::Email {
            email: EMAIL.into(),
            password: "wrong".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        error,
        AuthError::Api {
            status: 400,
            code: Some("invalid_credentials".into()),
            message: "Invalid login credentials".into()
        }
    );
}

#[tokio::test]
async fn a_storage_failure_is_reported_and_the_session_stays_usable_in_memory() {
    let w = world().await;
    w.sign_in().await;
    w.store.set_failing(Some("keyring locked"));
    let error = w.client.refresh_session(None).await.unwrap_err();
    assert!(
        matches!(&error, AuthError::Storage(session_engine::StorageError::Backend(m)) if m.contains("keyring locked")),
        "{error}"
    );
    w.store.set_failing(None);
    let current = w.client.current_session().unwrap();
    w.client
        .refresh_session(Some(&current.refresh_token))
        .await
        .expect("the in-memory session still refreshes");
}

#[tokio::test]
async fn an_insecure_project_url_is_refused_before_any_request() {
    let result = AuthClient::new(
        ClientConfig::new("http://example.com", "k"),
        Arc::new(MemoryStore::new()),
        "p",
    )
    .await;
    assert!(matches!(result, Err(AuthError::InvalidInput(_))));
}

#[tokio::test]
async fn access_tokens_verify_with_the_project_jwks_or_the_hs256_secret() {
    use session_engine::tokens::SignatureStatus;
    let es = world_with(
        |c| c.signing = local_gotrue::SigningAlgorithm::Es256,
        |_| {},
    )
    .await;
    let token = es.sign_in().await.access_token;
    let (jwt, status) = es
        .client
        .verify_access_token(&format!("  Bearer {} ", token.as_str()), None)
        .await
        .unwrap();
    assert!(
        matches!(status, SignatureStatus::Verified { ref alg, .. } if alg == "ES256"),
        "{status:?}"
    );
    assert_eq!(jwt.claims["email"], EMAIL);
    let jwks_fetches = || {
        es.client
            .recorder()
            .recent()
            .iter()
            .filter(|e| e.url.ends_with("jwks.json"))
            .count()
    };
    es.client.verify_access_token(&token, None).await.unwrap();
    assert_eq!(jwks_fetches(), 1, "the JWKS is cached");

    let hs = world().await;
    let token = hs.sign_in().await.access_token;
    let secret = local_gotrue::config::DEFAULT_JWT_SECRET.as_bytes();
    assert!(hs
        .client
        .verify_access_token(&token, Some(secret))
        .await
        .unwrap()
        .1
        .is_verified());
    assert!(matches!(
        hs.client
            .verify_access_token(&token, Some(b"wrong-secret"))
            .await
            .unwrap()
            .1,
        SignatureStatus::InvalidSignature { .. }
    ));
    assert!(matches!(
        hs.client.verify_access_token(&token, None).await.unwrap().1,
        SignatureStatus::NotVerified { .. }
    ));
    assert!(hs
        .client
        .verify_access_token("garbage", None)
        .await
        .is_err());
}

#[tokio::test]
async fn a_pasted_ssr_cookie_is_recognized_and_rotates_into_the_current_session() {
    use base64::Engine as _;
    use session_engine::import::{parse_import, ImportKind};
    let w = world().await;
    let outside = session_from_another_client(&w).await;
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(&outside).unwrap());
    let (a, b) = encoded.split_at(encoded.len() / 2);
    let cookie = format!("sb-127-auth-token.0=base64-{a}; sb-127-auth-token.1={b}; theme=dark");
    let imported = parse_import(&cookie).unwrap();
    assert_eq!((imported.kind, imported.chunks), (ImportKind::SsrCookie, 2));
    assert!(!imported.describe().contains(outside.refresh_token.as_str()));
    let refreshed = w
        .client
        .refresh_session(imported.refresh_token())
        .await
        .unwrap();
    assert_eq!(
        w.client.current_session().unwrap(),
        refreshed.response.session
    );
    assert!(parse_import("hello world").is_err());
}

// ---- Session ending, refresh-first calls and start-up events (issue 11, items 5, 6, 8) ----

/// The server session behind `session`, deleted as a revocation would.
async fn delete_server_session(w: &World, session: &session_engine::Session) {
    let session_id = session_engine::tokens::decode_jwt(&session.access_token)
        .unwrap()
        .session_id()
        .unwrap()
        .to_string();
    w.control(
        reqwest::Method::DELETE,
        &format!("/sessions/{session_id}"),
        None,
    )
    .await;
}

async fn server_session_count(w: &World) -> usize {
    w.control(reqwest::Method::GET, "/sessions", None)
        .await
        .as_array()
        .map_or(0, Vec::len)
}

/// The stream's next event, or a failure naming what was expected after 10 s of nothing.
async fn next_event(
    stream: &mut session_engine::EventStream,
    expected: &str,
) -> session_engine::AuthEvent {
    tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .unwrap_or_else(|_| panic!("no event within 10 s (expected {expected})"))
        .expect("the stream is open")
}

/// A second client over the same store: what the app does when it starts again.
async fn restarted(w: &World) -> AuthClient {
    AuthClient::new(
        ClientConfig::new(w.server.url(), w.server.anon_key()),
        w.store.clone(),
        PROFILE,
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn a_rejected_refresh_token_keeps_a_session_whose_access_token_still_works() {
    let w = world().await;
    let session = w.sign_in().await;
    delete_server_session(&w, &session).await;
    let mut events = collect(&w.client);
    let error = w.client.refresh_session(None).await.unwrap_err();
    assert_eq!(error.code(), Some("refresh_token_not_found"));
    assert_eq!(
        w.client.current_session(),
        Some(session.clone()),
        "kept: its access token still works"
    );
    assert_eq!(w.stored(), Some(session.clone()), "and kept in storage");
    assert_eq!(
        w.client.get_session().await.unwrap(),
        Some(session.clone()),
        "get_session hands it back"
    );
    let rejection = w.client.refresh_rejection().expect("marked as rejected");
    assert_eq!(rejection.code, "refresh_token_not_found");
    assert_eq!(rejection.status, 400);
    assert_eq!(rejection.access_token_expires_at, session.expires_at);
    assert_eq!(
        rejection.refresh_token_fingerprint,
        session_engine::tokens::fingerprint(&session.refresh_token)
    );
    assert!(rejection.describe().starts_with(
        "refresh token rejected: refresh_token_not_found; this access token still works until "
    ));
    let seen = heard(&mut events);
    assert!(
        !seen
            .iter()
            .any(|(kind, _)| *kind == AuthEventKind::SignedOut),
        "no SIGNED_OUT yet: {seen:?}"
    );
    assert!(
        seen.contains(&(
            AuthEventKind::RefreshRejected,
            Some("refresh_token_not_found".into())
        )),
        "the inspector's own event says so: {seen:?}"
    );
    // A subscriber that comes later (a window opened or reloaded) hears the mark with its
    // INITIAL_SESSION.
    let mut late = w.client.subscribe();
    let initial = late.next().await.unwrap();
    assert_eq!(initial.kind, AuthEventKind::InitialSession);
    assert_eq!(initial.session, Some(session.clone()));
    assert_eq!(
        initial.rejection.map(|r| r.code).as_deref(),
        Some("refresh_token_not_found")
    );
}

#[tokio::test]
async fn end_session_now_ends_a_rejected_session_at_once() {
    let w = world().await;
    let session = w.sign_in().await;
    delete_server_session(&w, &session).await;
    w.client.refresh_session(None).await.unwrap_err();
    assert!(w.client.refresh_rejection().is_some());
    let mut events = collect(&w.client);
    let before = w.control(reqwest::Method::GET, "/requests", None).await["total"].clone();
    w.client.end_session_now().await;
    assert!(w.client.current_session().is_none());
    assert!(w.stored().is_none());
    assert!(
        w.client.refresh_rejection().is_none(),
        "the mark goes with it"
    );
    assert_eq!(
        w.control(reqwest::Method::GET, "/requests", None).await["total"],
        before,
        "nothing sent"
    );
    assert!(
        heard(&mut events).contains(&(AuthEventKind::SignedOut, Some("end_session_now".into())))
    );
}

#[tokio::test]
async fn a_global_sign_out_with_an_expired_access_token_refreshes_first_and_ends_the_server_session(
) {
    // A zero margin: a 2-second token is inside the default 10 s margin from birth, and this
    // test wants the refresh to be sign_out's own.
    let w = world_with(
        |c| c.jwt_expiry = Duration::from_secs(2),
        |c| c.refresh_margin = Duration::ZERO,
    )
    .await;
    w.sign_in().await;
    let mut events = collect(&w.client);
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert_eq!(server_session_count(&w).await, 1);
    w.client
        .sign_out(SignOutScope::Global)
        .await
        .expect("signed out");
    assert_eq!(
        server_session_count(&w).await,
        0,
        "the server session is gone"
    );
    assert!(w.client.current_session().is_none());
    let kinds: Vec<_> = heard(&mut events).into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        kinds,
        [
            AuthEventKind::InitialSession,
            AuthEventKind::TokenRefreshed,
            AuthEventKind::SignedOut
        ]
    );
}

#[tokio::test]
async fn get_user_and_update_user_refresh_an_expired_access_token_first() {
    let w = world_with(|c| c.jwt_expiry = Duration::from_secs(2), |_| {}).await;
    let first = w.sign_in().await;
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let user = w
        .client
        .get_user(None)
        .await
        .expect("get_user refreshes first");
    assert_eq!(user.email, EMAIL);
    let refreshed = w.client.current_session().unwrap();
    assert_ne!(refreshed.refresh_token, first.refresh_token, "rotated");
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let updated = w
        .client
        .update_user_metadata(json!({"theme": "dark"}))
        .await
        .expect("update_user refreshes first");
    assert_eq!(updated.user_metadata["theme"], "dark");
    assert_ne!(
        w.client.current_session().unwrap().refresh_token,
        refreshed.refresh_token
    );
}

#[tokio::test]
async fn a_valid_stored_session_is_announced_signed_in_then_initial_session() {
    let w = world().await;
    let session = w.sign_in().await;
    let client = restarted(&w).await;
    let mut stream = client.subscribe();
    let first = next_event(&mut stream, "SIGNED_IN").await;
    let second = next_event(&mut stream, "INITIAL_SESSION").await;
    assert_eq!(
        (first.kind, second.kind),
        (AuthEventKind::SignedIn, AuthEventKind::InitialSession)
    );
    assert_eq!(first.session, Some(session.clone()));
    assert_eq!(second.session, Some(session));
}

#[tokio::test]
async fn an_expired_stored_session_is_refreshed_before_initial_session() {
    let w = world().await;
    w.skew(-7200.0).await;
    let expired = w.sign_in().await;
    w.skew(0.0).await;
    let client = restarted(&w).await;
    let mut stream = client.subscribe();
    let first = next_event(&mut stream, "TOKEN_REFRESHED").await;
    let second = next_event(&mut stream, "INITIAL_SESSION").await;
    assert_eq!(
        (first.kind, second.kind),
        (AuthEventKind::TokenRefreshed, AuthEventKind::InitialSession)
    );
    let initial = second.session.expect("the refreshed session");
    assert_ne!(initial.refresh_token, expired.refresh_token);
    assert_eq!(Some(initial), client.current_session());
}

#[tokio::test]
async fn sign_out_always_emits_signed_out() {
    let w = world().await;
    let mut events = collect(&w.client);
    w.client.sign_out(SignOutScope::Local).await.unwrap();
    assert_eq!(
        heard(&mut events),
        [
            (AuthEventKind::InitialSession, None),
            (AuthEventKind::SignedOut, Some("sign_out:local".into()))
        ],
        "SIGNED_OUT even without a session, as auth-js's _removeSession"
    );
}

/// The causes of the stream's events so far, with their kinds.
fn causes(stream: &mut session_engine::EventStream) -> Vec<(AuthEventKind, Option<Cause>)> {
    std::iter::from_fn(|| stream.try_next())
        .map(|event| (event.kind, event.cause))
        .collect()
}

#[tokio::test]
async fn each_way_into_a_refresh_or_a_sign_in_names_its_cause_on_the_event() {
    let w = world().await;
    let mut events = collect(&w.client);
    let _ = next_event(&mut events, "INITIAL_SESSION").await;
    let session = w.sign_in().await;
    w.client.refresh_session(None).await.unwrap();
    let current = w.client.current_session().unwrap();
    w.client
        .refresh_session(Some(&current.refresh_token))
        .await
        .unwrap();
    let latest = w.client.current_session().unwrap();
    w.client
        .set_session(&session.access_token, &latest.refresh_token)
        .await
        .unwrap();
    assert_eq!(
        causes(&mut events),
        [
            (AuthEventKind::SignedIn, Some(Cause::SignIn)),
            (AuthEventKind::TokenRefreshed, Some(Cause::RefreshNow)),
            (AuthEventKind::TokenRefreshed, Some(Cause::Paste)),
            (AuthEventKind::SignedIn, Some(Cause::SignIn)),
        ]
    );
    w.client.sign_out(SignOutScope::Local).await.unwrap();
    assert_eq!(causes(&mut events), [(AuthEventKind::SignedOut, None)]);
}

#[tokio::test]
async fn a_caller_that_joins_a_refresh_shares_the_first_callers_cause() {
    let w = world().await;
    let mut events = collect(&w.client);
    let _ = next_event(&mut events, "INITIAL_SESSION").await;
    let session = w.sign_in().await;
    causes(&mut events);
    // The refresh's answer is held back long enough for a second caller to join it.
    w.fault(json!({"count": 1, "path": "/token", "delay_ms": 300}))
        .await;
    let mut first = std::pin::pin!(w.client.refresh_session(None));
    let polled = std::future::poll_fn(|cx| std::task::Poll::Ready(first.as_mut().poll(cx))).await;
    assert!(polled.is_pending(), "the refresh is in flight");
    let (pasted, first) = tokio::join!(
        w.client.refresh_session(Some(&session.refresh_token)),
        first
    );
    assert!(
        pasted.unwrap().joined,
        "the paste joined the refresh in flight"
    );
    assert!(!first.unwrap().joined);
    assert_eq!(
        causes(&mut events),
        [(AuthEventKind::TokenRefreshed, Some(Cause::RefreshNow))],
        "one event, with the cause of the caller that started the flight"
    );
}

#[tokio::test]
async fn refreshes_inside_the_margin_name_get_session_start_up_and_the_ticker() {
    // Every token is inside a margin longer than it lives.
    let w = world_with(|_| {}, |c| c.refresh_margin = Duration::from_secs(7200)).await;
    w.sign_in().await;
    let mut events = collect(&w.client);
    let _ = next_event(&mut events, "INITIAL_SESSION").await;
    causes(&mut events);
    w.client.get_session().await.unwrap();
    assert_eq!(
        causes(&mut events),
        [(AuthEventKind::TokenRefreshed, Some(Cause::GetSession))]
    );

    // The app starting again over the same store: the stored session is refreshed at once.
    let mut settings = ClientConfig::new(w.server.url(), w.server.anon_key());
    settings.refresh_margin = Duration::from_secs(7200);
    let again = AuthClient::new(settings, w.store.clone(), PROFILE)
        .await
        .unwrap();
    let mut restarted_events = collect(&again);
    let first = next_event(&mut restarted_events, "TOKEN_REFRESHED").await;
    assert_eq!(
        (first.kind, first.cause),
        (AuthEventKind::TokenRefreshed, Some(Cause::StartUp))
    );

    let (setting, receiver) = tokio::sync::watch::channel(session_engine::auto_refresh::Setting {
        enabled: true,
        margin: Duration::from_secs(7200),
    });
    let ticker = tokio::spawn(session_engine::auto_refresh::run(
        again.clone(),
        receiver,
        |_| {},
    ));
    // The ticker's own subscription may refresh first, as any subscriber's start does
    // (`get_session`); then the ticker's refresh comes, due at once.
    loop {
        let event = next_event(&mut restarted_events, "an automatic TOKEN_REFRESHED").await;
        if event.kind != AuthEventKind::TokenRefreshed {
            continue;
        }
        match event.cause {
            Some(Cause::AutoRefresh) => break,
            Some(Cause::GetSession) => continue,
            other => panic!("a refresh caused by {other:?}"),
        }
    }
    drop(setting);
    ticker.abort();
}

#[tokio::test]
async fn a_failed_refresh_is_told_with_its_cause_status_token_and_exchange() {
    let w = world_with(|_| {}, |c| c.retry_budget = Duration::from_millis(100)).await;
    let session = w.sign_in().await;
    let mut failures = w.client.refresh_failures();
    w.fault(json!({"count": 1, "status": 503, "path": "/token"}))
        .await;
    let error = w.client.refresh_session(None).await.unwrap_err();
    assert_eq!(error.status(), Some(503));
    let failure = failures
        .try_recv()
        .expect("the failure is told before the call returns");
    assert_eq!(failure.cause, Cause::RefreshNow);
    assert_eq!(failure.status, Some(503));
    // A 5xx is typed without its code; the failure still carries the one the body gave.
    assert_eq!(failure.code.as_deref(), Some("unexpected_failure"));
    assert_eq!(
        failure.refresh_token_fingerprint,
        session_engine::tokens::fingerprint(&session.refresh_token)
    );
    let exchange = w
        .client
        .recorder()
        .get(failure.exchange_id.expect("its exchange"))
        .expect("recorded");
    assert_eq!(exchange.status, Some(503));
    assert!(
        exchange.url.contains("grant_type=refresh_token"),
        "{}",
        exchange.url
    );
    // A refusal for good is told too, with GoTrue's code, and a success is not.
    let pasted = w
        .client
        .refresh_session(Some("abcdefghijkl"))
        .await
        .unwrap_err();
    let refused = failures.try_recv().unwrap();
    assert_eq!(refused.cause, Cause::Paste);
    assert_eq!(refused.code.as_deref(), pasted.code());
    assert!(refused.code.is_some());
    w.client.refresh_session(None).await.unwrap();
    assert!(failures.try_recv().is_err());
}

/// The window's panels open together and each reads the user and the project's settings:
/// calls at the same moment share one `GET /user` (per access token) and one
/// `GET /settings`; a later call sends its own.
#[tokio::test]
async fn reads_asked_at_the_same_moment_share_one_request() {
    let w = world().await;
    w.sign_in().await;
    let count = |counts: &Value, route: &str| counts["routes"][route].as_u64().unwrap_or(0);
    let before = w.control(reqwest::Method::GET, "/requests", None).await;
    // Held for a moment by the server, so the calls surely overlap.
    for path in ["/user", "/settings"] {
        w.fault(json!({"count": 1, "path": path, "delay_ms": 300}))
            .await;
    }
    let (user, identities, methods, settings) = tokio::join!(
        w.client.get_user(None),
        w.client.get_user_identities(),
        w.client.sign_in_methods(),
        w.client.server_settings(),
    );
    assert_eq!(user.unwrap().email, EMAIL);
    assert!(!identities.unwrap().is_empty());
    assert!(methods.unwrap().email);
    assert!(settings.unwrap().is_object());
    let after = w.control(reqwest::Method::GET, "/requests", None).await;
    assert_eq!(
        count(&after, "GET /user") - count(&before, "GET /user"),
        1,
        "{after}"
    );
    assert_eq!(
        count(&after, "GET /settings") - count(&before, "GET /settings"),
        1,
        "{after}"
    );
    // Nothing is kept: the next read asks the server again.
    w.client.get_user(None).await.unwrap();
    w.client.sign_in_methods().await.unwrap();
    let again = w.control(reqwest::Method::GET, "/requests", None).await;
    assert_eq!(count(&again, "GET /user") - count(&before, "GET /user"), 2);
    assert_eq!(
        count(&again, "GET /settings") - count(&before, "GET /settings"),
        2
    );
}
