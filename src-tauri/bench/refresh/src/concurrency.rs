//! Part 2: many callers at once. 1,000 concurrent `refresh_session(None)` callers on one
//! client, counted at the server (its own per-route request counts, not the engine's
//! recorder); and ten profiles auto-refreshing 5-second tokens side by side.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use session_engine::auto_refresh::{self, Outcome, Setting, MIN_GAP};
use session_engine::{AuthClient, ClientConfig, Credentials, MemoryStore};
use tokio::sync::{watch, Barrier};

use crate::figures::{figure, ms, percentile};
use crate::server::{Server, EMAIL, PASSWORD};

const AREA: &str = "concurrency";

pub struct Options {
    pub callers: usize,
    pub repeats: usize,
    pub profiles: usize,
    pub token_lifetime_s: u64,
    pub duration: Duration,
}

async fn signed_in(server: &Server, profile: &str) -> Result<AuthClient, String> {
    let client = AuthClient::new(
        ClientConfig::new(&server.url, &server.anon_key),
        Arc::new(MemoryStore::new()),
        profile,
    )
    .await
    .map_err(|e| format!("client: {e}"))?;
    client
        .sign_in_with_password(Credentials::Email {
            email: EMAIL.into(),
            password: PASSWORD.into(),
        })
        .await
        .map_err(|e| format!("sign-in: {e}"))?;
    Ok(client)
}

/// Both parts; a refresh that failed in either fails the run, once its figures are printed.
pub async fn run(options: &Options) -> Result<(), String> {
    let callers_failed = callers(options).await?;
    let auto_failed = auto_refreshing(options).await?;
    match (callers_failed, auto_failed) {
        (0, 0) => Ok(()),
        (callers, auto) => Err(format!(
            "{callers} concurrent callers and {auto} automatic refreshes failed"
        )),
    }
}

/// `callers` tasks released together by a barrier, each calling `refresh_session(None)`;
/// repeated, with the server's count of refresh grants read after each wave. Returns how many
/// calls failed.
async fn callers(options: &Options) -> Result<usize, String> {
    let server = Server::start(&[])?;
    eprintln!(
        "concurrency: local-gotrue pid {} at {}",
        server.pid(),
        server.url
    );
    let http = reqwest::Client::new();
    let client = signed_in(&server, "bench-callers").await?;
    let _events = client.on_auth_state_change(|_| {});
    let (mut waits, mut max_requests, mut total_requests, mut failures) = (Vec::new(), 0, 0, 0);
    let mut errors = std::collections::BTreeSet::new();
    for _ in 0..options.repeats {
        server.reset_request_counts(&http).await?;
        let barrier = Arc::new(Barrier::new(options.callers));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..options.callers {
            let (client, barrier) = (client.clone(), barrier.clone());
            tasks.spawn(async move {
                barrier.wait().await;
                let started = Instant::now();
                let result = client.refresh_session(None).await;
                (started.elapsed(), result.err().map(|e| e.to_string()))
            });
        }
        for (wait, error) in tasks.join_all().await {
            waits.push(wait);
            if let Some(error) = error {
                failures += 1;
                errors.insert(error);
            }
        }
        let requests = server.refresh_requests(&http).await?;
        max_requests = max_requests.max(requests);
        total_requests += requests;
    }
    for error in &errors {
        eprintln!("concurrency: a caller failed: {error}");
    }
    let n = options.callers;
    let label = format!("{n} concurrent refresh_session callers on one client");
    figure(
        AREA,
        "concurrency.callers.requests_max",
        &format!(
            "{label}: refresh requests at the server, most in one wave of {} waves",
            options.repeats
        ),
        max_requests as f64,
        "requests",
        Some("1"),
    );
    figure(
        AREA,
        "concurrency.callers.requests_mean",
        &format!("{label}: refresh requests at the server, mean per wave"),
        total_requests as f64 / options.repeats as f64,
        "requests",
        Some("1"),
    );
    figure(
        AREA,
        "concurrency.callers.wait_p50_ms",
        &format!("{label}: a caller's wait, p50"),
        ms(percentile(&mut waits, 0.5)),
        "ms",
        None,
    );
    figure(
        AREA,
        "concurrency.callers.wait_p99_ms",
        &format!("{label}: a caller's wait, p99"),
        ms(percentile(&mut waits, 0.99)),
        "ms",
        None,
    );
    figure(
        AREA,
        "concurrency.callers.failures",
        &format!("{label}: failed calls"),
        failures as f64,
        "calls",
        Some("0"),
    );
    Ok(failures)
}

/// What an automatic refresh came to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Done {
    Refreshed,
    /// It shared a refresh already in flight: no refresh of its own.
    Joined,
    Failed,
}

#[derive(Default)]
struct Log {
    /// When each automatic refresh returned, and what it came to.
    outcomes: Vec<(DateTime<Utc>, Done)>,
}

