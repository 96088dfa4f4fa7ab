//! Just enough of the W3C WebDriver protocol to drive the real app through tauri-driver:
//! start tauri-driver on free ports, open a session on the app binary, find elements,
//! read text, take screenshots. The same client drives a real browser (headless Chromium
//! through ChromeDriver) where a test needs one, as the OAuth sign-in does. Each driver is
//! stopped when its `Driver` is dropped.

use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

pub type Result<T> = std::result::Result<T, String>;

/// W3C's fixed key for element references in JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Driver {
    child: Child,
    wire: Wire,
}

/// Where a driver listens and the HTTP client that talks to it; a session keeps its own copy,
/// so it can live next to its driver (in one struct) instead of borrowing it.
#[derive(Clone)]
struct Wire {
    base: String,
    http: reqwest::Client,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn wait_for_port(port: u16, deadline: Instant) -> Result<()> {
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("nothing listened on 127.0.0.1:{port} in time"))
}

fn tauri_driver_path() -> PathBuf {
    if let Ok(path) = std::env::var("TAURI_DRIVER") {
        return path.into();
    }
    let cargo_home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo")
        });
    let installed = cargo_home.join("bin/tauri-driver");
    if installed.exists() {
        installed
    } else {
        "tauri-driver".into()
    }
}

/// Runs `start` up to three times: each try picks new ports.
fn retry_on_new_ports(mut start: impl FnMut() -> Result<Driver>) -> Result<Driver> {
    let mut failures = Vec::new();
    for _ in 0..3 {
        match start() {
            Ok(driver) => return Ok(driver),
            Err(error) => failures.push(error),
        }
    }
    Err(failures.join("; then "))
}

impl Driver {
    /// Starts tauri-driver (which starts WebKitWebDriver) with the given extra environment,
    /// inherited by the app it launches. tauri-driver takes its ports on the command line, so
    /// they are picked free and may be taken by someone else before it binds them: then it
    /// exits, and it is started again on new ports (three tries).
    pub fn start(envs: &[(&str, &Path)]) -> Result<Driver> {
        retry_on_new_ports(|| Driver::start_once(envs, true))
    }

    /// As `start`, but WebKit renders as it would on the user's desktop: no `WEBKIT_*` variable
    /// reaches the program, not even the caller's (the program's own settings decide, as the
    /// app's rendering.rs does): the benchmarks measure the app that way.
    #[allow(dead_code)] // tests/bench_window.rs only
    pub fn start_with_webkit_defaults(envs: &[(&str, &Path)]) -> Result<Driver> {
        retry_on_new_ports(|| Driver::start_once(envs, false))
    }

    fn start_once(envs: &[(&str, &Path)], software_rendering: bool) -> Result<Driver> {
        let port = free_port();
        let native_port = loop {
            let other = free_port();
            if other != port {
                break other;
            }
        };
        let mut command = Command::new(tauri_driver_path());
        command
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .env("NO_AT_BRIDGE", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            // Its own process group, so WebKitWebDriver and the app go down with it.
            .process_group(0);
        if software_rendering {
            command
                .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
                .env("WEBKIT_DISABLE_DMABUF_RENDERER", "1");
        } else {
            for (key, _) in std::env::vars_os() {
                if key.to_string_lossy().starts_with("WEBKIT_") {
                    command.env_remove(key);
                }
            }
        }
        for (key, value) in envs {
            command.env(key, value);
        }
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start tauri-driver ({e}); `make test` installs it"))?;
        let driver = Driver {
            child,
            wire: Wire {
                base: format!("http://127.0.0.1:{port}"),
                // No WebDriver call may hang a test run: each gets a bound.
                http: reqwest::Client::builder()
                    .timeout(Duration::from_secs(30))
                    .build()
                    .map_err(|e| e.to_string())?,
            },
        };
        // tauri-driver listens before WebKitWebDriver does: wait for both, and for them to be
        // ours (a driver that could not bind has exited by then).
        let deadline = Instant::now() + Duration::from_secs(20);
        wait_for_port(port, deadline)?;
        wait_for_port(native_port, deadline)?;
        driver.still_running()
    }

    /// The driver process has not exited (it would, had its port been taken).
    fn still_running(mut self) -> Result<Driver> {
        std::thread::sleep(Duration::from_millis(200));
        match self.child.try_wait() {
            Ok(None) => Ok(self),
            Ok(Some(status)) => Err(format!(
                "the driver exited at start ({status}): its port was taken?"
            )),
            Err(error) => Err(error.to_string()),
        }
    }

    /// Starts ChromeDriver (Debian's `chromium-driver`, which `make test` installs) on a free
    /// port; `browser` then opens headless Chromium through it.
    pub fn start_chromedriver() -> Result<Driver> {
        retry_on_new_ports(Driver::start_chromedriver_once)
    }

    fn start_chromedriver_once() -> Result<Driver> {
        let port = free_port();
        let child = Command::new(
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into()),
        )
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start chromedriver ({e}); `make test` installs it"))?;
        let driver = Driver {
            child,
            wire: Wire {
                base: format!("http://127.0.0.1:{port}"),
                http: reqwest::Client::builder()
                    .timeout(Duration::from_secs(60))
                    .build()
                    .map_err(|e| e.to_string())?,
            },
        };
        wait_for_port(port, Instant::now() + Duration::from_secs(20))?;
        driver.still_running()
    }

