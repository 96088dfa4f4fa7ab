//! End-to-end: the real app binary in a real window, driven through tauri-driver and
//! WebKitWebDriver. Needs a display: `make test` runs it under `xvfb-run`.

#[path = "support/leaks.rs"]
mod leaks;
mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::webdriver::{app_processes, Driver, Session};

/// Set to an installed app (`/usr/bin/session-inspector` from the .deb) to run these tests
/// against it instead of the binary cargo built: `src-tauri/scripts/install-test.sh` does.
const INSTALLED_APP_ENV: &str = "SESSION_INSPECTOR_E2E_APP";

fn app_binary() -> PathBuf {
    match std::env::var_os(INSTALLED_APP_ENV) {
        Some(installed) => PathBuf::from(installed),
        None => PathBuf::from(env!("CARGO_BIN_EXE_session-inspector")),
    }
}

/// The built-in server's control token in these tests: the app takes it from its
/// environment instead of making a random one, so the tests can drive `/_emulator`.
const CONTROL_TOKEN: &str = "e2e-control-token-0123456789abcdef0123456789";

/// The app's folder under `XDG_DATA_HOME` (its identifier).
const APP_FOLDER: &str = "dev.sessioninspector.app";

fn shots_dir() -> PathBuf {
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/e2e");
    // The installed app's screenshots stay apart from the built one's.
    match std::env::var_os(INSTALLED_APP_ENV) {
        Some(_) => shots.join("installed"),
        None => shots,
    }
}

/// One test's app: a private folder for everything the app and its web processes write
/// (`XDG_DATA_HOME`, `XDG_CACHE_HOME`, `XDG_CONFIG_HOME` with the Downloads folder named in
/// its `user-dirs.dirs`, and `HOME`), tauri-driver, the window, and every secret the test saw.
/// `finish` closes the app, scans the whole folder for those secrets and removes it.
struct Launched {
    /// The window.
    app: Session,
    driver: Driver,
    root: tempfile::TempDir,
    /// The built-in server of the running app.
    demo: String,
    /// Tokens the test saw: revealed, copied, pasted, and every refresh token the servers
    /// listed while the test ran (`/_emulator/sessions`, read ten times a second).
    seen: Arc<Mutex<BTreeSet<String>>>,
    /// The servers whose sessions are read.
    watched: Arc<Mutex<Vec<String>>>,
    watcher: tokio::task::JoinHandle<()>,
    running: bool,
}

/// Launches the app for the test `name` in a folder of its own, with `extra_env` for the app.
async fn launch(name: &str, extra_env: &[(&str, &Path)]) -> Launched {
    launch_after(name, extra_env, |_| {}).await
}

