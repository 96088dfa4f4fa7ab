//! The local GoTrue's router, in memory: short sequences of requests built from the input,
//! sent with `tower::ServiceExt::oneshot`, each answer read to its end.
//!
//! Input: up to `MAX_REQUESTS` requests separated by the line `---` (`\n---\n`). Each one is
//! three selector bytes followed by the body:
//!   1. the method: `G`ET `P`OST `U` PUT `D`ELETE p`A`TCH `H`EAD `O`PTIONS (any other byte
//!      picks one by value);
//!   2. the route: `a` is `ROUTES[0]`, `b` `ROUTES[1]`, … (wrapping);
//!   3. flags, as the byte minus `'0'`: bits 0–1 `X-Supabase-Api-Version` (none, 2024-01-01,
//!      2023-12-31, not a date), bits 2–3 `Authorization` (none, the live access token, the
//!      anon key, `Basic`), bit 4 `Content-Type: application/json`, bit 5 `Content-Length`
//!      (an in-memory request has none unless told), bit 6 a web page's `Origin`, bit 7 a
//!      `Host` that is not loopback.
//!
//! In the route and the body, `$R` `$P` `$F` `$A` `$U` `$S` stand for the live refresh token,
//! the one before it, the first one (the sign-up's), the live access token, its user id and
//! its session id. Each input starts with an anonymous sign-up that makes them live; answers
//! that hand out tokens or users update them.
//!
//! Checked: no panic; no 5xx unless the input queued a fault (`/_emulator/faults`); every
//! error answer that names its code in `x-sb-error-code` carries the same code in its body,
//! as the engine reads it (`envelope::error_code_of_answer` and `error_from_response`); and
//! the database's invariants (`/_emulator/invariants`) hold after every input.
//!
//! `FUZZ_TRACE=1` prints each request and its answer, to see what an input (a crash, say) does.
//!
//! The state lives in a `static` with a current-thread runtime. Faults, rate limit and clock
//! skew are reset before each input; the whole state is rebuilt every `REBUILD_EVERY` inputs
//! so that the in-memory database (each input signs a user up) stays small and the invariant
//! check cheap. Since state outlives an input, every input looks like a leak to libFuzzer's
//! malloc/free count: run it with `-detect_leaks=0` (scripts/fuzz.sh does).
//!
//! Left out so that executions stay fast: `/_emulator/sessions/{id}/hold` (holds a lock for
//! as long as it is told) and fault delays (`delay_ms` is set to 0 before the fault is sent).
#![no_main]

use std::sync::{Mutex, OnceLock};

use axum::body::{to_bytes, Body};
use axum::Router;
use http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, HOST, ORIGIN};
use http::{HeaderMap, HeaderValue, Method, Request};
use libfuzzer_sys::fuzz_target;
use local_gotrue::routes::Shared;
use local_gotrue::traffic::Fault;
use serde_json::Value;
use session_engine::envelope::{error_code_of_answer, error_from_response};
use session_engine::protocol::is_retryable_status;
use session_engine::tokens::decode_jwt;
use tokio::runtime::Runtime;
use tower::ServiceExt;

const MAX_REQUESTS: usize = 4;
const SEPARATOR: &[u8] = b"\n---\n";
const REBUILD_EVERY: u32 = 64;

const METHODS: [Method; 7] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::DELETE,
    Method::PATCH,
    Method::HEAD,
    Method::OPTIONS,
];

/// GoTrue's routes (with and without the gateway prefix) and the emulator's, minus the ones
/// that sleep; a few that do not exist.
const ROUTES: [&str; 32] = [
    "/token?grant_type=refresh_token",
    "/token?grant_type=password",
    "/token?grant_type=pkce",
    "/token",
    "/auth/v1/token?grant_type=refresh_token",
    "/signup",
    "/auth/v1/signup",
    "/logout",
    "/logout?scope=local",
    "/logout?scope=others",
    "/logout?scope=%ff",
    "/user",
    "/auth/v1/user",
    "/settings",
    "/health",
    "/.well-known/jwks.json",
    "/auth/v1/.well-known/jwks.json",
    "/_emulator/users",
    "/_emulator/users/$U/ban",
    "/_emulator/sessions",
    "/_emulator/sessions/$S",
    "/_emulator/requests",
    "/_emulator/faults",
    "/_emulator/clock",
    "/_emulator/rate-limit",
    "/_emulator/keys",
    "/_emulator/invariants",
    "/nope",
    "/auth/v1/nope",
    "/token?grant_type=refresh_token&grant_type=password",
    "/auth/v1/logout?scope=global",
    "/_emulator/users/not-a-uuid/ban",
];

