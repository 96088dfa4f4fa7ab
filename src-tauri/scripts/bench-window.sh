#!/usr/bin/env bash
# The window's benchmarks: start-up, memory and click → paint of the release app, beside an
# empty Tauri 2 window built on the same tauri, features and release profile
# (src-tauri/bench/empty-window), on the same WebKitGTK. Prints `figure {json}` lines on stdout
# (areas `startup`, `memory`, `click`); everything else goes to stderr.
#
#   src-tauri/scripts/bench-window.sh            (from the repository root; about 5 minutes
#                                                 once built, with BENCH_RUNS=5)
#
# Environment:
#   BENCH_TARGET_DIR          where the release builds go (default target/bench)
#   SESSION_INSPECTOR_E2E_APP an app binary to measure instead of building one
#   BENCH_EMPTY_WINDOW        an empty-window binary instead of building one
#   BENCH_RUNS                rounds (default 5; click → paint presses Refresh now 4× as often)
#   BENCH_WINDOW_TESTS        which of `startup_and_memory click_to_paint` to run (default both)
#   BENCH_HARNESS_TARGET_DIR  where the (debug) harness is built (default CARGO_TARGET_DIR, else
#                             target)
#
# Method (tests/bench_window.rs), under Xvfb and a throwaway keyring (with-keyring.sh), every
# program started without any WEBKIT_* variable, as on a user's desktop. Both programs then turn
# WebKit's compositing mode off in their own web view by the same rule (the empty window compiles
# the app's src-tauri/src/rendering.rs), so the app and its floor are drawn in the same mode.
# One discarded launch of each program comes before the rounds (disk cache).
# - Start-up: tauri-driver starts the program through a two-line launcher that writes the wall
#   clock (ns) and then `exec`s it, so "process start" is that instant. The page sets a User
#   Timing mark in a task queued from the requestAnimationFrame callback after the thing is in
#   the DOM, i.e. after that frame was drawn: the app's first countdown (ui/src/lib/paint-mark.ts),
#   the empty window's text. Start-up = performance.timeOrigin + mark.startTime − process start,
#   both on the machine's wall clock, read back through WebDriver once the window is up. The
#   WebDriver automation handshake (WebKitWebDriver attaching to the program's web view) is
#   inside that interval, for the app and the floor alike. "After the frame was drawn" holds
#   with compositing off (the page is painted in the web process's own frame); with it on, the
#   mark could come before the compositor shows the frame. Rounds interleave the empty window,
#   the app's first launch (a fresh data folder: the built-in demo starts and signs in) and the
#   app again on that folder (the session restored from the keyring).
# - Memory, in the same launches: 5 s after the process started (and never before its page
#   painted: on a loaded machine a half-started web process would look small), the PSS
#   (/proc/<pid>/smaps_rollup) of every process whose environment names the launch's private
#   folders, summed: the program, WebKitWebProcess, WebKitNetworkProcess and any other child.
#   (WebDriver's automation session is in both the app and the floor.)
# - Click → paint: the app's first launch; in the page, the click event's own timestamp on
#   Refresh now, and a MutationObserver on the session's expiry (#expires-at) that queues a task
#   from the next requestAnimationFrame. Minus the refresh's HTTP exchange as the engine recorded
#   it (log_exchange): what is left is the app's own time (IPC, the stores, rendering).
#   Presses are 1.1 s apart, so each new expiry differs from the last to the second.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
target=${BENCH_TARGET_DIR:-$root/target/bench}
harness_target=${BENCH_HARNESS_TARGET_DIR:-${CARGO_TARGET_DIR:-$root/target}}
tests=${BENCH_WINDOW_TESTS:-startup_and_memory click_to_paint}

app=${SESSION_INSPECTOR_E2E_APP:-}
if [ -z "$app" ]; then
  echo "== building the UI and the release app into $target" >&2
  (cd ui && npm run --silent build) >&2
  CARGO_TARGET_DIR=$target cargo build --release --features prod --bin session-inspector >&2
  app=$target/release/session-inspector
fi
empty=${BENCH_EMPTY_WINDOW:-}
if [ -z "$empty" ]; then
  echo "== building the empty window into $target" >&2
  CARGO_TARGET_DIR=$target cargo build --release -p empty-window --features prod >&2
  empty=$target/release/empty-window
fi
[ -x "$app" ] || { echo "no app binary at $app" >&2; exit 1; }
[ -x "$empty" ] || { echo "no empty-window binary at $empty" >&2; exit 1; }

echo "== building the harness (tests/bench_window.rs) into $harness_target" >&2
# cargo's own messages (and any compile error) go to stderr; stdout is the JSON it describes.
harness=$(CARGO_TARGET_DIR=$harness_target cargo test --test bench_window --no-run \
  --message-format=json |
  grep -o '"executable":"[^"]*bench_window-[^"]*"' | tail -1 | cut -d'"' -f4)
[ -x "$harness" ] || { echo "the harness did not build" >&2; exit 1; }

echo "== app $app ($(du -h "$app" | cut -f1)), empty window $empty ($(du -h "$empty" | cut -f1))" >&2
# shellcheck disable=SC2086 # the test names are words
SESSION_INSPECTOR_E2E_APP=$(realpath "$app") BENCH_EMPTY_WINDOW=$(realpath "$empty") \
  xvfb-run -a -s "-screen 0 1280x800x24" src-tauri/scripts/with-keyring.sh \
  "$harness" --ignored --exact --test-threads=1 --nocapture $tests |
  awk 'match($0, /figure \{.*\}/) {
         print substr($0, RSTART, RLENGTH); fflush()
         rest = substr($0, 1, RSTART - 1) substr($0, RSTART + RLENGTH)
         if (rest != "") print rest > "/dev/stderr"
         next
       }
       { print > "/dev/stderr" }'
