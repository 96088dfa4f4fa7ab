//! Benchmark builds only (`--features bench`, never in the default features or `make bundle`):
//! synthetic live-log items, injected through the real path (the app's log bus → the window's
//! log stream → its Channel → the UI), so `src-tauri/scripts/bench-log.sh` can load the log
//! without a server doing thousands of refreshes.
//!
//! `SESSION_INSPECTOR_BENCH_STREAM` lists stages separated by commas: `N` sends N items as fast
//! as the stream takes them, `R/s*T` sends R items a second for T seconds. Nothing is sent
//! before a window listens. With `SESSION_INSPECTOR_BENCH_GO=<prefix>` each stage waits until
//! the file `<prefix>.<stage index>` exists (from 0), so the benchmark measures between stages.
//! `SESSION_INSPECTOR_BENCH_ONE_BY_ONE` sends each item in a message of its own, as the stream
//! did before it sent batches.

use std::path::PathBuf;
use std::time::Duration;

use crate::live_log::{LogBus, LogItem, RequestSummary};

const STREAM_ENV: &str = "SESSION_INSPECTOR_BENCH_STREAM";
/// Set (to anything) to send every log item in a message of its own, as before batching, so
/// one build measures both.
const ONE_BY_ONE_ENV: &str = "SESSION_INSPECTOR_BENCH_ONE_BY_ONE";
const GO_ENV: &str = "SESSION_INSPECTOR_BENCH_GO";

#[derive(Debug, Clone, PartialEq)]
enum Stage {
    Burst(u64),
    Rate { per_second: u64, seconds: u64 },
}

fn parse(spec: &str) -> Option<Vec<Stage>> {
    spec.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|stage| match stage.split_once("/s*") {
            Some((rate, seconds)) => Some(Stage::Rate {
                per_second: rate.trim().parse().ok()?,
                seconds: seconds.trim().parse().ok()?,
            }),
            None => stage.parse().ok().map(Stage::Burst),
        })
        .collect()
}

/// Log items go one per message (`log_stream`), as before batching.
pub fn one_by_one() -> bool {
    static ONE_BY_ONE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ONE_BY_ONE.get_or_init(|| std::env::var_os(ONE_BY_ONE_ENV).is_some())
}

/// Starts the synthetic stream when the environment asks for one.
pub fn start_from_env(log: LogBus) {
    let Ok(spec) = std::env::var(STREAM_ENV) else {
        return;
    };
    let Some(stages) = parse(&spec) else {
        tracing::warn!(spec, "unreadable {STREAM_ENV}");
        return;
    };
    let go = std::env::var_os(GO_ENV).map(PathBuf::from);
    tauri::async_runtime::spawn(run(log, stages, go));
}

async fn run(log: LogBus, stages: Vec<Stage>, go: Option<PathBuf>) {
    while log.listeners() == 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut n = 0u64;
    for (index, stage) in stages.iter().enumerate() {
        if let Some(go) = &go {
            let flag = PathBuf::from(format!("{}.{index}", go.display()));
            while !flag.exists() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        tracing::info!(?stage, "bench stream stage");
        match *stage {
            Stage::Burst(count) => {
                for _ in 0..count {
                    // The bus keeps 256 items for slow listeners: stay well below.
                    while log.queued() > 128 {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                    log.send(item(&log, n));
                    n += 1;
                }
            }
            Stage::Rate {
                per_second,
                seconds,
            } => {
                let start = tokio::time::Instant::now();
                let total = per_second * seconds;
                for i in 0..total {
                    let due = start + Duration::from_secs_f64(i as f64 / per_second as f64);
                    tokio::time::sleep_until(due).await;
                    log.send(item(&log, n));
                    n += 1;
                }
            }
        }
    }
    tracing::info!(items = n, "bench stream done");
}

/// A request row like a refresh's, with a path and status that vary so filters have work.
fn item(log: &LogBus, n: u64) -> LogItem {
    let status = if n % 10 == 9 { 400 } else { 200 };
    LogItem::Request {
        seq: log.next_seq(),
        at: crate::live_log::timestamp(chrono::Utc::now()),
        request: RequestSummary {
            id: 0,
            method: "POST".into(),
            path: format!("/auth/v1/token?grant_type=refresh_token&bench={n}"),
            status: Some(status),
            duration_ms: (n % 97) as f64 / 10.0,
            code: (status == 400).then(|| "refresh_token_already_used".into()),
            error: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_parse_as_bursts_and_rates() {
        assert_eq!(
            parse("10000, 90000,200/s*60"),
            Some(vec![
                Stage::Burst(10_000),
                Stage::Burst(90_000),
                Stage::Rate {
                    per_second: 200,
                    seconds: 60
                }
            ])
        );
        assert_eq!(parse("ten"), None);
    }
}