/// As `launch`, after `prepare` has put what the test needs into the data folder.
async fn launch_after(
    name: &str,
    extra_env: &[(&str, &Path)],
    prepare: impl FnOnce(&Path),
) -> Launched {
    let root = tempfile::Builder::new()
        .prefix(&format!("si-e2e-{name}-"))
        .tempdir()
        .expect("a temporary folder");
    let folder = |sub: &str| {
        let path = root.path().join(sub);
        std::fs::create_dir_all(&path).unwrap();
        path
    };
    let (data, cache, config, home, downloads) = (
        folder("data"),
        folder("cache"),
        folder("config"),
        folder("home"),
        folder("downloads"),
    );
    // Where the app saves an export: the desktop's Downloads folder, as xdg-user-dirs names it.
    std::fs::write(
        config.join("user-dirs.dirs"),
        format!("XDG_DOWNLOAD_DIR=\"{}\"\n", downloads.display()),
    )
    .unwrap();
    prepare(&data);
    let mut env: Vec<(&str, &Path)> = vec![
        ("XDG_DATA_HOME", &data),
        ("XDG_CACHE_HOME", &cache),
        ("XDG_CONFIG_HOME", &config),
        ("HOME", &home),
        (
            "SESSION_INSPECTOR_DEMO_CONTROL_TOKEN",
            Path::new(CONTROL_TOKEN),
        ),
    ];
    env.extend_from_slice(extra_env);
    // Only inside with-keyring.sh: the app saves sessions under its production service name,
    // which must never reach the developer's own keyrings.
    assert!(
        std::env::var_os("SESSION_INSPECTOR_THROWAWAY_KEYRING")
            .is_some_and(|d| Path::new(&d).is_dir()),
        "the E2E tests open the OS keyring: run them through src-tauri/scripts/with-keyring.sh \
         (as src-tauri/scripts/test.sh does), never against your own keyring"
    );
    let driver = Driver::start(&env).expect("tauri-driver starts");
    let app = driver
        .session(&app_binary(), &[])
        .await
        .expect("the app launches");
    let demo = app
        .text_of("#server-url")
        .await
        .expect("the built-in server's address");
    // The keyring the app got: with-keyring.sh's private gnome-keyring. Never the kernel
    // keyring (its persistent keyring is the user's own, whatever the session) or memory.
    let keyring = app
        .execute(
            "return window.__TAURI_INTERNALS__.invoke('inspector_status').then((s) => s.keyring);",
            serde_json::json!([]),
        )
        .await
        .expect("the app's status");
    println!(
        "{name}: keyring {keyring}, folder {}",
        root.path().display()
    );
    assert!(
        keyring == "secretService",
        "the throwaway Secret Service: {keyring}"
    );
    let seen = Arc::new(Mutex::new(BTreeSet::new()));
    let watched = Arc::new(Mutex::new(vec![demo.clone()]));
    let watcher = tokio::spawn({
        let (seen, watched) = (seen.clone(), watched.clone());
        async move {
            loop {
                let servers = watched.lock().unwrap().clone();
                for server in servers {
                    let tokens = listed_refresh_tokens(&server).await;
                    seen.lock().unwrap().extend(tokens);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    });
    let launched = Launched {
        app,
        driver,
        root,
        demo,
        seen,
        watched,
        watcher,
        running: true,
    };
    // The demo signs its user in at start: its tokens are known before the test goes on.
    eventually(
        Duration::from_secs(20),
        async || launched.seen.lock().unwrap().len(),
        |n| *n > 0,
    )
    .await;
    launched
}

/// Every refresh token `server` holds now, revoked ones included (none when it is gone).
async fn listed_refresh_tokens(server: &str) -> Vec<String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let listing = client
        .get(format!("{server}/_emulator/sessions"))
        .header("x-emulator-token", CONTROL_TOKEN)
        .send()
        .await;
    let Ok(listing) = listing else {
        return Vec::new();
    };
    let sessions: serde_json::Value = listing.json().await.unwrap_or_default();
    sessions
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["refresh_tokens"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t["token"].as_str().map(str::to_string))
        .collect()
}

impl Launched {
    /// The app's `XDG_DATA_HOME`.
    fn data(&self) -> PathBuf {
        self.root.path().join("data")
    }

    /// The folder the desktop names as Downloads for this app.
    fn downloads(&self) -> PathBuf {
        self.root.path().join("downloads")
    }

    /// Remembers a secret the test saw, for the scan at the end.
    fn saw(&self, secret: &str) {
        self.seen.lock().unwrap().insert(secret.to_string());
    }

    /// Asserts that the token with this fingerprint is among those the scan will look for.
    fn knows(&self, fingerprint: &str) {
        let seen = self.seen.lock().unwrap();
        assert!(
            seen.iter()
                .any(|t| session_engine::tokens::fingerprint(t) == fingerprint),
            "{fingerprint} is not among the {} secrets seen",
            seen.len()
        );
    }

    /// Also reads the sessions of `server` (another GoTrue-compatible server of the test).
    fn watch(&self, server: &str) {
        self.watched.lock().unwrap().push(server.to_string());
    }

    /// Reads every watched server's sessions once more, now.
    async fn harvest(&self) {
        let servers = self.watched.lock().unwrap().clone();
        for server in servers {
            let tokens = listed_refresh_tokens(&server).await;
            self.seen.lock().unwrap().extend(tokens);
        }
    }

    /// Closes the app and waits until it and its web processes have exited (so everything
    /// they write is on disk).
    async fn quit(&mut self) {
        if !self.running {
            return;
        }
        self.harvest().await;
        self.app.close().await.expect("the app quits");
        self.running = false;
        let root = self.root.path().to_path_buf();
        // (Gives up, naming them, if they outlive the deadline.)
        eventually(
            Duration::from_secs(20),
            async || app_processes(&root),
            |left| left.is_empty(),
        )
        .await;
    }

    /// Quits and launches the app again on the same folders.
    async fn relaunch(&mut self) {
        self.quit().await;
        self.app = self
            .driver
            .session(&app_binary(), &[])
            .await
            .expect("the app launches again");
        self.running = true;
        self.demo = self
            .app
            .text_of("#server-url")
            .await
            .expect("the built-in server's address");
        self.watch(&self.demo.clone());
    }

    /// Closes the app, then scans everything the test's app and web processes wrote (the
    /// built-in server's own database, which holds refresh tokens as GoTrue's Postgres does,
    /// left out) for every secret the test saw, and removes the folder. Fails on any hit,
    /// saying where.
    async fn finish(mut self) {
        self.quit().await;
        self.watcher.abort();
        let Launched {
            driver, root, seen, ..
        } = self;
        drop(driver);
        let secrets = seen.lock().unwrap().clone();
        let skip = [root.path().join("data").join(APP_FOLDER).join("demo")];
        let scan = leaks::scan(root.path(), &skip, &secrets);
        println!(
            "leak scan: {} file(s), {} bytes under {}, searched for {} secret(s) in {} form(s) \
             and for any access token: {} hit(s)",
            scan.files,
            scan.bytes,
            root.path().display(),
            scan.secrets,
            scan.patterns,
            scan.hits.len()
        );
        for hit in &scan.hits {
            println!(
                "  {} at byte {}: {} ({})",
                hit.file
                    .strip_prefix(root.path())
                    .unwrap_or(&hit.file)
                    .display(),
                hit.offset,
                hit.secret,
                hit.form
            );
        }
        assert!(
            scan.files > 0 && !secrets.is_empty(),
            "the scan had something to search"
        );
        assert!(scan.hits.is_empty(), "a secret was written to disk");
    }
}

#[tokio::test]
#[ignore = "needs a display, WebKitWebDriver and tauri-driver: run by `make test` under xvfb-run"]
async fn window_shows_the_product_name_and_the_version_from_app_info() {
    let launched = launch("window", &[]).await;
    let session = &launched.app;

    // The version chip only renders after the app_info command answered over real IPC.
    let version = session
        .wait_for("#app-version", Duration::from_secs(20))
        .await
        .expect("the version chip renders");
    assert_eq!(
        session.text(&version).await.unwrap(),
        format!("v{}", env!("CARGO_PKG_VERSION"))
    );

    let heading = session
        .wait_for("#app-title", Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!(session.text(&heading).await.unwrap(), "Session Inspector");
    assert_eq!(session.title().await.unwrap(), "Session Inspector");

    // The webview cannot reach Tauri through a global object (withGlobalTauri is off).
    let global = session
        .execute("return typeof window.__TAURI__;", serde_json::json!([]))
        .await
        .unwrap();
    assert_eq!(global, "undefined");

    session
        .screenshot(&shots_dir().join("main-window.png"))
        .await
        .expect("a screenshot is saved");
    launched.finish().await;
}

/// The window's own defences, tried from inside the page: an injected inline script does not
/// run (the CSP has no 'unsafe-inline'), and commands outside the window's capability (a
/// plugin the app registered for Rust only, core event listening) are refused by Tauri's ACL
/// over the real IPC, while a granted command answers.
#[tokio::test]
#[ignore = "needs a display, WebKitWebDriver and tauri-driver: run by `make test` under xvfb-run"]
async fn the_window_runs_no_inline_script_and_no_command_outside_its_capability() {
    let launched = launch("acl", &[]).await;
    let session = &launched.app;
    session
        .wait_for("#app-version", Duration::from_secs(20))
        .await
        .expect("the window is up");

    let inline = "const violations = []; \
        document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective)); \
        const s = document.createElement('script'); \
        s.textContent = 'window.__inlineRan = true;'; \
        document.body.append(s); \
        return new Promise((done) => setTimeout(() => done({ran: window.__inlineRan === true, violations}), 300));";
    let outcome = session
        .execute(inline, serde_json::json!([]))
        .await
        .unwrap();
    assert_eq!(outcome["ran"], false, "an inline script ran: {outcome}");
    assert!(
        outcome["violations"].to_string().contains("script-src"),
        "the CSP reported it: {outcome}"
    );

    let invoke = "return window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1]).then( \
        (v) => 'answered: ' + JSON.stringify(v), (e) => 'refused: ' + String(e));";
    for (command, args) in [
        ("plugin:clipboard-manager|read_text", serde_json::json!({})),
        (
            "plugin:clipboard-manager|write_text",
            serde_json::json!({"text": "x"}),
        ),
        (
            "plugin:store|load",
            serde_json::json!({"path": "settings.json"}),
        ),
        (
            "plugin:event|listen",
            serde_json::json!({"event": "x", "target": {"kind": "Any"}, "handler": 1}),
        ),
    ] {
        let answer = session
            .execute(invoke, serde_json::json!([command, args]))
            .await
            .unwrap();
        let answer = answer.as_str().unwrap_or_default().to_string();
        eprintln!("{command}: {answer}");
        assert!(
            answer.starts_with("refused:") && answer.contains("not allowed"),
            "{command}: {answer}"
        );
    }
    let granted = session
        .execute(invoke, serde_json::json!(["app_info", {}]))
        .await
        .unwrap();
    assert!(
        granted
            .as_str()
            .unwrap_or_default()
            .starts_with("answered:"),
        "{granted}"
    );
    launched.finish().await;
}

/// Polls `read` until `done` holds for its value, or fails after `timeout`.
async fn eventually<T: std::fmt::Debug>(
    timeout: Duration,
    mut read: impl AsyncFnMut() -> T,
    done: impl Fn(&T) -> bool,
) -> T {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let value = read().await;
        if done(&value) || std::time::Instant::now() > deadline {
            assert!(done(&value), "gave up waiting; last value {value:?}");
            return value;
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

async fn event_kinds(session: &Session) -> Vec<String> {
    let mut kinds = Vec::new();
    for row in session
        .find_all(".event-row .kind")
        .await
        .unwrap_or_default()
    {
        kinds.push(session.text(&row).await.unwrap_or_default());
    }
    kinds
}

/// The built-in demo, a real keyring, and two launches on one data folder: the session is
/// live, refreshes, and after a restart is restored from the keyring, not signed in again.
#[tokio::test]
#[ignore = "needs a display, a keyring, WebKitWebDriver and tauri-driver: run by `make test`"]
async fn the_demo_session_counts_down_refreshes_and_is_restored_after_a_restart() {
    // A file an earlier version left readable by everyone: the app tightens it at start-up.
    // First launch: the built-in server starts and the demo user is signed in.
    let mut launched = launch_after("restore", &[], |data| {
        let app_folder = data.join(APP_FOLDER);
        std::fs::create_dir_all(&app_folder).unwrap();
        let left_open = app_folder.join("from-an-earlier-version.json");
        std::fs::write(&left_open, "{}").unwrap();
        set_mode(&app_folder, 0o755);
        set_mode(&left_open, 0o644);
    })
    .await;
    let first = &launched.app;
    let session_id = first.text_of("#session-id").await.unwrap();
    assert_eq!(session_id.len(), 36, "a session UUID: {session_id}");
    assert!(
        first.find_all(".notice").await.unwrap().is_empty(),
        "a real keyring is in use (no memory-only notice)"
    );

    // The countdown is recomputed from the clock: it goes down.
    let before = first.text_of("#countdown").await.unwrap();
    let after = eventually(
        Duration::from_secs(5),
        async || first.text_of("#countdown").await.unwrap(),
        |t| t != &before,
    )
    .await;
    assert!(after < before, "{before} then {after}");

    // The official clients' panel moves with the countdown: supabase-py's timer fires 10 s
    // before expiry, supabase-js's ticker between 120 s and 90 s before it.
    let panel = async || {
        let countdown = first.text_of("#countdown").await.unwrap();
        let py = first.text_of("#client-supabase-py .auto").await.unwrap();
        let js = first.text_of("#client-supabase-js .auto").await.unwrap();
        (seconds_of(&countdown), py, js)
    };
    let (left, _, js) = eventually(Duration::from_secs(5), panel, |(left, py, _)| {
        py == &format!("in {}", clock_text(left - 10))
    })
    .await;
    let js_expected = if left > 120 {
        format!("in {} to {}", clock_text(left - 120), clock_text(left - 90))
    } else {
        format!(
            "at its next tick, by {} at the latest",
            clock_text(left - 90)
        )
    };
    assert_eq!(js, js_expected, "the demo's tokens live {left} s more");
    eventually(Duration::from_secs(5), panel, |(later, py_later, _)| {
        *later < left && py_later == &format!("in {}", clock_text(later - 10))
    })
    .await;
    first
        .execute(
            "document.getElementById('clients-panel').scrollIntoView()",
            serde_json::json!([]),
        )
        .await
        .unwrap();
    first
        .screenshot(&shots_dir().join("clients-panel.png"))
        .await
        .unwrap();

    // Refresh now: a new refresh token and a TOKEN_REFRESHED row.
    let old_fingerprint = first.text_of("#refresh-fingerprint").await.unwrap();
    press(first, "#refresh-now").await;
    let new_fingerprint = rotated_from(first, &old_fingerprint).await;
    let kinds = eventually(
        Duration::from_secs(5),
        async || event_kinds(first).await,
        |k| k.iter().any(|k| k == "TOKEN_REFRESHED"),
    )
    .await;
    assert_eq!(
        kinds.last().map(String::as_str),
        Some("INITIAL_SESSION"),
        "oldest row first at the bottom: {kinds:?}"
    );
    first
        .screenshot(&shots_dir().join("session.png"))
        .await
        .unwrap();

    // Second launch on the same data folder and keyring: the same session comes back.
    launched.relaunch().await;
    let second = &launched.app;
    assert_eq!(
        second.text_of("#session-id").await.unwrap(),
        session_id,
        "restored, not a new sign-in"
    );
    assert_eq!(
        second.text_of("#refresh-fingerprint").await.unwrap(),
        new_fingerprint,
        "the rotated token was persisted"
    );
    let kinds = eventually(
        Duration::from_secs(5),
        async || event_kinds(second).await,
        |k| !k.is_empty(),
    )
    .await;
    assert_eq!(
        kinds,
        vec!["INITIAL_SESSION".to_string()],
        "restored with INITIAL_SESSION only"
    );
    second
        .screenshot(&shots_dir().join("restored.png"))
        .await
        .unwrap();
    launched.quit().await;
    // Everything the app and its web processes wrote (settings, log, demo database, WebKit's
    // storage) is its user's alone.
    let data = launched.data();
    let open: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .flatten()
        .flat_map(|entry| not_private(&entry.path()))
        .collect();
    assert!(open.is_empty(), "readable by others: {open:#?}");
    assert!(
        std::fs::read_dir(data.join(APP_FOLDER).join("demo")).is_ok_and(|mut d| d.next().is_some()),
        "the scan saw the demo database"
    );
    launched.finish().await;
}

/// "59:48" or "1:02:03" → seconds.
fn seconds_of(text: &str) -> i64 {
    text.trim().split(':').fold(0, |total, part| {
        total * 60 + part.parse::<i64>().unwrap_or_else(|_| panic!("{text}"))
    })
}

/// Seconds → "m:ss" (or "h:mm:ss"), as the window writes a countdown.
fn clock_text(seconds: i64) -> String {
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// Issue 11, item 5: the server refuses the refresh token while the access token still works.
/// The session stays (as supabase-js keeps it), marked with why and until when; the log says
/// so; a second Refresh now is sent and refused again; "End it now" ends it.
#[tokio::test]
#[ignore = "needs a display, a keyring, WebKitWebDriver and tauri-driver: run by `make test`"]
async fn a_rejected_refresh_token_keeps_the_session_marked_until_end_it_now() {
    let launched = launch("rejected", &[]).await;
    let app = &launched.app;
    let session_id = app.text_of("#session-id").await.unwrap();
    let server = app.text_of("#server-url").await.unwrap();

    // The server forgets the session (as a sign-out elsewhere or a revocation would).
    emulator(
        reqwest::Method::DELETE,
        &format!("{server}/_emulator/sessions/{session_id}"),
        serde_json::json!({}),
    )
    .await;
    let before = refresh_requests(&server).await;
    press(app, "#refresh-now").await;
    let banner = app
        .wait_for("#refresh-rejected", Duration::from_secs(10))
        .await
        .expect("the rejection is shown");
    let text = app.text(&banner).await.unwrap();
    assert!(
        text.contains("refresh_token_not_found")
            && text.contains("still works until")
            && text.contains("then a supabase-js app signs out"),
        "{text}"
    );
    assert_eq!(
        app.text_of("#session-id").await.unwrap(),
        session_id,
        "the session is kept while its access token works"
    );
    let kinds = eventually(
        Duration::from_secs(5),
        async || event_kinds(app).await,
        |k| k.first().map(String::as_str) == Some("REFRESH_REJECTED"),
    )
    .await;
    assert!(!kinds.contains(&"SIGNED_OUT".to_string()), "{kinds:?}");
    let row = app
        .execute(
            "return document.querySelector(\".event-row[data-kind='REFRESH_REJECTED'] .reason\").title;",
            serde_json::json!([]),
        )
        .await
        .unwrap();
    let row = row.as_str().unwrap_or_default();
    assert!(
        row.starts_with(
            "refresh token rejected: refresh_token_not_found; this access token still works until"
        ),
        "{row}"
    );

    // Refresh now always hits the endpoint (the refresh_session contract; supabase-js would
    // answer from its 60 s failure memory): rejected again, still kept and marked.
    press(app, "#refresh-now").await;
    eventually(
        Duration::from_secs(5),
        async || refresh_requests(&server).await - before,
        |n| *n == 2,
    )
    .await;
    assert_eq!(count_of(app, "#refresh-rejected").await, 1);
    assert_eq!(app.text_of("#session-id").await.unwrap(), session_id);
    app.screenshot(&shots_dir().join("refresh-rejected.png"))
        .await
        .unwrap();

    // End it now: signed out here, at once.
    press(app, "#end-session").await;
    app.wait_for("#empty-title", Duration::from_secs(10))
        .await
        .expect("the signed-out state");
    let kinds = eventually(
        Duration::from_secs(5),
        async || event_kinds(app).await,
        |k| k.first().map(String::as_str) == Some("SIGNED_OUT"),
    )
    .await;
    assert_eq!(kinds[0], "SIGNED_OUT");
    assert_eq!(count_of(app, "#refresh-rejected").await, 0);
    launched.finish().await;
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Every folder and file under `dir` (itself included) that its group or others can use.
fn not_private(dir: &Path) -> Vec<(PathBuf, String)> {
    use std::os::unix::fs::PermissionsExt as _;
    let mut open = Vec::new();
    let Ok(metadata) = std::fs::symlink_metadata(dir) else {
        return open;
    };
    let mode = metadata.permissions().mode();
    if !metadata.file_type().is_symlink() && mode & 0o077 != 0 {
        open.push((dir.to_path_buf(), format!("{:o}", mode & 0o777)));
    }
    if metadata.is_dir() {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            open.extend(not_private(&entry.path()));
        }
    }
    open
}

/// Calls the built-in server's `/_emulator` control API.
async fn emulator(
    method: reqwest::Method,
    url: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let answer = reqwest::Client::new()
        .request(method, url)
        .header("x-emulator-token", CONTROL_TOKEN)
        .json(&body)
        .send()
        .await
        .expect("the built-in server answers");
    answer.json().await.unwrap_or(serde_json::Value::Null)
}

/// How many refresh grants the built-in server has received.
async fn refresh_requests(server: &str) -> u64 {
    let counts = emulator(
        reqwest::Method::GET,
        &format!("{server}/_emulator/requests"),
        serde_json::Value::Null,
    )
    .await;
    counts["routes"]["POST /token?grant_type=refresh_token"]
        .as_u64()
        .unwrap_or(0)
}

/// Empties a text field the way deleting its text would (WebDriver's clear sends no `input`).
async fn erase(session: &Session, css: &str) {
    let script = "const f = document.querySelector(arguments[0]); f.value = ''; \
                  f.dispatchEvent(new Event('input', {bubbles: true}));";
    session
        .execute(script, serde_json::json!([css]))
        .await
        .expect("the field is emptied");
}

/// Waits for the refresh token shown to change from `old` (a rotation) and returns the new
/// fingerprint.
async fn rotated_from(session: &Session, old: &str) -> String {
    eventually(
        Duration::from_secs(10),
        async || session.text_of("#refresh-fingerprint").await.unwrap(),
        |f| f != old,
    )
    .await
}

/// The X clipboard's text, as another program on the desktop would paste it (None: empty).
fn clipboard_text() -> Option<String> {
    let out = std::process::Command::new("xclip")
        .args(["-selection", "clipboard", "-o"])
        .output()
        .expect("xclip runs (installed by setup.sh test)");
    (out.status.success() && !out.stdout.is_empty())
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// An error box's title and its message (the app's words), as shown.
async fn error_parts(session: &Session, css: &str) -> (String, String) {
    let script = "const box = document.querySelector(arguments[0]); \
        const part = (sel) => box?.querySelector(sel)?.textContent.trim() ?? ''; \
        return [part('.title strong'), part('.message')];";
    let parts = session
        .execute(script, serde_json::json!([css]))
        .await
        .expect("the error box is read");
    (
        parts[0].as_str().unwrap_or_default().to_string(),
        parts[1].as_str().unwrap_or_default().to_string(),
    )
}

/// The text of the first element matching `css` (the newest row of the log), its spaces
/// collapsed; empty when there is none.
async fn newest_text(session: &Session, css: &str) -> String {
    let script = "const e = document.querySelector(arguments[0]); \
        return e ? e.textContent.replace(/\\s+/g, ' ').trim() : '';";
    session
        .execute(script, serde_json::json!([css]))
        .await
        .expect("the page answers")
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn count_of(session: &Session, css: &str) -> usize {
    session.find_all(css).await.unwrap_or_default().len()
}

/// Refresh now under a double click, paste to rotate (a previous token, then garbage), and
/// a server that keeps failing: one request per double click, the right session afterwards,
/// clear errors, and the session kept through every failure.
#[tokio::test]
#[ignore = "needs a display, a keyring, WebKitWebDriver and tauri-driver: run by `make test`"]
async fn refresh_paste_and_failures_behave_and_keep_the_session() {
    let launched = launch("paste", &[]).await;
    let app = &launched.app;
    let session_id = app.text_of("#session-id").await.unwrap();
    let server = app.text_of("#server-url").await.unwrap();
    assert!(server.starts_with("http://127.0.0.1:"), "{server}");
    let signature = app
        .wait_for(
            "#signature-status[data-status='verified']",
            Duration::from_secs(10),
        )
        .await;
    assert!(
        signature.is_ok(),
        "the ES256 signature is checked against the JWKS"
    );

    // A real double click on Refresh now: exactly one refresh request reaches the server.
    let before = refresh_requests(&server).await;
    let fingerprint = app.text_of("#refresh-fingerprint").await.unwrap();
    let button = app
        .wait_for("#refresh-now", Duration::from_secs(5))
        .await
        .unwrap();
    app.double_click(&button).await.expect("a double click");
    let rotated = rotated_from(app, &fingerprint).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let after_double_click = refresh_requests(&server).await;
    println!(
        "double click: {} refresh request(s)",
        after_double_click - before
    );
    assert_eq!(
        after_double_click - before,
        1,
        "one request for a double click"
    );

    // Ctrl+R while the server holds the first request (Refresh now pressed): the second
    // trigger joins the one in flight (one request, a "joined" row): the engine's single-flight.
    emulator(
        reqwest::Method::POST,
        &format!("{server}/_emulator/faults"),
        serde_json::json!({"count": 1, "path": "/token", "delay_ms": 1500}),
    )
    .await;
    press(app, "#refresh-now").await;
    app.press_ctrl("r").await.expect("Ctrl+R");
    eventually(
        Duration::from_secs(10),
        async || count_of(app, ".joined-row").await,
        |n| *n >= 1,
    )
    .await;
    rotated_from(app, &rotated).await;
    assert_eq!(
        refresh_requests(&server).await - after_double_click,
        1,
        "the second click joined"
    );

    // Reveal the refresh token (the only way it reaches the window), refresh, then paste the
    // now-previous token inside the reuse interval: the server answers with the live session.
    let reveal = app
        .wait_for("#refresh-reveal", Duration::from_secs(5))
        .await
        .unwrap();
    app.click(&reveal).await.unwrap();
    let old_token = app.text_of("#refresh-revealed").await.unwrap();
    launched.saw(&old_token);
    assert!(old_token.len() >= 12, "a refresh token was revealed");
    // Copy puts it on the desktop's clipboard from Rust, and says when it will be cleared.
    // Taken before the press: the app's 30 s timer starts after it, so the clipboard is
    // cleared no sooner than 30 s from here.
    let copied_at = std::time::Instant::now();
    press(app, "#refresh-copy").await;
    let copied = app.text_of("#refresh-copied").await.unwrap();
    assert!(copied.contains("clears in"), "{copied}");
    app.screenshot(&shots_dir().join("copied.png"))
        .await
        .unwrap();
    assert_eq!(clipboard_text().as_deref(), Some(old_token.as_str()));
    let shown = app.text_of("#refresh-fingerprint").await.unwrap();
    press(app, "#refresh-now").await;
    let head = rotated_from(app, &shown).await;
    assert!(
        count_of(app, "#refresh-revealed").await == 0,
        "a new token hides the revealed one"
    );
    let input = app
        .wait_for("#paste-input", Duration::from_secs(5))
        .await
        .unwrap();
    app.send_keys(&input, &old_token).await.unwrap();
    let preview = app.text_of("#paste-preview").await.unwrap();
    assert!(
        preview.contains(&shown),
        "the preview names the pasted token by fingerprint: {preview}"
    );
    assert!(
        !preview.contains(&old_token),
        "the preview never repeats the token"
    );
    app.screenshot(&shots_dir().join("paste-preview.png"))
        .await
        .unwrap();
    let rotate = app
        .wait_for("#paste-rotate", Duration::from_secs(5))
        .await
        .unwrap();
    app.click(&rotate).await.unwrap();
    let done = app.text_of("#paste-done").await.expect("the paste rotated");
    assert!(done.contains("Rotated"), "{done}");
    assert_eq!(
        app.text_of("#session-id").await.unwrap(),
        session_id,
        "the same session"
    );
    assert_eq!(
        app.text_of("#refresh-fingerprint").await.unwrap(),
        head,
        "inside the reuse interval GoTrue answers with the session's live token"
    );

    // Garbage: each input is refused by the rule that fits it, said in the window as the
    // preview's error and again by Rotate (a "paste failed" row with the same words); nothing
    // is sent and the session is unchanged.
    let requests = refresh_requests(&server).await;
    // The revealed token typed with Caps Lock on: a legacy token's shape, the wrong letters.
    let shouted = old_token.to_uppercase();
    launched.saw(&shouted);
    let garbage = [
        (
            "hello, this is not a token",
            "This looks like plain text (\"hello, t…\"), not a token, session JSON or cookie",
        ),
        (
            "{\"user\": {\"id\": 1}}",
            "This looks like JSON but has no access_token or refresh_token",
        ),
        (
            "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0",
            "This looks like a JWT but it has only 2 of the 3 dot-separated parts of a JWT \
             (was it cut short?)",
        ),
        (
            "Bearer abc",
            "This looks like a Bearer header but the token is not a valid JWT: it has no dots, \
             while a JWT is three base64url parts joined by dots",
        ),
        (
            shouted.as_str(),
            "This is 12 characters like a legacy refresh token, but those use only lowercase \
             letters and digits",
        ),
        (
            "theme=dark; lang=en",
            "This looks like a cookie, but not an sb-…-auth-token session cookie",
        ),
    ];
    for (input, rule) in garbage {
        erase(app, "#paste-input").await;
        type_into(app, "#paste-input", input).await;
        let (title, _) = eventually(
            Duration::from_secs(10),
            async || error_parts(app, "#paste-error").await,
            |(_, message)| message == rule,
        )
        .await;
        assert_eq!(title, "Input not accepted", "{input:?}");
        // Each rule's words differ from the last one's: the newest failure row with them is
        // this Rotate's.
        press(app, "#paste-rotate").await;
        eventually(
            Duration::from_secs(10),
            async || newest_text(app, ".failure-row .reason").await,
            |reason| reason == rule,
        )
        .await;
        assert_eq!(
            newest_text(app, ".failure-row .label").await,
            "paste failed",
            "Rotate refuses {input:?} by the same rule"
        );
        assert_eq!(error_parts(app, "#paste-error").await.1, rule, "{input:?}");
    }
    assert_eq!(
        refresh_requests(&server).await,
        requests,
        "garbage is never sent"
    );
    assert_eq!(app.text_of("#refresh-fingerprint").await.unwrap(), head);
    assert_eq!(app.text_of("#session-id").await.unwrap(), session_id);
    erase(app, "#paste-input").await;

    // The server fails with 503 (an HTML page, as a proxy would send) on every attempt: the
    // error is shown in plain words with its status, and the session stays.
    emulator(
        reqwest::Method::POST,
        &format!("{server}/_emulator/faults"),
        serde_json::json!({"count": 50, "path": "/token", "status": 503, "body": "html"}),
    )
    .await;
    let failures = count_of(app, ".failure-row").await;
    press(app, "#refresh-now").await;
    let error = app
        .text_of("#refresh-error")
        .await
        .expect("the failure is shown");
    println!("injected 503: {error}");
    assert!(error.contains("503"), "{error}");
    assert_eq!(
        app.text_of("#refresh-fingerprint").await.unwrap(),
        head,
        "the session is kept"
    );
    assert_eq!(app.text_of("#session-id").await.unwrap(), session_id);
    assert!(
        count_of(app, ".failure-row").await > failures,
        "a failure row in the log"
    );
    assert!(
        count_of(app, ".request-row[data-status='503']").await >= 2,
        "each attempt is a row"
    );
    app.screenshot(&shots_dir().join("server-error.png"))
        .await
        .unwrap();

    // A request row opens its HTTP exchange, redacted.
    let row = app
        .wait_for(
            ".request-row[data-status='503'] button",
            Duration::from_secs(5),
        )
        .await
        .unwrap();
    app.click(&row).await.unwrap();
    let detail = eventually(
        Duration::from_secs(5),
        async || app.text_of("#log-detail").await.unwrap(),
        |t| t.contains("503") && t.contains("POST"),
    )
    .await;
    assert!(!detail.contains(&old_token), "the exchange is redacted");
    app.screenshot(&shots_dir().join("exchange.png"))
        .await
        .unwrap();
    // Search narrows the log to the matching rows: every word must match, and "request" is
    // in request rows only (a bare "503" can match an event row's random ids or fingerprints).
    type_into(app, "#log-search", "request 503").await;
    let kinds = eventually(
        Duration::from_secs(5),
        async || event_kinds(app).await,
        |k| k.is_empty(),
    )
    .await;
    assert!(kinds.is_empty(), "no auth event row mentions 503");
    assert!(count_of(app, ".request-row[data-status='503']").await >= 2);
    erase(app, "#log-search").await;
    assert!(
        !eventually(
            Duration::from_secs(5),
            async || event_kinds(app).await,
            |k| !k.is_empty(),
        )
        .await
        .is_empty(),
        "clearing the search shows the events again"
    );

    // 30 s after the copy the clipboard no longer holds the token.
    let left = Duration::from_secs(35).saturating_sub(copied_at.elapsed());
    let held = eventually(
        left,
        async || clipboard_text(),
        |t| t.as_deref() != Some(&old_token),
    )
    .await;
    assert!(
        copied_at.elapsed() >= Duration::from_secs(30),
        "cleared only after 30 s, not at {:?} ({held:?})",
        copied_at.elapsed()
    );

    // The server recovers: Refresh now works again on the same session.
    emulator(
        reqwest::Method::DELETE,
        &format!("{server}/_emulator/faults"),
        serde_json::Value::Null,
    )
    .await;
    press(app, "#refresh-now").await;
    rotated_from(app, &head).await;
    assert!(
        count_of(app, "#refresh-error").await == 0,
        "the error clears"
    );
    assert!(
        count_of(app, "#paste-error").await == 0,
        "an emptied paste field has no error"
    );

    // The server's clock runs a minute ahead: its Date header says so, and the countdown is
    // corrected (a fresh 2-minute token reads about 2:00, not 3:00).
    emulator(
        reqwest::Method::PUT,
        &format!("{server}/_emulator/clock"),
        serde_json::json!({"skew_seconds": 60}),
    )
    .await;
    let fresh = app.text_of("#refresh-fingerprint").await.unwrap();
    press(app, "#refresh-now").await;
    rotated_from(app, &fresh).await;
    let offset = app
        .text_of("#clock-offset")
        .await
        .expect("the offset is shown");
    // `Date` has one-second resolution, so the measured offset is 59 to 61 s.
    assert!(
        ["+59 s", "+60 s", "+61 s"]
            .iter()
            .any(|s| offset.contains(s)),
        "{offset}"
    );
    let countdown = app.text_of("#countdown").await.unwrap();
    println!("server clock +60 s: {offset}; countdown {countdown}");
    assert!(
        countdown.starts_with("1:5") || countdown == "2:00",
        "corrected countdown: {countdown}"
    );
    app.screenshot(&shots_dir().join("inspector.png"))
        .await
        .unwrap();
    launched.finish().await;
}

/// The controls no other test drives, through the real window. Copy puts the access token on
/// the desktop's clipboard (from Rust, never through the page) and it is gone 30 s later.
/// Auto-refresh: a margin the app refuses is said in words and undone; switched on with a
/// margin near the demo tokens' 2-minute life, TOKEN_REFRESHED arrives with nothing pressed,
/// and switched off, no refresh follows. Export saves the rows shown, as NDJSON, into the
/// desktop's Downloads folder (this test's, through `user-dirs.dirs`), with no token in them.
/// Clear empties the log, and the next event starts it afresh.
#[tokio::test]
#[ignore = "needs a display, a keyring, WebKitWebDriver and tauri-driver: run by `make test`"]
async fn copy_auto_refresh_export_and_clear_through_the_window() {
    let launched = launch("controls", &[]).await;
    let app = &launched.app;
    let server = launched.demo.clone();
    let session_id = app.text_of("#session-id").await.unwrap();

    // Copy: the token shown (by fingerprint) is the one on the clipboard, and the window
    // never held it.
    let shown = app.text_of("#access-fingerprint").await.unwrap();
    // Taken before the press: the app's 30 s timer starts after it.
    let copied_at = Instant::now();
    press(app, "#access-copy").await;
    let copied = app.text_of("#access-copied").await.unwrap();
    assert!(copied.contains("clipboard clears in"), "{copied}");
    let token = clipboard_text().expect("the clipboard holds the copy");
    launched.saw(&token);
    assert_eq!(session_engine::tokens::fingerprint(&token), shown);
    assert!(
        leaks::is_access_token(&token),
        "an access token (a JWT with a session_id)"
    );
    assert_eq!(
        count_of(app, "#access-revealed").await,
        0,
        "copying reveals nothing"
    );

    // Auto-refresh starts off. A margin outside the allowed range is refused in the app's
    // words, and the field shows the margin in force again.
    assert!(!checked(app, "#auto-refresh").await, "off by default");
    let default_margin = field_value(app, "#auto-margin").await;
    set_number(app, "#auto-margin", "2").await;
    let refused = app.text_of("#settings-error").await.unwrap();
    assert_eq!(refused, "The margin must be between 5 and 3600 seconds.");
    eventually(
        Duration::from_secs(5),
        async || field_value(app, "#auto-margin").await,
        |value| value == &default_margin,
    )
    .await;

    // A margin of 115 s on 2-minute tokens: due at once, and again about every 5 s.
    set_number(app, "#auto-margin", "115").await;
    eventually(
        Duration::from_secs(5),
        async || count_of(app, "#settings-error").await,
        |n| *n == 0,
    )
    .await;
    let before = refresh_requests(&server).await;
    let fingerprint = app.text_of("#refresh-fingerprint").await.unwrap();
    press(app, "#auto-refresh").await;
    let switched_on = Instant::now();
    assert!(checked(app, "#auto-refresh").await);
    // The click returns before the app has saved: wait for the file to say so.
    eventually(
        Duration::from_secs(10),
        async || {
            let demo = saved_profile(&launched, "built-in-demo");
            (
                demo["autoRefresh"].clone(),
                demo["refreshMarginSecs"].clone(),
            )
        },
        |saved| *saved == (serde_json::json!(true), serde_json::json!(115)),
    )
    .await;
    // Nothing is pressed from here on.
    let mark = log_mark(app).await;
    let first = eventually(
        Duration::from_secs(20),
        async || app.text_of("#refresh-fingerprint").await.unwrap(),
        |f| f != &fingerprint,
    )
    .await;
    wait_for_event(app, mark, "TOKEN_REFRESHED").await;
    eventually(
        Duration::from_secs(20),
        async || app.text_of("#refresh-fingerprint").await.unwrap(),
        |f| f != &first,
    )
    .await;
    let automatic = refresh_requests(&server).await - before;
    // No storm either: the schedule keeps at least 5 s between two automatic refreshes.
    let most = switched_on.elapsed().as_secs() / 5 + 1;
    println!(
        "auto-refresh: {automatic} automatic refresh(es) in {:?}",
        switched_on.elapsed()
    );
    assert!(
        (2..=most).contains(&automatic),
        "{automatic} refreshes, at most {most}"
    );
    assert_eq!(app.text_of("#session-id").await.unwrap(), session_id);

    // Switched off: once the window shows the server's newest token (no refresh in flight),
    // no refresh follows for two of the schedule's gaps and more.
    press(app, "#auto-refresh").await;
    assert!(!checked(app, "#auto-refresh").await);
    // The app itself (not just the checkbox) has the schedule off.
    eventually(
        Duration::from_secs(10),
        async || {
            app.execute(
                "return window.__TAURI_INTERNALS__.invoke('inspector_status').then((s) => s.autoRefresh);",
                serde_json::json!([]),
            )
            .await
            .unwrap_or_default()
        },
        |on| *on == serde_json::json!(false),
    )
    .await;
    eventually(
        Duration::from_secs(10),
        async || {
            let newest = newest_refresh_token(&server, &session_id).await;
            let shown = app.text_of("#refresh-fingerprint").await.unwrap();
            newest.is_some_and(|t| session_engine::tokens::fingerprint(&t) == shown)
        },
        |settled| *settled,
    )
    .await;
    let settled = refresh_requests(&server).await;
    let quiet_until = Instant::now() + Duration::from_secs(12);
    while Instant::now() < quiet_until {
        assert_eq!(refresh_requests(&server).await, settled, "off means off");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(
        eventually(
            Duration::from_secs(10),
            async || saved_profile(&launched, "built-in-demo")["autoRefresh"].clone(),
            |saved| *saved == serde_json::json!(false),
        )
        .await,
        false
    );

    // Export: every row shown, oldest first, one JSON object a line, in this test's Downloads
    // folder, readable by its user only, with fingerprints and no token.
    let rows = log_count(app).await;
    press(app, "#log-export").await;
    let saved = app.text_of("#log-exported").await.unwrap();
    let path = PathBuf::from(saved.strip_prefix("Saved ").expect("the path is shown"));
    assert!(
        path.starts_with(launched.downloads()),
        "into the desktop's Downloads folder: {}",
        path.display()
    );
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("session-inspector-log-") && name.ends_with(".ndjson"),
        "{name}"
    );
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
    }
    let text = std::fs::read_to_string(&path).unwrap();
    let items: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("each line is JSON"))
        .collect();
    assert_eq!(items.len(), rows, "every row shown is exported");
    assert!(
        items
            .windows(2)
            .all(|w| w[0]["seq"].as_u64() < w[1]["seq"].as_u64()),
        "oldest first"
    );
    let refreshed: Vec<&serde_json::Value> = items
        .iter()
        .filter(|i| i["type"] == "event" && i["event"]["kind"] == "TOKEN_REFRESHED")
        .collect();
    assert!(refreshed.len() >= 2, "the automatic refreshes: {text}");
    assert_eq!(
        refreshed.last().unwrap()["event"]["session"]["refreshTokenFingerprint"],
        app.text_of("#refresh-fingerprint").await.unwrap().as_str(),
        "the newest TOKEN_REFRESHED names the token shown"
    );
    let grants = items
        .iter()
        .filter(|i| {
            i["type"] == "request"
                && i["request"]["path"] == "/auth/v1/token?grant_type=refresh_token"
                && i["request"]["status"] == 200
        })
        .count();
    assert!(grants >= 2, "the requests behind them: {grants}");
    assert!(text.contains("fp:"), "tokens named by fingerprint");
    launched.harvest().await;
    let secrets = launched.seen.lock().unwrap().clone();
    let scan = leaks::scan(&launched.downloads(), &[], &secrets);
    assert_eq!(scan.files, 1);
    assert!(
        scan.hits.is_empty(),
        "the export holds a token: {:#?}",
        scan.hits
    );
    println!(
        "export: {} rows ({} TOKEN_REFRESHED), no token among {} secrets",
        items.len(),
        refreshed.len(),
        secrets.len()
    );

    // Clear: the log is empty (nothing to export or clear), and the next event starts it.
    press(app, "#log-clear").await;
    eventually(
        Duration::from_secs(5),
        async || log_count(app).await,
        |n| *n == 0,
    )
    .await;
    assert!(disabled(app, "#log-export").await && disabled(app, "#log-clear").await);
    assert!(event_kinds(app).await.is_empty());
    let shown = app.text_of("#refresh-fingerprint").await.unwrap();
    press(app, "#refresh-now").await;
    rotated_from(app, &shown).await;
    let kinds = eventually(
        Duration::from_secs(10),
        async || event_kinds(app).await,
        |k| !k.is_empty(),
    )
    .await;
    assert_eq!(kinds, ["TOKEN_REFRESHED"], "only what came after the clear");

    // 30 s after the copy the clipboard no longer holds the token.
    let left = Duration::from_secs(35).saturating_sub(copied_at.elapsed());
    let held = eventually(
        left,
        async || clipboard_text(),
        |t| t.as_deref() != Some(token.as_str()),
    )
    .await;
    assert!(
        copied_at.elapsed() >= Duration::from_secs(30),
        "cleared only after 30 s, not at {:?} ({held:?})",
        copied_at.elapsed()
    );
    // The window's note goes with it (its clock ticks once a second).
    eventually(
        Duration::from_secs(5),
        async || count_of(app, "#access-copied").await,
        |n| *n == 0,
    )
    .await;
    launched.finish().await;
}

/// A DOM property of the element matching `css` (`checked`, `disabled`, `value`…).
async fn property(session: &Session, css: &str, name: &str) -> serde_json::Value {
    session
        .execute(
            "return document.querySelector(arguments[0])[arguments[1]];",
            serde_json::json!([css, name]),
        )
        .await
        .expect("the page answers")
}

/// Whether a checkbox is ticked.
async fn checked(session: &Session, css: &str) -> bool {
    property(session, css, "checked").await == true
}

/// Whether a control is disabled.
async fn disabled(session: &Session, css: &str) -> bool {
    property(session, css, "disabled").await == true
}

/// A field's current value.
async fn field_value(session: &Session, css: &str) -> String {
    property(session, css, "value")
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Types a new number into a field as a user would after emptying it, and leaves it with Tab
/// (which commits it: a `change` event).
async fn set_number(session: &Session, css: &str, value: &str) {
    const TAB: &str = "\u{E004}";
    erase(session, css).await;
    let field = session.wait_for(css, Duration::from_secs(5)).await.unwrap();
    session
        .send_keys(&field, &format!("{value}{TAB}"))
        .await
        .unwrap();
}

/// The number of rows in the live log, as its header counts them.
async fn log_count(session: &Session) -> usize {
    let text = newest_text(session, "#log-count").await;
    text.split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a row count: {text:?}"))
}

/// A profile as the settings file holds it now.
fn saved_profile(launched: &Launched, id: &str) -> serde_json::Value {
    let file = launched.data().join(APP_FOLDER).join("settings.json");
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    stored["settings"]["profiles"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no profile {id} in {stored}"))
}

/// The refresh token the server would accept now for `session_id`: its newest one.
async fn newest_refresh_token(server: &str, session_id: &str) -> Option<String> {
    let sessions = emulator(
        reqwest::Method::GET,
        &format!("{server}/_emulator/sessions"),
        serde_json::Value::Null,
    )
    .await;
    let session = sessions
        .as_array()?
        .iter()
        .find(|s| s["id"] == session_id)?
        .clone();
    session["refresh_tokens"]
        .as_array()?
        .iter()
        .filter(|t| t["revoked"] == false)
        .max_by_key(|t| t["created_at"].as_str().unwrap_or_default().to_string())
        .and_then(|t| t["token"].as_str().map(str::to_string))
}

/// The window follows the OS's dark preference (GTK's dark theme here).
#[tokio::test]
#[ignore = "needs a display, a keyring, WebKitWebDriver and tauri-driver: run by `make test`"]
async fn the_window_follows_a_dark_desktop() {
    let launched = launch("dark", &[("GTK_THEME", Path::new("Adwaita:dark"))]).await;
    let app = &launched.app;
    app.text_of("#session-id").await.unwrap();
    let dark = app
        .execute(
            "return [matchMedia('(prefers-color-scheme: dark)').matches, getComputedStyle(document.documentElement).backgroundColor];",
            serde_json::json!([]),
        )
        .await
        .unwrap();
    println!("dark desktop: {dark}");
    assert_eq!(
        dark[0], true,
        "WebKitGTK reports the dark preference: {dark}"
    );
    assert_eq!(dark[1], "rgb(11, 17, 32)", "the dark palette is in use");
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.screenshot(&shots_dir().join("dark.png")).await.unwrap();
    launched.finish().await;
}

/// Sets a `<select>` the way choosing an option does.
async fn choose(session: &Session, css: &str, value: &str) {
    let script = "const s = document.querySelector(arguments[0]); s.value = arguments[1]; \
                  s.dispatchEvent(new Event('change', {bubbles: true}));";
    session
        .execute(script, serde_json::json!([css, value]))
        .await
        .expect("the option is chosen");
}

async fn type_into(session: &Session, css: &str, text: &str) {
    let field = session.wait_for(css, Duration::from_secs(5)).await.unwrap();
    session.send_keys(&field, text).await.unwrap();
}

async fn press(session: &Session, css: &str) {
    let button = session
        .wait_for(css, Duration::from_secs(10))
        .await
        .unwrap();
    session.click(&button).await.unwrap();
}

/// Sign out and sign in through the window, then add a detected local stack as a project,
/// sign in there, and switch back to the demo.
#[tokio::test]
#[ignore = "needs a display, a keyring, WebKitWebDriver and tauri-driver: run by `make test`"]
async fn sign_in_out_and_a_detected_local_stack_through_the_window() {
    // A stand-in for `supabase start`, behind a gateway that checks the API key.
    let stack = local_gotrue::start(local_gotrue::Config {
        require_api_key: true,
        ..local_gotrue::Config::default()
    })
    .await
    .unwrap();
    emulator(
        reqwest::Method::POST,
        &format!("{}/_emulator/users", stack.url()),
        serde_json::json!({"email": "dev@local.test", "password": "local-password-1"}),
    )
    .await;
    let stack_url = stack.url();
    let launched = launch(
        "profiles",
        &[
            ("SESSION_INSPECTOR_LOCAL_STACK", Path::new(&stack_url)),
            (
                "SESSION_INSPECTOR_LOCAL_STACK_KEY",
                Path::new(stack.anon_key()),
            ),
        ],
    )
    .await;
    launched.watch(&stack_url);
    let app = &launched.app;
    let demo_session = app.text_of("#session-id").await.unwrap();

    // The passwords typed and the project's JWT secrets: secrets the window held.
    for secret in [
        "not-the-password",
        "demo-password",
        "local-password-1",
        "not-the-projects-secret-0123456789",
        local_gotrue::config::DEFAULT_JWT_SECRET,
    ] {
        launched.saw(secret);
    }

    // Sign out (this session only): the window teaches what to do next.
    choose(app, "#signout-scope", "local").await;
    press(app, "#signout-submit").await;
    app.wait_for("#empty-title", Duration::from_secs(10))
        .await
        .expect("the signed-out state");
    let kinds = eventually(
        Duration::from_secs(5),
        async || event_kinds(app).await,
        |k| k.first().map(String::as_str) == Some("SIGNED_OUT"),
    )
    .await;
    assert_eq!(kinds[0], "SIGNED_OUT");
    app.screenshot(&shots_dir().join("signed-out.png"))
        .await
        .unwrap();

    // A wrong password: GoTrue's code in plain words, still signed out.
    type_into(app, "#signin-email", "demo@sessioninspector.local").await;
    type_into(app, "#signin-password", "not-the-password").await;
    press(app, "#signin-submit").await;
    let error = app.text_of("#account-error").await.unwrap();
    assert!(error.contains("invalid_credentials"), "{error}");
    assert_eq!(count_of(app, "#session-id").await, 0);

    // Anonymous, then out again, then the demo user with the right password.
    press(app, "#signin-anonymous").await;
    let title = app.text_of("#session-title").await.unwrap();
    assert_eq!(title, "Anonymous user");
    // Its token, for the scan, before the sign-out deletes it from the server.
    launched.harvest().await;
    launched.knows(&app.text_of("#refresh-fingerprint").await.unwrap());
    press(app, "#signout-submit").await;
    app.wait_for("#empty-title", Duration::from_secs(10))
        .await
        .unwrap();
    erase(app, "#signin-password").await;
    type_into(app, "#signin-password", "demo-password").await;
    press(app, "#signin-submit").await;
    let signed_in = app.text_of("#session-id").await.unwrap();
    assert_ne!(signed_in, demo_session, "a new session");
    assert_eq!(
        app.text_of("#session-title").await.unwrap(),
        "demo@sessioninspector.local"
    );

    // The local stack is detected and offered in the project form.
    press(app, "#add-project").await;
    let offered = app
        .text_of("#local-stack")
        .await
        .expect("the stack is offered");
    assert!(offered.contains(&stack_url), "{offered}");

    // A bad URL or key is refused with the rule it breaks, before anything is saved; a key
    // the server does not take is refused with the server's answer.
    let anon_key = stack.anon_key().to_string();
    let insecure = "http://auth.example.com".to_string();
    let refusals = [
        (
            "not a url",
            anon_key.as_str(),
            "project URL \"not a url\" is not a URL".to_string(),
        ),
        (
            insecure.as_str(),
            anon_key.as_str(),
            format!(
                "project URL \"{insecure}\" must use https (plain http is only for loopback addresses)"
            ),
        ),
        (
            stack_url.as_str(),
            "sb_secret_0123456789abcdef",
            "That is a secret key: never give it to a client. Use the anon or publishable key."
                .to_string(),
        ),
        (
            stack_url.as_str(),
            "just-some-text",
            "The anon key should be the project's anon JWT (eyJ…) or its publishable key \
             (sb_publishable_…), from Project Settings → API."
                .to_string(),
        ),
        // Well-formed, but not this project's key: the gateway's answer, in the app's words.
        (
            stack_url.as_str(),
            "sb_publishable_not-this-projects-key",
            format!("{stack_url} did not answer as a Supabase Auth server with this key: Invalid API key"),
        ),
    ];
    type_into(app, "#project-name", "Local stack").await;
    for (url, key, rule) in &refusals {
        erase(app, "#project-url").await;
        erase(app, "#project-key").await;
        type_into(app, "#project-url", url).await;
        type_into(app, "#project-key", key).await;
        press(app, "#project-save").await;
        let (title, _) = eventually(
            Duration::from_secs(15),
            async || error_parts(app, "#project-error").await,
            |(_, message)| message == rule,
        )
        .await;
        assert_eq!(title, "Input not accepted", "{url} {key}");
    }
    assert_eq!(
        count_of(app, "#profile-select option").await,
        1,
        "nothing was saved"
    );
    scroll_to(app, "#project-error").await;
    app.screenshot(&shots_dir().join("project-error.png"))
        .await
        .unwrap();
    // Closed and opened again, the form starts afresh.
    press(app, "#add-project").await;
    press(app, "#add-project").await;
    app.wait_for("#local-stack", Duration::from_secs(10))
        .await
        .expect("the stack is offered again");
    assert_eq!(count_of(app, "#project-error").await, 0);
    press(app, "#use-local-stack").await;
    app.screenshot(&shots_dir().join("add-project.png"))
        .await
        .unwrap();
    press(app, "#project-save").await;
    app.wait_for("#empty-title", Duration::from_secs(15))
        .await
        .expect("the new profile starts signed out");
    assert_eq!(
        count_of(app, "#server-url").await,
        0,
        "not the demo any more"
    );
    erase(app, "#signin-email").await;
    erase(app, "#signin-password").await;
    type_into(app, "#signin-email", "dev@local.test").await;
    type_into(app, "#signin-password", "local-password-1").await;
    press(app, "#signin-submit").await;
    assert_eq!(
        app.text_of("#session-title").await.unwrap(),
        "dev@local.test"
    );
    // The local stack's sessions are read too: its token is among those the scan looks for.
    launched.harvest().await;
    launched.knows(&app.text_of("#refresh-fingerprint").await.unwrap());
    let issuer = eventually(
        Duration::from_secs(5),
        async || app.text_of("#claims-table").await.unwrap_or_default(),
        |t| t.contains(&stack_url),
    )
    .await;
    assert!(issuer.contains(&stack_url));

    // An HS256 project: without its secret the server is asked (getClaims' GET /user); with
    // a wrong secret the signature is invalid; with the right one, kept in the keyring, it is
    // verified here.
    let badge = async |want: &str| {
        eventually(
            Duration::from_secs(10),
            async || app.text_of("#signature-status").await.unwrap_or_default(),
            |t| t.starts_with(want),
        )
        .await
    };
    badge("✓ Accepted by the server · HS256").await;
    type_into(app, "#jwt-secret", "not-the-projects-secret-0123456789").await;
    press(app, "#jwt-secret-save").await;
    badge("✗ Signature invalid · HS256").await;
    press(app, "#jwt-secret-forget").await;
    badge("✓ Accepted by the server").await;
    type_into(app, "#jwt-secret", local_gotrue::config::DEFAULT_JWT_SECRET).await;
    press(app, "#jwt-secret-save").await;
    badge("✓ Signature verified · HS256").await;
    assert_eq!(count_of(app, "#jwt-secret").await, 0, "never shown again");
    app.execute(
        "document.querySelector('section.claims').scrollIntoView()",
        serde_json::json!([]),
    )
    .await
    .unwrap();
    app.screenshot(&shots_dir().join("hs256-verified.png"))
        .await
        .unwrap();

    // Back to the demo: its session is still there.
    choose(app, "#profile-select", "built-in-demo").await;
    let back = eventually(
        Duration::from_secs(15),
        async || app.text_of("#session-id").await.unwrap_or_default(),
        |id| id == &signed_in,
    )
    .await;
    assert_eq!(back, signed_in);
    assert_eq!(count_of(app, "#server-url").await, 1);

    // To the project again (its session kept in the keyring), then remove it: the window
    // returns to the demo, and only the demo is left to choose.
    let options = app
        .execute(
            "return [...document.querySelectorAll('#profile-select option')].map(o => o.value);",
            serde_json::json!([]),
        )
        .await
        .unwrap();
    let project = options
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o.as_str())
        .find(|o| *o != "built-in-demo")
        .expect("the project is listed")
        .to_string();
    choose(app, "#profile-select", &project).await;
    eventually(
        Duration::from_secs(15),
        async || app.text_of("#session-title").await.unwrap_or_default(),
        |t| t == "dev@local.test",
    )
    .await;
    press(app, "#remove-profile").await;
    press(app, "#remove-profile-confirm").await;
    eventually(
        Duration::from_secs(15),
        async || app.text_of("#session-id").await.unwrap_or_default(),
        |id| id == &signed_in,
    )
    .await;
    assert_eq!(count_of(app, "#profile-select option").await, 1);
    launched.finish().await;
}

/// Scrolls the window so the element is in view (for a screenshot of it).
async fn scroll_to(app: &Session, css: &str) {
    app.execute(
        "document.querySelector(arguments[0]).scrollIntoView({block: 'center'});",
        serde_json::json!([css]),
    )
    .await
    .expect("the element scrolls into view");
}

/// Signs the demo user out of the window, leaving the sign-in panel.
async fn sign_out_of_the_window(app: &Session) {
    choose(app, "#signout-scope", "local").await;
    press(app, "#signout-submit").await;
    app.wait_for("#empty-title", Duration::from_secs(10))
        .await
        .expect("the signed-out state");
}

/// The live log's rows, newest first (a virtual list: the rendered ones say their position
/// in the whole list and its length).
const LOG_ROWS: &str = r#"ol[aria-label="Log rows, newest first"] > li"#;

/// How many rows the live log has now, to look for an event among the rows that arrive after
/// it (`wait_for_event`).
async fn log_mark(app: &Session) -> u64 {
    let script = format!(
        "const li = document.querySelector('{LOG_ROWS}'); \
         return li ? Number(li.getAttribute('aria-setsize')) : 0;"
    );
    app.execute(&script, serde_json::json!([]))
        .await
        .ok()
        .and_then(|n| n.as_u64())
        .unwrap_or(0)
}

/// An event of `kind` is among the rows that arrived since `mark` (rows are newest first, so
/// they are the top ones). Not only the latest: the demo's short-lived tokens can refresh
/// (TOKEN_REFRESHED) between the action and the look.
async fn wait_for_event(app: &Session, mark: u64, kind: &str) {
    let script = format!(
        "const rows = [...document.querySelectorAll('{LOG_ROWS}')]; \
         if (rows.length === 0) return []; \
         const total = Number(rows[0].getAttribute('aria-setsize')); \
         const above = Number(rows[0].getAttribute('aria-posinset')) - 1; \
         const arrived = Math.max(0, total - arguments[0] - above); \
         return rows.slice(0, arrived).map((row) => row.dataset.kind || null);"
    );
    eventually(
        Duration::from_secs(10),
        async || {
            app.execute(&script, serde_json::json!([mark]))
                .await
                .unwrap_or_default()
        },
        |kinds| {
            kinds
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k.as_str() == Some(kind)))
        },
    )
    .await;
}

/// A one-time code from the demo server's inbox, shown in the window: a wrong code is refused
/// in plain words and signs nobody in; "Send again" meets GoTrue's per-address limit; the
/// right code signs in (SIGNED_IN, amr otp).
#[tokio::test]
#[ignore = "needs a display, a keyring, WebKitWebDriver and tauri-driver: run by `make test`"]
async fn a_code_from_the_demo_inbox_signs_in_and_a_wrong_one_is_refused() {
    let launched = launch("otp", &[]).await;
    let app = &launched.app;
    let demo_session = app.text_of("#session-id").await.unwrap();
    sign_out_of_the_window(app).await;

    press(app, "#signin-tab-email-code").await;
    type_into(app, "#otp-recipient", "demo@sessioninspector.local").await;
    press(app, "#otp-send").await;
    let code = app.text_of("#inbox-messages .inbox-code").await.unwrap();
    assert!(
        code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()),
        "{code:?}"
    );

    // A wrong code: GoTrue's answer in plain words, still signed out.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    type_into(app, "#otp-code", wrong).await;
    press(app, "#otp-verify").await;
    let error = app.text_of("#otp-error").await.unwrap();
    assert!(
        error.contains("otp_expired") && error.contains("Code or link expired"),
        "{error}"
    );
    assert_eq!(count_of(app, "#session-id").await, 0);

    // Asking again at once meets the per-address send limit, with GoTrue's own words.
    press(app, "#otp-resend").await;
    let limited = eventually(
        Duration::from_secs(10),
        async || app.text_of("#otp-error").await.unwrap_or_default(),
        |text| text.contains("over_email_send_rate_limit"),
    )
    .await;
    assert!(
        limited.contains("you can only request this after"),
        "{limited}"
    );
    scroll_to(app, "#inbox-messages").await;
    app.screenshot(&shots_dir().join("otp-inbox.png"))
        .await
        .unwrap();

    // The right code signs in.
    erase(app, "#otp-code").await;
    type_into(app, "#otp-code", &code).await;
    let mark = log_mark(app).await;
    press(app, "#otp-verify").await;
    let session = app.text_of("#session-id").await.unwrap();
    assert_ne!(session, demo_session, "a new session");
    wait_for_event(app, mark, "SIGNED_IN").await;
    let how = app.text_of("#session-amr").await.unwrap();
    assert!(how.contains("otp"), "{how}");

    // A new address: the user is created and sent a sign-up link, which, pasted (here from
    // the inbox's "use this link"), signs them in without being opened.
    sign_out_of_the_window(app).await;
    press(app, "#signin-tab-email-code").await;
    type_into(app, "#otp-recipient", "newcomer@sessioninspector.local").await;
    press(app, "#otp-send").await;
    app.wait_for("#inbox-messages", Duration::from_secs(10))
        .await
        .unwrap();
    press(app, "#inbox-messages .use-link").await;
    // The link's one-time token is a secret the window held: for the scan at the end.
    let link = app
        .execute(
            "return document.getElementById('email-link').value;",
            serde_json::json!([]),
        )
        .await
        .unwrap();
    let link = url::Url::parse(link.as_str().unwrap_or_default()).expect("a link");
    let one_time = link
        .query_pairs()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
        .expect("the link carries its token");
    launched.saw(&one_time);
    let mark = log_mark(app).await;
    press(app, "#email-link-verify").await;
    eventually(
        Duration::from_secs(10),
        async || app.text_of("#session-title").await.unwrap_or_default(),
        |title| title == "newcomer@sessioninspector.local",
    )
    .await;
    wait_for_event(app, mark, "SIGNED_IN").await;
    launched.finish().await;
}

/// Account changes on the demo, as an auth-js app makes them: "Forgot password?" mails a
/// reset code (read from the demo's inbox), which signs in with PASSWORD_RECOVERY; the window
/// then asks for the new password (USER_UPDATED), which signs in after a sign-out. A new email
/// sends its confirmation to both addresses (secure email change); the demo confirms emails
/// itself (GoTrue's `MAILER_AUTOCONFIRM`), under which GoTrue applies the change at the first
/// code confirmed, and the card shows the new email.
#[tokio::test]
#[ignore = "needs a display, a keyring, WebKitWebDriver and tauri-driver: run by `make test`"]
async fn a_password_reset_and_an_email_change_through_the_demo_inbox() {
    const DEMO_EMAIL: &str = "demo@sessioninspector.local";
    const NEW_PASSWORD: &str = "a-new-demo-password-42";
    const NEW_EMAIL: &str = "renamed@sessioninspector.local";
    let launched = launch("account", &[]).await;
    let app = &launched.app;
    launched.saw(NEW_PASSWORD);
    sign_out_of_the_window(app).await;

    // Forgot password: the reset code from the inbox signs in with PASSWORD_RECOVERY.
    press(app, "#signin-forgot").await;
    type_into(app, "#forgot-email", DEMO_EMAIL).await;
    press(app, "#forgot-send").await;
    let code = app
        .text_of("#forgot-inbox-messages .inbox-code")
        .await
        .unwrap();
    launched.saw(&code);
    scroll_to(app, "#forgot-inbox-messages").await;
    app.screenshot(&shots_dir().join("forgot-password.png"))
        .await
        .unwrap();
    type_into(app, "#forgot-code", &code).await;
    let mark = log_mark(app).await;
    press(app, "#forgot-verify").await;
    app.wait_for("#recovery-form", Duration::from_secs(10))
        .await
        .expect("the window asks for the new password");
    wait_for_event(app, mark, "PASSWORD_RECOVERY").await;
    type_into(app, "#recovery-new", NEW_PASSWORD).await;
    scroll_to(app, "#recovery-form").await;
    app.screenshot(&shots_dir().join("password-recovery.png"))
        .await
        .unwrap();
    let mark = log_mark(app).await;
    press(app, "#recovery-save").await;
    wait_for_event(app, mark, "USER_UPDATED").await;
    // The form goes when the new password is accepted; a note stays in its place.
    app.wait_for("#recovery-changed", Duration::from_secs(10))
        .await
        .expect("the window says the new password was saved");
    assert_eq!(count_of(app, "#recovery-form").await, 0, "asked once");

    // The new password signs in; the old one no longer does.
    sign_out_of_the_window(app).await;
    type_into(app, "#signin-email", DEMO_EMAIL).await;
    type_into(app, "#signin-password", "demo-password").await;
    press(app, "#signin-submit").await;
    let refused = app.text_of("#account-error").await.unwrap();
    assert!(refused.contains("invalid_credentials"), "{refused}");
    erase(app, "#signin-password").await;
    type_into(app, "#signin-password", NEW_PASSWORD).await;
    let mark = log_mark(app).await;
    press(app, "#signin-submit").await;
    app.wait_for("#session-id", Duration::from_secs(10))
        .await
        .expect("signed in with the new password");
    wait_for_event(app, mark, "SIGNED_IN").await;

    // A new email: pending until both addresses confirm with their codes.
    type_into(app, "#email-change-new", NEW_EMAIL).await;
    let mark = log_mark(app).await;
    press(app, "#email-change-request").await;
    let pending = app.text_of("#email-change-pending").await.unwrap();
    assert!(
        pending.contains(NEW_EMAIL) && pending.contains(DEMO_EMAIL),
        "{pending}"
    );
    wait_for_event(app, mark, "USER_UPDATED").await;
    let codes = eventually(
        Duration::from_secs(10),
        async || {
            app.execute(
                "return [...document.querySelectorAll('#email-change-inbox-messages .inbox-code')]\
                 .map(c => c.textContent);",
                serde_json::json!([]),
            )
            .await
            .unwrap()
        },
        |codes| codes.as_array().map(Vec::len) == Some(2),
    )
    .await;
    for code in codes.as_array().unwrap() {
        launched.saw(code.as_str().unwrap());
    }
    // "use this code" puts each into the field of the address it was sent to.
    press(
        app,
        "#email-change-inbox-messages li:nth-child(1) .use-code",
    )
    .await;
    press(
        app,
        "#email-change-inbox-messages li:nth-child(2) .use-code",
    )
    .await;
    scroll_to(app, "#email-change-inbox-messages").await;
    app.screenshot(&shots_dir().join("email-change.png"))
        .await
        .unwrap();
    let mark = log_mark(app).await;
    press(app, "#email-change-confirm-new").await;
    let note = app.text_of("#email-change-note").await.unwrap();
    assert!(note.contains(NEW_EMAIL), "{note}");
    eventually(
        Duration::from_secs(10),
        async || app.text_of("#session-title").await.unwrap_or_default(),
        |title| title == NEW_EMAIL,
    )
    .await;
    wait_for_event(app, mark, "SIGNED_IN").await;
    assert_eq!(count_of(app, "#email-change-pending").await, 0);
    scroll_to(app, "#email-change-note").await;
    app.screenshot(&shots_dir().join("email-changed.png"))
        .await
        .unwrap();
    launched.finish().await;
}

/// OAuth with PKCE through a real browser: the window starts the flow and shows where the
/// browser must come back; headless Chromium follows the authorize URL to the built-in fake
/// provider and signs in there; the loopback listener gets the code and the window is signed
/// in. A callback with the wrong state does not end the flow; the replayed callback finds the
/// listener gone; a denial at the provider and a cancel are said plainly.
#[tokio::test]
#[ignore = "needs a display, a keyring, WebKitWebDriver, tauri-driver and Chromium: run by `make test`"]
async fn oauth_with_pkce_through_a_real_browser_signs_in() {
    // The app "opens the browser" with a command that does nothing: the test's own Chromium
    // plays the browser, so no second one starts on the display.
    let launched = launch("oauth", &[("BROWSER", Path::new("true"))]).await;
    let app = &launched.app;
    let demo_session = app.text_of("#session-id").await.unwrap();
    sign_out_of_the_window(app).await;
    let chrome = Driver::start_chromedriver().expect("chromedriver starts");
    let browser = chrome.browser().await.expect("Chromium starts");

    // Cancel: the panel comes back, no error.
    press(app, "#signin-tab-browser").await;
    press(app, "#oauth-github").await;
    app.wait_for("#oauth-waiting", Duration::from_secs(10))
        .await
        .unwrap();
    press(app, "#oauth-cancel").await;
    app.wait_for("#oauth-github", Duration::from_secs(10))
        .await
        .expect("the providers again");
    assert_eq!(count_of(app, "#oauth-error").await, 0);

    // Denied at the provider: the callback's error_description, in the window.
    press(app, "#oauth-github").await;
    let url = app.text_of("#oauth-url").await.unwrap();
    browser.navigate(&url).await.unwrap();
    press(&browser, "#deny").await;
    let error = app.text_of("#oauth-error").await.unwrap();
    assert!(error.to_lowercase().contains("denied"), "{error}");
    assert_eq!(count_of(app, "#session-id").await, 0);

    // The real thing.
    press(app, "#oauth-github").await;
    let url = app.text_of("#oauth-url").await.unwrap();
    let allow = app.text_of("#oauth-allow-entry").await.unwrap();
    assert!(allow.starts_with("http://127.0.0.1"), "{allow}");
    scroll_to(app, "#oauth-waiting").await;
    app.screenshot(&shots_dir().join("oauth-waiting.png"))
        .await
        .unwrap();
    browser.navigate(&url).await.unwrap();
    let form_url = browser.current_url().await.unwrap();
    // A callback with the wrong state is refused and the app keeps waiting.
    let redirect = url::Url::parse(&url).unwrap();
    let redirect_to = redirect
        .query_pairs()
        .find(|(k, _)| k == "redirect_to")
        .map(|(_, v)| v.into_owned())
        .expect("the authorize URL names the loopback callback");
    // The state is the callback path's last segment: another one is refused.
    let mut forged = url::Url::parse(&redirect_to).unwrap();
    forged.set_path("/callback/not-the-state");
    forged.set_query(Some("code=forged"));
    browser.navigate(forged.as_str()).await.unwrap();
    let refused = browser.text_of("body").await.unwrap();
    assert!(
        refused.contains("not for the sign-in in progress"),
        "{refused}"
    );
    assert_eq!(count_of(app, "#oauth-waiting").await, 1, "still waiting");
    browser.navigate(&form_url).await.unwrap();
    let mark = log_mark(app).await;
    press(&browser, "#allow").await;
    let session = app.text_of("#session-id").await.unwrap();
    assert_ne!(session, demo_session);
    wait_for_event(app, mark, "SIGNED_IN").await;
    let how = app.text_of("#session-amr").await.unwrap();
    assert!(how.contains("oauth"), "{how}");
    let closing = browser.text_of("body").await.unwrap();
    assert!(
        closing.to_lowercase().contains("close this tab"),
        "{closing}"
    );

    // The callback replayed: the listener is gone (nothing answers on its port any more), and
    // the session is untouched.
    let callback = url::Url::parse(&browser.current_url().await.unwrap()).unwrap();
    assert_eq!(callback.path_segments().unwrap().next(), Some("callback"));
    // The authorization code passed through the app: for the scan at the end.
    let code = callback
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .expect("the callback carries the code");
    launched.saw(&code);
    let port = callback.port().expect("the loopback port");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the sign-in listener still answers on {port}"
    );
    let _ = browser.navigate(callback.as_str()).await;
    assert_eq!(app.text_of("#session-id").await.unwrap(), session);
    browser.close().await.unwrap();
    launched.finish().await;
}

/// Linked identities through a real browser: the demo user (signed in with a password, its
/// one `email` identity marked as the one the token's amr used) links "github" through the
/// fake provider's consent page; the window lists two identities and the new session's `oauth`
/// on the GitHub one; unlinking it (after a confirm) leaves one, and unlinking the last is
/// GoTrue's `single_identity_not_deletable`, said in the window.
#[tokio::test]
#[ignore = "needs a display, a keyring, WebKitWebDriver, tauri-driver and Chromium: run by `make test`"]
async fn linking_and_unlinking_an_identity_through_a_real_browser() {
    let launched = launch("identities", &[("BROWSER", Path::new("true"))]).await;
    let app = &launched.app;
    let demo_session = app.text_of("#session-id").await.unwrap();
    let identities = "#identities-list li";
    eventually(
        Duration::from_secs(10),
        async || count_of(app, identities).await,
        |n| *n == 1,
    )
    .await;
    let email = app
        .text_of("#identities-list li[data-provider=email]")
        .await
        .unwrap();
    assert!(email.contains("this session · password"), "{email}");

    let chrome = Driver::start_chromedriver().expect("chromedriver starts");
    let browser = chrome.browser().await.expect("Chromium starts");
    press(app, "#identity-link-github").await;
    app.wait_for("#identities-waiting", Duration::from_secs(10))
        .await
        .unwrap();
    let url = app.text_of("#identities-url").await.unwrap();
    browser.navigate(&url).await.unwrap();
    let mark = log_mark(app).await;
    press(&browser, "#allow").await;
    eventually(
        Duration::from_secs(10),
        async || count_of(app, identities).await,
        |n| *n == 2,
    )
    .await;
    wait_for_event(app, mark, "SIGNED_IN").await;
    assert_ne!(app.text_of("#session-id").await.unwrap(), demo_session);
    let github = eventually(
        Duration::from_secs(10),
        async || {
            app.text_of("#identities-list li[data-provider=github]")
                .await
                .unwrap_or_default()
        },
        |text| text.contains("this session · oauth"),
    )
    .await;
    assert!(github.contains("github.user@example.com"), "{github}");
    // The authorization code passed through the app: for the scan at the end.
    let callback = url::Url::parse(&browser.current_url().await.unwrap()).unwrap();
    if let Some((_, code)) = callback.query_pairs().find(|(k, _)| k == "code") {
        launched.saw(&code);
    }
    browser.close().await.unwrap();

    press(
        app,
        "#identities-list li[data-provider='github'] button.unlink",
    )
    .await;
    app.wait_for("#identity-confirm", Duration::from_secs(10))
        .await
        .unwrap();
    scroll_to(app, "#identities-title").await;
    app.screenshot(&shots_dir().join("identities.png"))
        .await
        .unwrap();
    press(app, "#identity-unlink-confirm").await;
    eventually(
        Duration::from_secs(10),
        async || count_of(app, identities).await,
        |n| *n == 1,
    )
    .await;
    assert_eq!(
        count_of(app, "#identities-list li[data-provider=email]").await,
        1
    );

    press(
        app,
        "#identities-list li[data-provider='email'] button.unlink",
    )
    .await;
    press(app, "#identity-unlink-confirm").await;
    let error = app.text_of("#identities-error").await.unwrap();
    assert!(error.contains("single_identity_not_deletable"), "{error}");
    assert!(error.contains("Last identity"), "{error}");
    assert_eq!(count_of(app, identities).await, 1);
    launched.finish().await;
}

/// RFC 4648 base32 (the TOTP secret's alphabet, no padding).
fn base32_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut bits, mut value, mut out) = (0u32, 0u64, Vec::new());
    for c in text
        .bytes()
        .filter(|c| *c != b'=' && !c.is_ascii_whitespace())
    {
        let index = ALPHABET
            .iter()
            .position(|a| *a == c.to_ascii_uppercase())
            .expect("a base32 letter") as u64;
        value = (value << 5) | index;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((value >> bits) as u8);
        }
    }
    out
}

