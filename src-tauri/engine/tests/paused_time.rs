//! Timers in paused time: the auto-refresh schedule and the refresh failure cooldown against
//! the real server, both on tokio's virtual clock (the server's clock follows it too), so
//! minutes of schedule pass in milliseconds of wall time and every instant is exact.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use local_gotrue::{Config, DemoUser, Server};
use serde_json::{json, Value};
use session_engine::auto_refresh::{self, Outcome, Setting};
use session_engine::clock::TokioClock;
use session_engine::{
    AuthClient, AuthEventKind, ClientConfig, Credentials, MemoryStore, SessionStore,
};
use tokio::sync::watch;
use tokio::time::Instant;

const EMAIL: &str = "paused@example.com";
const PASSWORD: &str = "paused-password-1";

async fn server(jwt_expiry: Duration) -> Server {
    local_gotrue::start(Config {
        jwt_expiry,
        clock_follows_tokio: true,
        demo_user: Some(DemoUser {
            email: EMAIL.into(),
            password: PASSWORD.into(),
        }),
        ..Config::default()
    })
    .await
    .unwrap()
}

async fn signed_in(server: &Server) -> AuthClient {
    signed_in_with(server, |_| {}).await
}

/// A client of `server` on tokio's clock, `configure`d, with the demo user signed in.
async fn signed_in_with(server: &Server, configure: impl FnOnce(&mut ClientConfig)) -> AuthClient {
    let mut config = ClientConfig::new(server.url(), server.anon_key());
    config.clock = Arc::new(TokioClock::new());
    configure(&mut config);
    let client = AuthClient::new(config, Arc::new(MemoryStore::new()), "paused")
        .await
        .unwrap();
    client
        .sign_in_with_password(Credentials::email(EMAIL, PASSWORD).unwrap())
        .await
        .unwrap();
    client
}

/// The next `count` refresh requests get `status` from the server.
async fn fail_token_requests(server: &Server, status: u16, count: u32) {
    emulator(
        server,
        reqwest::Method::POST,
        "/faults",
        Some(json!({"path": "/token", "status": status, "count": count})),
    )
    .await;
}

async fn emulator(
    server: &Server,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let mut request =
        reqwest::Client::new().request(method, format!("{}/_emulator{path}", server.url()));
    if let Some(body) = body {
        request = request.json(&body);
    }
    request
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap_or(Value::Null)
}

async fn refresh_requests(server: &Server) -> u64 {
    let counts = emulator(server, reqwest::Method::GET, "/requests", None).await;
    counts["routes"]["POST /token?grant_type=refresh_token"]
        .as_u64()
        .unwrap_or(0)
}

/// How many refresh requests the server has seen by each of `instants` (since `start`).
async fn refreshes_by(server: &Server, start: Instant, instants: &[f64]) -> Vec<u64> {
    let mut counts = Vec::new();
    for at in instants {
        tokio::time::sleep_until(start + Duration::from_secs_f64(*at)).await;
        counts.push(refresh_requests(server).await);
    }
    counts
}

/// Auto-refresh on, 10 s before expiry.
const ON_WITH_A_10_S_MARGIN: Setting = Setting {
    enabled: true,
    margin: Duration::from_secs(10),
};

/// The auto-refresh schedule of `client`, running, and the outcomes it reported so far.
fn run_schedule(
    client: &AuthClient,
    setting: watch::Receiver<Setting>,
) -> (tokio::task::JoinHandle<()>, Arc<Mutex<Vec<Outcome>>>) {
    let outcomes = Arc::new(Mutex::new(Vec::new()));
    let seen = outcomes.clone();
    let schedule = tokio::spawn(auto_refresh::run(client.clone(), setting, move |outcome| {
        seen.lock().unwrap().push(outcome)
    }));
    (schedule, outcomes)
}

