//! The built-in server as its own process: the `local-gotrue` binary built beside this one
//! (or `LOCAL_GOTRUE_BIN`), on a free loopback port, with a demo user. The benchmark never
//! shares a runtime or a CPU budget with the server it measures. The child is killed when
//! the `Server` is dropped (a failed run included) and, on Linux, when this process dies.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

pub const EMAIL: &str = "bench@example.com";
pub const PASSWORD: &str = "bench-password";

pub struct Server {
    child: Child,
    /// The project URL (`http://127.0.0.1:<port>`).
    pub url: String,
    /// Where GoTrue's routes live (`<url>/auth/v1`).
    pub auth_url: String,
    pub anon_key: String,
}

fn binary() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("LOCAL_GOTRUE_BIN") {
        return Ok(path.into());
    }
    let me = std::env::current_exe().map_err(|e| format!("where am I: {e}"))?;
    let beside = me.with_file_name("local-gotrue");
    if beside.exists() {
        Ok(beside)
    } else {
        Err(format!(
            "no local-gotrue binary at {} (build it with `cargo build --release -p local-gotrue`, or set LOCAL_GOTRUE_BIN)",
            beside.display()
        ))
    }
}

impl Server {
    /// Starts the server with the demo user and `extra` flags; waits for its URL and key.
    pub fn start(extra: &[&str]) -> Result<Server, String> {
        let binary = binary()?;
        let mut command = Command::new(&binary);
        command
            .args(["--port", "0", "--demo-user", &format!("{EMAIL}:{PASSWORD}")])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::process::CommandExt;
            // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
            unsafe {
                command.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
        }
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let mut server = Server {
            child,
            url: String::new(),
            auth_url: String::new(),
            anon_key: String::new(),
        };
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(|e| format!("reading the server's output: {e}"))?;
            if let Some(url) = line.strip_prefix("local-gotrue listening on ") {
                server.url = url.trim().to_string();
            } else if let Some(url) = line.trim().strip_prefix("auth URL:") {
                server.auth_url = url.trim().to_string();
            } else if let Some(key) = line.trim().strip_prefix("anon key:") {
                server.anon_key = key.trim().to_string();
                break;
            }
        }
        if server.url.is_empty() || server.auth_url.is_empty() || server.anon_key.is_empty() {
            return Err("the server ended before printing its URL and anon key".into());
        }
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn emulator(&self, path: &str) -> String {
        format!("{}/_emulator{path}", self.url)
    }

    /// Forgets the request counts the server keeps per route.
    pub async fn reset_request_counts(&self, http: &reqwest::Client) -> Result<(), String> {
        http.delete(self.emulator("/requests"))
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| format!("resetting the request counts: {e}"))?;
        Ok(())
    }

    /// Refresh grants the server has seen since the last reset (its own count, not the
    /// client's).
    pub async fn refresh_requests(&self, http: &reqwest::Client) -> Result<u64, String> {
        let counts: Value = http
            .get(self.emulator("/requests"))
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| format!("reading the request counts: {e}"))?
            .json()
            .await
            .map_err(|e| format!("reading the request counts: {e}"))?;
        let routes = counts["routes"].as_object().cloned().unwrap_or_default();
        Ok(routes
            .iter()
            .filter(|(route, _)| route.contains("/token") && route.contains("refresh_token"))
            .filter_map(|(_, n)| n.as_u64())
            .sum())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
