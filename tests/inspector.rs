//! The inspector's wiring on Tauri's mock runtime with the real capabilities: the built-in
//! demo starts, its session reaches the window only as a redacted view, "Refresh now"
//! rotates it, and no token lands in the settings file. (Its own test binary: it points the
//! app data folder at a temporary directory for the whole process.)

#[path = "support/mock_ipc.rs"]
mod mock_ipc;

use mock_ipc::call;
use serde_json::Value;
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

#[test]
fn the_built_in_demo_starts_and_its_session_crosses_only_as_a_redacted_view() {
    // Removed when the test ends, passed or not.
    let data_folder = tempfile::tempdir().unwrap();
    let data = data_folder.path().to_path_buf();
    // A second server standing in for a `supabase start` stack, for the profile commands.
    // Its gateway checks the API key, as Kong does in front of a real stack.
    let local_stack = tauri::async_runtime::block_on(local_gotrue::start(local_gotrue::Config {
        require_api_key: true,
        ..local_gotrue::Config::default()
    }))
    .unwrap();
    // Set before the app exists; this test binary has only this test.
    unsafe {
        std::env::set_var("XDG_DATA_HOME", &data);
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
    let main = WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    session_inspector_lib::start_inspector(app.handle().clone());

    let status = invoke(&main, "inspector_status").expect("status");
    assert_eq!(status["builtIn"], true);
    assert_eq!(status["profile"], "Built-in demo");

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
    let expires_in = view["expiresAt"].as_i64().unwrap() - chrono::Utc::now().timestamp();
    assert!(
        (100..=120).contains(&expires_in),
        "the demo's tokens live about 2 minutes: {expires_in}"
    );

    // Sign-in and 5 refreshes; every session's tokens are read in-process, where they live.
    let inspector = app.state::<session_inspector_lib::inspector::Inspector>();
    let client = tauri::async_runtime::block_on(inspector.active())
        .unwrap()
        .client
        .clone();
    // Every session the demo client ever holds, for the log file's scan at the end.
    let mut demo_events = client.subscribe();
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
    std::thread::sleep(std::time::Duration::from_millis(300)); // the history writer catches up
    let app_data = data.join("dev.sessioninspector.app");
    let files: Vec<_> = files_under(&app_data)
        .into_iter()
        .filter(|f| !f.starts_with(app_data.join("demo")))
        .collect();
    assert!(files.iter().any(|f| f.ends_with("settings.json")));
    let mut hits = 0;
    for file in &files {
        let text = String::from_utf8_lossy(&std::fs::read(file).unwrap()).to_string();
        for secret in &secrets {
            hits += encodings(secret)
                .iter()
                .filter(|form| text.contains(form.as_str()))
                .count();
        }
    }
    println!(
        "searched {} file(s) of the app data folder for {} tokens in 13 forms each: {hits} hits",
        files.len(),
        secrets.len()
    );
    assert_eq!(hits, 0);

    let stored: Value =
        serde_json::from_str(&std::fs::read_to_string(app_data.join("settings.json")).unwrap())
            .unwrap();
    let history = stored["settings"]["history"]
        .as_array()
        .expect("a history index");
    let kinds: Vec<&str> = history
        .iter()
        .map(|h| h["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "TOKEN_REFRESHED").count(),
        5,
        "{kinds:?}"
    );
    assert!(history.iter().all(|h| h["refreshTokenFingerprint"]
        .as_str()
        .is_none_or(|f| f.starts_with("fp:"))));

    the_other_commands_do_what_they_say(&main, &client);
    // Every token of sign-in, refreshes, the paste and the other commands, for the log scan;
    // the subscription ends here, as the profile switch below wants no listener left.
    let mut tokens = Vec::new();
    while let Some(event) = demo_events.try_next() {
        if let Some(session) = event.session {
            tokens.extend([
                session.access_token.as_str().to_string(),
                session.refresh_token.as_str().to_string(),
            ]);
        }
    }
    drop(demo_events);
    profiles_switch_to_a_real_project_and_back(&main, &local_stack, &client);
    // Leave nothing in the user's keyring: signing out removes the demo's entry.
    call(
        &main,
        "auth_sign_out",
        serde_json::json!({"scope": "local"}),
    )
    .unwrap();
    the_log_file_holds_no_token(&app_data, &tokens);
    drop(app);
}

/// After sign-ins, refreshes, a paste, sign-outs and profile switches at debug level, the
/// app's log file says what happened (by fingerprint) and holds no token in any form.
fn the_log_file_holds_no_token(app_data: &std::path::Path, tokens: &[String]) {
    std::thread::sleep(std::time::Duration::from_millis(300)); // the logger flushes per line
    let logs = files_under(&app_data.join("logs"));
    assert!(
        !logs.is_empty(),
        "a log file in {}",
        app_data.join("logs").display()
    );
    let text: String = logs
        .iter()
        .map(|f| String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned())
        .collect();
    for expected in [
        "auth request",
        "grant_type=refresh_token",
        "profile switched",
        "fp:",
    ] {
        assert!(
            text.contains(expected),
            "the log says {expected:?}:\n{text}"
        );
    }
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
    assert!(
        tokens.len() >= 20,
        "the collector saw the sessions: {}",
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
    let rotated = call(main, "paste_rotate", text).expect("reuse inside the interval works");
    assert_eq!(
        rotated["session"]["user"]["email"],
        current.user.email.as_str()
    );
    assert_eq!(
        rotated["session"]["refreshTokenFingerprint"],
        session_engine::tokens::fingerprint(&client.current_session().unwrap().refresh_token)
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
    assert_eq!(status["profiles"].as_array().unwrap().len(), 2);
    assert_eq!(
        invoke(main, "session_current").unwrap(),
        Value::Null,
        "a new profile starts signed out"
    );
    // The demo's client is no longer listened to: its history and auto-refresh tasks ended.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while demo_client.subscriber_count() > 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(
        demo_client.subscriber_count(),
        0,
        "no task outlives its profile"
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
    assert_eq!(status["autoRefresh"], false, "the switch is per profile");
    assert!(
        invoke(main, "session_current").unwrap()["user"]["email"].is_string(),
        "the demo session is back"
    );

    // Auto-refresh: with a margin just under the demo's 2-minute lifetime, the session is
    // refreshed within seconds, again and again; switched off, it stays as it is.
    let fingerprint =
        || invoke(main, "session_current").unwrap()["refreshTokenFingerprint"].clone();
    call(
        main,
        "settings_auto_refresh",
        serde_json::json!({"enabled": true, "marginSecs": 118}),
    )
    .unwrap();
    let mut seen = vec![fingerprint()];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while seen.len() < 3 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(200));
        let now = fingerprint();
        if seen.last() != Some(&now) {
            seen.push(now);
        }
    }
    assert_eq!(seen.len(), 3, "two automatic refreshes: {seen:?}");
    call(
        main,
        "settings_auto_refresh",
        serde_json::json!({"enabled": false, "marginSecs": 118}),
    )
    .unwrap();
    let still = fingerprint();
    std::thread::sleep(std::time::Duration::from_secs(4));
    assert_eq!(fingerprint(), still, "off means off");

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
