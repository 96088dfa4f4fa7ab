//! Part 1: one refresh grant, token to token, measured four ways against the same server in
//! the same run, interleaved round by round so every variant sees the same machine: raw HTTP
//! (the limit), the engine with its in-memory store, the engine with the real keyring, then
//! the official clients each beside raw HTTP in their own language.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use session_engine::{AuthClient, ClientConfig, Credentials, MemoryStore, SessionStore};

use crate::figures::{figure, p50_p99};
use crate::server::{Server, EMAIL, PASSWORD};

const AREA: &str = "refresh";
const ENGINE_GOAL: &str = "≤ 1.15× raw";

pub struct Options {
    pub rounds: usize,
    pub peer_rounds: usize,
    /// Also measure the engine with the Secret Service store (run inside with-keyring.sh).
    pub keyring: bool,
    pub peers: bool,
}

/// Raw HTTP: one reqwest client doing exactly the refresh grant, the request the engine
/// sends (same headers and body), the answer parsed for the next refresh token.
struct Raw {
    http: reqwest::Client,
    token_url: String,
    anon_key: String,
    token: String,
}

impl Raw {
    async fn sign_in(server: &Server) -> Result<Raw, String> {
        let http = reqwest::Client::new();
        let reply: Value = http
            .post(format!("{}/token?grant_type=password", server.auth_url))
            .header("apikey", &server.anon_key)
            .json(&json!({"email": EMAIL, "password": PASSWORD}))
            .send()
            .await
            .map_err(|e| format!("raw sign-in: {e}"))?
            .json()
            .await
            .map_err(|e| format!("raw sign-in: {e}"))?;
        let token = reply["refresh_token"]
            .as_str()
            .ok_or("raw sign-in: no refresh token")?
            .to_string();
        Ok(Raw {
            http,
            token_url: format!("{}/token?grant_type=refresh_token", server.auth_url),
            anon_key: server.anon_key.clone(),
            token,
        })
    }

    async fn refresh(&mut self) -> Result<(), String> {
        let reply: Value = self
            .http
            .post(&self.token_url)
            .header("apikey", &self.anon_key)
            .header("authorization", format!("Bearer {}", self.anon_key))
            .header("x-supabase-api-version", "2024-01-01")
            .json(&json!({"refresh_token": self.token}))
            .send()
            .await
            .map_err(|e| format!("raw refresh: {e}"))?
            .json()
            .await
            .map_err(|e| format!("raw refresh: {e}"))?;
        self.token = reply["refresh_token"]
            .as_str()
            .ok_or_else(|| format!("raw refresh answered {reply}"))?
            .to_string();
        Ok(())
    }
}

async fn engine(
    server: &Server,
    store: Arc<dyn SessionStore>,
    profile: &str,
) -> Result<AuthClient, String> {
    let client = AuthClient::new(
        ClientConfig::new(&server.url, &server.anon_key),
        store,
        profile,
    )
    .await
    .map_err(|e| format!("engine client: {e}"))?;
    client
        .sign_in_with_password(Credentials::Email {
            email: EMAIL.into(),
            password: PASSWORD.into(),
        })
        .await
        .map_err(|e| format!("engine sign-in: {e}"))?;
    Ok(client)
}

async fn timed<F: std::future::Future<Output = Result<(), String>>>(
    samples: &mut Vec<Duration>,
    work: F,
) -> Result<(), String> {
    let started = Instant::now();
    work.await?;
    samples.push(started.elapsed());
    Ok(())
}

async fn refresh(client: &AuthClient) -> Result<(), String> {
    client
        .refresh_session(None)
        .await
        .map(|_| ())
        .map_err(|e| format!("refresh_session: {e}"))
}