#[tokio::test(start_paused = true)]
async fn auto_refresh_runs_margin_before_expiry_and_stops_when_switched_off() {
    let wall = std::time::Instant::now();
    let server = server(Duration::from_secs(60)).await;
    let client = signed_in(&server).await;
    let (setting, receiver) = watch::channel(ON_WITH_A_10_S_MARGIN);
    let start = Instant::now();
    let (schedule, outcomes) = run_schedule(&client, receiver);

    // 60-second tokens, a 10-second margin: a refresh every 50 s, not before, not more. (The
    // server's `exp` is whole seconds, so each refresh comes up to 1 s before the 50 s mark.)
    let instants = [48.9, 50.1, 97.9, 100.1, 146.9, 150.1, 175.0];
    let counts = refreshes_by(&server, start, &instants).await;
    assert_eq!(
        counts,
        vec![0, 1, 1, 2, 2, 3, 3],
        "refresh requests by {instants:?}"
    );
    assert_eq!(*outcomes.lock().unwrap(), vec![Outcome::Refreshed; 3]);

    // Off means off: ten minutes without a single request.
    setting.send_replace(Setting {
        enabled: false,
        margin: Duration::from_secs(10),
    });
    let before = refresh_requests(&server).await;
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert_eq!(
        refresh_requests(&server).await,
        before,
        "switched off, nothing is sent"
    );

    // The profile goes away (the sender is dropped): the task ends.
    drop(setting);
    tokio::time::timeout(Duration::from_secs(1), schedule)
        .await
        .expect("the schedule ends with its setting")
        .unwrap();
    println!(
        "auto-refresh: 13 virtual minutes in {:?} of wall time",
        wall.elapsed()
    );
}

/// After a failed automatic refresh the schedule waits out the refresh failure cooldown
/// (60 s, longer than its own 15 s backoff): nothing is attempted meanwhile, not even an
/// attempt the cooldown would answer from memory.
#[tokio::test(start_paused = true)]
async fn a_failed_auto_refresh_waits_out_the_failure_cooldown_then_tries_again() {
    let server = server(Duration::from_secs(60)).await;
    let client = signed_in(&server).await;
    let (_setting, receiver) = watch::channel(ON_WITH_A_10_S_MARGIN);
    // The first automatic refresh meets a 400 the engine does not retry.
    fail_token_requests(&server, 400, 1).await;
    let start = Instant::now();
    let (schedule, outcomes) = run_schedule(&client, receiver);
    // The failure comes up to 1 s before the 50 s mark (whole-second `exp`), so the cooldown
    // ends between 109 and 110 s.
    let instants = [48.9, 50.1, 108.9];
    let before = client.current_session().unwrap();
    let counts = refreshes_by(&server, start, &instants).await;
    assert_eq!(counts, vec![0, 1, 1], "requests by {instants:?}");
    assert!(
        matches!(outcomes.lock().unwrap().as_slice(), [Outcome::Failed(e)] if e.status() == Some(400)),
        "one failed attempt, none inside the cooldown: {:?}",
        outcomes.lock().unwrap()
    );
    assert_eq!(
        client.current_session().unwrap(),
        before,
        "the failure keeps the session"
    );
    let counts = refreshes_by(&server, start, &[110.1]).await;
    assert_eq!(counts, vec![2], "the next attempt when the cooldown ends");
    assert_eq!(outcomes.lock().unwrap().last(), Some(&Outcome::Refreshed));
    let recovered = client.current_session().unwrap();
    assert_ne!(recovered.refresh_token, before.refresh_token, "it rotated");
    // And the schedule is back to normal: the next refresh 50 s after the recovery (which
    // came between 109 and 110 s), again up to 1 s early.
    let counts = refreshes_by(&server, start, &[157.9, 160.2]).await;
    assert_eq!(counts, vec![2, 3], "the regular refresh after the recovery");
    schedule.abort();
}

