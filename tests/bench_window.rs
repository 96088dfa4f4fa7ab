//! Start-up, memory and click → paint of the real window, beside an empty Tauri 2 window (the
//! floor, `src-tauri/bench/empty-window`): the figures of `src-tauri/scripts/bench-window.sh`,
//! whose header explains the method. Every test here is ignored: the script runs them inside
//! `with-keyring.sh` under Xvfb, against the release builds it names in the environment:
//! `SESSION_INSPECTOR_E2E_APP` (the app), `BENCH_EMPTY_WINDOW` (the floor), `BENCH_RUNS`.
//!
//! Each figure is one stdout line, `figure {json}`, as every benchmark of the repository prints.

#[allow(dead_code)] // the helpers the E2E tests use and these do not
mod support;

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use support::webdriver::{Driver, Session};

const APP_ENV: &str = "SESSION_INSPECTOR_E2E_APP";
const EMPTY_ENV: &str = "BENCH_EMPTY_WINDOW";
const RUNS_ENV: &str = "BENCH_RUNS";

/// The User Timing marks the two pages set after their first frame (the app's countdown:
/// `ui/src/lib/paint-mark.ts`; the empty window's text: its `dist/paint.js`).
const APP_MARK: &str = "countdown-painted";
const EMPTY_MARK: &str = "page-painted";

/// Memory is read this long after the process started.
const SETTLE: Duration = Duration::from_secs(5);

fn binary(env: &str) -> PathBuf {
    let path = PathBuf::from(
        std::env::var_os(env).unwrap_or_else(|| panic!("{env} names the binary to measure")),
    );
    assert!(path.is_file(), "{env}: no file at {}", path.display());
    path
}

fn runs() -> usize {
    std::env::var(RUNS_ENV)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(5)
}

/// What is measured in one round: the floor, the app's first launch (a fresh data folder, the
/// demo signs in), and the app again on that folder (the session restored from the keyring).
#[derive(Clone, Copy, PartialEq)]
enum Subject {
    Empty,
    AppFirst,
    AppRestored,
}

impl Subject {
    const ALL: [Subject; 3] = [Subject::Empty, Subject::AppFirst, Subject::AppRestored];

    fn id(self) -> &'static str {
        match self {
            Subject::Empty => "empty",
            Subject::AppFirst => "app_first",
            Subject::AppRestored => "app_restored",
        }
    }

    fn words(self) -> &'static str {
        match self {
            Subject::Empty => "empty Tauri window",
            Subject::AppFirst => "app, first launch (demo signs in)",
            Subject::AppRestored => "app, restored session",
        }
    }

    fn binary(self) -> PathBuf {
        match self {
            Subject::Empty => binary(EMPTY_ENV),
            _ => binary(APP_ENV),
        }
    }

    fn mark(self) -> &'static str {
        match self {
            Subject::Empty => EMPTY_MARK,
            _ => APP_MARK,
        }
    }
}

/// A private home for one app: its data, cache and config folders and `HOME`, so every
/// launch starts from exactly what it should and nothing touches the user's own folders.
struct Home {
    root: tempfile::TempDir,
}

impl Home {
    fn new() -> Home {
        let root = tempfile::Builder::new()
            .prefix("si-bench-window-")
            .tempdir()
            .expect("a temporary folder");
        for sub in ["data", "cache", "config", "home"] {
            std::fs::create_dir_all(root.path().join(sub)).unwrap();
        }
        Home { root }
    }

    fn path(&self, sub: &str) -> PathBuf {
        self.root.path().join(sub)
    }

    fn env(&self) -> Vec<(&'static str, PathBuf)> {
        vec![
            ("XDG_DATA_HOME", self.path("data")),
            ("XDG_CACHE_HOME", self.path("cache")),
            ("XDG_CONFIG_HOME", self.path("config")),
            ("HOME", self.path("home")),
        ]
    }

