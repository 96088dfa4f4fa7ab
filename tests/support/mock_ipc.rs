//! Calling the app's commands on Tauri's mock runtime, as the webview would (with the real
//! capabilities when the app is built with `session_inspector_lib::context()`), and what
//! keeps these tests off the machine of whoever runs them: a home of their own, and a check
//! that the keyring they get is a throwaway one.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, MockRuntime, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindow;

/// Invokes `cmd` with `body` as its arguments from `window`: the command's answer, or the
/// rejection (the app's `{kind, message}`, or the IPC layer's string when not allowed or when
/// an argument does not deserialize).
pub fn call(window: &WebviewWindow<MockRuntime>, cmd: &str, body: Value) -> Result<Value, Value> {
    let request = InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().unwrap(),
        body: InvokeBody::Json(body),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    };
    get_ipc_response(window, request).map(|b| b.deserialize::<Value>().unwrap())
}

/// The folders this test process uses instead of its user's.
pub struct PrivateHome {
    pub root: PathBuf,
    /// `$XDG_DATA_HOME`: the app data folder is `<data>/<identifier>`.
    pub data: PathBuf,
    /// The Downloads folder, as `$XDG_CONFIG_HOME/user-dirs.dirs` names it.
    pub downloads: PathBuf,
}

static HOME: OnceLock<PrivateHome> = OnceLock::new();

/// Points `HOME` and the XDG data, config, cache and state folders of this process at a new
/// temporary folder (under the target folder's `tmp`, removed when the process exits), with a
/// `user-dirs.dirs` that names its own Downloads folder: the file Linux desktops, and the
/// `dirs` crate behind Tauri's `download_dir`, read it from. Done once, before any app is
/// built; every call returns the same folders. The keyring is not changed here: see
/// [`require_throwaway_keyring`].
pub fn private_home() -> &'static PrivateHome {
    HOME.get_or_init(|| {
        let root = tempfile::Builder::new()
            .prefix("private-home-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .expect("a temporary home")
            .keep();
        let home = PrivateHome {
            data: root.join("data"),
            downloads: root.join("Downloads"),
            root,
        };
        let config = home.root.join("config");
        for dir in [&home.data, &home.downloads, &config] {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(
            config.join("user-dirs.dirs"),
            format!("XDG_DOWNLOAD_DIR=\"{}\"\n", home.downloads.display()),
        )
        .unwrap();
        // SAFETY: set once, under the OnceLock, before this process builds any app or starts
        // a runtime (the tests call this first), so no other thread reads the environment.
        unsafe {
            std::env::set_var("HOME", &home.root);
            std::env::set_var("XDG_DATA_HOME", &home.data);
            std::env::set_var("XDG_CONFIG_HOME", &config);
            std::env::set_var("XDG_CACHE_HOME", home.root.join("cache"));
            std::env::set_var("XDG_STATE_HOME", home.root.join("state"));
            libc::atexit(remove_private_home);
        }
        home
    })
}

extern "C" fn remove_private_home() {
    if let Some(home) = HOME.get() {
        let _ = std::fs::remove_dir_all(&home.root);
    }
}

/// The variable `src-tauri/scripts/with-keyring.sh` sets to its throwaway session's folder.
const THROWAWAY_KEYRING: &str = "SESSION_INSPECTOR_THROWAWAY_KEYRING";

/// Stops a test that opens the OS keyring unless it runs inside `with-keyring.sh`'s private
/// D-Bus session and gnome-keyring: outside it, the app would open its user's login keyring.
pub fn require_throwaway_keyring() {
    let folder = std::env::var_os(THROWAWAY_KEYRING).map(PathBuf::from);
    assert!(
        folder.as_deref().is_some_and(Path::is_dir),
        "this test opens the OS keyring: run it through src-tauri/scripts/with-keyring.sh \
         (as src-tauri/scripts/test.sh does), never against your own keyring"
    );
}

/// Asks `probe` every 50 ms until it has an answer, for at most `limit`; panics naming `what`
/// when the time is up.
#[allow(dead_code, reason = "tests/ipc.rs waits for nothing")]
pub fn eventually<T>(limit: Duration, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(answer) = probe() {
            return answer;
        }
        assert!(
            Instant::now() < deadline,
            "gave up after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