/// A server that fails every attempt of one automatic refresh with a 503: the engine retries
/// inside the refresh (200·2ⁿ ms while the 30 s budget lasts: eight attempts, the last 25.4 s
/// after the first), then the schedule waits out the 60 s failure cooldown and tries again,
/// and that succeeds.
#[tokio::test(start_paused = true)]
async fn an_auto_refresh_whose_retries_all_fail_tries_again_after_the_cooldown_and_succeeds() {
    let server = server(Duration::from_secs(60)).await;
    let client = signed_in(&server).await;
    let before = client.current_session().unwrap();
    let (_setting, receiver) = watch::channel(ON_WITH_A_10_S_MARGIN);
    fail_token_requests(&server, 503, 8).await;
    let start = Instant::now();
    let (schedule, outcomes) = run_schedule(&client, receiver);
    // Due between 49 and 50 s (whole-second `exp`): the retries end between 74.4 and 75.4 s,
    // the cooldown between 134.4 and 135.4 s.
    let instants = [48.9, 75.5, 134.3];
    let counts = refreshes_by(&server, start, &instants).await;
    assert_eq!(counts, vec![0, 8, 8], "requests by {instants:?}");
    {
        let outcomes = outcomes.lock().unwrap();
        assert!(
            matches!(outcomes.as_slice(), [Outcome::Failed(e)] if e.kind() == "retryableFetch" && e.status() == Some(503)),
            "{outcomes:?}"
        );
    }
    assert_eq!(client.current_session().unwrap(), before, "kept meanwhile");
    let counts = refreshes_by(&server, start, &[135.5]).await;
    assert_eq!(counts, vec![9], "tried again when the cooldown ended");
    assert_eq!(outcomes.lock().unwrap().last(), Some(&Outcome::Refreshed));
    assert_ne!(
        client.current_session().unwrap().refresh_token,
        before.refresh_token,
        "and it rotated"
    );
    schedule.abort();
}

#[tokio::test(start_paused = true)]
async fn a_429_cools_the_token_down_for_sixty_seconds_without_requests() {
    let wall = std::time::Instant::now();
    let server = server(Duration::from_secs(3600)).await;
    let client = signed_in(&server).await;
    fail_token_requests(&server, 429, 1).await;
    let first = client.refresh_session(None).await.unwrap_err();
    assert_eq!(first.status(), Some(429));
    assert_eq!(refresh_requests(&server).await, 1);

    // Inside the cooldown the same 429 is answered without a request.
    tokio::time::advance(Duration::from_millis(59_900)).await;
    let cooled = client.refresh_session(None).await.unwrap_err();
    assert_eq!(cooled, first);
    assert_eq!(
        refresh_requests(&server).await,
        1,
        "no request inside the cooldown"
    );
    assert!(
        client.current_session().is_some(),
        "a 429 never costs the session"
    );

    // After it, the token goes out again and rotates.
    let cooled_token = client.current_session().unwrap().refresh_token;
    tokio::time::advance(Duration::from_millis(200)).await;
    let after = client
        .refresh_session(None)
        .await
        .expect("after the cooldown");
    assert_eq!(refresh_requests(&server).await, 2);
    assert_ne!(after.response.session.refresh_token, cooled_token);
    assert_eq!(client.current_session(), Some(after.response.session));
    println!(
        "429 cooldown: one virtual minute in {:?} of wall time",
        wall.elapsed()
    );
}

/// Three 503s, then an answer: the retries wait 200, 400 and 800 ms (auth-js's 200·2ⁿ), so the
/// refresh lands exactly 1.4 s of virtual time after it started, and not before.
#[tokio::test(start_paused = true)]
async fn retries_back_off_200_400_800_ms() {
    let server = server(Duration::from_secs(3600)).await;
    let client = signed_in(&server).await;
    fail_token_requests(&server, 503, 3).await;
    let before = refresh_requests(&server).await;
    let start = Instant::now();
    let refresh = tokio::spawn({
        let client = client.clone();
        async move { client.refresh_session(None).await }
    });
    // By each instant, just before and after a retry is due, the server has seen this many.
    let seen = refreshes_by(&server, start, &[0.1, 0.19, 0.21, 0.59, 0.61, 1.39, 1.41]).await;
    let seen: Vec<u64> = seen.iter().map(|n| n - before).collect();
    assert_eq!(seen, vec![1, 1, 2, 2, 3, 3, 4], "requests by 0.1 … 1.41 s");
    refresh.await.unwrap().expect("the fourth attempt succeeds");
}

