#!/usr/bin/env bash
# Issue 14, parts 1 and 2: the refresh overhead and concurrency benchmarks.
#
#   src-tauri/scripts/bench-refresh.sh            (from the repository root, or anywhere)
#
# Builds the built-in server (local-gotrue) and the benchmark (session-bench, the crate in
# src-tauri/bench/refresh) with --release into ${BENCH_TARGET_DIR:-target/bench}, then, each
# against the server started as its own process on a free loopback port:
#   1. refresh: raw HTTP in Rust, the engine's refresh_session with the in-memory store and with
#      the Secret Service keyring (run inside with-keyring.sh: a throwaway gnome-keyring), all
#      interleaved round by round; then @supabase/auth-js beside Node fetch and supabase_auth
#      beside httpx (the judges' node_modules and venv: src-tauri/scripts/setup.sh test);
#   2. concurrency: 1,000 concurrent refresh_session callers on one client (the refresh
#      requests counted at the server), and 10 profiles auto-refreshing 5-second tokens.
# Prints one `figure {json}` line per figure on stdout; everything else on stderr. Exits
# non-zero when any part fails: a tool missing (checked before the build; all of them come with
# `src-tauri/scripts/setup.sh test`), a run that cannot finish, or any refresh that failed
# (callers or auto-refreshes; their figures are printed first). Takes about 4 minutes (the
# auto-refresh part runs 2 minutes).
#
# Environment: BENCH_TARGET_DIR; BENCH_REFRESH_ROUNDS (2000), BENCH_PEER_ROUNDS (1000),
# BENCH_CALLERS (1000), BENCH_CALLER_WAVES (20), BENCH_AUTO_PROFILES (10),
# BENCH_AUTO_SECONDS (120; 20 is enough to try it out); BENCH_SKIP_BUILD=1 uses what is built.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export CARGO_TARGET_DIR="${BENCH_TARGET_DIR:-$root/target/bench}"
bin="$CARGO_TARGET_DIR/release"

# What the run needs besides Rust, checked before the (long) release build. All of it comes
# with `src-tauri/scripts/setup.sh test` (the judges, node >= 20, gnome-keyring, keyctl).
missing() {
  echo "bench-refresh: $1 (run src-tauri/scripts/setup.sh test)" >&2
  exit 1
}
for tool in node dbus-run-session gnome-keyring-daemon keyctl "$root/target/judges/venv/bin/python"; do
  command -v "$tool" >/dev/null || missing "$tool is missing"
done
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || missing "node $(node --version) is too old: auth-js needs node 20 or newer"
[ -d "$root/src-tauri/server/tests/judges/auth-js/node_modules/@supabase/auth-js" ] ||
  missing "@supabase/auth-js is not installed"

if [ "${BENCH_SKIP_BUILD:-}" != 1 ]; then
  echo "bench-refresh: building local-gotrue and session-bench (release) into $CARGO_TARGET_DIR" >&2
  cargo build --release --locked -p local-gotrue -p session-bench >&2
fi

export LOCAL_GOTRUE_BIN="$bin/local-gotrue"
"$root/src-tauri/scripts/with-keyring.sh" "$bin/session-bench" refresh --keyring
"$bin/session-bench" concurrency
