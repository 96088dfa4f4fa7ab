//! `refresh_session` against the raw HTTP round trip of the same refresh grant, to the same
//! local server in the same run: what the engine adds (single-flight, parsing, persistence,
//! events, recording) shows as a ratio.
//!
//! Run: `cargo bench -p session-engine --bench refresh_session` (release build).

use std::sync::Arc;
use std::time::{Duration, Instant};

use local_gotrue::{Config, DemoUser};
use serde_json::{json, Value};
use session_engine::{AuthClient, ClientConfig, Credentials, MemoryStore};

const EMAIL: &str = "bench@example.com";
const PASSWORD: &str = "bench-password";
const ROUNDS: usize = 2000;

fn percentile(latencies: &mut [Duration], p: f64) -> Duration {
    latencies.sort();
    latencies[((latencies.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let config = Config { demo_user: Some(DemoUser { email: EMAIL.into(), password: PASSWORD.into() }), ..Config::default() };
        let server = local_gotrue::start(config).await.unwrap();

        // Raw: a plain reqwest client doing exactly the refresh grant, token to token.
        let http = reqwest::Client::new();
        let token_url = format!("{}/token?grant_type=refresh_token", server.auth_url());
        let sign_in: Value = http
            .post(format!("{}/token?grant_type=password", server.auth_url()))
            .json(&json!({"email": EMAIL, "password": PASSWORD}))
            .send().await.unwrap().json().await.unwrap();
        let mut token = sign_in["refresh_token"].as_str().unwrap().to_string();

        let store = Arc::new(MemoryStore::new());
        let client = AuthClient::new(ClientConfig::new(server.url(), server.anon_key()), store, "bench").await.unwrap();
        client.sign_in_with_password(Credentials::Email { email: EMAIL.into(), password: PASSWORD.into() }).await.unwrap();
        let _subscriber = client.on_auth_state_change(|_| {});

        // Warm-up, then interleave the two so both see the same machine state.
        for _ in 0..100 {
            client.refresh_session(None).await.unwrap();
        }
        let (mut raw, mut engine) = (Vec::with_capacity(ROUNDS), Vec::with_capacity(ROUNDS));
        for _ in 0..ROUNDS {
            let started = Instant::now();
            let reply: Value = http
                .post(&token_url)
                .header("apikey", server.anon_key())
                .header("X-Supabase-Api-Version", "2024-01-01")
                .json(&json!({"refresh_token": token}))
                .send().await.unwrap().json().await.unwrap();
            token = reply["refresh_token"].as_str().unwrap().to_string();
            raw.push(started.elapsed());

            let started = Instant::now();
            client.refresh_session(None).await.unwrap();
            engine.push(started.elapsed());
        }
        let (raw50, raw99) = (percentile(&mut raw, 0.5), percentile(&mut raw, 0.99));
        let (eng50, eng99) = (percentile(&mut engine, 0.5), percentile(&mut engine, 0.99));
        println!("refresh grant on loopback, {ROUNDS} rounds each, interleaved (local-gotrue, in-memory store)");
        println!("{:<46} {:>10} {:>10}", "", "p50 ms", "p99 ms");
        println!("{:<46} {:>10.3} {:>10.3}", "raw HTTP (reqwest POST /token)", ms(raw50), ms(raw99));
        println!("{:<46} {:>10.3} {:>10.3}", "AuthClient::refresh_session (persist + event)", ms(eng50), ms(eng99));
        println!(
            "ratio refresh_session / raw: p50 x{:.2}, p99 x{:.2}",
            eng50.as_secs_f64() / raw50.as_secs_f64(),
            eng99.as_secs_f64() / raw99.as_secs_f64()
        );
        server.shutdown();
    });
}