const API_VERSIONS: [Option<&str>; 4] = [
    None,
    Some("2024-01-01"),
    Some("2023-12-31"),
    Some("not-a-date"),
];

struct Harness {
    runtime: Runtime,
    server: Mutex<Server>,
}

struct Server {
    state: Shared,
    app: Router,
    inputs: u32,
}

impl Server {
    fn new() -> Server {
        let state =
            local_gotrue::build_state(local_gotrue::Config::default(), "http://127.0.0.1:9999")
                .expect("the server state builds");
        let app = local_gotrue::router(state.clone());
        Server {
            state,
            app,
            inputs: 0,
        }
    }
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| Harness {
        runtime: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime"),
        server: Mutex::new(Server::new()),
    })
}

/// What earlier answers handed out, for `$`-placeholders.
#[derive(Default)]
struct Live {
    refresh: String,
    previous_refresh: String,
    first_refresh: String,
    access: String,
    user: String,
    session: String,
}

impl Live {
    fn fill(&self, bytes: &[u8]) -> Vec<u8> {
        if !bytes.contains(&b'$') {
            return bytes.to_vec();
        }
        let mut out = Vec::with_capacity(bytes.len() + 256);
        let mut rest = bytes;
        while let Some((&first, tail)) = rest.split_first() {
            let value = match (first, tail.first()) {
                (b'$', Some(b'R')) => Some(&self.refresh),
                (b'$', Some(b'P')) => Some(&self.previous_refresh),
                (b'$', Some(b'F')) => Some(&self.first_refresh),
                (b'$', Some(b'A')) => Some(&self.access),
                (b'$', Some(b'U')) => Some(&self.user),
                (b'$', Some(b'S')) => Some(&self.session),
                _ => None,
            };
            match value {
                Some(value) => {
                    out.extend_from_slice(value.as_bytes());
                    rest = &tail[1..];
                }
                None => {
                    out.push(first);
                    rest = tail;
                }
            }
        }
        out
    }

    /// Takes what a successful answer hands out.
    fn learn(&mut self, body: &Value) {
        let text = |value: &Value| value.as_str().filter(|s| !s.is_empty()).map(str::to_string);
        if let Some(refresh) = body.get("refresh_token").and_then(text) {
            if refresh != self.refresh {
                self.previous_refresh = std::mem::replace(&mut self.refresh, refresh);
            }
        }
        if let Some(access) = body.get("access_token").and_then(text) {
            if let Ok(jwt) = decode_jwt(&access) {
                if let Some(session) = jwt.session_id() {
                    self.session = session.to_string();
                }
            }
            self.access = access;
        }
        if let Some(user) = body.pointer("/user/id").and_then(text) {
            self.user = user;
        } else if let Some(user) = body.get("id").and_then(text) {
            // `/_emulator/users` answers with the user itself.
            self.user = user;
        }
    }
}

struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app
        .clone()
        .oneshot(request)
        .await
        .unwrap_or_else(|never| match never {});
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("the answer's body reads to its end")
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

/// A request from its selector bytes and body; `None` when it is one of the slow ones.
fn build(chunk: &[u8], live: &Live, anon_key: &str) -> Option<(Request<Body>, bool)> {
    let byte = |i: usize| chunk.get(i).copied().unwrap_or(0);
    let method = match byte(0) {
        b'G' => Method::GET,
        b'P' => Method::POST,
        b'U' => Method::PUT,
        b'D' => Method::DELETE,
        b'A' => Method::PATCH,
        b'H' => Method::HEAD,
        b'O' => Method::OPTIONS,
        other => METHODS[other as usize % METHODS.len()].clone(),
    };
    let route = ROUTES[byte(1).wrapping_sub(b'a') as usize % ROUTES.len()];
    let flags = byte(2).wrapping_sub(b'0');
    let mut body = live.fill(chunk.get(3..).unwrap_or_default());
    let path = String::from_utf8(live.fill(route.as_bytes())).ok()?;

    let queues_fault = method == Method::POST && route == "/_emulator/faults";
    if queues_fault {
        // Same parse as the server's (an all-whitespace body reads as `{}`): a fault that
        // would sleep is sent without its delay.
        let parsed = if body.iter().all(u8::is_ascii_whitespace) {
            serde_json::from_slice::<Fault>(b"{}")
        } else {
            serde_json::from_slice::<Fault>(&body)
        };
        if let Ok(mut fault) = parsed {
            if fault.delay_ms > 0 {
                fault.delay_ms = 0;
                body = serde_json::to_vec(&fault).expect("a fault serializes");
            }
        }
    }

    let mut request = Request::builder().method(method).uri(path.as_str());
    if let Some(version) = API_VERSIONS[usize::from(flags & 0b11)] {
        request = request.header("x-supabase-api-version", version);
    }
    let authorization = match (flags >> 2) & 0b11 {
        0 => None,
        1 => Some(format!("Bearer {}", live.access)),
        2 => Some(format!("Bearer {anon_key}")),
        _ => Some("Basic zz".to_string()),
    };
    if let Some(value) = authorization.and_then(|v| HeaderValue::from_str(&v).ok()) {
        request = request.header(AUTHORIZATION, value);
    }
    if flags & 0b1_0000 != 0 {
        request = request.header(CONTENT_TYPE, "application/json");
    }
    if flags & 0b10_0000 != 0 {
        request = request.header(CONTENT_LENGTH, body.len());
    }
    if flags & 0b100_0000 != 0 {
        request = request.header(ORIGIN, "https://example.com");
    }
    if flags & 0b1000_0000 != 0 {
        request = request.header(HOST, "rebind.example.com:9999");
    }
    let request = request.body(Body::from(body)).ok()?;
    Some((request, queues_fault))
}

