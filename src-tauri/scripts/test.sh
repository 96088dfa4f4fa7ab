#!/usr/bin/env bash
# Every test, in the order a failure is cheapest to find: formatting, setup.sh's macOS and
# Windows paths, lints and dependency checks, the UI's type check and unit tests, the Rust tests
# (unit, mock-runtime IPC, integration), then the WebDriver end-to-end tests on the real app
# under Xvfb. Called by `make test`, which first installs what is missing and builds the UI.
set -euo pipefail
cd "$(dirname "$0")/../.."

step() { printf '\n\033[1;34m==> %s\033[0m\n' "$*"; }
started=$SECONDS
# The user's own app folders, Downloads and keyrings, as they were: compared at the end.
footprint_before=$(src-tauri/scripts/footprint.sh)

step "cargo fmt --check"
cargo fmt --all --check

step "setup.sh on macOS and Windows (stub commands, this machine)"
src-tauri/scripts/setup-test.sh

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "without the demo feature: clippy and unit tests of the app crate"
# The app without its built-in server (no local-gotrue, axum or SQLite in the app). The same
# workspace selection as above (no other member has features), so only the app crate is built
# again; the members' unit tests rerun with it (a second or two).
cargo clippy --workspace --no-default-features --all-targets --quiet -- -D warnings
cargo test --workspace --no-default-features --lib --quiet

step "with the bench feature: clippy and unit tests of the app crate"
# The benchmark-only synthetic log stream (bench_stream.rs) never ships, but it is linted and its
# unit tests run here, so `make bench` finds it building.
cargo clippy --workspace --features session-inspector/bench --all-targets --quiet -- -D warnings
cargo test --workspace --features session-inspector/bench --lib --quiet

step "cargo machete (no unused dependency)"
cargo machete

step "cargo deny (licenses, bans, sources; advisories when the database can be had)"
# The policy, with a reason for each exception, is src-tauri/deny.toml. Errors print in full;
# warnings (Tauri's many duplicate versions) only as counts: drop `-L error` to read them.
deny=(cargo deny -L error --workspace --config src-tauri/deny.toml)
"${deny[@]}" check --show-stats bans licenses sources
# The advisory database is RustSec's git repository on github.com, kept by cargo-deny under
# $CARGO_HOME/advisory-dbs. Fetch it; failing that, use a copy already there if it was fetched
# in the last 90 days (cargo-deny's own limit); failing that too, say so and go on.
advisory_dbs="${CARGO_HOME:-$HOME/.cargo}/advisory-dbs"
if timeout 120 "${deny[@]}" fetch db >/dev/null 2>&1; then
  "${deny[@]}" check --show-stats advisories
elif [ -n "$(find "$advisory_dbs" -maxdepth 3 -path '*/advisory-db-*/.git/*' \
       \( -name FETCH_HEAD -o -name HEAD \) -mtime -90 2>/dev/null)" ]; then
  echo "advisories: the database cannot be fetched, using the local copy in $advisory_dbs"
  "${deny[@]}" --offline check --show-stats advisories
else
  echo "advisories: skipped, the advisory database (github.com/rustsec/advisory-db)" \
    "cannot be fetched from this machine"
fi

step "svelte-check"
(cd ui && npm run --silent check)

step "vitest"
(cd ui && npm run --silent test)

# Every cargo step selects the whole workspace: cargo unifies features over the packages a
# command selects, so a narrower selection would rebuild half the dependency tree.
step "cargo test (unit, IPC on the mock runtime, integration)"
cargo test --workspace

step "fuzzing: 30 s per target (paste, jwt, envelope, server_request)"
# A short run on the committed seeds: a crash fails the run and names the input. The long
# runs are their own command (README, "Fuzzing").
src-tauri/scripts/fuzz.sh 30

step "on real keyrings: the vault (Secret Service and kernel keyring), the app on the mock runtime"
# A private D-Bus with an unlocked throwaway gnome-keyring, inside a fresh session keyring.
# One test at a time: they share the keyring daemon, and the kill test counts its own work.
# The app's tests that open its vault (ipc, inspector) run here too, never on the user's keyring,
# and the command line's (cli_keyring: the real binary on the app's profiles and vault).
src-tauri/scripts/with-keyring.sh \
  cargo test --workspace --test keyring --test ipc --test inspector --test cli_keyring \
  -- --ignored --test-threads=1 --nocapture
# The app without its built-in demo: a first launch with nothing to open, a first project.
src-tauri/scripts/with-keyring.sh \
  cargo test --workspace --no-default-features --test inspector -- --ignored --nocapture

step "end-to-end: the real app under Xvfb through tauri-driver"
# The same test binary as above, now with the display-bound tests it skipped. The private bus
# of with-keyring.sh gives the app a real keyring and ends the services WebKitGTK autolaunches.
xvfb-run -a -s "-screen 0 1280x800x24" \
  src-tauri/scripts/with-keyring.sh cargo test --workspace --test e2e -- --ignored --test-threads=1
echo "screenshots: target/e2e/"

step "nothing left in the user's app folders, Downloads or keyrings"
src-tauri/scripts/footprint.sh compare "$footprint_before"

step "all tests passed in $((SECONDS - started)) s"
