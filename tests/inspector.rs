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

    let refreshed = invoke(&main, "session_refresh").expect("refresh works");
    assert_ne!(
        refreshed["refreshTokenFingerprint"],
        view["refreshTokenFingerprint"]
    );

    // The real tokens, read in-process, appear in no IPC answer and in no settings file.
    let inspector = app.state::<session_inspector_lib::inspector::Inspector>();
    let session = tauri::async_runtime::block_on(inspector.active())
        .unwrap()
        .client
        .current_session()
        .unwrap();
    for answer in [&view, &refreshed] {
        let text = answer.to_string();
        assert!(!text.contains(&session.refresh_token) && !text.contains(&session.access_token));
    }
    let settings = data.join("dev.sessioninspector.app/settings.json");
    let stored = std::fs::read_to_string(&settings).expect("settings were saved");
    assert!(stored.contains("built-in-demo"));
    assert!(!stored.contains(&session.refresh_token) && !stored.contains(&session.access_token));
    let sealed: Vec<_> = files_under(&data.join("dev.sessioninspector.app/sessions"));
    for file in sealed {
        let bytes = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).to_string();
        assert!(
            !bytes.contains(&session.refresh_token),
            "{}",
            file.display()
        );
    }
    drop(app);
    let _ = std::fs::remove_dir_all(&data);
}
