//! The inspector's wiring on Tauri's mock runtime with the real capabilities: the built-in
//! demo starts, its session reaches the window only as a redacted view, "Refresh now"
//! rotates it, auto-refresh keeps its pace and stops when switched off, and no token lands
//! in the settings file, the log file or an export of the live log.
//!
//! Hermetic: a home of its own (data, config and Downloads folders in a temporary folder) and
//! the throwaway keyring of `src-tauri/scripts/with-keyring.sh`, which `test.sh` runs it under;
//! it refuses to run anywhere else. (Its own test binary, with one test: it sets the process's
//! environment before the app exists.) Built without the `demo` feature it holds the other
//! test instead: the first launch of a build that has no built-in demo.
//!
//! The helpers below serve the demo build's test; a build without the demo leaves them unused.
#![cfg_attr(not(feature = "demo"), allow(dead_code, unused_imports))]

#[path = "support/mock_ipc.rs"]
mod mock_ipc;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mock_ipc::{call, eventually, private_home, require_throwaway_keyring, PrivateHome};
use serde_json::Value;
use session_engine::auto_refresh::MIN_GAP;
use session_inspector_lib::inspector::Inspector;
use tauri::ipc::{Channel, InvokeResponseBody};
use tauri::test::{mock_builder, MockRuntime};
use tauri::{Manager, WebviewWindow, WebviewWindowBuilder};

fn invoke(window: &WebviewWindow<MockRuntime>, cmd: &str) -> Result<Value, Value> {
    call(window, cmd, Value::Null)
}

