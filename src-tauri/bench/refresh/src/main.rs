//! `session-bench`: the refresh benchmarks of issue 14, parts 1 and 2, against the built-in
//! server run as its own release process. Prints one `figure {json}` line per figure on
//! stdout (everything else goes to stderr). Run through `src-tauri/scripts/bench-refresh.sh`.
//!
//!   session-bench refresh [--keyring] [--no-peers]
//!   session-bench concurrency
//!
//! Environment: BENCH_REFRESH_ROUNDS (2000), BENCH_PEER_ROUNDS (1000), BENCH_CALLERS (1000),
//! BENCH_CALLER_WAVES (20), BENCH_AUTO_PROFILES (10), BENCH_AUTO_SECONDS (120),
//! LOCAL_GOTRUE_BIN (default: local-gotrue beside this binary), AUTH_JS_NODE_MODULES,
//! JUDGES_VENV.

mod concurrency;
mod figures;
mod refresh;
mod server;

use std::process::ExitCode;
use std::time::Duration;

fn number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().any(|a| a == name);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let result = match args.first().map(String::as_str) {
        Some("refresh") => runtime.block_on(refresh::run(&refresh::Options {
            rounds: number("BENCH_REFRESH_ROUNDS", 2000),
            peer_rounds: number("BENCH_PEER_ROUNDS", 1000),
            keyring: flag("--keyring"),
            peers: !flag("--no-peers"),
        })),
        Some("concurrency") => runtime.block_on(concurrency::run(&concurrency::Options {
            callers: number("BENCH_CALLERS", 1000),
            repeats: number("BENCH_CALLER_WAVES", 20),
            profiles: number("BENCH_AUTO_PROFILES", 10),
            token_lifetime_s: 5,
            duration: Duration::from_secs(number("BENCH_AUTO_SECONDS", 120) as u64),
        })),
        _ => Err("usage: session-bench refresh [--keyring] [--no-peers] | concurrency".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("session-bench: {error}");
            ExitCode::FAILURE
        }
    }
}