/// Ten profiles (ten sessions of the demo user, one client each) with the auto-refresh on,
/// against a server whose access tokens live `token_lifetime_s`. Returns how many automatic
/// refreshes failed.
async fn auto_refreshing(options: &Options) -> Result<usize, String> {
    let lifetime = options.token_lifetime_s.to_string();
    let server = Server::start(&["--jwt-exp", &lifetime])?;
    eprintln!(
        "concurrency: auto-refresh of {} profiles for {} s, {} s tokens (local-gotrue pid {})",
        options.profiles,
        options.duration.as_secs(),
        lifetime,
        server.pid()
    );
    let http = reqwest::Client::new();
    let mut clients = Vec::new();
    for n in 0..options.profiles {
        clients.push(signed_in(&server, &format!("bench-auto-{n}")).await?);
    }
    // The app's smallest margin; with 5-second tokens every refresh is due as soon as the
    // engine's minimum gap between automatic refreshes allows.
    let margin = Duration::from_secs(5);
    server.reset_request_counts(&http).await?;
    let started = Utc::now();
    let mut switches = Vec::new();
    let mut logs = Vec::new();
    let mut tasks = tokio::task::JoinSet::new();
    for client in &clients {
        let (switch, setting) = watch::channel(Setting {
            enabled: true,
            margin,
        });
        let log = Arc::new(Mutex::new(Log::default()));
        let sink = log.clone();
        tasks.spawn(auto_refresh::run(client.clone(), setting, move |outcome| {
            let done = match outcome {
                Outcome::Refreshed => Done::Refreshed,
                Outcome::Joined => Done::Joined,
                Outcome::Failed(_) => Done::Failed,
            };
            sink.lock().unwrap().outcomes.push((Utc::now(), done));
        }));
        switches.push(switch);
        logs.push(log);
    }
    tokio::time::sleep(options.duration).await;
    drop(switches);
    tasks.join_all().await;
    let server_requests = server.refresh_requests(&http).await?;
    // The engine's own view: retries of an attempt are requests too.
    let mut engine_requests = 0;
    for client in &clients {
        for exchange in client.recorder().recent() {
            if exchange.started_at >= started && exchange.url.contains("grant_type=refresh_token") {
                engine_requests += 1;
                if exchange.status != Some(200) {
                    eprintln!(
                        "concurrency: a refresh request answered {:?}: {}",
                        exchange.status,
                        exchange.error.as_deref().unwrap_or("")
                    );
                }
            }
        }
    }

    // The schedule: the first refresh at once (the margin covers the token's whole life),
    // each next one MIN_GAP after the previous returned (auto_refresh's `not_before`), or
    // when the session is due, whichever is later; with these tokens, MIN_GAP decides.
    let period =
        Duration::from_secs(options.token_lifetime_s.saturating_sub(margin.as_secs())).max(MIN_GAP);
    let expected_each = (options.duration.as_secs_f64() / period.as_secs_f64()).ceil() as usize;
    let (mut done, mut joined, mut failures, mut late_max_ms) = (0usize, 0usize, 0usize, 0f64);
    let (mut per_min, mut per_max) = (usize::MAX, 0usize);
    for log in &logs {
        let log = log.lock().unwrap();
        let mut scheduled = started;
        let mut count = 0;
        for &(at, outcome) in &log.outcomes {
            let late = (at - scheduled).num_microseconds().unwrap_or(0) as f64 / 1000.0;
            late_max_ms = late_max_ms.max(late);
            scheduled = at + chrono::Duration::from_std(MIN_GAP).unwrap();
            match outcome {
                Done::Refreshed => count += 1,
                Done::Joined => joined += 1,
                Done::Failed => failures += 1,
            }
        }
        done += count;
        per_min = per_min.min(count);
        per_max = per_max.max(count);
    }
    let secs = options.duration.as_secs();
    let label = format!(
        "{} profiles auto-refreshing {}-second tokens for {secs} s",
        options.profiles, lifetime
    );
    figure(
        AREA,
        "concurrency.auto.refreshes_done",
        &format!("{label}: refreshes done"),
        done as f64,
        "refreshes",
        None,
    );
    figure(
        AREA,
        "concurrency.auto.refreshes_expected",
        &format!(
            "{label}: automatic refreshes expected, done or joined (one per {} s per profile)",
            period.as_secs()
        ),
        (expected_each * options.profiles) as f64,
        "refreshes",
        None,
    );
    figure(
        AREA,
        "concurrency.auto.joined",
        &format!("{label}: automatic refreshes that shared one in flight (not counted as done)"),
        joined as f64,
        "refreshes",
        None,
    );
    figure(
        AREA,
        "concurrency.auto.failures",
        &format!("{label}: failed refreshes"),
        failures as f64,
        "refreshes",
        Some("0"),
    );
    figure(
        AREA,
        "concurrency.auto.max_lateness_ms",
        &format!("{label}: latest a refresh returned after its schedule"),
        late_max_ms,
        "ms",
        None,
    );
    figure(
        AREA,
        "concurrency.auto.server_requests",
        &format!("{label}: refresh requests at the server"),
        server_requests as f64,
        "requests",
        None,
    );
    figure(
        AREA,
        "concurrency.auto.engine_requests",
        &format!("{label}: refresh requests the engine sent (its recorder)"),
        engine_requests as f64,
        "requests",
        None,
    );
    figure(
        AREA,
        "concurrency.auto.requests_per_profile_min",
        &format!("{label}: refreshes per profile, fewest"),
        per_min as f64,
        "refreshes",
        None,
    );
    figure(
        AREA,
        "concurrency.auto.requests_per_profile_max",
        &format!("{label}: refreshes per profile, most"),
        per_max as f64,
        "refreshes",
        None,
    );
    Ok(failures)
}