/// A token as itself and as it would appear inside base64 (standard or URL-safe, padded or
/// not) at each of the three alignments.
fn encodings(secret: &str) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    use base64::Engine as _;
    let mut forms = vec![secret.to_string()];
    for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        for pad in ["", "a", "ab"] {
            let encoded = engine.encode(format!("{pad}{secret}"));
            let skip = (pad.len() * 4).div_ceil(3) + 1;
            forms.push(
                encoded
                    .chars()
                    .skip(skip)
                    .take(encoded.len().saturating_sub(skip + 4))
                    .collect(),
            );
        }
    }
    forms
}

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[cfg(feature = "demo")]
#[test]
#[ignore = "opens the OS keyring: run through src-tauri/scripts/with-keyring.sh (test.sh does)"]
fn the_built_in_demo_starts_and_its_session_crosses_only_as_a_redacted_view() {
    require_throwaway_keyring();
    let home = private_home();
    // A second server standing in for a `supabase start` stack, for the profile commands.
    // Its gateway checks the API key, as Kong does in front of a real stack.
    let local_stack = tauri::async_runtime::block_on(local_gotrue::start(local_gotrue::Config {
        require_api_key: true,
        ..local_gotrue::Config::default()
    }))
    .unwrap();
    // Set before the app exists; this test binary has only this test.
    unsafe {
        std::env::set_var("SESSION_INSPECTOR_LOCAL_STACK", local_stack.url());
        std::env::set_var("SESSION_INSPECTOR_LOCAL_STACK_KEY", local_stack.anon_key());
        // Everything the app can log goes to its log file, which must still hold no token.
        std::env::set_var("SESSION_INSPECTOR_LOG", "debug");
        // No desktop: Copy must never reach the clipboard of whoever runs the tests (the real
        // clipboard is tested in the E2E run, on its own X display).
        std::env::remove_var("DISPLAY");
        std::env::remove_var("WAYLAND_DISPLAY");
    }

    let app = session_inspector_lib::build(mock_builder())
        .build(session_inspector_lib::context())
        .unwrap();
    assert_eq!(
        app.path().download_dir().unwrap(),
        home.downloads,
        "exports go to this test's own Downloads folder"
    );
    let main = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    session_inspector_lib::start_inspector(app.handle().clone());
    let inspector = app.state::<Inspector>().inner().clone();
    // The live log exactly as a window receives it, for the export at the end.
    let rows = LiveLog::follow(&inspector);

    let status = invoke(&main, "inspector_status").expect("status");
    assert_eq!(status["builtIn"], true);
    assert_eq!(status["profile"], "Built-in demo");
    println!("keyring: {}", status["keyring"]);
    assert_eq!(
        status["keyring"], "secretService",
        "with-keyring.sh's gnome-keyring, not a fallback: {status}"
    );

    let view = invoke(&main, "session_current").expect("a session");
    assert_eq!(
        view["user"]["email"],
        session_inspector_lib::demo::DEMO_EMAIL
    );
    assert_eq!(view["refreshTokenShape"]["format"], "legacy");
    assert_eq!(view["header"]["alg"], "ES256");
    assert!(view["refreshTokenFingerprint"]
        .as_str()
        .unwrap()
        .starts_with("fp:"));
    let lifetime = view["expiresAt"].as_i64().unwrap() - view["issuedAt"].as_i64().unwrap();
    assert_eq!(lifetime, 120, "the demo's tokens live 2 minutes: {view}");

    // Sign-in and 5 refreshes; every session's tokens are read in-process, where they live.
    let client = tauri::async_runtime::block_on(inspector.active())
        .unwrap()
        .client
        .clone();
    // Every session the demo client ever holds, for the scans of the log file and the export.
    let mut tokens = Tokens::default();
    tokens.follow(&client);
    // An auth event is no change of a setting: the settings file is not written for it.
    let settings_file = home.data.join("dev.sessioninspector.app/settings.json");
    let settings_before = std::fs::read(&settings_file).expect("the settings file");
    let settings_written = std::fs::metadata(&settings_file)
        .unwrap()
        .modified()
        .unwrap();
    let mut sessions = vec![client.current_session().unwrap()];
    let mut answers = vec![view.to_string()];
    for _ in 0..5 {
        let refreshed = invoke(&main, "session_refresh").expect("refresh works")["session"].clone();
        let previous = serde_json::from_str::<Value>(answers.last().unwrap()).unwrap();
        assert_ne!(
            refreshed["refreshTokenFingerprint"], previous["refreshTokenFingerprint"],
            "rotated"
        );
        answers.push(refreshed.to_string());
        sessions.push(client.current_session().unwrap());
    }
    let secrets: Vec<&str> = sessions
        .iter()
        .flat_map(|s| [s.access_token.as_str(), s.refresh_token.as_str()])
        .collect();
    for answer in &answers {
        assert!(
            secrets.iter().all(|secret| !answer.contains(secret)),
            "a token crossed the IPC boundary"
        );
    }

    // The app data folder: settings, sealed sessions, anything else the app wrote. The
    // built-in server's own database (demo/) is the auth server's data, like GoTrue's
    // Postgres, and holds refresh tokens as GoTrue's does; it is the one place left out.
    let app_data = home.data.join("dev.sessioninspector.app");
    // The history writer appends each refresh to the history file, in batches, on its own task.
    let history = eventually(
        Duration::from_secs(10),
        "5 refreshes in the history",
        || {
            let text = std::fs::read_to_string(app_data.join("history.ndjson")).ok()?;
            let history: Vec<Value> = text
                .lines()
                .map(|line| serde_json::from_str(line).unwrap())
                .collect();
            let refreshed = history
                .iter()
                .filter(|h| h["kind"] == "TOKEN_REFRESHED" && h["profile"] == "built-in-demo")
                .count();
            (refreshed == 5).then_some(history)
        },
    );
    // The timeline reads it back as one chain: the sign-in and the 5 Refresh now, with their
    // exchanges of this run, and no token.
    let timeline = invoke(&main, "timeline_get").expect("the timeline");
    let chain = timeline["sessions"].as_array().unwrap().last().unwrap()["tokens"]
        .as_array()
        .unwrap()
        .clone();
    let causes: Vec<&str> = chain
        .iter()
        .map(|t| t["cause"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        causes,
        [
            "signIn",
            "refreshNow",
            "refreshNow",
            "refreshNow",
            "refreshNow",
            "refreshNow"
        ],
        "{timeline}"
    );
    assert!(chain.iter().all(|t| t["exchange"]["thisRun"] == true));
    assert_eq!(
        chain.last().unwrap()["refreshTokenFingerprint"],
        serde_json::from_str::<Value>(answers.last().unwrap()).unwrap()["refreshTokenFingerprint"]
    );
    let timeline = timeline.to_string();
    assert!(
        secrets.iter().all(|secret| !timeline.contains(secret)),
        "a token crossed the IPC boundary in the timeline"
    );
    assert_eq!(
        std::fs::read(&settings_file).unwrap(),
        settings_before,
        "the settings file is the same after 5 refreshes"
    );
    assert_eq!(
        std::fs::metadata(&settings_file)
            .unwrap()
            .modified()
            .unwrap(),
        settings_written,
        "and was not rewritten"
    );
    assert!(history.iter().all(|h| h["refreshTokenFingerprint"]
        .as_str()
        .is_none_or(|f| f.starts_with("fp:"))));
    let files: Vec<_> = files_under(&app_data)
        .into_iter()
        .filter(|f| !f.starts_with(app_data.join("demo")))
        .collect();
    assert!(files.iter().any(|f| f.ends_with("settings.json")));
    let hits = hits_in(&files, &secrets);
    println!(
        "searched {} file(s) of the app data folder for {} tokens in 13 forms each: {hits} hits",
        files.len(),
        secrets.len()
    );
    assert_eq!(hits, 0);

    the_other_commands_do_what_they_say(&main, &client, home);
    // The demo client's subscription ends here: the profile switch below wants no listener
    // left on it.
    for session in &sessions {
        tokens.add(session);
    }
    tokens.stop_following();
    profiles_switch_to_a_real_project_and_back(
        &main,
        &local_stack,
        &client,
        &inspector,
        &mut tokens,
    );
    // Leave nothing behind: signing out removes the demo's keyring entry.
    let signed_out_before = rows.count_of("SIGNED_OUT");
    call(
        &main,
        "auth_sign_out",
        serde_json::json!({"scope": "local"}),
    )
    .unwrap();
    eventually(
        Duration::from_secs(10),
        "the last sign-out in the live log",
        || (rows.count_of("SIGNED_OUT") > signed_out_before).then_some(()),
    );
    let tokens = tokens.all();
    a_real_export_of_the_live_log_holds_no_token(&main, &rows, home, &tokens);
    the_log_file_holds_no_token(&app_data, &tokens);
    drop(app);
}

/// Every token the clients held: the sessions read directly, and each session an event
/// carried while they were followed. (Access tokens issued within the same second for the
/// same session are the same bytes: ES256 signatures are deterministic.)
#[derive(Default)]
struct Tokens {
    access: HashSet<String>,
    refresh: HashSet<String>,
    following: Vec<session_engine::EventStream>,
}

impl Tokens {
    fn add(&mut self, session: &session_engine::Session) {
        self.access
            .insert(session.access_token.as_str().to_string());
        self.refresh
            .insert(session.refresh_token.as_str().to_string());
    }

    fn follow(&mut self, client: &session_engine::AuthClient) {
        if let Some(session) = client.current_session() {
            self.add(&session);
        }
        self.following.push(client.subscribe());
    }

    /// Takes what the events brought so far and stops listening.
    fn stop_following(&mut self) {
        for mut events in std::mem::take(&mut self.following) {
            while let Some(event) = events.try_next() {
                if let Some(session) = &event.session {
                    self.add(session);
                }
            }
        }
    }

    fn all(mut self) -> Vec<String> {
        self.stop_following();
        println!(
            "tokens collected: {} access, {} refresh",
            self.access.len(),
            self.refresh.len()
        );
        // Refresh tokens are never issued twice: the demo's sign-in, its 5 + 1 refreshes by
        // hand (the paste of the token just used gets that same new one back), the anonymous
        // and the password sign-ins, and 3 + 1 automatic refreshes.
        assert!(
            self.refresh.len() >= 13 && self.access.len() >= 5,
            "the collector saw the sessions"
        );
        self.access.into_iter().chain(self.refresh).collect()
    }
}

/// The rows of the live log a window would receive (`session_events`' stream, into a Rust
/// channel instead of the webview's), as the JSON each arrived as.
#[derive(Clone)]
struct LiveLog(Arc<Mutex<Vec<String>>>);

impl LiveLog {
    fn follow(inspector: &Inspector) -> LiveLog {
        let rows = LiveLog(Arc::default());
        let sink = rows.clone();
        let channel = Channel::new(move |body| {
            if let InvokeResponseBody::Json(json) = body {
                sink.0.lock().unwrap().push(json);
            }
            Ok(())
        });
        session_inspector_lib::log_stream::spawn(inspector.clone(), channel);
        rows
    }

    /// Every item, with its JSON; each message is a batch of items.
    fn items(&self) -> Vec<(Value, String)> {
        let rows = self.0.lock().unwrap();
        rows.iter()
            .flat_map(|json| serde_json::from_str::<Vec<Value>>(json).unwrap())
            .map(|item| {
                let json = item.to_string();
                (item, json)
            })
            .collect()
    }

    /// How many event rows of this kind arrived.
    fn count_of(&self, kind: &str) -> usize {
        self.items()
            .iter()
            .filter(|(item, _)| item["type"] == "event" && item["event"]["kind"] == kind)
            .count()
    }

    /// The export the window makes (ui/src/lib/log.ts `toNdjson`): each item as it arrived,
    /// one per line, by `seq`, newline-terminated.
    fn ndjson(&self) -> String {
        let mut items = self.items();
        items.sort_by_key(|(item, _)| item["seq"].as_u64().unwrap());
        items.into_iter().map(|(_, json)| json + "\n").collect()
    }
}

/// After sign-in, refreshes (by hand and automatic), a paste, failures, sign-outs and profile
/// switches, the window exports its live log into the Downloads folder: the rows say what
/// happened, by fingerprint, and the folder holds none of the tokens in any form.
fn a_real_export_of_the_live_log_holds_no_token(
    main: &WebviewWindow<MockRuntime>,
    rows: &LiveLog,
    home: &PrivateHome,
    tokens: &[String],
) {
    let ndjson = rows.ndjson();
    let name = format!("session-inspector-log-real-{}.ndjson", std::process::id());
    let path = call(
        main,
        "log_export",
        serde_json::json!({"fileName": name, "ndjson": ndjson}),
    )
    .expect("the live log exports");
    let path = std::path::PathBuf::from(path.as_str().unwrap());
    assert!(
        path.starts_with(&home.downloads),
        "into this test's Downloads folder: {}",
        path.display()
    );
    let exported = std::fs::read_to_string(&path).unwrap();
    assert_eq!(exported, ndjson);
    // The rows are about these very sessions: refreshes by hand and automatic, sign-ins,
    // the rotated refresh tokens by fingerprint, the refresh grants' requests.
    let lines = exported.lines().count();
    for (what, at_least) in [
        ("\"TOKEN_REFRESHED\"", 10),
        ("\"SIGNED_IN\"", 2),
        ("\"INITIAL_SESSION\"", 2),
        ("grant_type=refresh_token", 10),
        ("\"type\":\"failure\"", 1),
        ("\"type\":\"profile\"", 2),
        ("\"refreshTokenFingerprint\":\"fp:", 10),
    ] {
        let found = exported.matches(what).count();
        assert!(
            found >= at_least,
            "{what} {found} times in the export's {lines} rows, expected at least {at_least}"
        );
    }
    let files = files_under(&home.downloads);
    let secrets: Vec<&str> = tokens
        .iter()
        .map(String::as_str)
        .chain([session_inspector_lib::demo::DEMO_PASSWORD])
        .collect();
    let hits = hits_in(&files, &secrets);
    println!(
        "export: {lines} row(s); searched {} file(s) of the Downloads folder for {} tokens and the password in 13 forms each: {hits} hits",
        files.len(),
        tokens.len()
    );
    assert_eq!(hits, 0, "a secret reached the exported log");
}

/// How many times any of `secrets`, in any of its forms, occurs in `files`.
fn hits_in(files: &[std::path::PathBuf], secrets: &[&str]) -> usize {
    let mut hits = 0;
    for file in files {
        let text = String::from_utf8_lossy(&std::fs::read(file).unwrap()).to_string();
        for secret in secrets {
            hits += encodings(secret)
                .iter()
                .filter(|form| text.contains(form.as_str()))
                .count();
        }
    }
    hits
}

/// After sign-ins, refreshes, a paste, sign-outs and profile switches at debug level, the
/// app's log file says what happened (by fingerprint) and holds no token in any form.
fn the_log_file_holds_no_token(app_data: &std::path::Path, tokens: &[String]) {
    let read_logs = || -> String {
        files_under(&app_data.join("logs"))
            .iter()
            .map(|f| String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned())
            .collect()
    };
    // The logger writes each line as it comes; the last sign-out's request is the last line
    // this test waits for (two sign-outs in all).
    let expected = [
        "auth request",
        "grant_type=refresh_token",
        "profile switched",
        "fp:",
    ];
    let text = eventually(
        Duration::from_secs(10),
        "the log file to say it all",
        || {
            let text = read_logs();
            let complete = expected.iter().all(|e| text.contains(e))
                && text.matches("/logout?scope=local").count() >= 2;
            complete.then_some(text)
        },
    );
    let mut secrets: Vec<&str> = tokens.iter().map(String::as_str).collect();
    secrets.push(session_inspector_lib::demo::DEMO_PASSWORD);
    let hits: usize = secrets
        .iter()
        .map(|secret| {
            encodings(secret)
                .iter()
                .filter(|form| text.contains(form.as_str()))
                .count()
        })
        .sum();
    println!(
        "log file: {} line(s), searched for {} tokens and the password in 13 forms each: {hits} hits",
        text.lines().count(),
        tokens.len()
    );
    assert_eq!(hits, 0, "a secret reached the log file");
}

fn fp(token: &str) -> String {
    session_engine::tokens::fingerprint(token)
}

fn the_other_commands_do_what_they_say(
    main: &WebviewWindow<MockRuntime>,
    client: &session_engine::AuthClient,
    home: &PrivateHome,
) {
    // The demo signs with ES256: the signature is checked against the published JWKS.
    let signature = invoke(main, "session_signature").expect("signature");
    assert_eq!(signature["status"], "verified", "{signature}");
    assert_eq!(signature["alg"], "ES256");

    // Reveal is the one command whose answer is a token.
    let current = client.current_session().unwrap();
    let revealed = call(
        main,
        "session_reveal",
        serde_json::json!({"which": "refresh", "fingerprint": fp(&current.refresh_token)}),
    )
    .unwrap();
    assert_eq!(revealed, current.refresh_token.as_str());
    let revealed = call(
        main,
        "session_reveal",
        serde_json::json!({"which": "access", "fingerprint": fp(&current.access_token)}),
    )
    .unwrap();
    assert_eq!(revealed, current.access_token.as_str());
    // A token the window no longer shows (the session rotated since) is not handed out.
    let stale = call(
        main,
        "session_reveal",
        serde_json::json!({"which": "refresh", "fingerprint": "fp:000000000000"}),
    )
    .unwrap_err();
    assert_eq!(stale["kind"], "invalidInput", "{stale}");

    // Copy never answers with the token. Without a desktop there is no clipboard: a typed
    // error, and nothing written anywhere (the real clipboard is tested in the E2E run).
    let copy = |fingerprint: &str| {
        call(
            main,
            "session_copy",
            serde_json::json!({"which": "refresh", "fingerprint": fingerprint}),
        )
    };
    let no_clipboard = copy(&fp(&current.refresh_token)).unwrap_err();
    assert_eq!(no_clipboard["kind"], "clipboard", "{no_clipboard}");
    assert!(!no_clipboard
        .to_string()
        .contains(current.refresh_token.as_str()));
    let stale = copy("fp:000000000000").unwrap_err();
    assert_eq!(stale["kind"], "invalidInput", "{stale}");

    // A garbage paste: a clear error, and the session is untouched.
    let garbage = serde_json::json!({"text": "hello there, not a token"});
    let error = call(main, "paste_preview", garbage.clone()).unwrap_err();
    assert_eq!(error["kind"], "invalidInput", "{error}");
    let error = call(main, "paste_rotate", garbage).unwrap_err();
    assert_eq!(error["kind"], "invalidInput", "{error}");
    assert_eq!(client.current_session().unwrap(), current);

    // The previous refresh token, pasted at once (inside the reuse interval), still rotates:
    // the server answers with the active head, and it becomes the current session.
    let previous = current.refresh_token.clone();
    invoke(main, "session_refresh").unwrap();
    let text = serde_json::json!({"text": previous});
    let preview = call(main, "paste_preview", text.clone()).unwrap();
    assert_eq!(preview["kind"], "refresh_token");
    assert_eq!(preview["canRotate"], true);
    assert_eq!(preview["isCurrent"], false);
    assert!(preview["warnings"][0]
        .as_str()
        .unwrap()
        .contains("refresh_token_already_used"));
    // The reuse predictor places it from the history (written by its own task, so asked
    // again until the refresh is there): the parent of the active token, re-issued.
    let head =
        session_engine::tokens::fingerprint(&client.current_session().unwrap().refresh_token);
    let prediction = eventually(
        Duration::from_secs(10),
        "the refresh in the history the predictor reads",
        || {
            let preview = call(main, "paste_preview", text.clone()).ok()?;
            let prediction = preview["prediction"].clone();
            (prediction["outcome"]["kind"] == "parentReissued").then_some(prediction)
        },
    );
    assert_eq!(prediction["format"], "legacy");
    assert_eq!(prediction["intervalSecs"], 10);
    assert_eq!(
        prediction["intervalAssumed"], false,
        "the built-in server's own setting"
    );
    assert_eq!(prediction["expected"]["fingerprint"], head.as_str());
    let rotated = call(main, "paste_rotate", text).expect("reuse inside the interval works");
    assert_eq!(
        rotated["rotated"]["session"]["user"]["email"],
        current.user.email.as_str()
    );
    assert_eq!(
        rotated["rotated"]["session"]["refreshTokenFingerprint"],
        head.as_str()
    );
    assert_eq!(rotated["error"], serde_json::Value::Null);
    assert_eq!(rotated["prediction"]["outcome"]["kind"], "parentReissued");
    assert_eq!(rotated["verdict"]["held"], true, "{rotated}");
    assert!(
        !rotated.to_string().contains(previous.as_str()),
        "no token crosses IPC"
    );

    // The exchange behind a request is kept, redacted.
    let last = client.recorder().recent().last().unwrap().id;
    let exchange = call(main, "log_exchange", serde_json::json!({"id": last})).unwrap();
    assert_eq!(exchange["method"], "POST");
    assert!(!exchange.to_string().contains(previous.as_str()));

    // The log export writes what it is given (already redacted rows) to a new file and
    // refuses names it did not make and lines that are not JSON objects.
    let ndjson = "{\"type\":\"joined\",\"seq\":1}\n{\"type\":\"joined\",\"seq\":2}\n";
    let name = format!("session-inspector-log-test-{}.ndjson", std::process::id());
    let path = call(
        main,
        "log_export",
        serde_json::json!({"fileName": name, "ndjson": ndjson}),
    )
    .expect("exported");
    let path = std::path::PathBuf::from(path.as_str().unwrap());
    assert_eq!(path.parent(), Some(home.downloads.as_path()));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), ndjson);
    let again = call(
        main,
        "log_export",
        serde_json::json!({"fileName": name, "ndjson": "{}\n"}),
    )
    .expect("exported again");
    let again = std::path::PathBuf::from(again.as_str().unwrap());
    assert_ne!(again, path, "an earlier export is never overwritten");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), ndjson);
    std::fs::remove_file(&path).unwrap();
    std::fs::remove_file(&again).unwrap();
    for (file_name, text) in [
        ("../escape.ndjson", ndjson),
        ("session-inspector-log-x.ndjson", "not json\n"),
        ("session-inspector-log-x.ndjson", "[1,2]\n"),
    ] {
        let error = call(
            main,
            "log_export",
            serde_json::json!({"fileName": file_name, "ndjson": text}),
        )
        .unwrap_err();
        assert_eq!(error["kind"], "invalidInput", "{file_name}: {error}");
    }

    // Sign out (local), then sign in anonymously and with the password.
    call(main, "auth_sign_out", serde_json::json!({"scope": "local"})).unwrap();
    assert_eq!(invoke(main, "session_current").unwrap(), Value::Null);
    let error = invoke(main, "session_refresh").unwrap_err();
    assert_eq!(error["kind"], "sessionMissing");
    let anonymous = invoke(main, "auth_sign_in_anonymously").unwrap();
    assert_eq!(anonymous["user"]["isAnonymous"], true);
    let wrong =
        serde_json::json!({"email": session_inspector_lib::demo::DEMO_EMAIL, "password": "nope"});
    let error = call(main, "auth_sign_in_password", wrong).unwrap_err();
    assert_eq!(error["code"], "invalid_credentials", "{error}");
    assert_eq!(error["status"], 400);
    assert!(
        client.current_session().unwrap().user.is_anonymous,
        "a failed sign-in keeps the session"
    );
    let right = serde_json::json!({
        "email": session_inspector_lib::demo::DEMO_EMAIL,
        "password": session_inspector_lib::demo::DEMO_PASSWORD,
    });
    let signed_in = call(main, "auth_sign_in_password", right).unwrap();
    assert_eq!(signed_in["user"]["isAnonymous"], false);
}