/// An RFC 6238 TOTP code (SHA-1, 6 digits, 30 s steps) for `unix`, as an authenticator app
/// computes it.
fn totp(secret: &str, unix: u64) -> String {
    use hmac::Mac as _;
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(&base32_decode(secret)).unwrap();
    mac.update(&(unix / 30).to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let at = (digest[19] & 0x0f) as usize;
    let number = u32::from_be_bytes([
        digest[at] & 0x7f,
        digest[at + 1],
        digest[at + 2],
        digest[at + 3],
    ]);
    format!("{:06}", number % 1_000_000)
}

#[test]
fn the_tests_totp_matches_rfc_6238() {
    // RFC 6238 appendix B, SHA-1: the key "12345678901234567890", 8 digits 94287082 at 59 s.
    let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    assert_eq!(totp(secret, 59), "287082");
    assert_eq!(totp(secret, 1_111_111_109), "081804");
}

/// TOTP MFA in the window: enroll (the QR code and the secret shown), a wrong code refused,
/// the right one steps the session up to aal2 (MFA_CHALLENGE_VERIFIED, amr totp) and a refresh
/// keeps it; a new password sign-in is aal1 and is told it needs aal2, then steps up; the
/// factor is removed.
#[tokio::test]
#[ignore = "needs a display, a keyring, WebKitWebDriver and tauri-driver: run by `make test`"]
async fn totp_enrollment_steps_the_session_up_to_aal2() {
    let launched = launch("mfa", &[]).await;
    let app = &launched.app;
    app.text_of("#session-id").await.unwrap();
    assert_eq!(app.text_of("#mfa-aal").await.unwrap(), "aal1");
    app.wait_for("#mfa-no-factors", Duration::from_secs(10))
        .await
        .unwrap();

    type_into(app, "#mfa-name", "E2E phone").await;
    press(app, "#mfa-enroll").await;
    let secret = app.text_of("#mfa-secret").await.unwrap();
    launched.saw(&secret);
    launched.saw(&secret.split_whitespace().collect::<String>());
    assert_eq!(
        count_of(app, "#mfa-enrollment svg.qr path").await,
        1,
        "a QR code is drawn"
    );
    scroll_to(app, "#mfa-enrollment").await;
    app.screenshot(&shots_dir().join("mfa-enroll.png"))
        .await
        .unwrap();

    // A wrong code: refused, still aal1.
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    let right = totp(&secret, now());
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    type_into(app, "#mfa-code", wrong).await;
    press(app, "#mfa-verify").await;
    let error = app.text_of("#mfa-error").await.unwrap();
    assert!(error.contains("mfa_verification_failed"), "{error}");
    assert_eq!(app.text_of("#mfa-aal").await.unwrap(), "aal1");

    // The right code: aal2, with totp in the amr, and a refresh keeps it.
    erase(app, "#mfa-code").await;
    type_into(app, "#mfa-code", &totp(&secret, now())).await;
    let mark = log_mark(app).await;
    press(app, "#mfa-verify").await;
    eventually(
        Duration::from_secs(10),
        async || app.text_of("#mfa-aal").await.unwrap_or_default(),
        |aal| aal == "aal2",
    )
    .await;
    wait_for_event(app, mark, "MFA_CHALLENGE_VERIFIED").await;
    assert!(app.text_of("#mfa-amr").await.unwrap().contains("totp"));
    let mark = log_mark(app).await;
    press(app, "#refresh-now").await;
    wait_for_event(app, mark, "TOKEN_REFRESHED").await;
    assert_eq!(app.text_of("#mfa-aal").await.unwrap(), "aal2");
    scroll_to(app, "#mfa-title").await;
    app.screenshot(&shots_dir().join("mfa-aal2.png"))
        .await
        .unwrap();

    // A new password sign-in is aal1 and is told so; a code (the next step's, which GoTrue's
    // one-step tolerance accepts) steps it up.
    sign_out_of_the_window(app).await;
    type_into(app, "#signin-email", "demo@sessioninspector.local").await;
    type_into(app, "#signin-password", "demo-password").await;
    press(app, "#signin-submit").await;
    let banner = app.text_of("#mfa-needs-aal2").await.unwrap();
    assert!(banner.contains("aal2"), "{banner}");
    assert_eq!(app.text_of("#mfa-aal").await.unwrap(), "aal1");
    scroll_to(app, "#mfa-needs-aal2").await;
    app.screenshot(&shots_dir().join("mfa-needs-aal2.png"))
        .await
        .unwrap();
    type_into(app, "#mfa-step-code", &totp(&secret, now() + 30)).await;
    press(app, "#mfa-step-verify").await;
    eventually(
        Duration::from_secs(10),
        async || app.text_of("#mfa-aal").await.unwrap_or_default(),
        |aal| aal == "aal2",
    )
    .await;
    assert_eq!(count_of(app, "#mfa-needs-aal2").await, 0);

    // Removing the factor (allowed at aal2).
    let remove = app
        .wait_for("#mfa-factors button.link", Duration::from_secs(5))
        .await
        .unwrap();
    app.click(&remove).await.unwrap();
    app.wait_for("#mfa-no-factors", Duration::from_secs(10))
        .await
        .expect("no factors left");
    launched.finish().await;
}

/// What the app keeps in the (throwaway) keyring under `name`, read from this process with
/// the app's own vault: whether a session and a project JWT secret are there.
fn kept_in_keyring(launched: &Launched, name: &str) -> (bool, bool) {
    use session_engine::SessionStore as _;
    let sealed = launched.data().join(APP_FOLDER).join("sessions");
    let vault = session_vault::Vault::open_backend(
        session_vault::Backend::SecretService,
        "dev.sessioninspector.app",
        sealed,
    )
    .expect("the throwaway Secret Service");
    (
        vault.load(name).expect("the keyring answers").is_some(),
        vault
            .load_jwt_secret(name)
            .expect("the keyring answers")
            .is_some(),
    )
}

/// The id of a demo server's signing key, from its JWKS: it names that server's database.
async fn demo_key_id(server: &str) -> String {
    let jwks: serde_json::Value = reqwest::get(format!("{server}/auth/v1/.well-known/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"][0]["kid"].as_str().unwrap().to_string()
}

/// The names of every entry the (throwaway) Secret Service holds for `service`.
fn keyring_entries(service: &str) -> Vec<String> {
    let out = std::process::Command::new("secret-tool")
        .args(["search", "--all", "service", service])
        .output()
        .expect("secret-tool runs");
    // Items are listed on stdout, their attributes as "attribute.username = <name>".
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    text.lines()
        .filter_map(|line| line.trim().strip_prefix("attribute.username = "))
        .map(str::to_string)
        .collect()
}

/// Calls a command the window is granted, as the window would.
async fn invoke(app: &Session, command: &str, args: serde_json::Value) -> serde_json::Value {
    let script = "return window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1]);";
    app.execute(script, serde_json::json!([command, args]))
        .await
        .unwrap_or_else(|e| panic!("{command}: {e}"))
}

/// About shows this build (the package's version, the stamped commit) and the data folder;
/// Reset all data, confirmed with RESET, forgets a project (its session and JWT secret in the
/// keyring, its place in the settings) and the demo's session and database, and the window is
/// back to the built-in demo as on first launch, without a restart.
#[tokio::test]
#[ignore = "needs a display, a keyring, WebKitWebDriver and tauri-driver: run by `make test`"]
async fn about_shows_the_build_and_reset_all_data_returns_to_the_first_launch() {
    let project = local_gotrue::start(local_gotrue::Config::default())
        .await
        .unwrap();
    emulator(
        reqwest::Method::POST,
        &format!("{}/_emulator/users", project.url()),
        serde_json::json!({"email": "dev@local.test", "password": "local-password-1"}),
    )
    .await;
    let launched = launch("about", &[]).await;
    launched.watch(&project.url());
    for secret in ["local-password-1", local_gotrue::config::DEFAULT_JWT_SECRET] {
        launched.saw(secret);
    }
    let app = &launched.app;
    let old_demo = launched.demo.clone();
    let old_kid = demo_key_id(&old_demo).await;
    let demo_name = format!("built-in-demo:{old_kid}");

    // Data to forget: a project with a session and its JWT secret in the keyring.
    let status = invoke(
        app,
        "profile_add",
        serde_json::json!({"name": "Staging", "projectUrl": project.url(), "anonKey": project.anon_key()}),
    )
    .await;
    let project_id = status["profileId"].as_str().unwrap().to_string();
    invoke(
        app,
        "auth_sign_in_password",
        serde_json::json!({"email": "dev@local.test", "password": "local-password-1"}),
    )
    .await;
    invoke(
        app,
        "jwt_secret_save",
        serde_json::json!({"secret": local_gotrue::config::DEFAULT_JWT_SECRET}),
    )
    .await;
    launched.harvest().await;
    assert_eq!(kept_in_keyring(&launched, &project_id), (true, true));
    assert!(kept_in_keyring(&launched, &demo_name).0, "{demo_name}");
    app.wait_for("#empty-title, #session-id", Duration::from_secs(10))
        .await
        .unwrap();
    eventually(
        Duration::from_secs(10),
        async || count_of(app, "#profile-select option").await,
        |n| *n == 2,
    )
    .await;

    // About: the package's version, this build's commit, the data folder that exists.
    press(app, "#app-version").await;
    app.wait_for("#about-dialog", Duration::from_secs(5))
        .await
        .expect("About opens");
    assert_eq!(
        app.text_of("#about-version").await.unwrap(),
        env!("CARGO_PKG_VERSION")
    );
    let commit = eventually(
        Duration::from_secs(5),
        async || app.text_of("#about-commit").await.unwrap_or_default(),
        |t| t != "…",
    )
    .await;
    assert!(
        commit.starts_with(env!("SESSION_INSPECTOR_COMMIT")),
        "{commit}"
    );
    let data_folder = app.text_of("#about-data-folder").await.unwrap();
    let log_file = PathBuf::from(app.text_of("#about-log-file").await.unwrap());
    assert_eq!(Path::new(&data_folder), launched.data().join(APP_FOLDER));
    assert!(Path::new(&data_folder).is_dir());
    assert_eq!(
        app.text_of("#about-keyring").await.unwrap(),
        "Secret Service (gnome-keyring, KWallet)"
    );
    app.screenshot(&shots_dir().join("about.png"))
        .await
        .unwrap();

    // Reset all data: the confirmation names what goes; RESET confirms.
    press(app, "#reset-start").await;
    let confirm = app.text_of("#reset-confirm").await.unwrap();
    assert!(
        confirm.contains("2 profiles (the built-in demo and “Staging”)")
            && confirm.contains("Nothing is sent to any server"),
        "{confirm}"
    );
    type_into(app, "#reset-word", "RESET").await;
    app.screenshot(&shots_dir().join("reset-confirm.png"))
        .await
        .unwrap();
    // What was written before the reset is scanned now: the reset removes most of it.
    launched.harvest().await;
    let secrets = launched.seen.lock().unwrap().clone();
    let skip = [launched.data().join(APP_FOLDER).join("demo")];
    let before = leaks::scan(&launched.data(), &skip, &secrets);
    assert!(
        before.files > 0 && before.hits.is_empty(),
        "before the reset: {:?}",
        before.hits
    );
    let logged = std::fs::read_to_string(&log_file).unwrap();
    assert!(
        logged.contains(&project_id),
        "the log names the project before the reset"
    );
    press(app, "#reset-confirm-button").await;
    eventually(
        Duration::from_secs(30),
        async || count_of(app, "#about-dialog").await,
        |n| *n == 0,
    )
    .await;

    // The first launch again: the demo alone, on a new database (a new signing key), its user
    // signed in.
    let new_demo = app.text_of("#server-url").await.unwrap();
    launched.watch(&new_demo);
    let new_kid = demo_key_id(&new_demo).await;
    assert_ne!(new_kid, old_kid, "the demo's database was made afresh");
    assert_eq!(count_of(app, "#profile-select option").await, 1);
    eventually(
        Duration::from_secs(10),
        async || app.text_of("#session-title").await.unwrap_or_default(),
        |title| title == "demo@sessioninspector.local",
    )
    .await;
    launched.harvest().await;
    // Nothing of the project, or of the old demo's session, is left in the keyring: no
    // session, JWT secret or sealing key but the new demo's session.
    assert_eq!(kept_in_keyring(&launched, &project_id), (false, false));
    assert_eq!(kept_in_keyring(&launched, &demo_name), (false, false));
    let entries = keyring_entries(APP_FOLDER);
    assert!(entries.iter().any(|e| e.contains(&new_kid)), "{entries:?}");
    assert!(
        entries
            .iter()
            .all(|e| !e.starts_with("key:") && !e.contains(&project_id) && !e.contains(&old_kid)),
        "{entries:?}"
    );
    // No sealed file, and the log holds only what came after the reset.
    let sealed = launched.data().join(APP_FOLDER).join("sessions");
    assert!(
        leaks::files_under(&sealed, &[]).is_empty(),
        "sealed files remain"
    );
    let logged = std::fs::read_to_string(&log_file).unwrap();
    assert!(
        !logged.contains(&project_id) && logged.contains("all data reset"),
        "{logged}"
    );
    let logs: Vec<_> = leaks::files_under(log_file.parent().unwrap(), &[]);
    assert_eq!(logs, std::slice::from_ref(&log_file), "rotated logs remain");
    // The settings list the demo alone, and no history of the project.
    let file = launched.data().join(APP_FOLDER).join("settings.json");
    let stored = eventually(
        Duration::from_secs(5),
        async || std::fs::read_to_string(&file).unwrap_or_default(),
        |text| !text.is_empty(),
    )
    .await;
    let stored: serde_json::Value = serde_json::from_str(&stored).unwrap();
    let ids: Vec<_> = stored["settings"]["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["built-in-demo"], "{stored}");
    assert!(!stored.to_string().contains(&project_id), "{stored}");
    // The history file went with the settings: what it holds now is the reopened demo's.
    let history = std::fs::read_to_string(launched.data().join(APP_FOLDER).join("history.ndjson"))
        .unwrap_or_default();
    assert!(!history.contains(&project_id), "{history}");
    launched.finish().await;
}

/// Opens the newest exchange whose log row matches `search` (the log's own search box).
async fn open_exchange(app: &Session, search: &str) -> String {
    erase(app, "#log-search").await;
    type_into(app, "#log-search", search).await;
    press(app, ".request-row button").await;
    let detail = eventually(
        Duration::from_secs(5),
        async || app.text_of("#log-detail").await.unwrap_or_default(),
        |t| t.contains("Copy as curl"),
    )
    .await;
    erase(app, "#log-search").await;
    detail
}

/// Copy as curl / supabase-js from an exchange's detail. Redacted (the default): the
/// clipboard holds no token, and the refresh token sent is a `$SI_REFRESH_TOKEN` placeholder
/// naming its fingerprint. With real tokens (behind a confirm step): a `GET /user` made with
/// the current access token becomes a script that, run by `sh` with the system's curl,
/// gets the user from the built-in server; a refresh exchange gets the key filled but not the
/// refresh token it used up, and the window says so.
#[tokio::test]
#[ignore = "needs a display, a keyring, WebKitWebDriver and tauri-driver: run by `make test`"]
async fn an_exchange_copies_as_curl_redacted_and_with_the_tokens_still_held() {
    let launched = launch("copy-as", &[]).await;
    let app = &launched.app;

    // GET /user, sent by the identities panel with the session's access token at start.
    open_exchange(app, "GET /user").await;
    press(app, "#copy-as-real").await;
    let warning = app.text_of("#copy-as-confirm").await.unwrap();
    assert!(warning.contains("live tokens"), "{warning}");
    press(app, "#copy-as-real-curl").await;
    let result = app.text_of("#copy-as-result").await.unwrap();
    assert!(
        result.contains("with real tokens") && result.contains("clipboard clears in 30 s"),
        "{result}"
    );
    assert!(
        result.contains("Filled in: SI_SUPABASE_KEY, SI_ACCESS_TOKEN."),
        "{result}"
    );
    let script = clipboard_text().expect("the clipboard holds the copy");
    let access = script
        .lines()
        .find_map(|l| l.strip_prefix("SI_ACCESS_TOKEN='"))
        .and_then(|l| l.strip_suffix('\''))
        .expect("the access token is filled in")
        .to_string();
    launched.saw(&access);
    assert_eq!(
        session_engine::tokens::fingerprint(&access),
        app.text_of("#access-fingerprint").await.unwrap()
    );
    // The script runs as it was copied, in sh and in bash: the server answers with the
    // signed-in user.
    for shell in ["sh", "bash"] {
        let ran = std::process::Command::new(shell)
            .args(["-c", &script])
            .output()
            .expect("the shell runs");
        assert!(
            ran.status.success(),
            "{shell}: {}",
            String::from_utf8_lossy(&ran.stderr)
        );
        let user: serde_json::Value = serde_json::from_slice(&ran.stdout).expect("a JSON answer");
        println!(
            "the copied curl got user {} <{}> in {shell}",
            user["id"], user["email"]
        );
        assert!(
            user["id"].is_string() && user["email"].is_string(),
            "{user}"
        );
    }

    // A refresh: the exchange's refresh token is the one shown before it.
    let sent = app.text_of("#refresh-fingerprint").await.unwrap();
    press(app, "#refresh-now").await;
    rotated_from(app, &sent).await;
    launched.harvest().await;
    open_exchange(app, "token?grant_type=refresh_token").await;
    press(app, "#copy-as-curl").await;
    let result = app.text_of("#copy-as-result").await.unwrap();
    assert!(result.contains("Copied as curl (redacted)"), "{result}");
    assert!(
        result.contains(&format!(
            "SI_REFRESH_TOKEN — the refresh_token in the body, {sent} (redacted copy)"
        )),
        "{result}"
    );
    let curl = clipboard_text().expect("the clipboard holds the copy");
    println!("copied as curl, redacted:\n{curl}");
    for token in launched.seen.lock().unwrap().iter() {
        assert!(
            !curl.contains(token.as_str()),
            "a token in the redacted copy"
        );
    }
    assert!(
        !leaks::is_access_token(&curl) && !curl.contains("eyJ"),
        "{curl}"
    );
    assert!(
        curl.contains(&format!(
            "set SI_REFRESH_TOKEN to the refresh_token in the body, {sent}"
        )),
        "{curl}"
    );
    assert!(
        curl.contains(r#"--data-raw '{"refresh_token":"'"$SI_REFRESH_TOKEN"'"}'"#),
        "{curl}"
    );
    // Pasted into bash or sh it parses, and stops at the first placeholder left unset.
    for shell in ["sh", "bash"] {
        let parsed = std::process::Command::new(shell)
            .args(["-n", "-c", &curl])
            .output()
            .expect("the shell runs");
        assert!(
            parsed.status.success(),
            "{shell}: {}",
            String::from_utf8_lossy(&parsed.stderr)
        );
        let ran = std::process::Command::new(shell)
            .args(["-c", &curl])
            .env_remove("SI_SUPABASE_KEY")
            .output()
            .expect("the shell runs");
        assert!(
            String::from_utf8_lossy(&ran.stderr).contains("set SI_SUPABASE_KEY to"),
            "{shell}: {}",
            String::from_utf8_lossy(&ran.stderr)
        );
    }

    press(app, "#copy-as-js").await;
    let js = eventually(
        Duration::from_secs(5),
        async || clipboard_text().unwrap_or_default(),
        |t| t.contains("supabase-js"),
    )
    .await;
    assert!(
        js.contains("supabase.auth.refreshSession({ refresh_token: SI_REFRESH_TOKEN })"),
        "{js}"
    );

    // With real tokens: the key is filled, the used-up refresh token is not, and the window
    // names it.
    press(app, "#copy-as-real").await;
    press(app, "#copy-as-real-curl").await;
    let result = eventually(
        Duration::from_secs(5),
        async || app.text_of("#copy-as-result").await.unwrap(),
        |t| t.contains("with real tokens"),
    )
    .await;
    assert!(result.contains("Filled in: SI_SUPABASE_KEY."), "{result}");
    assert!(
        result.contains("SI_REFRESH_TOKEN") && result.contains("not held by the app"),
        "{result}"
    );
    scroll_to(app, "#copy-as-result").await;
    app.screenshot(&shots_dir().join("copy-as-curl.png"))
        .await
        .unwrap();
    let real = clipboard_text().unwrap();
    assert!(real.contains("SI_SUPABASE_KEY='"), "{real}");
    assert!(
        real.contains(&format!(
            ": \"${{SI_REFRESH_TOKEN:?set SI_REFRESH_TOKEN to the refresh_token in the body, {sent}}}\""
        )),
        "{real}"
    );
    launched.finish().await;
}

/// A number the page computes from `script` (a `return` expression).
async fn measure(app: &Session, script: &str) -> f64 {
    app.execute(script, serde_json::json!([]))
        .await
        .expect("the page answers")
        .as_f64()
        .unwrap_or(f64::NAN)
}

async fn log_width(app: &Session) -> f64 {
    measure(
        app,
        "return document.getElementById('log-column').getBoundingClientRect().width;",
    )
    .await
}

/// The log's layout as saved in the settings file (null before anything was saved).
fn saved_layout(launched: &Launched) -> serde_json::Value {
    let file = launched.data().join(APP_FOLDER).join("settings.json");
    std::fs::read_to_string(&file)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .map(|stored| stored["settings"]["layout"].clone())
        .unwrap_or_default()
}

/// The log's layout. The handle between the panels and the log widens the log with the
/// arrow keys and by dragging, and a relaunch opens it at the width left. Full width gives the
/// log the whole window (and is remembered). A row hovered or focused shows its whole path
/// where it was cut off. Screenshot-safe mode leaves no email, UUID or fingerprint in the
/// window's text, and puts them back when switched off.
#[tokio::test]
#[ignore = "needs a display, a keyring, WebKitWebDriver and tauri-driver: run by `make test`"]
async fn the_log_resizes_is_remembered_goes_full_width_and_masks_for_screenshots() {
    const ARROW_LEFT: &str = "\u{E012}";
    const HOME: &str = "\u{E011}";
    let mut launched = launch("layout", &[]).await;
    let app = &launched.app;
    let start = log_width(app).await;
    println!("the log starts {start} px wide");

    // Keyboard: five presses of ← widen it by 100 px.
    let handle = app
        .wait_for("#log-resize", Duration::from_secs(5))
        .await
        .unwrap();
    app.send_keys(&handle, &ARROW_LEFT.repeat(5)).await.unwrap();
    let keyed = eventually(
        Duration::from_secs(5),
        async || log_width(app).await,
        |w| (*w - (start + 100.0)).abs() < 1.0,
    )
    .await;
    // A drag 120 px to the left widens it by as much.
    app.drag_by(&handle, -120, 0).await.unwrap();
    let dragged = eventually(
        Duration::from_secs(5),
        async || log_width(app).await,
        |w| (*w - (keyed + 120.0)).abs() < 2.0,
    )
    .await;
    println!("after the keys {keyed} px, after the drag {dragged} px");
    eventually(
        Duration::from_secs(5),
        async || saved_layout(&launched)["logWidth"].as_f64(),
        |saved| saved.is_some_and(|w| (w - dragged).abs() < 1.0),
    )
    .await;

    launched.relaunch().await;
    let app = &launched.app;
    let reopened = eventually(
        Duration::from_secs(10),
        async || log_width(app).await,
        |w| (*w - dragged).abs() < 1.0,
    )
    .await;
    println!("after a relaunch {reopened} px");

    // Narrowest, a long path is cut off; hovered, its row shows it whole.
    let mark = log_mark(app).await;
    press(app, "#refresh-now").await;
    wait_for_event(app, mark, "TOKEN_REFRESHED").await;
    let handle = app
        .wait_for("#log-resize", Duration::from_secs(5))
        .await
        .unwrap();
    app.send_keys(&handle, HOME).await.unwrap();
    eventually(
        Duration::from_secs(5),
        async || log_width(app).await,
        |w| (*w - 320.0).abs() < 1.0,
    )
    .await;
    let cut = "const p = [...document.querySelectorAll('.request-row .path')] \
        .find((e) => e.textContent.includes('grant_type')); \
        return p ? p.scrollWidth - p.clientWidth : -1;";
    assert!(
        measure(app, cut).await > 0.0,
        "the path is cut off at 320 px"
    );
    let rows = app.find_all(".request-row button").await.unwrap();
    let which = measure(
        app,
        "return [...document.querySelectorAll('.request-row button')] \
            .findIndex((b) => b.textContent.includes('grant_type'));",
    )
    .await;
    assert!(which >= 0.0, "a refresh row");
    app.hover(&rows[which as usize]).await.unwrap();
    let shown_whole = eventually(
        Duration::from_secs(3),
        async || measure(app, cut).await,
        |d| *d <= 0.0,
    )
    .await
        <= 0.0;
    app.screenshot(&shots_dir().join("log-row-hover.png"))
        .await
        .unwrap();
    assert!(shown_whole, "a hovered row shows its whole path");

    // Full width: the panels go, the log takes the window; remembered.
    press(app, "#log-full-width").await;
    let window = measure(app, "return document.documentElement.clientWidth;").await;
    let full = eventually(
        Duration::from_secs(5),
        async || log_width(app).await,
        |w| *w > window - 60.0,
    )
    .await;
    assert_eq!(
        count_of(app, "#session-id").await,
        1,
        "the card is still in the page"
    );
    let card_shown = measure(
        app,
        "return document.getElementById('session-id').getClientRects().length;",
    )
    .await;
    assert_eq!(card_shown, 0.0, "but not shown");
    println!("full width: the log {full} px of {window}");
    app.screenshot(&shots_dir().join("log-full-width.png"))
        .await
        .unwrap();
    eventually(
        Duration::from_secs(5),
        async || saved_layout(&launched)["fullWidth"].clone(),
        |v| *v == serde_json::json!(true),
    )
    .await;
    press(app, "#log-full-width").await;
    eventually(
        Duration::from_secs(5),
        async || log_width(app).await,
        |w| (*w - 320.0).abs() < 1.0,
    )
    .await;

    // Screenshot-safe: nothing in the window's text names the user, the session or a token.
    let fingerprint = app.text_of("#refresh-fingerprint").await.unwrap();
    let identifying = "const t = document.body.innerText; return [ \
        ...(t.match(/[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+/g) ?? []), \
        ...(t.match(/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/g) ?? []), \
        ...(t.match(/fp:[0-9a-f]{12}/g) ?? [])];";
    let before = app
        .execute(identifying, serde_json::json!([]))
        .await
        .unwrap();
    println!(
        "identifying text before: {} matches",
        before.as_array().map_or(0, Vec::len)
    );
    assert!(before.as_array().is_some_and(|m| m.len() > 3), "{before}");
    press(app, "#screenshot-safe").await;
    let after = eventually(
        Duration::from_secs(5),
        async || {
            app.execute(identifying, serde_json::json!([]))
                .await
                .unwrap()
        },
        |m| m.as_array().is_some_and(Vec::is_empty),
    )
    .await;
    assert_eq!(after, serde_json::json!([]));
    // Still masked after a refresh writes new fingerprints and log rows.
    let mark = log_mark(app).await;
    press(app, "#refresh-now").await;
    wait_for_event(app, mark, "TOKEN_REFRESHED").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after_refresh = app
        .execute(identifying, serde_json::json!([]))
        .await
        .unwrap();
    assert_eq!(
        after_refresh,
        serde_json::json!([]),
        "masked after a refresh"
    );
    // What no pattern knows is masked too: a token revealed (a JWT's payload names the user),
    // and what is typed into a phone field or the paste box (drawn as discs); the TOTP QR code
    // is blurred.
    press(app, "#access-reveal").await;
    let revealed = eventually(
        Duration::from_secs(5),
        async || app.text_of("#access-revealed").await.unwrap_or_default(),
        |t| !t.is_empty(),
    )
    .await;
    assert!(
        revealed.chars().all(|c| c == '•' || c.is_whitespace()),
        "a revealed token is masked whole: {revealed}"
    );
    press(app, "#access-reveal").await;
    let drawn = app
        .execute(
            "return ['input[type=tel]', 'textarea', 'svg.qr'].map((what) => { \
               const [tag, rest] = what.split(/[[.]/); \
               const el = tag === 'svg' \
                 ? document.createElementNS('http://www.w3.org/2000/svg', 'svg') \
                 : document.createElement(tag); \
               if (tag === 'input') el.setAttribute('type', 'tel'); \
               if (tag === 'svg') el.setAttribute('class', 'qr'); \
               document.body.append(el); \
               const style = getComputedStyle(el); \
               const drawn = tag === 'svg' ? style.filter : style.webkitTextSecurity; \
               el.remove(); \
               return drawn; });",
            serde_json::json!([]),
        )
        .await
        .unwrap();
    println!("screenshot-safe draws tel, textarea, QR as {drawn}");
    assert_eq!(
        drawn,
        serde_json::json!(["disc", "disc", "blur(12px)"]),
        "{drawn}"
    );
    app.screenshot(&shots_dir().join("screenshot-safe.png"))
        .await
        .unwrap();
    press(app, "#screenshot-safe").await;
    let restored = eventually(
        Duration::from_secs(5),
        async || app.text_of("#refresh-fingerprint").await.unwrap(),
        |t| t.starts_with("fp:") && !t.contains('•'),
    )
    .await;
    assert_ne!(
        restored, fingerprint,
        "the new session's fingerprint, unmasked"
    );
    let back = app
        .execute(identifying, serde_json::json!([]))
        .await
        .unwrap();
    assert!(back.as_array().is_some_and(|m| m.len() > 3), "{back}");
    launched.finish().await;
}

/// Scrolls the element matching `css` to the top of the window.
async fn scroll_to_top(app: &Session, css: &str) {
    app.execute(
        "document.querySelector(arguments[0]).scrollIntoView({block: 'start'});",
        serde_json::json!([css]),
    )
    .await
    .expect("the element scrolls into view");
}

/// The text of every element matching `css`, spaces collapsed, in document order.
async fn texts_of(app: &Session, css: &str) -> Vec<String> {
    let script = "return [...document.querySelectorAll(arguments[0])]\
                  .map((e) => e.textContent.replace(/\\s+/g, ' ').trim());";
    app.execute(script, serde_json::json!([css]))
        .await
        .expect("the page answers")
        .as_array()
        .map(|list| {
            list.iter()
                .map(|t| t.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Changes the demo user's `user_metadata` the way another client of the project would: its
/// own password sign-in, then `PUT /user`. The window's session sees it at its next refresh.
async fn change_demo_metadata(launched: &Launched, data: serde_json::Value) {
    let http = reqwest::Client::new();
    let signed_in: serde_json::Value = http
        .post(format!("{}/token?grant_type=password", launched.demo))
        .json(&serde_json::json!({
            "email": "demo@sessioninspector.local",
            "password": "demo-password",
        }))
        .send()
        .await
        .expect("the built-in server answers")
        .json()
        .await
        .expect("a session");
    let access = signed_in["access_token"].as_str().expect("an access token");
    launched.saw(access);
    launched.saw(signed_in["refresh_token"].as_str().unwrap_or_default());
    let updated = http
        .put(format!("{}/user", launched.demo))
        .bearer_auth(access)
        .json(&serde_json::json!({ "data": data }))
        .send()
        .await
        .expect("the built-in server answers");
    assert!(updated.status().is_success(), "{}", updated.status());
}

/// The timeline after three Refresh now and one failure (a chain of four tokens, three
/// rotations labelled with their cause, the failure marked with its status, a rotation's
/// exchange opened), the claims diff after a metadata change and a refresh (user_metadata
/// highlighted, exp and iat dimmed), and the same timeline after a restart, whose exchanges
/// are said to be gone.
#[tokio::test]
#[ignore = "needs a display, a keyring, WebKitWebDriver and tauri-driver: run by `make test`"]
async fn the_timeline_chains_rotations_marks_a_failure_and_diffs_claims() {
    let mut launched = launch("timeline", &[]).await;
    let server = launched.demo.clone();
    {
        let app = &launched.app;
        let mut shown = app.text_of("#refresh-fingerprint").await.unwrap();
        for _ in 0..3 {
            // Not a wait for a condition: the rotations are spread over a part of the demo
            // token's two-minute life so that their bars (and their `iat`s in the diff) differ
            // in the screenshot, as they would between refreshes of a real session.
            tokio::time::sleep(Duration::from_secs(8)).await;
            press(app, "#refresh-now").await;
            shown = rotated_from(app, &shown).await;
        }
        // The next refresh fails: 503 until the retry budget is spent; the session stays.
        emulator(
            reqwest::Method::POST,
            &format!("{server}/_emulator/faults"),
            serde_json::json!({"count": 50, "path": "/token", "status": 503}),
        )
        .await;
        press(app, "#refresh-now").await;
        app.wait_for("#refresh-error", Duration::from_secs(20))
            .await
            .expect("the failure is shown");
        emulator(
            reqwest::Method::DELETE,
            &format!("{server}/_emulator/faults"),
            serde_json::Value::Null,
        )
        .await;

        scroll_to(app, "#timeline-toggle").await;
        press(app, "#timeline-toggle").await;
        let session = "#timeline-session-1";
        eventually(
            Duration::from_secs(10),
            async || {
                (
                    count_of(app, &format!("{session} .bar")).await,
                    texts_of(app, &format!("{session} .mark.failure")).await,
                )
            },
            |(bars, failures)| *bars == 4 && failures.len() == 1,
        )
        .await;
        // One failed flight, one mark (its retries are one failure), with GoTrue's code.
        let failure = texts_of(app, &format!("{session} .mark.failure")).await;
        assert_eq!(failure, ["Failed 503 unexpected_failure"]);
        let rotations = texts_of(app, &format!("{session} .rotation .cause")).await;
        assert_eq!(rotations, ["Refresh now", "Refresh now", "Refresh now"]);
        let origin = texts_of(app, &format!("{session} .origin .cause")).await;
        assert_eq!(origin, ["Sign-in"]);
        assert_eq!(count_of(app, &format!("{session} .bar.live")).await, 1);
        // The chain's last box is the token the session card shows.
        let chain = texts_of(app, &format!("{session} .token")).await;
        assert!(
            chain.last().unwrap().starts_with(&shown),
            "{chain:?} / {shown}"
        );

        scroll_to_top(app, "#timeline-panel").await;
        app.screenshot(&shots_dir().join("timeline.png"))
            .await
            .unwrap();

        // A rotation opens the exchange that made it: the one its link names, which sent the
        // token before it and answered with its own.
        let first_rotation = format!("{session} .rotation");
        let named = app
            .execute(
                "return document.querySelector(arguments[0]).dataset.exchange;",
                serde_json::json!([first_rotation]),
            )
            .await
            .expect("the page answers");
        let exchange_id = named.as_str().unwrap_or_default().to_string();
        assert!(!exchange_id.is_empty(), "the link names its exchange");
        let fp_of = |text: &str| {
            text.split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string()
        };
        let (sent, made) = (fp_of(&chain[0]), fp_of(&chain[1]));
        scroll_to(app, &first_rotation).await;
        press(app, &first_rotation).await;
        let exchange = eventually(
            Duration::from_secs(10),
            async || newest_text(app, "#timeline-exchange").await,
            |text| text.contains("grant_type=refresh_token") && text.contains("Response"),
        )
        .await;
        assert!(exchange.contains("POST"), "{exchange}");
        assert!(
            exchange.contains(&format!("Exchange #{exchange_id} ")),
            "{exchange}"
        );
        assert_eq!(
            newest_text(app, "#timeline-exchange .facts .status").await,
            "200"
        );
        assert!(
            exchange.contains(&sent) && exchange.contains(&made),
            "the exchange of token 2 sends {sent} and answers {made}: {exchange}"
        );

        // Screenshot-safe mode masks the chain's fingerprints too.
        press(app, "#screenshot-safe").await;
        eventually(
            Duration::from_secs(5),
            async || texts_of(app, &format!("{session} .token")).await,
            |tokens| {
                tokens
                    .iter()
                    .all(|t| t.contains('•') && !t.contains(&shown))
            },
        )
        .await;
        press(app, "#screenshot-safe").await;

        // Another client changes the user's metadata; the next refresh carries it.
        change_demo_metadata(&launched, serde_json::json!({"plan": "pro"})).await;
        press(app, "#refresh-now").await;
        rotated_from(app, &shown).await;
        eventually(
            Duration::from_secs(10),
            async || count_of(app, &format!("{session} .bar")).await,
            |bars| *bars == 5,
        )
        .await;
        // The diff's row of a claim: its kind, or nothing while the new token is not in yet.
        let kind_of = async |claim: &str| {
            app.execute(
                "return document.querySelector(arguments[0])?.dataset.kind ?? '';",
                serde_json::json!([format!("#claims-diff tr[data-claim=\"{claim}\"]")]),
            )
            .await
            .expect("the page answers")
            .as_str()
            .unwrap_or_default()
            .to_string()
        };
        let metadata = eventually(
            Duration::from_secs(10),
            async || kind_of("user_metadata").await,
            |kind| kind == "notable",
        )
        .await;
        println!("user_metadata row: {metadata}");
        assert_eq!(kind_of("exp").await, "expected");
        assert_eq!(kind_of("iat").await, "expected");
        assert_eq!(count_of(app, "#claims-diff tr.wrong").await, 0);
        let row = newest_text(app, "#claims-diff tr[data-claim=\"user_metadata\"]").await;
        assert!(row.contains("\"plan\":\"pro\""), "{row}");
        // The rotation pressed again closes its exchange: the diff is what the window shows.
        scroll_to(app, "#timeline-session-1 .rotation").await;
        press(app, "#timeline-session-1 .rotation").await;
        eventually(
            Duration::from_secs(5),
            async || count_of(app, "#timeline-exchange").await,
            |n| *n == 0,
        )
        .await;
        scroll_to_top(app, "#timeline-panel").await;
        app.screenshot(&shots_dir().join("claims-diff.png"))
            .await
            .unwrap();
    }

    // Kept across launches; the earlier run's exchanges are gone and said so.
    launched.relaunch().await;
    let app = &launched.app;
    scroll_to(app, "#timeline-toggle").await;
    press(app, "#timeline-toggle").await;
    eventually(
        Duration::from_secs(10),
        async || count_of(app, "#timeline-session-1 .bar").await,
        |bars| *bars >= 5,
    )
    .await;
    scroll_to(app, "#timeline-session-1 .rotation").await;
    press(app, "#timeline-session-1 .rotation").await;
    app.wait_for("#timeline-exchange-gone", Duration::from_secs(10))
        .await
        .expect("an earlier run's exchange is said to be gone");
    launched.finish().await;
}

/// The refresh token the built-in server holds with this fingerprint.
async fn token_with_fingerprint(server: &str, fingerprint: &str) -> String {
    listed_refresh_tokens(server)
        .await
        .into_iter()
        .find(|t| session_engine::tokens::fingerprint(t) == fingerprint)
        .unwrap_or_else(|| panic!("the server holds no token {fingerprint}"))
}

/// Pastes `token`, waits until the predicted sentence starts with `sentence` (a tolerated
/// reuse's countdown moves on its own), and returns the prediction's text.
async fn predicted(app: &Session, token: &str, sentence: &str) -> String {
    erase(app, "#paste-input").await;
    type_into(app, "#paste-input", token).await;
    eventually(
        Duration::from_secs(15),
        async || app.text_of("#paste-forecast").await.unwrap_or_default(),
        |text| !text.is_empty() && text.starts_with(sentence),
    )
    .await
}

/// Waits (without pasting again) until the predicted sentence starts with `sentence`.
async fn predicted_later(app: &Session, sentence: &str) -> String {
    eventually(
        Duration::from_secs(15),
        async || app.text_of("#paste-forecast").await.unwrap_or_default(),
        |text| text.starts_with(sentence),
    )
    .await
}

/// Presses Rotate and returns the verdict once it is shown.
async fn rotate_and_judge(app: &Session) -> String {
    let before = newest_text(app, "#paste-verdict").await;
    press(app, "#paste-rotate").await;
    eventually(
        Duration::from_secs(10),
        async || newest_text(app, "#paste-verdict").await,
        |verdict| !verdict.is_empty() && *verdict != before,
    )
    .await
}

/// The reuse predictor in the paste box, on the demo (legacy tokens, a 10 s reuse interval),
/// right for each of GoTrue's four answers: the tokens come from the built-in server's control
/// surface, each is pasted, the window says what the server will do, Rotate, and the window
/// says the prediction held; the session the app then holds is the one the rule gives.
#[tokio::test]
#[ignore = "needs a display, a keyring, WebKitWebDriver and tauri-driver: run by `make test`"]
async fn the_reuse_predictor_is_right_for_each_outcome() {
    let launched = launch("predictor", &[]).await;
    let app = &launched.app;
    let server = launched.demo.clone();
    let session_id = app.text_of("#session-id").await.unwrap();

    // A line of three tokens: t0 → t1 → t2 (t2 active).
    let t0 = app.text_of("#refresh-fingerprint").await.unwrap();
    press(app, "#refresh-now").await;
    let t1 = rotated_from(app, &t0).await;
    press(app, "#refresh-now").await;
    let t2 = rotated_from(app, &t1).await;

    // (c) The grandparent t0, used a moment ago (when t1 came): tolerated, seconds left;
    // the server mints a new child of it, which the app now holds.
    let grandparent = token_with_fingerprint(&server, &t0).await;
    let sentence = predicted(
        app,
        &grandparent,
        "Tolerated reuse: inside the reuse interval, ",
    )
    .await;
    assert!(
        sentence.contains(" s left; the server mints a new child of this token."),
        "{sentence}"
    );
    let interval = app.text_of("#paste-interval").await.unwrap();
    assert_eq!(
        interval,
        "Reuse interval: 10 s (the built-in server's setting)."
    );
    scroll_to(app, "#paste-prediction").await;
    app.screenshot(&shots_dir().join("reuse-predictor.png"))
        .await
        .unwrap();
    let verdict = rotate_and_judge(app).await;
    assert!(
        verdict.starts_with("Predicted: Tolerated reuse"),
        "{verdict}"
    );
    assert!(
        verdict.contains("Prediction held: the server issued a new refresh token"),
        "{verdict}"
    );
    let c = rotated_from(app, &t2).await;
    assert!(
        ![t0.as_str(), t1.as_str()].contains(&c.as_str()),
        "a new child: {c}"
    );

    // (a) The active token (the child just minted): normal rotation to a new one.
    let active = token_with_fingerprint(&server, &c).await;
    predicted(app, &active, "Normal rotation: this is the active token").await;
    let verdict = rotate_and_judge(app).await;
    assert!(
        verdict.contains("Prediction held: the server issued a new refresh token"),
        "{verdict}"
    );
    let d = rotated_from(app, &c).await;
    assert_eq!(
        newest_refresh_token(&server, &session_id)
            .await
            .map(|t| session_engine::tokens::fingerprint(&t)),
        Some(d.clone()),
        "the app holds the server's active token"
    );

    // (b) Its parent (the token pasted in (a)): the server re-issues the active token.
    predicted(
        app,
        &active,
        "Parent of the active token: the server re-issues the active token",
    )
    .await;
    let verdict = rotate_and_judge(app).await;
    assert!(
        verdict.contains(&format!("Prediction held: the server answered with {d}")),
        "{verdict}"
    );
    assert_eq!(
        app.text_of("#refresh-fingerprint").await.unwrap(),
        d,
        "the same active token"
    );

    // (d) t1, used when t2 came: tolerated at first, and once the window's countdown has run
    // out the prediction says the reuse revokes the whole session; Rotate is refused.
    let old = token_with_fingerprint(&server, &t1).await;
    let first = predicted(app, &old, "").await;
    println!("t1 pasted: {first}");
    predicted_later(app, "Reuse outside the interval: the server answers refresh_token_already_used and revokes the whole session.").await;
    app.screenshot(&shots_dir().join("reuse-predictor-revokes.png"))
        .await
        .unwrap();
    let verdict = rotate_and_judge(app).await;
    assert!(
        verdict.starts_with("Predicted: Reuse outside the interval"),
        "{verdict}"
    );
    assert!(
        verdict.contains("Prediction held: the server answered refresh_token_already_used"),
        "{verdict}"
    );
    let (_, message) = error_parts(app, "#paste-error").await;
    assert!(!message.is_empty(), "the refusal is shown");
    app.screenshot(&shots_dir().join("reuse-predictor-verdict.png"))
        .await
        .unwrap();
    // Every token of the session was revoked with it, the one the app holds too: once the
    // interval has passed (the server's clock moved on), the app's own refresh is refused.
    emulator(
        reqwest::Method::PUT,
        &format!("{server}/_emulator/clock"),
        serde_json::json!({"skew_seconds": 30}),
    )
    .await;
    assert_eq!(
        newest_refresh_token(&server, &session_id).await,
        None,
        "no live token left"
    );
    press(app, "#refresh-now").await;
    let banner = app
        .wait_for("#refresh-rejected", Duration::from_secs(10))
        .await
        .expect("the app's session is refused");
    let text = app.text(&banner).await.unwrap();
    assert!(text.contains("refresh_token_already_used"), "{text}");
    launched.finish().await;
}

/// The log rows that arrived since `mark`, newest first: each row's type (its class, e.g.
/// `request-row`), its event kind or HTTP status, and its text. The log is a virtual list:
/// when some of the rows that arrived are not drawn (scrolled away, or more than it draws),
/// this fails rather than answer fewer rows.
async fn rows_since(app: &Session, mark: u64) -> Vec<(String, String, String)> {
    let script = format!(
        "const rows = [...document.querySelectorAll('{LOG_ROWS}')]; \
         if (rows.length === 0) return {{arrived: 0, drawn: 0, rows: []}}; \
         const total = Number(rows[0].getAttribute('aria-setsize')); \
         const above = Number(rows[0].getAttribute('aria-posinset')) - 1; \
         const arrived = Math.max(0, total - arguments[0]); \
         const drawn = Math.max(0, Math.min(rows.length, arrived - above)); \
         return {{arrived, drawn, rows: rows.slice(0, drawn).map((row) => [row.className, \
           row.dataset.kind || row.dataset.status || '', row.textContent])}};"
    );
    let answer = app
        .execute(&script, serde_json::json!([mark]))
        .await
        .expect("the log's rows");
    let arrived = answer["arrived"].as_u64().unwrap_or(0);
    let drawn = answer["drawn"].as_u64().unwrap_or(0);
    assert_eq!(
        arrived, drawn,
        "{arrived} rows arrived since the mark, but only {drawn} of them are drawn"
    );
    serde_json::from_value(answer["rows"].clone()).expect("rows")
}

/// Rows since `mark` of `class` whose kind or status is `what` and whose text has `text`.
fn count_rows(rows: &[(String, String, String)], class: &str, what: &str, text: &str) -> usize {
    rows.iter()
        .filter(|(c, w, t)| c.contains(class) && (what.is_empty() || w == what) && t.contains(text))
        .count()
}

/// Runs one playground scenario from its button and waits for it to finish: the rows that
/// arrived meanwhile (once `done` holds for them) and the panel's report.
async fn run_scenario(
    app: &Session,
    scenario: &str,
    done: impl Fn(&[(String, String, String)]) -> bool,
) -> (Vec<(String, String, String)>, String) {
    let mark = log_mark(app).await;
    scroll_to(app, &format!("#run-{scenario}")).await;
    press(app, &format!("#run-{scenario}")).await;
    let finished = format!("#scenario-{scenario}[data-state='finished']");
    app.wait_for(&finished, Duration::from_secs(30))
        .await
        .unwrap_or_else(|_| panic!("{scenario} finishes"));
    let report = app
        .text_of(&format!("#scenario-{scenario} .report"))
        .await
        .unwrap();
    let rows = eventually(
        Duration::from_secs(10),
        async || rows_since(app, mark).await,
        |rows| done(rows),
    )
    .await;
    println!("{scenario}: {report}");
    (rows, report)
}

/// The playground, in the real window: each of its eight scenarios runs from its button and the
/// live log shows what it should (requests with their status and code, failures, events).
#[tokio::test]
#[ignore = "needs a display, a keyring, WebKitWebDriver and tauri-driver: run by `make test`"]
async fn each_playground_scenario_shows_its_expected_events_in_the_log() {
    let launched = launch("playground", &[]).await;
    let app = &launched.app;
    let server = launched.demo.clone();
    app.wait_for("#run-twoClients", Duration::from_secs(10))
        .await
        .expect("the playground is shown for the built-in demo");
    const REFRESH: &str = "grant_type=refresh_token";

    // 1. Two clients, one token: two refresh requests answered 200, the app's TOKEN_REFRESHED,
    // and both got the same token.
    let before = refresh_requests(&server).await;
    let (rows, report) = run_scenario(app, "twoClients", |rows| {
        count_rows(rows, "request-row", "200", REFRESH) >= 2
            && count_rows(rows, "event-row", "TOKEN_REFRESHED", "") >= 1
    })
    .await;
    assert!(refresh_requests(&server).await - before >= 2);
    assert_eq!(count_rows(&rows, "failure-row", "", ""), 0, "{rows:?}");
    assert!(report.contains("too"), "both got the same token: {report}");
    assert!(
        report.contains("mints a new token for it"),
        "the reuse inside the interval: {report}"
    );

    // 2. Reuse outside the interval: the old token is refused as already used, the family is
    // revoked, and the app's next refresh is refused too (kept and marked while it works).
    let (rows, report) = run_scenario(app, "reuseAfterInterval", |rows| {
        count_rows(rows, "request-row", "400", "refresh_token_already_used") >= 2
            && count_rows(rows, "event-row", "REFRESH_REJECTED", "") >= 1
    })
    .await;
    assert!(
        count_rows(&rows, "event-row", "TOKEN_REFRESHED", "") >= 2,
        "{rows:?}"
    );
    assert!(
        report.contains("every refresh token of the session is now revoked"),
        "{report}"
    );
    assert_eq!(count_of(app, "#refresh-rejected").await, 1);
    // The server's own state: every refresh token of the app's session is revoked.
    let session_id = app.text_of("#session-id").await.unwrap();
    let sessions = emulator(
        reqwest::Method::GET,
        &format!("{server}/_emulator/sessions"),
        serde_json::Value::Null,
    )
    .await;
    let session = sessions
        .as_array()
        .and_then(|all| all.iter().find(|s| s["id"] == session_id.as_str()))
        .unwrap_or_else(|| panic!("session {session_id} on the server: {sessions}"));
    let tokens = session["refresh_tokens"].as_array().unwrap();
    assert!(tokens.len() >= 3, "{session}");
    assert!(
        tokens.iter().all(|t| t["revoked"] == true),
        "the family is revoked: {session}"
    );

    // The shot for docs/playground.png: the first two scenarios' reports and their rows.
    for (at, name) in [
        ("#playground", "playground.png"),
        ("body", "playground-top.png"),
    ] {
        app.execute(
            &format!("document.querySelector('{at}').scrollIntoView({{block: 'start'}});"),
            serde_json::json!([]),
        )
        .await
        .unwrap();
        app.screenshot(&shots_dir().join(name)).await.unwrap();
    }

    // 3. Server down for 10 s: the panel counts down; requests without an answer and a
    // failure row, the session kept; after the outage a refresh works.
    let mark = log_mark(app).await;
    let started = std::time::Instant::now();
    press(app, "#run-serverDown").await;
    let running = app
        .wait_for("#scenario-serverDown .running", Duration::from_secs(5))
        .await
        .unwrap();
    let countdown = app.text(&running).await.unwrap();
    assert!(countdown.contains("s left"), "{countdown}");
    eventually(
        Duration::from_secs(9),
        async || rows_since(app, mark).await,
        |rows| count_rows(rows, "failure-row", "", "refresh failed") >= 1,
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the failure comes during the outage"
    );
    // Signed in again (scenario 2 left the token refused), and kept through the outage.
    let during = app.text_of("#session-id").await.unwrap();
    app.wait_for(
        "#scenario-serverDown[data-state='finished']",
        Duration::from_secs(25),
    )
    .await
    .unwrap();
    assert!(started.elapsed() >= Duration::from_secs(10));
    let rows = eventually(
        Duration::from_secs(5),
        async || rows_since(app, mark).await,
        |rows| count_rows(rows, "event-row", "TOKEN_REFRESHED", "") >= 1,
    )
    .await;
    assert!(
        count_rows(&rows, "request-row", "none", REFRESH) >= 1,
        "{rows:?}"
    );
    assert!(
        count_rows(&rows, "event-row", "SIGNED_OUT", "") == 0,
        "{rows:?}"
    );
    assert_eq!(app.text_of("#session-id").await.unwrap(), during);

    // 4. A 429 storm: the server's 429 over_request_rate_limit, then the engine's cooldown
    // answers the next refreshes without a request; three failure rows, the session kept.
    let (rows, report) = run_scenario(app, "rateLimitStorm", |rows| {
        count_rows(rows, "request-row", "429", "over_request_rate_limit") >= 1
            && count_rows(rows, "failure-row", "", "over_request_rate_limit") >= 3
    })
    .await;
    assert_eq!(
        count_rows(&rows, "request-row", "429", REFRESH),
        1,
        "{rows:?}"
    );
    assert!(
        count_rows(&rows, "event-row", "SIGNED_OUT", "") == 0,
        "{rows:?}"
    );
    assert!(
        report.contains("Cooldown") && report.contains("no request sent"),
        "{report}"
    );
    // The 429s the cooldown did not use are gone: none waits for the next sign-in.
    let faults = emulator(
        reqwest::Method::GET,
        &format!("{server}/_emulator/faults"),
        serde_json::Value::Null,
    )
    .await;
    assert_eq!(faults, serde_json::json!([]), "{faults}");

    // 5. Session timebox: session_expired, the refresh token rejected.
    let (rows, _) = run_scenario(app, "sessionTimebox", |rows| {
        count_rows(rows, "request-row", "400", "session_expired") >= 1
            && count_rows(rows, "event-row", "REFRESH_REJECTED", "") >= 1
            && count_rows(rows, "failure-row", "", "session_expired") >= 1
    })
    .await;
    // Expired by the timebox, not for inactivity.
    assert_eq!(
        count_rows(&rows, "failure-row", "", "(Inactivity)"),
        0,
        "{rows:?}"
    );
    // The timebox was lifted once the refusal was shown.
    let policy = emulator(
        reqwest::Method::GET,
        &format!("{server}/_emulator/sessions-policy"),
        serde_json::Value::Null,
    )
    .await;
    assert!(policy["timebox_seconds"].is_null(), "{policy}");

    // 6. Inactivity timeout: session_expired for inactivity (a fresh sign-in first).
    let (rows, _) = run_scenario(app, "inactivityTimeout", |rows| {
        count_rows(rows, "request-row", "400", "session_expired") >= 1
            && count_rows(rows, "event-row", "REFRESH_REJECTED", "") >= 1
    })
    .await;
    assert!(
        count_rows(&rows, "event-row", "SIGNED_IN", "") >= 1,
        "{rows:?}"
    );
    assert!(
        count_rows(&rows, "failure-row", "", "(Inactivity)") >= 1,
        "{rows:?}"
    );

    // 7. Skewed clock: the refresh works and the card shows the server's clock 5 min ahead.
    let (_, report) = run_scenario(app, "skewedClock", |rows| {
        count_rows(rows, "event-row", "TOKEN_REFRESHED", "") >= 1
    })
    .await;
    assert!(
        report.contains("ahead of this computer's clock"),
        "{report}"
    );
    // The card's "server clock +300 s, corrected" (the Date header has one-second steps).
    let ahead = |text: &String| -> i64 {
        text.split("server clock +")
            .nth(1)
            .and_then(|rest| rest.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    let offset = eventually(
        Duration::from_secs(5),
        async || app.text_of("#clock-offset").await.unwrap_or_default(),
        |text| (295..=305).contains(&ahead(text)),
    )
    .await;
    assert!(offset.ends_with("s, corrected"), "{offset}");
    // The skew stays on (the card shows it), and the panel says so beside its Reset.
    let still = app.text_of("#playground-still-on").await.unwrap();
    assert!(still.contains("300 s ahead"), "{still}");

    // 8. Signing-key rotation: a new kid, the JWKS fetched again, the signature verified.
    let (rows, report) = run_scenario(app, "keyRotation", |rows| {
        count_rows(rows, "event-row", "TOKEN_REFRESHED", "") >= 1
            && count_rows(rows, "request-row", "200", "jwks.json") >= 1
    })
    .await;
    assert!(report.contains("signature verifies"), "{report}\n{rows:?}");
    // "kid X -> Y.": the refresh was signed by the new key, not the old one.
    let kids = report
        .split("kid ")
        .nth(1)
        .and_then(|rest| rest.split_once('.'))
        .map(|(pair, _)| pair.to_string())
        .unwrap_or_default();
    let (old_kid, new_kid) = kids.split_once(" -> ").expect("kid X -> Y");
    assert_ne!(old_kid, new_kid, "{report}");
    assert!(
        report.contains(&format!("The new access token names kid {new_kid}.")),
        "{report}"
    );
    let keys: serde_json::Value = reqwest::get(format!("{server}/auth/v1/.well-known/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(keys["keys"].as_array().unwrap().len() >= 2, "{keys}");

    app.execute(
        "document.querySelector('#playground').scrollIntoView({block: 'start'});",
        serde_json::json!([]),
    )
    .await
    .unwrap();
    app.screenshot(&shots_dir().join("playground-end.png"))
        .await
        .unwrap();

    // Reset playground: the server's clock is back, and no fault waits.
    press(app, "#playground-reset").await;
    app.wait_for("#playground-reset-done", Duration::from_secs(5))
        .await
        .unwrap();
    let clock = emulator(
        reqwest::Method::GET,
        &format!("{server}/_emulator/clock"),
        serde_json::Value::Null,
    )
    .await;
    assert_eq!(clock["skew_ms"], 0, "{clock}");
    launched.finish().await;
}
