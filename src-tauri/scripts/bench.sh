#!/usr/bin/env bash
# Every benchmark of the README's "Benchmarks" section, in one run: builds the release pieces
# once, runs each part's script, prints the table and writes it into BENCHMARKS.md (between its
# figure markers; the prose around them is kept). Called by `make bench`.
#
#   src-tauri/scripts/bench.sh [part ...]      parts: refresh log window size (default: all)
#
# Slow (about an hour on 2 cores from cold: three release builds with fat LTO, a 2-minute
# auto-refresh soak, a 60-second log stream) and it wants an otherwise idle machine: every figure
# that compares two things measures both in the same run, but a busy machine still widens them.
# The release builds go to $BENCH_TARGET_DIR (default target/bench), so a second run only
# rebuilds what changed. Each part's script runs alone too (its header says how).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
started=$SECONDS

parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(refresh log window size)
export BENCH_TARGET_DIR=${BENCH_TARGET_DIR:-$root/target/bench}
out="$BENCH_TARGET_DIR/run"
mkdir -p "$out"
commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!BENCHMARKS.md' || echo '+changes')

step() { printf '\n\033[1;34m==> %s\033[0m\n' "$*" >&2; }

# Runs one part's script; its figure lines go to the part's figures (replacing those of an
# earlier run of the part), everything to its log. BENCHMARKS.md is made from the latest run of
# every part, each named with its own date and commit.
run_part() {
  local name=$1
  shift
  step "$name"
  local part_started=$SECONDS
  : >"$out/$name.figures"
  # A figure may follow other text on its line (libtest's "test NAME ... " has no newline).
  local status
  set +e
  "$@" 2>&1 | tee "$out/$name.log" | { grep --line-buffered -o 'figure {.*' >>"$out/$name.figures"; true; }
  status=${PIPESTATUS[0]}
  set -e
  printf '{"name": "%s", "date": "%s", "commit": "%s", "seconds": %s}\n' "$name" \
    "$(date -u '+%Y-%m-%d %H:%M UTC')" "$commit" $((SECONDS - part_started)) >"$out/$name.when"
  echo "$name: $(grep -c . "$out/$name.figures") figures" >&2
  [ "$status" -eq 0 ] || { echo "bench: $name failed ($status); its output: $out/$name.log" >&2; exit 1; }
}

# The release app twice: as shipped (start-up, memory, click to paint, size), and with the
# benchmark-only `bench` feature (the synthetic log stream), which never ships. Two target
# folders, built side by side: with fat LTO over one codegen unit each final link runs on one
# core, so two links take the time of one on a 2-core machine.
build_apps() {
  step "release builds of the app (shipped, and with the bench feature), side by side"
  [ -f ui/dist/index.html ] || (cd ui && npm run --silent build)
  local stream="$BENCH_TARGET_DIR/stream"
  CARGO_TARGET_DIR="$BENCH_TARGET_DIR" cargo build --release --locked --quiet --features prod \
    --bin session-inspector >"$out/build-shipped.log" 2>&1 &
  local shipped_pid=$!
  CARGO_TARGET_DIR="$stream" cargo build --release --locked --quiet --features prod,bench \
    --bin session-inspector >"$out/build-stream.log" 2>&1 &
  local stream_pid=$!
  wait "$shipped_pid" || { echo "bench: the release build failed: $out/build-shipped.log" >&2; exit 1; }
  wait "$stream_pid" || { echo "bench: the bench-feature build failed: $out/build-stream.log" >&2; exit 1; }
  export BENCH_APP="$BENCH_TARGET_DIR/release/session-inspector"
  export BENCH_LOG_APP="$stream/release/session-inspector"
}

size_figures() {
  local bytes
  bytes=$(stat -c %s "$BENCH_APP")
  printf 'figure {"area":"size","id":"size.binary_mb","label":"release binary (make bundle profile), MB","value":%s,"unit":"MB","goal":"≤ 15 MB","goal_max":15}\n' \
    "$(awk -v b="$bytes" 'BEGIN { printf "%.2f", b / 1000000 }')"
}

for part in "${parts[@]}"; do
  case $part in
    refresh) run_part refresh src-tauri/scripts/bench-refresh.sh ;;
    log | window | size)
      [ -n "${BENCH_APP:-}" ] || build_apps
      case $part in
        log) run_part log src-tauri/scripts/bench-log.sh ;;  # BENCH_LOG_APP: the bench-feature build
        window) run_part window env SESSION_INSPECTOR_E2E_APP="$BENCH_APP" src-tauri/scripts/bench-window.sh ;;
        size) run_part size size_figures ;;
      esac
      ;;
    *) echo "bench: unknown part $part (refresh, log, window, size)" >&2; exit 2 ;;
  esac
done

step "BENCHMARKS.md"
webkit=$(dpkg-query -W -f '${Version}' libwebkit2gtk-4.1-0 2>/dev/null || echo unknown)
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
memory=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
os=$(. /etc/os-release && echo "$PRETTY_NAME")
cat /dev/null "$out"/{refresh,log,window,size}.figures >"$out/figures.jsonl" 2>/dev/null || true
python3 - "$out/header.json" "$out" <<EOF
import json, sys
from pathlib import Path
json.dump({
    "command": "make bench",
    "parts": [json.loads(Path(sys.argv[2], name + ".when").read_text())
              for name in ("refresh", "log", "window", "size")
              if Path(sys.argv[2], name + ".when").exists()],
    "machine": {
        "CPU": """$cpu""",
        "cores": "$(nproc)",
        "memory": "$memory",
        "OS": """$os""",
        "kernel": "$(uname -r)",
        "WebKitGTK": "$webkit",
        "rustc": "$(rustc --version | cut -d' ' -f2)",
        "node": "$(node --version 2>/dev/null || echo none)",
        "python": "$(python3 --version | cut -d' ' -f2)",
    },
}, open(sys.argv[1], "w"), indent=1)
EOF
python3 src-tauri/scripts/bench-report.py "$out/figures.jsonl" src-tauri/bench/baseline BENCHMARKS.md "$out/header.json"
echo "bench: BENCHMARKS.md written in $((SECONDS - started)) s; logs in $out" >&2
