#!/usr/bin/env bash
# Every test, in the order a failure is cheapest to find: formatting and lints, the UI's
# type check and unit tests, the Rust tests (unit, mock-runtime IPC, integration), then the
# WebDriver end-to-end tests on the real app under Xvfb. Called by `make test`, which first
# installs what is missing and builds the UI.
set -euo pipefail
cd "$(dirname "$0")/../.."

step() { printf '\n\033[1;34m==> %s\033[0m\n' "$*"; }
started=$SECONDS

step "cargo fmt --check"
cargo fmt --all --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "cargo machete (no unused dependency)"
cargo machete

step "svelte-check"
(cd ui && npm run --silent check)

step "vitest"
(cd ui && npm run --silent test)

# Every cargo step selects the whole workspace: cargo unifies features over the packages a
# command selects, so a narrower selection would rebuild half the dependency tree.
step "cargo test (unit, IPC on the mock runtime, integration)"
cargo test --workspace

step "the vault on real keyrings: Secret Service (gnome-keyring) and the kernel keyring"
# A private D-Bus with an unlocked throwaway gnome-keyring, inside a fresh session keyring.
# One test at a time: they share the keyring daemon, and the kill test counts its own work.
src-tauri/scripts/with-keyring.sh \
  cargo test --workspace --test keyring -- --ignored --test-threads=1 --nocapture

step "end-to-end: the real app under Xvfb through tauri-driver"
# The same test binary as above, now with the display-bound tests it skipped. The private bus
# of with-keyring.sh gives the app a real keyring and ends the services WebKitGTK autolaunches.
xvfb-run -a -s "-screen 0 1280x800x24" \
  src-tauri/scripts/with-keyring.sh cargo test --workspace --test e2e -- --ignored --test-threads=1
echo "screenshots: target/e2e/"

step "all tests passed in $((SECONDS - started)) s"
