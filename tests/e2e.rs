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