/// The keyring store, when asked for: the vault's Secret Service backend in a private folder.
fn keyring_store(dir: &Path) -> Result<Arc<dyn SessionStore>, String> {
    let vault = session_vault::Vault::open_backend(
        session_vault::Backend::SecretService,
        "session-inspector-bench",
        dir.to_path_buf(),
    )
    .map_err(|e| {
        format!("no Secret Service keyring (run inside src-tauri/scripts/with-keyring.sh): {e}")
    })?;
    Ok(Arc::new(vault))
}

/// A folder of this run's own, removed when the run ends, a failed one included.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub async fn run(options: &Options) -> Result<(), String> {
    let server = Server::start(&[])?;
    eprintln!(
        "refresh: local-gotrue pid {} at {}",
        server.pid(),
        server.url
    );
    let mut raw = Raw::sign_in(&server).await?;
    let memory = engine(&server, Arc::new(MemoryStore::new()), "bench-memory").await?;
    // The app always listens to its client's events: so does the benchmark.
    let _memory_events = memory.on_auth_state_change(|_| {});
    let sealed_dir =
        TempDir(std::env::temp_dir().join(format!("session-bench-{}", std::process::id())));
    let keyring = if options.keyring {
        std::fs::create_dir_all(&sealed_dir.0)
            .map_err(|e| format!("{}: {e}", sealed_dir.0.display()))?;
        let client = engine(&server, keyring_store(&sealed_dir.0)?, "bench-keyring").await?;
        Some(client)
    } else {
        None
    };
    let _keyring_events = keyring.as_ref().map(|c| c.on_auth_state_change(|_| {}));

    for _ in 0..100 {
        raw.refresh().await?;
        refresh(&memory).await?;
        if let Some(client) = &keyring {
            refresh(client).await?;
        }
    }
    let rounds = options.rounds;
    let (mut raw_t, mut mem_t, mut key_t) = (
        Vec::with_capacity(rounds),
        Vec::with_capacity(rounds),
        Vec::with_capacity(rounds),
    );
    for round in 0..rounds {
        // Alternate which goes first, so neither always follows the other.
        if round % 2 == 0 {
            timed(&mut raw_t, raw.refresh()).await?;
            timed(&mut mem_t, refresh(&memory)).await?;
        } else {
            timed(&mut mem_t, refresh(&memory)).await?;
            timed(&mut raw_t, raw.refresh()).await?;
        }
        if let Some(client) = &keyring {
            timed(&mut key_t, refresh(client)).await?;
        }
    }
    let (raw50, raw99) = p50_p99(&mut raw_t);
    let (mem50, mem99) = p50_p99(&mut mem_t);
    let n = format!("{rounds} rounds, interleaved");
    figure(
        AREA,
        "refresh.raw_rust.p50_ms",
        &format!("raw HTTP in Rust (reqwest), p50, {n}"),
        raw50,
        "ms",
        None,
    );
    figure(
        AREA,
        "refresh.raw_rust.p99_ms",
        "raw HTTP in Rust (reqwest), p99",
        raw99,
        "ms",
        None,
    );
    figure(
        AREA,
        "refresh.engine_memory.p50_ms",
        "engine refresh_session, in-memory store, p50",
        mem50,
        "ms",
        None,
    );
    figure(
        AREA,
        "refresh.engine_memory.p99_ms",
        "engine refresh_session, in-memory store, p99",
        mem99,
        "ms",
        None,
    );
    figure(
        AREA,
        "refresh.engine_memory.overhead_p50_ms",
        "engine over raw, in-memory store, p50",
        mem50 - raw50,
        "ms",
        None,
    );
    figure(
        AREA,
        "refresh.engine_memory.ratio_p50",
        "the engine's own overhead: engine (in-memory store) / raw Rust, p50",
        mem50 / raw50,
        "×",
        Some(ENGINE_GOAL),
    );
    figure(
        AREA,
        "refresh.engine_memory.ratio_p99",
        "engine (in-memory store) / raw Rust, p99",
        mem99 / raw99,
        "×",
        None,
    );
    if keyring.is_some() {
        let (key50, key99) = p50_p99(&mut key_t);
        figure(
            AREA,
            "refresh.engine_keyring.p50_ms",
            "engine refresh_session, Secret Service keyring, p50",
            key50,
            "ms",
            None,
        );
        figure(
            AREA,
            "refresh.engine_keyring.p99_ms",
            "engine refresh_session, Secret Service keyring, p99",
            key99,
            "ms",
            None,
        );
        figure(
            AREA,
            "refresh.engine_keyring.ratio_p50",
            "what the app pays: engine with the Secret Service keyring (the app's store) / raw Rust, p50 (the keyring's D-Bus round trips included)",
            key50 / raw50,
            "×",
            None,
        );
    }
    if let Some(client) = keyring {
        // The bench's entry goes with it (the sealed folder goes with `sealed_dir`).
        let _ = client.end_session_now().await;
    }

    if options.peers {
        peers(&server, options.peer_rounds)?;
    }
    Ok(())
}

