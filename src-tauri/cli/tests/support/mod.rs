//! What the command line's tests share: running the real binary with a private data folder,
//! the built-in server on loopback with a signed-in session, and the app's settings file
//! written as the app writes it.
#![allow(dead_code)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use local_gotrue::{Config, DemoUser, Server};
use session_engine::{AuthClient, ClientConfig, Credentials, MemoryStore, Session};
use session_profiles::{Profile, Settings, SETTINGS_KEY, STORE_FILE};

pub const BIN: &str = env!("CARGO_BIN_EXE_session-inspector-cli");
pub const EMAIL: &str = "demo@example.com";
pub const PASSWORD: &str = "demo-password-1";

/// What a run of the binary came to.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }

    /// The `--json` error on stderr.
    pub fn error(&self) -> serde_json::Value {
        serde_json::from_str(self.stderr.trim())
            .unwrap_or_else(|e| panic!("stderr is not one JSON error ({e}): {self:?}"))
    }

    /// Neither stream holds `secret`.
    pub fn assert_never_shows(&self, secret: &str) {
        assert!(
            !self.stdout.contains(secret) && !self.stderr.contains(secret),
            "a token was printed: {self:?}"
        );
    }
}

/// The binary, with the app's data folder at `data` and no project from the environment.
pub fn command(data: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env("SESSION_INSPECTOR_DATA_DIR", data)
        .env_remove("SUPABASE_URL")
        .env_remove("SUPABASE_ANON_KEY");
    command
}

/// Runs the binary with `stdin` as its input, to the end.
pub fn run(data: &Path, args: &[&str], stdin: &str) -> Run {
    let mut child = command(data, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    // A command that fails before reading closes its stdin: that is no failure here.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// `run` off the async threads, so a server on this test's runtime keeps answering.
pub async fn run_async(data: &Path, args: &[&str], stdin: &str) -> Run {
    let (data, stdin) = (data.to_path_buf(), stdin.to_string());
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&data, &args, &stdin)
    })
    .await
    .unwrap()
}

/// The built-in server with the demo user; a reuse interval of 0, so a used-up refresh
/// token is refused at once (hosted projects allow 10 s).
pub async fn server(configure: impl FnOnce(&mut Config)) -> Server {
    let mut config = Config {
        demo_user: Some(DemoUser {
            email: EMAIL.into(),
            password: PASSWORD.into(),
        }),
        reuse_interval: Duration::ZERO,
        ..Config::default()
    };
    configure(&mut config);
    local_gotrue::start(config).await.unwrap()
}

/// A session of the demo user, signed in by a client of the test's own.
pub async fn sign_in(server: &Server) -> Session {
    let client = AuthClient::new(
        ClientConfig::new(server.url(), server.anon_key()),
        Arc::new(MemoryStore::new()),
        "test",
    )
    .await
    .unwrap();
    client
        .sign_in_with_password(Credentials::Email {
            email: EMAIL.into(),
            password: PASSWORD.into(),
        })
        .await
        .unwrap()
        .session
}

/// A private data folder.
pub fn data_folder() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// The settings file as tauri-plugin-store writes it (pretty JSON of its keys).
pub fn write_settings(data: &Path, settings: &Settings) -> PathBuf {
    let file = data.join(STORE_FILE);
    let store = serde_json::json!({ SETTINGS_KEY: settings });
    std::fs::write(&file, serde_json::to_vec_pretty(&store).unwrap()).unwrap();
    file
}

/// A project profile for `server`, last used, next to the built-in demo's.
pub fn settings_for(server: &Server, id: &str, name: &str) -> Settings {
    Settings {
        profiles: vec![
            Profile::built_in(),
            Profile::project(
                id.into(),
                name.into(),
                server.url(),
                server.anon_key().into(),
            ),
        ],
        last_profile: Some(id.into()),
        ..Settings::default()
    }
}

/// Every file under `folder`, for checking what a command left behind.
pub fn files_in(folder: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_in(&path));
        } else {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// The variable `src-tauri/scripts/with-keyring.sh` sets to its throwaway session's folder.
const THROWAWAY_KEYRING: &str = "SESSION_INSPECTOR_THROWAWAY_KEYRING";

/// Stops a test that opens the OS keyring unless it runs inside `with-keyring.sh`'s private
/// D-Bus session and gnome-keyring: outside it, the binary would open its user's keyring.
pub fn require_throwaway_keyring() {
    let folder = std::env::var_os(THROWAWAY_KEYRING).map(PathBuf::from);
    assert!(
        folder.as_deref().is_some_and(Path::is_dir),
        "this test opens the OS keyring: run it through src-tauri/scripts/with-keyring.sh \
         (as src-tauri/scripts/test.sh does), never against your own keyring"
    );
}
