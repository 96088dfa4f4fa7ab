//! The live log at scale, measured in the real window (issue 14, part 4). Ignored: run by
//! `src-tauri/scripts/bench-log.sh`, which builds the release app with `--features prod,bench`
//! and names it in `SESSION_INSPECTOR_E2E_APP`. Needs a display, a keyring (with-keyring.sh),
//! tauri-driver and WebKitWebDriver, like the E2E tests.
//!
//! The app's synthetic stream (`bench_stream.rs`) sends 10,000 items, then the rest of the fill
//! (`BENCH_LOG_FILL`, 100,000 by default), then `BENCH_LOG_RATE` items a second (200) for
//! `BENCH_LOG_SECONDS` (60); this test releases each stage with a file and measures between
//! them: PSS of every app process after 10,000 items and at the end, CPU (utime + stime from
//! `/proc/<pid>/stat`) of the web process per item and of the app process per refresh
//! (`BENCH_LOG_REFRESHES` presses of Ctrl+R, 300), and frame times from `requestAnimationFrame`
//! deltas recorded inside the page while the stream runs. Every figure is printed as one
//! `figure {json}` line.

#[allow(dead_code)]
mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::json;
use support::webdriver::{app_processes, Driver, Session};

const CONTROL_TOKEN: &str = "e2e-control-token-0123456789abcdef0123456789";

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn figure(id: &str, label: &str, value: f64, unit: &str, goal: Option<&str>) {
    let mut object = json!({"area": "log", "id": id, "label": label,
        "value": (value * 1000.0).round() / 1000.0, "unit": unit});
    if let Some(goal) = goal {
        object["goal"] = json!(goal);
    }
    println!("figure {object}");
}

/// A process's CPU time so far (user + system), in milliseconds.
fn cpu_ms(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name may hold spaces: the fields are counted after its closing parenthesis.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name and state.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    (ticks(11) + ticks(12)) * 1000.0 / per_second
}

/// A process's proportional set size, in MB.
fn pss_mb(pid: u32) -> f64 {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
    rollup
        .lines()
        .find_map(|line| line.strip_prefix("Pss:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<f64>()
                .ok()
        })
        .unwrap_or(0.0)
        / 1024.0
}

struct Processes {
    app: u32,
    web: u32,
    all: Vec<(u32, String)>,
}

impl Processes {
    fn find(root: &Path) -> Processes {
        let all = app_processes(root);
        let pid = |name: &str| {
            all.iter()
                .find(|(_, n)| n.starts_with(name))
                .map(|(pid, _)| *pid)
                .unwrap_or_else(|| panic!("no {name} process among {all:?}"))
        };
        Processes {
            // The app's own name is its binary's (a copy may be named otherwise).
            app: all
                .iter()
                .find(|(_, n)| !n.starts_with("WebKit"))
                .map(|(pid, _)| *pid)
                .unwrap_or_else(|| panic!("no app process among {all:?}")),
            web: pid("WebKitWebProces"),
            all: all.clone(),
        }
    }

    fn memory(&self, when: &str, label: &str) {
        let mut total = 0.0;
        for (pid, name) in &self.all {
            let pss = pss_mb(*pid);
            total += pss;
            let short = match name.as_str() {
                n if !n.starts_with("WebKit") => "app",
                n if n.starts_with("WebKitWebProces") => "web",
                n if n.starts_with("WebKitNetworkPr") => "network",
                n => n,
            };
            figure(
                &format!("log.pss_{when}.{}", short.to_lowercase()),
                &format!("PSS {label}, {short} process"),
                pss,
                "MB",
                None,
            );
        }
        figure(
            &format!("log.pss_{when}.total"),
            &format!("PSS {label}, every app process"),
            total,
            "MB",
            Some("≤ 150 MB (or within 15 % of the empty window)"),
        );
    }
}

