//! Refresh grants per second and latency percentiles, one connection and 32 concurrent, on
//! loopback. Printed beside a `/health` round trip to the same server in the same run, so the
//! refresh cost reads as a ratio to the bare HTTP cost rather than as an absolute number.
//!
//! Run: `cargo bench -p local-gotrue --bench refresh` (release build).

use std::time::{Duration, Instant};

use local_gotrue::{Config, DemoUser};
use serde_json::{json, Value};

const EMAIL: &str = "bench@example.com";
const PASSWORD: &str = "bench-password";

struct Stats {
    count: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Stats {
    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
    }
    fn per_second(&self) -> f64 {
        self.count as f64 / self.elapsed.as_secs_f64()
    }
}

async fn sign_in(http: &reqwest::Client, base: &str) -> String {
    let body: Value = http
        .post(format!("{base}/token?grant_type=password"))
        .json(&json!({"email": EMAIL, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["refresh_token"].as_str().unwrap().to_string()
}

/// One worker: a session of its own, refreshed `n` times in a row (each answer's token is
/// the next request's), or `/health` fetched `n` times.
async fn worker(http: reqwest::Client, base: String, n: usize, refresh: bool) -> Vec<Duration> {
    let mut token = if refresh {
        sign_in(&http, &base).await
    } else {
        String::new()
    };
    let mut latencies = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        if refresh {
            let reply: Value = http
                .post(format!("{base}/token?grant_type=refresh_token"))
                .json(&json!({"refresh_token": token}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            token = reply["refresh_token"]
                .as_str()
                .expect("refresh succeeded")
                .to_string();
        } else {
            let status = http
                .get(format!("{base}/health"))
                .send()
                .await
                .unwrap()
                .status();
            assert!(status.is_success());
        }
        latencies.push(started.elapsed());
    }
    latencies
}

async fn run(base: &str, concurrency: usize, per_worker: usize, refresh: bool) -> Stats {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        tasks.spawn(worker(http.clone(), base.to_string(), per_worker, refresh));
    }
    let latencies: Vec<Duration> = tasks.join_all().await.into_iter().flatten().collect();
    Stats {
        count: latencies.len(),
        elapsed: started.elapsed(),
        latencies,
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let config = Config {
            demo_user: Some(DemoUser { email: EMAIL.into(), password: PASSWORD.into() }),
            ..Config::default()
        };
        let server = local_gotrue::start(config).await.unwrap();
        let base = server.auth_url();
        // Warm up connections and the allocator.
        run(&base, 4, 50, true).await;
        println!("local-gotrue on loopback, in-memory store, legacy tokens, HS256 ({} cores)", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
        println!("{:<34} {:>10} {:>12} {:>12} {:>14}", "workload", "requests", "per second", "p50", "p99");
        for (concurrency, per_worker) in [(1usize, 2000usize), (32, 150)] {
            let health = run(&base, concurrency, per_worker, false).await;
            let refresh = run(&base, concurrency, per_worker, true).await;
            for (name, stats) in [("GET /health (HTTP baseline)", &health), ("POST /token refresh_token", &refresh)] {
                println!(
                    "{:<34} {:>10} {:>12.0} {:>12} {:>14}",
                    format!("{name}, {concurrency} conn"),
                    stats.count,
                    stats.per_second(),
                    ms(stats.percentile(0.50)),
                    ms(stats.percentile(0.99)),
                );
            }
            println!(
                "  refresh / baseline at {concurrency} conn: throughput x{:.2}, p50 x{:.2}, p99 x{:.2}",
                refresh.per_second() / health.per_second(),
                refresh.percentile(0.5).as_secs_f64() / health.percentile(0.5).as_secs_f64(),
                refresh.percentile(0.99).as_secs_f64() / health.percentile(0.99).as_secs_f64(),
            );
        }
        server.shutdown();
    });
}