fn profiles_switch_to_a_real_project_and_back(
    main: &WebviewWindow<MockRuntime>,
    local_stack: &local_gotrue::Server,
    demo_client: &session_engine::AuthClient,
    inspector: &Inspector,
    tokens: &mut Tokens,
) {
    let detected = invoke(main, "profile_detect_local").unwrap();
    assert_eq!(detected["url"], local_stack.url().as_str(), "{detected}");

    let bad_key = serde_json::json!({"name": "Local", "projectUrl": local_stack.url(), "anonKey": "eyJ.eyJ.x"});
    let error = call(main, "profile_add", bad_key).unwrap_err();
    assert_eq!(error["kind"], "invalidInput");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("did not answer"),
        "{error}"
    );

    let add = serde_json::json!({"name": "Local stack", "projectUrl": detected["url"], "anonKey": detected["anonKey"]});
    let status = call(main, "profile_add", add).expect("a reachable project is added");
    assert_eq!(status["profile"], "Local stack");
    assert_eq!(status["builtIn"], false);
    assert_eq!(status["removable"], true, "the demo opens instead");
    assert_eq!(status["profiles"].as_array().unwrap().len(), 2);
    assert!(status["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["unavailable"].is_null()));
    assert_eq!(
        invoke(main, "session_current").unwrap(),
        Value::Null,
        "a new profile starts signed out"
    );
    // The demo's client is no longer listened to: its history and auto-refresh tasks ended.
    eventually(
        Duration::from_secs(30),
        "the demo client's tasks to end",
        || (demo_client.subscriber_count() == 0).then_some(()),
    );

    let status = call(
        main,
        "settings_auto_refresh",
        serde_json::json!({"enabled": true, "marginSecs": 30}),
    )
    .unwrap();
    assert_eq!(status["autoRefresh"], true);
    assert_eq!(status["refreshMarginSecs"], 30);
    let error = call(
        main,
        "settings_auto_refresh",
        serde_json::json!({"enabled": true, "marginSecs": 1}),
    )
    .unwrap_err();
    assert_eq!(error["kind"], "invalidInput");

    let id = status["profileId"].as_str().unwrap().to_string();
    let status = call(
        main,
        "profile_select",
        serde_json::json!({"id": "built-in-demo"}),
    )
    .unwrap();
    assert_eq!(status["builtIn"], true);
    assert_eq!(status["removable"], false);
    assert_eq!(status["autoRefresh"], false, "the switch is per profile");
    assert!(
        invoke(main, "session_current").unwrap()["user"]["email"].is_string(),
        "the demo session is back"
    );

    auto_refresh_keeps_its_gap_and_off_means_off(main, inspector, tokens);

    let status = call(main, "profile_remove", serde_json::json!({"id": id})).unwrap();
    assert_eq!(status["profiles"].as_array().unwrap().len(), 1);
    let error = call(
        main,
        "profile_remove",
        serde_json::json!({"id": "built-in-demo"}),
    )
    .unwrap_err();
    assert_eq!(error["kind"], "invalidInput");
}

/// Auto-refresh, watched from the built-in server's side: the refresh grants it receives (its
/// request counts) and the refresh tokens it issues, each with the server's time.
///
/// With a margin longer than the demo's 2-minute tokens, every session is due the moment it
/// arrives: only the loop's minimum gap spaces the refreshes, and the server sees them at
/// least `MIN_GAP` apart, one grant each. Switched off with that same margin, a loop that
/// ignored the switch would refresh at once; the server hears nothing for twice `MIN_GAP`.
/// Switched back on, it refreshes at once: the silence was the switch.
fn auto_refresh_keeps_its_gap_and_off_means_off(
    main: &WebviewWindow<MockRuntime>,
    inspector: &Inspector,
    tokens: &mut Tokens,
) {
    let set = |enabled: bool, margin_secs: u64| {
        let status = call(
            main,
            "settings_auto_refresh",
            serde_json::json!({"enabled": enabled, "marginSecs": margin_secs}),
        )
        .expect("the setting is taken");
        assert_eq!(status["autoRefresh"], enabled);
    };
    let server = Emulator::of(inspector);
    let client = tauri::async_runtime::block_on(inspector.active())
        .unwrap()
        .client
        .clone();
    // Followed to the end of the test, for the scans.
    tokens.follow(&client);
    let issued_before: HashSet<String> = server.refresh_tokens().into_iter().map(|t| t.0).collect();
    let issued_since = || -> Vec<(String, chrono::DateTime<chrono::Utc>)> {
        server
            .refresh_tokens()
            .into_iter()
            .filter(|(token, _)| !issued_before.contains(token))
            .collect()
    };
    let grants_before = server.refresh_grants();

    set(true, 3600);
    eventually(Duration::from_secs(60), "three automatic refreshes", || {
        (issued_since().len() >= 3).then_some(())
    });
    // Quiet: with a 5 s margin the newest session is not due for almost two minutes. Once
    // the last refresh is `MIN_GAP` old, none is in flight and the minimum gap is over.
    set(true, 5);
    let automatic = eventually(
        Duration::from_secs(60),
        "the last automatic refresh to be MIN_GAP old",
        || {
            let issued = issued_since();
            let newest = issued.last()?.1;
            let age = (chrono::Utc::now() - newest).to_std().ok()?;
            (age > MIN_GAP + Duration::from_secs(1)).then_some(issued)
        },
    );
    let grants = server.refresh_grants() - grants_before;
    let gaps: Vec<Duration> = automatic
        .windows(2)
        .map(|pair| (pair[1].1 - pair[0].1).to_std().unwrap_or_default())
        .collect();
    println!(
        "auto-refresh: {} refresh(es), {grants} grant(s), gaps {:?}",
        automatic.len(),
        gaps.iter().map(|g| g.as_millis()).collect::<Vec<_>>()
    );
    assert_eq!(
        grants,
        automatic.len() as u64,
        "one refresh grant per automatic refresh, nothing retried or repeated"
    );
    // The server's clock against the loop's: a little slack for how each reads the time.
    let least = MIN_GAP - Duration::from_millis(100);
    assert!(
        gaps.iter().all(|gap| *gap >= least),
        "automatic refreshes at least {MIN_GAP:?} apart, as the server saw them: {gaps:?}"
    );

    let grants_before_off = server.refresh_grants();
    set(false, 3600);
    let watched = Instant::now();
    while watched.elapsed() < 2 * MIN_GAP {
        assert_eq!(
            server.refresh_grants(),
            grants_before_off,
            "off means off: a refresh grant {:?} after switching off",
            watched.elapsed()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    set(true, 3600);
    eventually(
        Duration::from_secs(30),
        "an automatic refresh once switched back on",
        || (server.refresh_grants() > grants_before_off).then_some(()),
    );
    set(false, 3600);
    // And every refresh token the server still holds, whether or not an event carried it.
    tokens
        .refresh
        .extend(server.refresh_tokens().into_iter().map(|(token, _)| token));
}

/// The built-in server's control surface (`/_emulator`), with the token only this process has.
struct Emulator {
    url: String,
    token: String,
    http: reqwest::Client,
}

impl Emulator {
    fn of(inspector: &Inspector) -> Emulator {
        let active = tauri::async_runtime::block_on(inspector.active()).unwrap();
        let server = active.demo_server.as_ref().expect("the demo is active");
        Emulator {
            url: server.url(),
            token: server.control_token().expect("a control token").to_string(),
            http: reqwest::Client::new(),
        }
    }

    fn get(&self, path: &str) -> Value {
        tauri::async_runtime::block_on(async {
            self.http
                .get(format!("{}/_emulator/{path}", self.url))
                .header("x-emulator-token", &self.token)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await
        })
        .expect("the built-in server's control surface answers")
    }

    /// How many refresh grants (`POST /token?grant_type=refresh_token`) it has received.
    fn refresh_grants(&self) -> u64 {
        self.get("requests")["routes"]["POST /token?grant_type=refresh_token"]
            .as_u64()
            .unwrap_or(0)
    }

    /// Every refresh token it holds, oldest first, with the time it issued each.
    fn refresh_tokens(&self) -> Vec<(String, chrono::DateTime<chrono::Utc>)> {
        let mut tokens: Vec<_> = self
            .get("sessions")
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|session| session["refresh_tokens"].as_array().unwrap().clone())
            .map(|token| {
                let issued = token["created_at"].as_str().unwrap();
                (
                    token["token"].as_str().unwrap().to_string(),
                    chrono::DateTime::parse_from_rfc3339(issued)
                        .unwrap()
                        .with_timezone(&chrono::Utc),
                )
            })
            .collect();
        tokens.sort_by_key(|(_, issued)| *issued);
        tokens
    }
}

/// A build without the built-in demo, first launched: nothing is open (the window offers the
/// project form), a first project added from nothing opens, the only project cannot be
/// removed (and the status says so), and with a second project either can be.
#[cfg(not(feature = "demo"))]
#[test]
#[ignore = "opens the OS keyring: run through src-tauri/scripts/with-keyring.sh (test.sh does)"]
fn without_the_demo_a_first_launch_opens_nothing_until_a_project_is_added() {
    require_throwaway_keyring();
    let home = private_home();
    let start = || {
        tauri::async_runtime::block_on(local_gotrue::start(local_gotrue::Config {
            require_api_key: true,
            ..local_gotrue::Config::default()
        }))
        .unwrap()
    };
    let (first, second) = (start(), start());
    let app = session_inspector_lib::build(mock_builder())
        .build(session_inspector_lib::context())
        .unwrap();
    let main = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    session_inspector_lib::start_inspector(app.handle().clone());

    let error = invoke(&main, "inspector_status").unwrap_err();
    assert_eq!(error["kind"], "noProfile", "{error}");
    let settings_file = home
        .data
        .join(&app.config().identifier)
        .join("settings.json");
    let saved_profiles = || -> Value {
        let text = std::fs::read_to_string(&settings_file).unwrap_or_else(|_| "{}".into());
        serde_json::from_str::<Value>(&text).unwrap()["settings"]["profiles"].clone()
    };
    assert!(
        saved_profiles().as_array().is_none_or(Vec::is_empty),
        "no demo profile is created: {}",
        saved_profiles()
    );

    let add = |name: &str, server: &local_gotrue::Server| {
        let project = serde_json::json!({
            "name": name, "projectUrl": server.url(), "anonKey": server.anon_key(),
        });
        call(&main, "profile_add", project).expect("a reachable project is added")
    };
    let status = add("First", &first);
    assert_eq!(status["profile"], "First");
    assert_eq!(status["builtIn"], false);
    assert_eq!(status["demoAccount"], Value::Null);
    assert_eq!(status["removable"], false, "the only project: {status}");
    assert_eq!(status["profiles"].as_array().unwrap().len(), 1);
    assert_eq!(
        invoke(&main, "inspector_status").unwrap()["profile"],
        "First"
    );
    assert_eq!(invoke(&main, "session_current").unwrap(), Value::Null);
    let first_id = status["profileId"].as_str().unwrap().to_string();

    let error = call(&main, "profile_remove", serde_json::json!({"id": first_id})).unwrap_err();
    assert_eq!(error["kind"], "invalidInput", "{error}");
    assert!(error["message"].as_str().unwrap().contains("only project"));

    let status = add("Second", &second);
    assert_eq!(status["profile"], "Second");
    assert_eq!(status["removable"], true, "{status}");
    let second_id = status["profileId"].as_str().unwrap().to_string();
    let status = call(
        &main,
        "profile_remove",
        serde_json::json!({"id": second_id}),
    )
    .unwrap();
    assert_eq!(status["profile"], "First", "the other project opens");
    assert_eq!(status["removable"], false);
    assert_eq!(saved_profiles().as_array().unwrap().len(), 1);
    drop(app);
}