/// A 1 s retry budget: the waits of 200 and 400 ms fit in it, the next (800 ms, ending at
/// 1.4 s) does not, so there are three attempts and the error comes with the third, at 0.6 s;
/// the session is kept.
#[tokio::test(start_paused = true)]
async fn retries_stop_at_the_budget_and_keep_the_session() {
    let server = server(Duration::from_secs(3600)).await;
    let client = signed_in_with(&server, |c| c.retry_budget = Duration::from_secs(1)).await;
    let session = client.current_session().unwrap();
    emulator(
        &server,
        reqwest::Method::POST,
        "/faults",
        Some(json!({"path": "/token", "status": 502, "body": "html", "count": 50})),
    )
    .await;
    let start = Instant::now();
    let refresh = tokio::spawn({
        let client = client.clone();
        async move { client.refresh_session(None).await }
    });
    let mut seen = Vec::new();
    for at in [0.1, 0.19, 0.21, 0.59] {
        seen.extend(refreshes_by(&server, start, &[at]).await);
        assert!(!refresh.is_finished(), "still retrying at {at} s");
    }
    seen.extend(refreshes_by(&server, start, &[0.61, 5.0]).await);
    assert_eq!(seen, vec![1, 1, 2, 2, 3, 3], "requests by 0.1 … 5 s");
    let error = refresh.await.unwrap().unwrap_err();
    assert_eq!(
        (error.kind(), error.status()),
        ("retryableFetch", Some(502))
    );
    assert_eq!(client.current_session().unwrap(), session);
}

/// A project URL where nothing listens (a port this test holds bound, without listening, so
/// no one else can take it): every attempt is refused. The refresh fails as `retryableFetch`
/// with status 0 after the retries the 30 s budget allows (eight: 0, 0.2, 0.6, 1.4, 3, 6.2,
/// 12.6 and 25.4 s), and the session is kept, in memory, in storage and for subscribers.
#[tokio::test(start_paused = true)]
async fn a_refused_connection_is_retryable_with_status_0_and_keeps_the_session() {
    let server = server(Duration::from_secs(3600)).await;
    let session = signed_in(&server).await.current_session().unwrap();
    let nobody = tokio::net::TcpSocket::new_v4().unwrap();
    nobody.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let mut config = ClientConfig::new(
        format!("http://{}", nobody.local_addr().unwrap()),
        server.anon_key(),
    );
    config.clock = Arc::new(TokioClock::new());
    let store = Arc::new(MemoryStore::new());
    store.save("refused", &session).unwrap();
    let client = AuthClient::new(config, store.clone(), "refused")
        .await
        .unwrap();
    let mut events = client.subscribe();

    let start = Instant::now();
    let error = client.refresh_session(None).await.unwrap_err();
    assert_eq!(
        (error.kind(), error.status()),
        ("retryableFetch", Some(0)),
        "{error:?}"
    );
    assert_eq!(error.to_string(), "cannot connect to the auth server");
    assert_eq!(
        start.elapsed(),
        Duration::from_millis(25_400),
        "the retries' waits"
    );
    let attempts = client.recorder().recent();
    assert_eq!(attempts.len(), 8, "{attempts:#?}");
    assert!(attempts
        .iter()
        .all(|a| a.status.is_none() && a.url.ends_with("/token?grant_type=refresh_token")));

    assert_eq!(client.current_session(), Some(session.clone()), "kept");
    assert_eq!(
        store.load("refused").unwrap(),
        Some(session.clone()),
        "stored"
    );
    assert!(client.refresh_rejection().is_none(), "not a rejection");
    assert_eq!(client.get_session().await.unwrap(), Some(session));
    let kinds: Vec<_> = std::iter::from_fn(|| events.try_next())
        .map(|e| e.kind)
        .collect();
    assert!(
        !kinds.contains(&AuthEventKind::SignedOut),
        "no SIGNED_OUT: {kinds:?}"
    );
}

// ---- Session ending and the refresh failure cooldown (issue 11, item 5) ----

