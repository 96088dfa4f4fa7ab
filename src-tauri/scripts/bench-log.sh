#!/usr/bin/env bash
# The live log at scale, in the real window (issue 14, part 4): builds the release app with the
# benchmark-only synthetic stream (`--features prod,bench`), then drives it under Xvfb with a
# throwaway keyring through tests/bench_log.rs, which prints one `figure {json}` line per
# figure: PSS of every app process after 10,000 log items and at the end, web-process CPU per
# log item while filling to 100,000 and while 200 items/s stream in for 60 s, app-process CPU
# per refresh (300 presses of Ctrl+R), and frame times (p50/p95/max) from requestAnimationFrame.
#
#   src-tauri/scripts/bench-log.sh            (from the repo root; about 5 minutes, more when busy)
#
# BENCH_TARGET_DIR   where the release app is built (default target/bench)
# BENCH_LOG_APP      an app binary built with --features prod,bench to measure instead (no build)
# BENCH_LOG_FILL, BENCH_LOG_RATE, BENCH_LOG_SECONDS, BENCH_LOG_REFRESHES
#                    the load (defaults 100000, 200, 60, 300)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

if [ -z "${BENCH_LOG_APP:-}" ]; then
  (cd ui && npm run --silent build) >&2
  target=${BENCH_TARGET_DIR:-$root/target/bench}
  echo "building the release app with the bench feature into $target" >&2
  CARGO_TARGET_DIR="$target" cargo build --release --quiet --features prod,bench --bin session-inspector >&2
  BENCH_LOG_APP="$target/release/session-inspector"
fi
[ -x "$BENCH_LOG_APP" ] || { echo "no app at $BENCH_LOG_APP" >&2; exit 1; }
# The harness itself is a debug build in the usual target folder.
cargo test --quiet --test bench_log --no-run >&2
export SESSION_INSPECTOR_E2E_APP="$BENCH_LOG_APP"
xvfb-run -a -s "-screen 0 1280x800x24" src-tauri/scripts/with-keyring.sh \
  cargo test --quiet --test bench_log -- --ignored --nocapture --test-threads=1