/// The cross-crate contract: the code the server names in `x-sb-error-code` is the code the
/// engine reads from the answer.
fn check_error_code(method: &Method, answer: &Answer) {
    let Some(code) = answer.headers.get("x-sb-error-code") else {
        return;
    };
    if *method == Method::HEAD {
        return; // no body to read it from
    }
    let code = code.to_str().expect("error codes are ASCII");
    let body = std::str::from_utf8(&answer.body).expect("error answers are JSON text");
    let recorded: Vec<(String, String)> = answer
        .headers
        .iter()
        .filter_map(|(name, value)| Some((name.to_string(), value.to_str().ok()?.to_string())))
        .collect();
    assert_eq!(
        error_code_of_answer(&recorded, body).as_deref(),
        Some(code),
        "HTTP {}: {body}",
        answer.status
    );
    if !is_retryable_status(answer.status) {
        let error = error_from_response(answer.status, &answer.headers, &answer.body);
        assert_eq!(error.code(), Some(code), "HTTP {}: {body}", answer.status);
    }
}

fuzz_target!(|data: &[u8]| {
    let harness = harness();
    let mut server = harness.server.lock().unwrap_or_else(|p| p.into_inner());
    if server.inputs >= REBUILD_EVERY {
        *server = Server::new();
    }
    server.inputs += 1;
    let Server { state, app, .. } = &*server;

    // Nothing queued by an earlier input changes this one.
    state.faults.clear();
    state.rate_limiter.set(None);
    state.clock.set_skew_ms(0);

    harness.runtime.block_on(async {
        let mut live = Live::default();
        let signed_up = send(
            app,
            Request::post("/signup").body(Body::from("{}")).unwrap(),
        )
        .await;
        assert_eq!(signed_up.status, 200, "an anonymous sign-up works");
        live.learn(&serde_json::from_slice(&signed_up.body).expect("a JSON session"));
        live.first_refresh = live.refresh.clone();

        let mut fault_queued = false;
        for chunk in split_requests(data).into_iter().take(MAX_REQUESTS) {
            let Some((request, queues_fault)) = build(chunk, &live, &state.anon_key) else {
                continue;
            };
            let method = request.method().clone();
            let uri = request.uri().clone();
            let answer = send(app, request).await;
            if tracing() {
                let body = String::from_utf8_lossy(&answer.body);
                let shown: String = body.chars().take(300).collect();
                eprintln!("{method} {uri} -> {} {shown}", answer.status);
            }
            if queues_fault && answer.status == 201 {
                fault_queued = true;
            }
            assert!(
                answer.status < 500 || fault_queued,
                "server error {}: {}",
                answer.status,
                String::from_utf8_lossy(&answer.body)
            );
            check_error_code(&method, &answer);
            if (200..300).contains(&answer.status) {
                if let Ok(body) = serde_json::from_slice::<Value>(&answer.body) {
                    live.learn(&body);
                }
            }
        }

        let invariants = send(
            app,
            Request::get("/_emulator/invariants")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(invariants.status, 200);
        let report: Value = serde_json::from_slice(&invariants.body).expect("JSON");
        assert_eq!(report["violations"], serde_json::json!([]), "{report}");
    });
});

fn tracing() -> bool {
    static TRACE: OnceLock<bool> = OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("FUZZ_TRACE").is_some())
}

/// Splits the input on `SEPARATOR`.
fn split_requests(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(at) = rest
        .windows(SEPARATOR.len())
        .position(|window| window == SEPARATOR)
    {
        out.push(&rest[..at]);
        rest = &rest[at + SEPARATOR.len()..];
    }
    out.push(rest);
    out
}
