//! The inspector's wiring on Tauri's mock runtime with the real capabilities: the built-in
//! demo starts, its session reaches the window only as a redacted view, "Refresh now"
//! rotates it, and no token lands in the settings file. (Its own test binary: it points the
//! app data folder at a temporary directory for the whole process.)

use serde_json::Value;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::{Manager, WebviewWindow, WebviewWindowBuilder};

fn invoke(window: &WebviewWindow<MockRuntime>, cmd: &str) -> Result<Value, Value> {
    let request = InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().unwrap(),
        body: InvokeBody::Json(Value::Null),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    };
    get_ipc_response(window, request).map(|b| b.deserialize::<Value>().unwrap())
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
    let data = std::env::temp_dir().join(format!("si-inspector-{}", std::process::id()));
    std::fs::create_dir_all(&data).unwrap();
    // Set before the app (and any thread) exists; this test binary has only this test.
    unsafe { std::env::set_var("XDG_DATA_HOME", &data) };

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
        session_inspector_lib::inspector::DEMO_EMAIL
    );
    assert_eq!(view["refreshTokenShape"]["format"], "legacy");
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
    let mut sessions = vec![client.current_session().unwrap()];
    let mut answers = vec![view.to_string()];
    for _ in 0..5 {
        let refreshed = invoke(&main, "session_refresh").expect("refresh works");
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
    drop(app);
    let _ = std::fs::remove_dir_all(&data);
}