    /// The processes whose environment names this home (the app, its web processes and their
    /// sandbox helpers; the drivers are not counted).
    fn processes(&self) -> Vec<u32> {
        let needle = self.root.path().as_os_str().as_encoded_bytes();
        let mut found = Vec::new();
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|p| p.parse().ok()) else {
                continue;
            };
            if pid == std::process::id() {
                continue;
            }
            let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
                continue;
            };
            let name = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
            let name = name.trim();
            if environ.windows(needle.len()).any(|w| w == needle)
                && name != "tauri-driver"
                && name != "WebKitWebDriver"
            {
                found.push(pid);
            }
        }
        found
    }

    /// Waits until every process of this home has exited (so the next launch on it finds
    /// what the last one saved).
    fn wait_until_gone(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = self.processes();
            if left.is_empty() {
                return;
            }
            assert!(Instant::now() < deadline, "still running: {left:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// A script that writes the wall-clock time, in nanoseconds, to `BENCH_SPAWN_FILE` and then
/// becomes the program (`exec`: same process, no shell left): "process start" is that instant.
fn launcher(home: &Home) -> PathBuf {
    let path = home.root.path().join("launch.sh");
    std::fs::write(
        &path,
        "#!/bin/sh\ndate +%s%N > \"$BENCH_SPAWN_FILE\"\nexec \"$BENCH_BINARY\" \"$@\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn spawned_at_ms(home: &Home) -> f64 {
    let text = std::fs::read_to_string(home.root.path().join("spawned-at")).expect("spawn time");
    text.trim().parse::<f64>().expect("nanoseconds") / 1e6
}

/// The wall-clock time (Unix ms) of a User Timing mark in the page, once it exists.
async fn mark_time(session: &Session, mark: &str, timeout: Duration) -> f64 {
    let deadline = Instant::now() + timeout;
    loop {
        let value = session
            .execute(
                "const m = performance.getEntriesByName(arguments[0], 'mark')[0];\
                 return m ? performance.timeOrigin + m.startTime : null;",
                json!([mark]),
            )
            .await
            .expect("the page answers");
        if let Some(at) = value.as_f64() {
            return at;
        }
        assert!(Instant::now() < deadline, "{mark} never set");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A launch through tauri-driver with no `WEBKIT_*` variable (the program's own settings decide
/// how WebKit draws); the launcher script
/// records the spawn instant.
async fn open(subject: Subject, home: &Home) -> (Driver, Session) {
    let launcher = launcher(home);
    let program = subject.binary();
    let spawn_file = home.root.path().join("spawned-at");
    let mut env = home.env();
    env.push(("BENCH_BINARY", program));
    env.push(("BENCH_SPAWN_FILE", spawn_file));
    let env: Vec<(&str, &Path)> = env.iter().map(|(k, v)| (*k, v.as_path())).collect();
    let driver = Driver::start_with_webkit_defaults(&env).expect("tauri-driver starts");
    let session = driver
        .session(&launcher, &[])
        .await
        .expect("the window opens");
    (driver, session)
}

async fn close(driver: Driver, session: Session, home: &Home) {
    session.close().await.expect("the window closes");
    home.wait_until_gone();
    drop(driver);
}

/// With `BENCH_TIMELINE` set: what the page did when (navigation, resources, IPC calls,
/// marks), in ms since the process started, on stderr; to see where start-up goes.
async fn timeline(session: &Session, started: f64) {
    let entries = session
        .execute(
            "return performance.getEntries().map((e) => [e.entryType, e.name, \
             performance.timeOrigin + e.startTime, e.duration]);",
            json!([]),
        )
        .await
        .expect("the page answers");
    let origin = session
        .execute("return performance.timeOrigin;", json!([]))
        .await
        .expect("the page answers");
    eprintln!(
        "  page time origin at {:.1} ms",
        origin.as_f64().unwrap_or(0.0) - started
    );
    for entry in entries.as_array().into_iter().flatten() {
        eprintln!(
            "  {:>8.1} ms +{:>6.1} {} {}",
            entry[2].as_f64().unwrap_or(0.0) - started,
            entry[3].as_f64().unwrap_or(0.0),
            entry[0].as_str().unwrap_or(""),
            entry[1].as_str().unwrap_or("")
        );
    }
}

/// One launch of `subject`: process start → first paint in ms, and the PSS of each of its
/// processes by kind, read `SETTLE` after the start (and never before the page painted: on a
/// loaded machine a half-started web process would look small).
async fn launch_once(subject: Subject, home: &Home) -> (f64, Vec<(String, f64)>) {
    let (driver, session) = open(subject, home).await;
    let painted = mark_time(&session, subject.mark(), Duration::from_secs(60)).await;
    let started = spawned_at_ms(home);
    if std::env::var_os("BENCH_TIMELINE").is_some() {
        timeline(&session, started).await;
    }
    let now = wall_clock_ms();
    let settled = (started + SETTLE.as_millis() as f64).max(painted + 500.0);
    if settled > now {
        tokio::time::sleep(Duration::from_millis((settled - now) as u64)).await;
    }
    let memory = pss_by_kind(home);
    close(driver, session, home).await;
    (painted - started, memory)
}

fn wall_clock_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0
}

#[derive(Default)]
struct Stats {
    values: Vec<f64>,
}

impl Stats {
    fn push(&mut self, value: f64) {
        self.values.push(value);
    }

    fn sorted(&self) -> Vec<f64> {
        let mut values = self.values.clone();
        values.sort_by(f64::total_cmp);
        values
    }

    /// The nearest-rank percentile.
    fn percentile(&self, p: f64) -> f64 {
        let values = self.sorted();
        let rank = ((p / 100.0) * values.len() as f64).ceil().max(1.0) as usize;
        values[rank.min(values.len()) - 1]
    }

    fn min(&self) -> f64 {
        self.sorted()[0]
    }

    fn max(&self) -> f64 {
        *self.sorted().last().unwrap()
    }
}

fn round(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

/// Ends the line libtest left open: with `--test-threads=1` it prints `test NAME ... ` with no
/// newline before the test's own output. Called once before a test's first figure.
fn start_figures() {
    println!();
}

/// One figure line: `figure {json}`.
fn figure(area: &str, id: &str, label: &str, value: f64, unit: &str, goal: Option<&str>) {
    let mut object = json!({"area": area, "id": id, "label": label, "value": value, "unit": unit});
    if let Some(goal) = goal {
        object["goal"] = json!(goal);
    }
    println!("figure {object}");
}

fn p50_min_max(area: &str, id: &str, label: &str, stats: &Stats, unit: &str, goal: Option<&str>) {
    let n = stats.values.len();
    figure(
        area,
        &format!("{id}.p50_{unit}"),
        &format!("{label}, p50 of {n}"),
        round(stats.percentile(50.0), 1),
        unit,
        goal,
    );
    figure(
        area,
        &format!("{id}.min_{unit}"),
        &format!("{label}, min of {n}"),
        round(stats.min(), 1),
        unit,
        None,
    );
    figure(
        area,
        &format!("{id}.max_{unit}"),
        &format!("{label}, max of {n}"),
        round(stats.max(), 1),
        unit,
        None,
    );
}

/// PSS (`/proc/<pid>/smaps_rollup`) in MB of each process of a home, by kind.
fn pss_by_kind(home: &Home) -> Vec<(String, f64)> {
    let mut kinds: Vec<(String, f64)> = Vec::new();
    for pid in home.processes() {
        let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        let kind = match name.trim() {
            "WebKitWebProces" | "WebKitWebProcess" => "web",
            "WebKitNetworkPr" | "WebKitNetworkProcess" => "network",
            "session-inspect" | "empty-window" => "app",
            _ => "other",
        };
        let rollup =
            std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
        let kb: f64 = rollup
            .lines()
            .find_map(|l| l.strip_prefix("Pss:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0.0);
        match kinds.iter_mut().find(|(k, _)| k == kind) {
            Some((_, total)) => *total += kb / 1024.0,
            None => kinds.push((kind.to_string(), kb / 1024.0)),
        }
    }
    kinds
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: src-tauri/scripts/bench-window.sh runs it"]
async fn startup_and_memory() {
    const KINDS: [&str; 4] = ["app", "web", "network", "other"];
    let mut startup: Vec<Stats> = Subject::ALL.iter().map(|_| Stats::default()).collect();
    let mut totals: Vec<Stats> = Subject::ALL.iter().map(|_| Stats::default()).collect();
    // parts[subject][kind]
    let mut parts: Vec<Vec<Stats>> = Subject::ALL
        .iter()
        .map(|_| KINDS.iter().map(|_| Stats::default()).collect())
        .collect();
    // One discarded launch of each binary first, so the first round does not alone pay for
    // reading them (and WebKit's libraries) from disk.
    for subject in [Subject::Empty, Subject::AppFirst] {
        let (ms, _) = launch_once(subject, &Home::new()).await;
        eprintln!(
            "warm-up: {} painted after {ms:.1} ms (discarded)",
            subject.id()
        );
    }
    for round_no in 0..runs() {
        // The three in turn, so the machine's load falls on each alike.
        let empty = Home::new();
        let app = Home::new();
        for (i, subject) in Subject::ALL.into_iter().enumerate() {
            let home = if subject == Subject::Empty {
                &empty
            } else {
                &app
            };
            let (ms, kinds) = launch_once(subject, home).await;
            let total: f64 = kinds.iter().map(|(_, mb)| mb).sum();
            eprintln!(
                "round {round_no}: {} painted after {ms:.1} ms; {total:.1} MB {kinds:?}",
                subject.id()
            );
            startup[i].push(ms);
            totals[i].push(total);
            for (k, kind) in KINDS.iter().enumerate() {
                let mb = kinds
                    .iter()
                    .find(|(n, _)| n == kind)
                    .map_or(0.0, |(_, mb)| *mb);
                parts[i][k].push(mb);
            }
        }
    }
    start_figures();
    for (i, subject) in Subject::ALL.into_iter().enumerate() {
        let goal = (subject != Subject::Empty).then_some("≤ 1000 ms");
        let label = format!("start-up, process start → painted, {}", subject.words());
        p50_min_max(
            "startup",
            &format!("startup.{}", subject.id()),
            &label,
            &startup[i],
            "ms",
            goal,
        );
    }
    let floor = startup[0].percentile(50.0);
    for (i, subject) in [(1, Subject::AppFirst), (2, Subject::AppRestored)] {
        figure(
            "startup",
            &format!("startup.{}.over_empty", subject.id()),
            &format!("start-up p50, {} ÷ empty window", subject.words()),
            round(startup[i].percentile(50.0) / floor, 2),
            "×",
            None,
        );
    }
    for (i, subject) in Subject::ALL.into_iter().enumerate() {
        let goal =
            (subject != Subject::Empty).then_some("≤ 150 MB, or within 15 % of the empty window");
        let label = format!("PSS of every process 5 s after start, {}", subject.words());
        p50_min_max(
            "memory",
            &format!("memory.{}.total", subject.id()),
            &label,
            &totals[i],
            "mb",
            goal,
        );
        for (k, kind) in KINDS.iter().enumerate() {
            let process = match *kind {
                "app" => "the app's own process",
                "web" => "WebKitWebProcess",
                "network" => "WebKitNetworkProcess",
                _ => "other children (sandbox, D-Bus proxy)",
            };
            figure(
                "memory",
                &format!("memory.{}.{kind}.p50_mb", subject.id()),
                &format!("PSS 5 s after start, {process}, {}, p50", subject.words()),
                round(parts[i][k].percentile(50.0), 1),
                "mb",
                None,
            );
        }
    }
    let floor = totals[0].percentile(50.0);
    for (i, subject) in [(1, Subject::AppFirst), (2, Subject::AppRestored)] {
        figure(
            "memory",
            &format!("memory.{}.over_empty", subject.id()),
            &format!("PSS total p50, {} ÷ empty window", subject.words()),
            round(totals[i].percentile(50.0) / floor, 2),
            "×",
            Some("≤ 1.15× when the empty window is above 150 MB"),
        );
    }
}

/// In the page: the time of every click on Refresh now (the event's own timestamp), of each
/// change of the session's expiry in the DOM (`#expires-at`, when the MutationObserver hears
/// of it) and of the frame after it, all on the page's clock.
const CLICK_PROBE: &str = r#"
window.__clickBench = { clicks: [], changes: [], paints: [] };
document.addEventListener('click', (event) => {
  if (event.target.closest && event.target.closest('#refresh-now')) window.__clickBench.clicks.push(event.timeStamp);
}, true);
let last = document.getElementById('expires-at')?.textContent;
new MutationObserver(() => {
  const text = document.getElementById('expires-at')?.textContent;
  if (text === undefined || text === last) return;
  last = text;
  window.__clickBench.changes.push(performance.now());
  requestAnimationFrame(() => setTimeout(() => window.__clickBench.paints.push(performance.now()), 0));
}).observe(document.body, { subtree: true, childList: true, characterData: true });
return true;
"#;

async fn invoke(session: &Session, command: &str, args: Value) -> Value {
    session
        .execute(
            "return window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1]);",
            json!([command, args]),
        )
        .await
        .unwrap_or_else(|e| panic!("{command}: {e}"))
}

/// The duration the engine recorded for the first refresh exchange from id `from` on, and the
/// id after it. Exchange ids are process-wide (other clients, such as the local-stack probe,
/// take some), so the scan passes over gaps.
async fn refresh_exchange_from(session: &Session, from: u64) -> (Timed, u64) {
    for id in from..from + 256 {
        let exchange = invoke(session, "log_exchange", json!({"id": id})).await;
        if exchange["url"]
            .as_str()
            .is_some_and(|u| u.contains("grant_type=refresh_token"))
        {
            let started = chrono::DateTime::parse_from_rfc3339(
                exchange["startedAt"].as_str().expect("a start"),
            )
            .expect("an RFC 3339 time");
            let timed = Timed {
                started_ms: started.timestamp_micros() as f64 / 1000.0,
                duration_ms: exchange["durationMs"].as_f64().expect("a duration"),
            };
            return (timed, id + 1);
        }
    }
    panic!("no refresh exchange recorded from id {from} on");
}

/// When an exchange started (Unix ms, the app's wall clock) and how long it took.
struct Timed {
    started_ms: f64,
    duration_ms: f64,
}

/// The id after the newest exchange the active profile has recorded so far.
async fn exchanges_end(session: &Session) -> u64 {
    let mut end = 0;
    let mut misses = 0;
    for id in 0.. {
        if invoke(session, "log_exchange", json!({"id": id}))
            .await
            .is_null()
        {
            misses += 1;
            if misses > 32 {
                break;
            }
        } else {
            misses = 0;
            end = id + 1;
        }
    }
    end
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: src-tauri/scripts/bench-window.sh runs it"]
async fn click_to_paint() {
    let presses = runs() * 4;
    let home = Home::new();
    let (driver, session) = open(Subject::AppFirst, &home).await;
    mark_time(&session, APP_MARK, Duration::from_secs(60)).await;
    let button = session
        .wait_for("#refresh-now", Duration::from_secs(20))
        .await
        .unwrap();
    session.execute(CLICK_PROBE, json!([])).await.unwrap();
    let mut next_exchange = exchanges_end(&session).await;
    let origin = session
        .execute("return performance.timeOrigin;", json!([]))
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    let [mut total, mut server, mut net, mut to_request, mut to_dom, mut to_paint] =
        std::array::from_fn(|_| Stats::default());
    for press in 0..presses {
        // The expiry is shown to the second: each refresh must land in a later second.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let counts = session
            .execute(
                "const b = window.__clickBench; return [b.paints.length, b.clicks.length];",
                json!([]),
            )
            .await
            .unwrap();
        let [before, clicks_before] = [0, 1].map(|i| counts[i].as_u64().unwrap());
        session.click(&button).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let times = loop {
            let times = session
                .execute(
                    "const b = window.__clickBench;\
                     return b.paints.length > arguments[0] ? [b.clicks.at(-1), b.changes.at(-1), b.paints.at(-1), b.clicks.length] : null;",
                    json!([before]),
                )
                .await
                .unwrap();
            if !times.is_null() {
                break times;
            }
            assert!(
                Instant::now() < deadline,
                "press {press}: the expiry never changed"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        // The click this press made was seen; else `clicks.at(-1)` would be an earlier one.
        assert!(
            times[3].as_u64().unwrap() > clicks_before,
            "press {press}: the click probe saw no click"
        );
        let [clicked, changed, painted] = [0, 1, 2].map(|i| times[i].as_f64().unwrap());
        let (exchange, next) = refresh_exchange_from(&session, next_exchange).await;
        next_exchange = next;
        let ms = painted - clicked;
        let request_at = exchange.started_ms - origin;
        let answered_at = request_at + exchange.duration_ms;
        eprintln!(
            "press {press}: click → paint {ms:.1} ms: → request {:.1}, request {:.1}, \
             → expiry in the DOM {:.1}, → painted {:.1}",
            request_at - clicked,
            exchange.duration_ms,
            changed - answered_at,
            painted - changed
        );
        total.push(ms);
        server.push(exchange.duration_ms);
        net.push(ms - exchange.duration_ms);
        to_request.push(request_at - clicked);
        to_dom.push(changed - answered_at);
        to_paint.push(painted - changed);
    }
    close(driver, session, &home).await;
    start_figures();
    let n = presses;
    let goal = Some("≤ 16 ms");
    figure(
        "click",
        "click.total.p50_ms",
        &format!("Refresh now pressed → new expiry painted, p50 of {n}"),
        round(total.percentile(50.0), 1),
        "ms",
        None,
    );
    figure(
        "click",
        "click.total.p95_ms",
        &format!("Refresh now pressed → new expiry painted, p95 of {n}"),
        round(total.percentile(95.0), 1),
        "ms",
        None,
    );
    figure(
        "click",
        "click.exchange.p50_ms",
        &format!("the refresh's HTTP exchange as recorded, p50 of {n}"),
        round(server.percentile(50.0), 1),
        "ms",
        None,
    );
    figure(
        "click",
        "click.net.p50_ms",
        &format!("click → paint minus the exchange, p50 of {n}"),
        round(net.percentile(50.0), 1),
        "ms",
        goal,
    );
    figure(
        "click",
        "click.net.p95_ms",
        &format!("click → paint minus the exchange, p95 of {n}"),
        round(net.percentile(95.0), 1),
        "ms",
        goal,
    );
    let steps = [
        ("to_request", "click → the refresh request sent (IPC, the engine)", &to_request),
        (
            "to_dom",
            "answer received → new expiry in the DOM (the keyring save, the event, IPC, the stores)",
            &to_dom,
        ),
        ("to_paint", "new expiry in the DOM → painted (the frame)", &to_paint),
    ];
    for (id, words, stats) in steps {
        figure(
            "click",
            &format!("click.{id}.p50_ms"),
            &format!("{words}, p50 of {n}"),
            round(stats.percentile(50.0), 1),
            "ms",
            None,
        );
    }
    figure(
        "click",
        "click.net.max_ms",
        &format!("click → paint minus the exchange, max of {n}"),
        round(net.max(), 1),
        "ms",
        None,
    );
}