/// Deletes the server session behind the client's current session, as a revocation would.
async fn revoke_current_session(server: &Server, client: &AuthClient) {
    let session = client.current_session().unwrap();
    let id = session_engine::tokens::decode_jwt(&session.access_token)
        .unwrap()
        .session_id()
        .unwrap()
        .to_string();
    emulator(
        server,
        reqwest::Method::DELETE,
        &format!("/sessions/{id}"),
        None,
    )
    .await;
}

/// 60-second tokens: a rejection at 0 s keeps the session; inside the cooldown the session's
/// own refreshes (get_session) are answered from memory, nothing is sent and nothing ends
/// (auth-js has no timer for it); the first refresh attempted after expiry meets the rejection
/// again and ends it.
#[tokio::test(start_paused = true)]
async fn a_rejected_session_ends_at_the_first_refresh_attempted_after_its_access_token_expired() {
    let server = server(Duration::from_secs(60)).await;
    let client = signed_in(&server).await;
    let mut events = client.subscribe();
    assert_eq!(
        events.next().await.unwrap().kind,
        AuthEventKind::InitialSession
    );
    revoke_current_session(&server, &client).await;
    let rejected = client.refresh_session(None).await.unwrap_err();
    assert_eq!(rejected.code(), Some("refresh_token_not_found"));
    assert!(
        client.current_session().is_some(),
        "kept while the access token works"
    );
    let rejection = client.refresh_rejection().expect("marked");
    assert_eq!(
        rejection.access_token_expires_at,
        client.current_session().unwrap().expires_at
    );

    tokio::time::advance(Duration::from_secs(55)).await;
    assert!(
        client.get_session().await.unwrap().is_some(),
        "inside the margin, the memory answers and the working access token is kept"
    );
    assert!(client.refresh_rejection().is_some());
    assert_eq!(refresh_requests(&server).await, 1, "one request so far");

    tokio::time::advance(Duration::from_secs(6)).await;
    let again = client.get_session().await.unwrap_err();
    assert_eq!(again.code(), Some("refresh_token_not_found"));
    assert_eq!(refresh_requests(&server).await, 2);
    assert!(client.current_session().is_none(), "ended");
    assert!(client.refresh_rejection().is_none());
    let mut kinds = Vec::new();
    while let Some(event) = events.try_next() {
        kinds.push((event.kind, event.reason));
    }
    assert_eq!(
        kinds.last(),
        Some(&(
            AuthEventKind::SignedOut,
            Some("refresh_token_not_found".into())
        ))
    );
}

/// Any failure, not only a 429, is remembered 60 s: the session's own refreshes (get_session)
/// are answered from memory without a request, an explicit refresh_session still goes out
/// (and restarts the memory), and after 60 s get_session sends again and rotates.
#[tokio::test(start_paused = true)]
async fn a_failed_refresh_is_answered_from_memory_for_sixty_seconds() {
    // 8-second tokens: always inside the 10 s margin, so get_session always wants a refresh.
    let server = server(Duration::from_secs(8)).await;
    let client = signed_in(&server).await;
    fail_token_requests(&server, 400, 2).await;
    let kept = client.get_session().await.unwrap();
    assert!(
        kept.is_some(),
        "the failed refresh keeps a working access token"
    );
    assert_eq!(refresh_requests(&server).await, 1);
    tokio::time::advance(Duration::from_secs(30)).await;
    let failed = client.get_session().await.unwrap_err();
    assert_eq!(failed.status(), Some(400), "the remembered failure");
    assert_eq!(refresh_requests(&server).await, 1, "nothing sent meanwhile");
    // An explicit refresh_session always hits the endpoint (the contract), memory or not.
    let again = client.refresh_session(None).await.unwrap_err();
    assert_eq!(again.status(), Some(400));
    assert_eq!(refresh_requests(&server).await, 2);
    tokio::time::advance(Duration::from_secs(59)).await;
    assert!(client.get_session().await.is_err(), "its memory restarted");
    assert_eq!(refresh_requests(&server).await, 2);
    tokio::time::advance(Duration::from_secs(2)).await;
    client.get_session().await.expect("after the cooldown");
    assert_eq!(refresh_requests(&server).await, 3);
}
