//! End-to-end: the real app binary in a real window, driven through tauri-driver and
//! WebKitWebDriver. Needs a display: `make test` runs it under `xvfb-run`.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::webdriver::Driver;

fn app_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_session-inspector"))
}

fn shots_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/e2e")
}

#[tokio::test]
#[ignore = "needs a display, WebKitWebDriver and tauri-driver: run by `make test` under xvfb-run"]
async fn window_shows_the_product_name_and_the_version_from_app_info() {
    let data = std::env::temp_dir().join(format!("si-e2e-{}", std::process::id()));
    let driver = Driver::start(&[("XDG_DATA_HOME", &data)]).expect("tauri-driver starts");
    let session = driver
        .session(app_binary(), &[])
        .await
        .expect("the app launches");

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
    session.close().await.expect("the session closes");
    let _ = std::fs::remove_dir_all(&data);
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

async fn event_kinds(session: &support::webdriver::Session<'_>) -> Vec<String> {
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
    let data = std::env::temp_dir().join(format!("si-e2e-restore-{}", std::process::id()));
    let driver = Driver::start(&[("XDG_DATA_HOME", &data)]).expect("tauri-driver starts");

    // First launch: the built-in server starts and the demo user is signed in.
    let first = driver
        .session(app_binary(), &[])
        .await
        .expect("the app launches");
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

    // Refresh now: a new refresh token and a TOKEN_REFRESHED row.
    let old_fingerprint = first.text_of("#refresh-fingerprint").await.unwrap();
    let button = first
        .wait_for("#refresh-now", Duration::from_secs(5))
        .await
        .unwrap();
    first.click(&button).await.unwrap();
    let new_fingerprint = eventually(
        Duration::from_secs(10),
        async || first.text_of("#refresh-fingerprint").await.unwrap(),
        |f| f != &old_fingerprint,
    )
    .await;
    let kinds = eventually(
        Duration::from_secs(5),
        async || event_kinds(&first).await,
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
    first.close().await.expect("the app quits");

    // Second launch on the same data folder and keyring: the same session comes back.
    let second = driver
        .session(app_binary(), &[])
        .await
        .expect("the app launches again");
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
        async || event_kinds(&second).await,
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
    second.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&data);
}