/// The repository root (this crate is src-tauri/bench/refresh).
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

fn here(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(file)
}

/// The official clients, each beside its own language's raw HTTP, against the same server.
fn peers(server: &Server, rounds: usize) -> Result<(), String> {
    let root = repo_root();
    let auth_js_modules = std::env::var_os("AUTH_JS_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("src-tauri/server/tests/judges/auth-js/node_modules"));
    let node = peer(
        Command::new("node")
            .arg(here("auth_js.mjs"))
            .env("AUTH_JS_NODE_MODULES", &auth_js_modules),
        server,
        rounds,
        "auth-js (node)",
    )?;
    let venv = std::env::var_os("JUDGES_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/judges/venv"));
    let python = peer(
        Command::new(venv.join("bin/python")).arg(here("supabase_py.py")),
        server,
        rounds,
        "supabase_auth (python)",
    )?;
    let n = format!("{rounds} rounds, interleaved");
    for (prefix, raw_name, client_name, result) in [
        (
            "node",
            "Node fetch",
            "@supabase/auth-js refreshSession",
            &node,
        ),
        (
            "python",
            "Python httpx",
            "supabase_auth refresh_session",
            &python,
        ),
    ] {
        let client_id = if prefix == "node" {
            "auth_js"
        } else {
            "supabase_auth"
        };
        let get = |key: &str| result[key].as_f64().unwrap_or(f64::NAN);
        figure(
            AREA,
            &format!("refresh.{prefix}_raw.p50_ms"),
            &format!("raw HTTP, {raw_name}, p50, {n}"),
            get("raw_p50"),
            "ms",
            None,
        );
        figure(
            AREA,
            &format!("refresh.{client_id}.p50_ms"),
            &format!("{client_name}, p50"),
            get("client_p50"),
            "ms",
            None,
        );
        figure(
            AREA,
            &format!("refresh.{client_id}.p99_ms"),
            &format!("{client_name}, p99"),
            get("client_p99"),
            "ms",
            None,
        );
        figure(
            AREA,
            &format!("refresh.{client_id}.ratio_p50"),
            &format!("{client_name} / {raw_name}, p50 (peer)"),
            get("client_p50") / get("raw_p50"),
            "×",
            Some("peer: the official client"),
        );
    }
    Ok(())
}

/// Runs one peer script against the server and reads its one JSON line.
fn peer(
    command: &mut Command,
    server: &Server,
    rounds: usize,
    name: &str,
) -> Result<Value, String> {
    let output = command
        .env("GOTRUE_URL", &server.auth_url)
        .env("ANON_KEY", &server.anon_key)
        .env("DEMO_EMAIL", EMAIL)
        .env("DEMO_PASSWORD", PASSWORD)
        .env("ROUNDS", rounds.to_string())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("{name}: cannot start: {e}"))?;
    if !output.status.success() {
        return Err(format!("{name} failed ({})", output.status));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().last().unwrap_or_default();
    serde_json::from_str(line).map_err(|e| format!("{name}: unreadable result {line:?}: {e}"))
}
