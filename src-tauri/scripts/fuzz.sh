#!/usr/bin/env bash
# Coverage-guided fuzzing of the engine's parsers and the local GoTrue's router with
# cargo-fuzz (libFuzzer). The fuzz crate is src-tauri/fuzz, a workspace of its own.
#   fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     default: 30 s each, every target
# Targets: paste jwt envelope server_request.
#
# Builds once (nightly, into <repo>/target/fuzz so it never touches the main build), then runs
# the built targets one after another (so edits made meanwhile neither trigger a rebuild nor
# change what is fuzzed), each on a scratch copy of its committed seeds
# (src-tauri/fuzz/corpus/<target>/seed-*), so a run never changes the tree. Prints one line per
# target; exits non-zero if any target crashed, and names the inputs that did (kept under
# src-tauri/fuzz/artifacts/<target>/; replay one with
# `cargo +nightly fuzz run --fuzz-dir src-tauri/fuzz <target> <file>`); also if a target did
# not read every one of its seeds or ran no input beyond them (then it fuzzed nothing).
# What each seed must do in the parser is asserted on stable Rust, in `cargo test`:
# src-tauri/engine/tests/tools_fuzz.rs.
set -euo pipefail

CARGO_FUZZ_VERSION=0.13.2
ALL_TARGETS=(paste jwt envelope server_request)

say() { printf '\033[1m[fuzz]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[fuzz]\033[0m %s\n' "$*" >&2; exit 2; }

root=$(cd "$(dirname "$0")/../.." && pwd)
fuzz_dir=src-tauri/fuzz
cd "$root"

seconds=${1:-30}
[[ $seconds =~ ^[1-9][0-9]*$ ]] || die "SECONDS_PER_TARGET must be a positive whole number, not '$seconds'"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")
for target in "${targets[@]}"; do
  [ -f "$fuzz_dir/fuzz_targets/$target.rs" ] || die "no fuzz target '$target' (there are: ${ALL_TARGETS[*]})"
done

command -v rustup >/dev/null || die "rustup is needed: cargo-fuzz builds with a nightly toolchain"
if ! rustup toolchain list | grep -q '^nightly'; then
  die "no nightly Rust toolchain. libFuzzer's instrumentation needs one; install it with:
    rustup toolchain install nightly --profile minimal
then run this script again."
fi

installed=$(cargo fuzz --version 2>/dev/null || true)
if [ "$installed" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
  say "installing cargo-fuzz $CARGO_FUZZ_VERSION (found: ${installed:-none})"
  cargo install --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi

# Its own target dir: the main workspace's build is never rebuilt or locked by this one.
export CARGO_TARGET_DIR="$root/target/fuzz"
scratch="$CARGO_TARGET_DIR/scratch"
mkdir -p "$scratch"

say "building the fuzz targets (cargo +nightly fuzz build)"
build_start=$(date +%s)
cargo +nightly fuzz build --fuzz-dir "$fuzz_dir"
say "built in $(( $(date +%s) - build_start )) s"
host=$(rustc +nightly -vV | sed -n 's/^host: //p')
bin_dir="$CARGO_TARGET_DIR/$host/release"
# What `cargo fuzz run` sets for AddressSanitizer (its default sanitizer).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_odr_violation=0"

summary=()
crashed=()
idle=()
for target in "${targets[@]}"; do
  corpus="$scratch/corpus/$target"
  log="$scratch/$target.log"
  artifacts="$fuzz_dir/artifacts/$target"
  rm -rf "$corpus"
  mkdir -p "$corpus" "$artifacts"
  cp "$fuzz_dir/corpus/$target"/seed-* "$corpus/"
  marker="$scratch/$target.started"
  touch "$marker"

  flags=(-artifact_prefix="$artifacts/" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10
    -print_final_stats=1)
  # The server's state outlives an input by design, which libFuzzer's leak check takes for a
  # leak on every input (and re-runs it to look): see fuzz_targets/server_request.rs.
  [ "$target" = server_request ] && flags+=(-detect_leaks=0)

  # libFuzzer skips empty files when it reads a corpus: they are not seeds it will run.
  seeds=$(find "$corpus" -type f -size +0c | wc -l)
  say "$target: ${seconds} s on $seeds seeds (log: ${log#"$root"/})"
  status=0
  "$bin_dir/$target" "${flags[@]}" "$corpus" >"$log" 2>&1 || status=$?

  execs=$(sed -n 's/^Done \([0-9]*\) runs in .*/\1/p' "$log" | tail -n 1)
  [ -n "$execs" ] || execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
  [ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\)[[:space:]].*/\1/p' "$log" | tail -n 1)
  execs=${execs:-0}
  mapfile -t found < <(find "$artifacts" -type f -newer "$marker" \
    \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
  crashes=${#found[@]}
  if [ "$status" -ne 0 ] && [ "$crashes" -eq 0 ]; then
    crashes=1 # it failed without leaving an input: the log says why
    found=("(no input saved; see ${log#"$root"/})")
  fi
  # libFuzzer's "#N INITED" line comes once every seed has run, after one empty input of its
  # own: N counts them all (a seed re-run for a leak check counts again, hence "fewer than").
  inited=$(sed -n 's/^#\([0-9]*\)[[:space:]]*INITED.*/\1/p' "$log" | head -n 1)
  inited=${inited:-0}
  summary+=("$(printf '%-15s %5s s  %10s execs  %3s seeds (%s inputs run at start)  crashes = %s/%s' "$target" "$seconds" "$execs" "$seeds" "$inited" "$crashes" "$execs")")
  if [ "$crashes" -eq 0 ] && { [ "$inited" -lt $((seeds + 1)) ] || [ "$execs" -le "$inited" ]; }; then
    idle+=("$target: ran $inited inputs to start with for its $seeds seeds, and $execs in all (see ${log#"$root"/})")
  fi
  if [ "$crashes" -gt 0 ]; then
    crashed+=("$target: ${found[*]}")
    grep -A 2 -m 1 -E "panicked at|ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)" "$log" | sed 's/^/    /' || true
  fi
done

say "summary"
printf '%s\n' "${summary[@]}"
if [ ${#idle[@]} -gt 0 ]; then
  say "targets that did not fuzz their seeds:"
  printf '  %s\n' "${idle[@]}"
fi
if [ ${#crashed[@]} -gt 0 ]; then
  say "crashing inputs (replay: cargo +nightly fuzz run --fuzz-dir $fuzz_dir TARGET FILE):"
  printf '  %s\n' "${crashed[@]}"
fi
if [ ${#crashed[@]} -gt 0 ] || [ ${#idle[@]} -gt 0 ]; then
  exit 1
fi