    /// A headless Chromium with a fresh profile that talks to nothing but what a test opens
    /// (the flags keep it off Google's services, which this machine's network refuses).
    pub async fn browser(&self) -> Result<Session> {
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-quic", "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--disable-extensions"]
            }
        }}});
        self.open(capabilities).await
    }

    /// A new WebDriver session with these capabilities.
    async fn open(&self, capabilities: Value) -> Result<Session> {
        let value = self
            .wire
            .send(reqwest::Method::POST, "/session", Some(capabilities))
            .await?;
        let id = value["sessionId"]
            .as_str()
            .ok_or_else(|| format!("no sessionId in {value}"))?
            .to_string();
        Ok(Session {
            wire: self.wire.clone(),
            id,
        })
    }

    pub async fn session(&self, application: &Path, args: &[&str]) -> Result<Session> {
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "wry",
            "tauri:options": {"application": application, "args": args}
        }}});
        self.open(capabilities).await
    }
}

impl Wire {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| format!("{path}: {e}"))?;
        let status = response.status();
        let body: Value = response.json().await.map_err(|e| format!("{path}: {e}"))?;
        if !status.is_success() {
            return Err(format!("{path}: HTTP {status}: {}", body["value"]));
        }
        Ok(body["value"].clone())
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}

pub struct Session {
    wire: Wire,
    id: String,
}