async fn log_count(app: &Session) -> u64 {
    let script = "const e = document.querySelector('#log-count'); \
        return e ? e.textContent.replace(/\\s+/g, ' ').trim() : '';";
    let text = app
        .execute(script, json!([]))
        .await
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    text.split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Waits until the log's count is at least `at_least` and neither it nor the web process
/// (`web`, under a quarter of a core) has moved for `quiet`; returns the count. The window may
/// be far behind the app, and a full log's count stays put while items still arrive.
async fn settled(
    app: &Session,
    web: u32,
    at_least: u64,
    quiet: Duration,
    timeout: Duration,
) -> u64 {
    let deadline = Instant::now() + timeout;
    let mut last = (log_count(app).await, Instant::now(), cpu_ms(web));
    loop {
        // Each WebDriver call costs the web process tens of ms: ask once a second.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = log_count(app).await;
        let busy = cpu_ms(web) - last.2 > 0.25 * last.1.elapsed().as_secs_f64() * 1000.0 + 100.0;
        if now != last.0 || busy {
            last = (now, Instant::now(), cpu_ms(web));
        } else if now >= at_least && last.1.elapsed() >= quiet {
            return now;
        }
        assert!(
            Instant::now() < deadline,
            "the log never settled at {at_least} or more rows (last {now})"
        );
    }
}

async fn refresh_requests(server: &str) -> u64 {
    let answer = reqwest::Client::new()
        .get(format!("{server}/_emulator/requests"))
        .header("x-emulator-token", CONTROL_TOKEN)
        .send()
        .await
        .expect("the built-in server answers");
    let counts: serde_json::Value = answer.json().await.unwrap_or_default();
    counts["routes"]["POST /token?grant_type=refresh_token"]
        .as_u64()
        .unwrap_or(0)
}

/// Records every animation frame's distance to the one before, inside the page, for
/// `arguments[0]` seconds (read back later: a swamped window may answer late).
const RECORD_FRAMES: &str = "window.__benchFrames = []; let last = performance.now(); \
    const stop = last + arguments[0] * 1000; \
    const tick = (now) => { if (now > stop) return; window.__benchFrames.push(now - last); \
    last = now; requestAnimationFrame(tick); }; requestAnimationFrame(tick);";

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn release(go: &Path, stage: u32) {
    std::fs::write(PathBuf::from(format!("{}.{stage}", go.display())), b"go").unwrap();
}

#[tokio::test]
#[ignore = "a benchmark: src-tauri/scripts/bench-log.sh runs it"]
async fn the_live_log_at_scale() {
    let binary = PathBuf::from(
        std::env::var_os("SESSION_INSPECTOR_E2E_APP")
            .expect("SESSION_INSPECTOR_E2E_APP names the app built with --features prod,bench"),
    );
    assert!(
        std::env::var_os("SESSION_INSPECTOR_THROWAWAY_KEYRING").is_some(),
        "run inside src-tauri/scripts/with-keyring.sh"
    );
    let fill = setting("BENCH_LOG_FILL", 100_000).max(10_000);
    let rate = setting("BENCH_LOG_RATE", 200);
    let seconds = setting("BENCH_LOG_SECONDS", 60);
    let presses = setting("BENCH_LOG_REFRESHES", 300);

    let root = tempfile::Builder::new()
        .prefix("si-bench-log-")
        .tempdir()
        .unwrap();
    let folder = |sub: &str| {
        let path = root.path().join(sub);
        std::fs::create_dir_all(&path).unwrap();
        path
    };
    let (data, cache, config, home) = (
        folder("data"),
        folder("cache"),
        folder("config"),
        folder("home"),
    );
    let go = root.path().join("go");
    let stream = PathBuf::from(format!("10000,{},{rate}/s*{seconds}", fill - 10_000));
    let env: Vec<(&str, &Path)> = vec![
        ("XDG_DATA_HOME", &data),
        ("XDG_CACHE_HOME", &cache),
        ("XDG_CONFIG_HOME", &config),
        ("HOME", &home),
        (
            "SESSION_INSPECTOR_DEMO_CONTROL_TOKEN",
            Path::new(CONTROL_TOKEN),
        ),
        ("SESSION_INSPECTOR_BENCH_STREAM", &stream),
        ("SESSION_INSPECTOR_BENCH_GO", &go),
    ];
    let driver = Driver::start(&env).expect("tauri-driver starts");
    let app = driver
        .session(&binary, &[])
        .await
        .expect("the app launches");
    // A window swamped by items answers WebDriver late (an app whose stream does not wait
    // for the first go file starts at once): ask until it answers.
    let deadline = Instant::now() + Duration::from_secs(1800);
    let server = loop {
        match app.text_of("#server-url").await {
            Ok(server) => break server,
            Err(error) if Instant::now() > deadline => {
                panic!("the built-in server's address: {error}")
            }
            Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    };
    while app
        .wait_for("#log-count", Duration::from_secs(30))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "the live log never showed");
    }
    let processes = Processes::find(root.path());
    eprintln!("processes: {:?}", processes.all);

    // 1. The first 10,000 items.
    let started = Instant::now();
    release(&go, 0);
    let first = settled(
        &app,
        processes.web,
        10_000,
        Duration::from_secs(2),
        Duration::from_secs(600),
    )
    .await;
    eprintln!(
        "{first} rows after {:.1} s",
        started.elapsed().as_secs_f64()
    );
    processes.memory("10k", "after 10,000 log items");

    // 2. The rest of the fill: the web process's CPU per item while the log grows.
    let (web0, app0, t0) = (cpu_ms(processes.web), cpu_ms(processes.app), Instant::now());
    release(&go, 1);
    let filled = settled(
        &app,
        processes.web,
        first + 1,
        Duration::from_secs(3),
        Duration::from_secs(1800),
    )
    .await;
    let fill_secs = t0.elapsed().as_secs_f64() - 3.0;
    let items = (fill - 10_000) as f64;
    eprintln!("{filled} rows kept after the fill ({fill_secs:.1} s)");
    figure(
        "log.fill.rows_kept",
        "rows kept after the fill",
        filled as f64,
        "rows",
        Some("100,000"),
    );
    figure(
        "log.fill.web_cpu_per_item_ms",
        "web process CPU per log item while filling",
        (cpu_ms(processes.web) - web0) / items,
        "ms",
        None,
    );
    figure(
        "log.fill.app_cpu_per_item_ms",
        "app process CPU per log item while filling",
        (cpu_ms(processes.app) - app0) / items,
        "ms",
        None,
    );
    figure(
        "log.fill.seconds",
        "time until the window showed the fill",
        fill_secs,
        "s",
        None,
    );

    // 3. Refreshes with the log full: Ctrl+R pressed inside the page every 30 ms, so that no
    // WebDriver call (each costs the web process tens of ms) lands in the measurement.
    let before = refresh_requests(&server).await;
    let (web0, app0) = (cpu_ms(processes.web), cpu_ms(processes.app));
    let t0 = Instant::now();
    let press = "let n = arguments[0]; const t = setInterval(() => { if (n-- <= 0) { \
        clearInterval(t); return; } window.dispatchEvent(new KeyboardEvent('keydown', \
        {key: 'r', ctrlKey: true, bubbles: true, cancelable: true})); }, 30);";
    app.execute(press, json!([presses]))
        .await
        .expect("Ctrl+R pressed");
    tokio::time::sleep(Duration::from_millis(30 * presses + 3000)).await;
    let press_secs = t0.elapsed().as_secs_f64();
    let (web_ms, app_ms) = (cpu_ms(processes.web) - web0, cpu_ms(processes.app) - app0);
    settled(
        &app,
        processes.web,
        0,
        Duration::from_secs(3),
        Duration::from_secs(600),
    )
    .await;
    let refreshes = (refresh_requests(&server).await - before).max(1) as f64;
    eprintln!("{presses} presses in {press_secs:.1} s: {refreshes} refresh requests");
    figure(
        "log.refresh.requests",
        "refresh requests from the Ctrl+R presses",
        refreshes,
        "requests",
        None,
    );
    figure(
        "log.refresh.app_cpu_per_refresh_ms",
        "app process CPU per refresh (engine and in-process demo server included)",
        app_ms / refreshes,
        "ms",
        Some("≤ 1 ms beyond the engine's own"),
    );
    figure(
        "log.refresh.web_cpu_per_refresh_ms",
        "web process CPU per refresh",
        web_ms / refreshes,
        "ms",
        None,
    );
    let settings = data.join("dev.sessioninspector.app/settings.json");
    let settings_kb = std::fs::metadata(&settings).map(|m| m.len()).unwrap_or(0) as f64 / 1024.0;
    figure(
        "log.settings_file_kb",
        "settings file after the refreshes",
        settings_kb,
        "KB",
        None,
    );

    // 4. The stream, frame times recorded inside the page.
    let kept = log_count(&app).await;
    app.execute(RECORD_FRAMES, json!([seconds]))
        .await
        .expect("frames recorded");
    let (web0, app0, t0) = (cpu_ms(processes.web), cpu_ms(processes.app), Instant::now());
    release(&go, 2);
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    // Until the window has caught up: a window that falls behind does the rest afterwards.
    let behind = settled(
        &app,
        processes.web,
        0,
        Duration::from_secs(2),
        Duration::from_secs(900),
    )
    .await;
    let (web_ms, app_ms) = (cpu_ms(processes.web) - web0, cpu_ms(processes.app) - app0);
    let frames = app
        .execute("return window.__benchFrames;", json!([]))
        .await
        .expect("the frames");
    let streamed = (rate * seconds) as f64;
    eprintln!(
        "stream: {kept} rows kept before, {behind} after; {:.1} s until the window caught up",
        t0.elapsed().as_secs_f64()
    );
    let mut deltas: Vec<f64> = frames
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_f64()).collect())
        .unwrap_or_default();
    // The first delta spans the recorder's own start.
    if !deltas.is_empty() {
        deltas.remove(0);
    }
    let over_50 = deltas.iter().filter(|d| **d > 50.0).count();
    deltas.sort_by(|a, b| a.total_cmp(b));
    figure(
        "log.stream.frames",
        "frames painted while streaming",
        deltas.len() as f64,
        "frames",
        None,
    );
    figure(
        "log.stream.frame_p50_ms",
        "frame time p50 while streaming",
        percentile(&deltas, 50.0),
        "ms",
        None,
    );
    figure(
        "log.stream.frame_p95_ms",
        "frame time p95 while streaming",
        percentile(&deltas, 95.0),
        "ms",
        Some("≤ 16 ms"),
    );
    figure(
        "log.stream.frame_max_ms",
        "longest frame while streaming",
        deltas.last().copied().unwrap_or(0.0),
        "ms",
        Some("≤ 50 ms"),
    );
    figure(
        "log.stream.frames_over_50ms",
        "frames over 50 ms while streaming",
        over_50 as f64,
        "frames",
        Some("0"),
    );
    figure(
        "log.stream.web_cpu_per_item_ms",
        "web process CPU per log item while streaming into a full log, until caught up",
        web_ms / streamed,
        "ms",
        Some("≤ 1 ms"),
    );
    figure(
        "log.stream.app_cpu_per_item_ms",
        "app process CPU per log item while streaming",
        app_ms / streamed,
        "ms",
        None,
    );
    figure(
        "log.stream.rows_kept",
        "rows kept at the end",
        behind as f64,
        "rows",
        Some("100,000"),
    );
    processes.memory("end", "at the end");

    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-log");
    let _ = app.screenshot(&shots.join("log.png")).await;
    drop(app);
    drop(driver);
}