impl Session {
    async fn get(&self, path: &str) -> Result<Value> {
        let path = format!("/session/{}{path}", self.id);
        self.wire.send(reqwest::Method::GET, &path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value> {
        let path = format!("/session/{}{path}", self.id);
        self.wire
            .send(reqwest::Method::POST, &path, Some(body))
            .await
    }

    pub async fn title(&self) -> Result<String> {
        Ok(self
            .get("/title")
            .await?
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    /// Opens `url` in the session's browser and waits for the page to load.
    pub async fn navigate(&self, url: &str) -> Result<()> {
        self.post("/url", json!({"url": url})).await.map(|_| ())
    }

    /// The address of the page the browser shows now.
    pub async fn current_url(&self) -> Result<String> {
        Ok(self
            .get("/url")
            .await?
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    /// Waits until an element matching `css` exists, returning its reference.
    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let found = self
                .post("/element", json!({"using": "css selector", "value": css}))
                .await;
            match found {
                Ok(element) => {
                    return element[ELEMENT_KEY]
                        .as_str()
                        .map(str::to_string)
                        .ok_or_else(|| format!("odd element reference {element}"))
                }
                Err(error) if Instant::now() >= deadline => {
                    return Err(format!("{css} never appeared: {error}"))
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(150)).await,
            }
        }
    }

    /// Every element matching `css` now (possibly none).
    pub async fn find_all(&self, css: &str) -> Result<Vec<String>> {
        let found = self
            .post("/elements", json!({"using": "css selector", "value": css}))
            .await?;
        Ok(found
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|e| e[ELEMENT_KEY].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    }

    pub async fn click(&self, element: &str) -> Result<()> {
        self.post(&format!("/element/{element}/click"), json!({}))
            .await
            .map(|_| ())
    }

    /// A real double click: two presses of the pointer's left button over the element,
    /// through the W3C actions API.
    pub async fn double_click(&self, element: &str) -> Result<()> {
        let origin = json!({ELEMENT_KEY: element});
        let press = [
            json!({"type": "pointerDown", "button": 0}),
            json!({"type": "pointerUp", "button": 0}),
        ];
        let mut actions =
            vec![json!({"type": "pointerMove", "duration": 0, "origin": origin, "x": 0, "y": 0})];
        actions.extend(press.iter().cloned());
        actions.extend(press.iter().cloned());
        self.perform(json!({"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": actions}))
            .await
    }

    /// Presses the pointer's left button on the element's centre, moves it by `dx`, `dy` pixels
    /// in steps, and releases it: a real drag through the W3C actions API.
    pub async fn drag_by(&self, element: &str, dx: i64, dy: i64) -> Result<()> {
        let origin = json!({ELEMENT_KEY: element});
        let mut actions = vec![
            json!({"type": "pointerMove", "duration": 0, "origin": origin, "x": 0, "y": 0}),
            json!({"type": "pointerDown", "button": 0}),
        ];
        for step in 1..=4 {
            actions.push(json!({"type": "pointerMove", "duration": 50, "origin": "pointer", "x": dx / 4 + if step == 4 { dx % 4 } else { 0 }, "y": dy / 4 + if step == 4 { dy % 4 } else { 0 }}));
        }
        actions.push(json!({"type": "pointerUp", "button": 0}));
        self.perform(json!({"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": actions}))
            .await
    }

    /// Moves the pointer over the element's centre (and leaves it there).
    pub async fn hover(&self, element: &str) -> Result<()> {
        let origin = json!({ELEMENT_KEY: element});
        let actions =
            [json!({"type": "pointerMove", "duration": 0, "origin": origin, "x": 0, "y": 0})];
        self.post(
            "/actions",
            json!({"actions": [{"type": "pointer", "id": "mouse", "parameters": {"pointerType": "mouse"}, "actions": actions}]}),
        )
        .await
        .map(|_| ())
    }

    /// Presses Ctrl and `key` together on the keyboard, as a user would.
    pub async fn press_ctrl(&self, key: &str) -> Result<()> {
        const CONTROL: &str = "\u{E009}";
        let actions = json!([
            {"type": "keyDown", "value": CONTROL},
            {"type": "keyDown", "value": key},
            {"type": "keyUp", "value": key},
            {"type": "keyUp", "value": CONTROL},
        ]);
        self.perform(json!({"type": "key", "id": "keyboard", "actions": actions}))
            .await
    }

    /// Runs one input source's actions (W3C "Perform Actions"), then releases every key and
    /// button so the next call starts from rest.
    async fn perform(&self, source: Value) -> Result<()> {
        self.post("/actions", json!({ "actions": [source] }))
            .await?;
        let release = format!("/session/{}/actions", self.id);
        let _ = self
            .wire
            .send(reqwest::Method::DELETE, &release, None)
            .await;
        Ok(())
    }

    /// Types `text` into the element, as a user would.
    pub async fn send_keys(&self, element: &str, text: &str) -> Result<()> {
        self.post(&format!("/element/{element}/value"), json!({"text": text}))
            .await
            .map(|_| ())
    }

    /// The text of the element matching `css`, once it exists.
    pub async fn text_of(&self, css: &str) -> Result<String> {
        let element = self.wait_for(css, Duration::from_secs(20)).await?;
        self.text(&element).await
    }

    pub async fn text(&self, element: &str) -> Result<String> {
        let value = self.get(&format!("/element/{element}/text")).await?;
        Ok(value.as_str().unwrap_or_default().to_string())
    }

    /// Runs a synchronous script in the page and returns its result.
    pub async fn execute(&self, script: &str, args: Value) -> Result<Value> {
        self.post("/execute/sync", json!({"script": script, "args": args}))
            .await
    }

    /// Saves a PNG of the window, for people to look at. WebKitWebDriver's snapshot sometimes
    /// never answers under Xvfb; then the X display itself is captured (`import` from
    /// ImageMagick), which shows the same window.
    pub async fn screenshot(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        let path_for_snapshot = format!("/session/{}/screenshot", self.id);
        let snapshot = tokio::time::timeout(
            Duration::from_secs(5),
            self.wire
                .send(reqwest::Method::GET, &path_for_snapshot, None),
        )
        .await;
        match snapshot {
            Ok(Ok(encoded)) => {
                let png = base64::engine::general_purpose::STANDARD
                    .decode(encoded.as_str().unwrap_or_default())
                    .map_err(|e| format!("screenshot is not base64: {e}"))?;
                std::fs::write(path, png).map_err(|e| e.to_string())
            }
            failed => {
                eprintln!(
                    "WebDriver screenshot failed ({failed:?}); capturing the X display instead"
                );
                let status = Command::new("/usr/bin/import")
                    .args(["-window", "root"])
                    .arg(path)
                    .status()
                    .map_err(|e| format!("cannot run import: {e}"))?;
                if status.success() {
                    Ok(())
                } else {
                    Err(format!("import failed: {status}"))
                }
            }
        }
    }

    pub async fn close(&self) -> Result<()> {
        let path = format!("/session/{}", self.id);
        self.wire
            .send(reqwest::Method::DELETE, &path, None)
            .await
            .map(|_| ())
    }
}

/// The processes of an app launched with its own folder (the app and its web processes, not
/// the drivers): every process whose environment names that folder.
#[allow(dead_code)] // tests/e2e.rs and tests/bench_log.rs only
pub fn app_processes(root: &Path) -> Vec<(u32, String)> {
    let needle = root.as_os_str().as_encoded_bytes();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() {
            continue;
        }
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        if !environ.windows(needle.len()).any(|w| w == needle) {
            continue;
        }
        let name = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        let name = name.trim().to_string();
        if name != "tauri-driver" && name != "WebKitWebDriver" {
            found.push((pid, name));
        }
    }
    found
}
