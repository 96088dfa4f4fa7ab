#!/usr/bin/env bash
# Installs what building (and, with `test`, testing) Session Inspector needs on Debian/Ubuntu.
# Idempotent: when everything is present it only checks, in about a second.
#   setup.sh run   system libraries to build and run the app, Node, the UI's npm packages
#   setup.sh test  the same, plus Xvfb, WebKitWebDriver, tauri-driver, cargo-machete,
#                  cargo-deny, gnome-keyring, keyutils, Chromium and ChromeDriver (the browser of
#                  the OAuth end-to-end test)
set -euo pipefail
mode=${1:-run}
root=$(cd "$(dirname "$0")/../.." && pwd)

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[setup]\033[0m %s\n' "$*" >&2; exit 1; }

build_packages=(libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev libayatana-appindicator3-dev
  libssl-dev build-essential pkg-config file)
test_packages=(xvfb xauth xclip webkit2gtk-driver imagemagick dbus dbus-x11 gnome-keyring libsecret-tools
  keyutils python3 python3-venv chromium chromium-driver)
node_packages=(nodejs npm)
TAURI_DRIVER_VERSION=2.1.0
CARGO_MACHETE_VERSION=0.9.2
CARGO_DENY_VERSION=0.20.2
NODE_MIN=20.19

packages=("${build_packages[@]}")
[ "$mode" = test ] && packages+=("${test_packages[@]}")

missing_debs() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || printf '%s\n' "$p"
  done
}

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "need root to run: $* (no sudo found). Install those packages by hand and run again."
  fi
}

apt_install() {
  command -v apt-get >/dev/null ||
    die "no apt-get: this setup knows Debian/Ubuntu only. Please install the equivalents of: $*"
  say "installing with apt-get: $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
    || die "apt-get could not install: $*"
}

# 1. System packages.
mapfile -t need < <(missing_debs "${packages[@]}")
[ ${#need[@]} -eq 0 ] || apt_install "${need[@]}"

# 2. Rust (a rustup toolchain, not installable from here) with rustfmt and clippy.
command -v cargo >/dev/null || die "cargo not found: install Rust 1.90 or newer (https://rustup.rs)."
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
  command -v rustup >/dev/null || die "rustfmt/clippy missing and no rustup to add them."
  rustup component add rustfmt clippy
fi

# 3. Node (Vite 8 wants 20.19+) and the UI's locked npm packages.
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]; }
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  apt_install "${node_packages[@]}"
fi
node_version=$(node --version | sed 's/^v//')
version_ge "$node_version" "$NODE_MIN" ||
  die "Node $node_version is too old: the UI build needs Node $NODE_MIN or newer."
lock_hash=$(sha256sum "$root/ui/package-lock.json" | cut -d' ' -f1)
stamp="$root/ui/node_modules/.session-inspector-lock"
if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_hash" ]; then
  say "installing the UI's npm packages (npm ci)"
  (cd "$root/ui" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$lock_hash" >"$stamp"
fi

# 4. tauri-driver, for the WebDriver end-to-end tests, and the cargo tools the checks use.
if [ "$mode" = test ]; then
  # tauri-driver has no --version: cargo's install list knows the version, and the binary
  # itself must still be there (the list outlives a deleted binary, hence --force).
  driver="${CARGO_HOME:-$HOME/.cargo}/bin/tauri-driver"
  if [ ! -x "$driver" ] || ! cargo install --list | grep -q "^tauri-driver v$TAURI_DRIVER_VERSION:"; then
    say "installing tauri-driver $TAURI_DRIVER_VERSION (cargo install, about a minute)"
    cargo install tauri-driver --version "$TAURI_DRIVER_VERSION" --locked --force --quiet
  fi
  # cargo-machete, for the "no unused dependency" check.
  machete="${CARGO_HOME:-$HOME/.cargo}/bin/cargo-machete"
  if [ ! -x "$machete" ] || ! cargo install --list | grep -q "^cargo-machete v$CARGO_MACHETE_VERSION:"; then
    say "installing cargo-machete $CARGO_MACHETE_VERSION (cargo install, about a minute)"
    cargo install cargo-machete --version "$CARGO_MACHETE_VERSION" --locked --force --quiet
  fi
  # cargo-deny, for the supply-chain checks (advisories, licenses, bans, sources).
  deny="${CARGO_HOME:-$HOME/.cargo}/bin/cargo-deny"
  if [ ! -x "$deny" ] || ! cargo install --list | grep -q "^cargo-deny v$CARGO_DENY_VERSION:"; then
    say "installing cargo-deny $CARGO_DENY_VERSION (cargo install, several minutes)"
    cargo install cargo-deny --version "$CARGO_DENY_VERSION" --locked --force --quiet
  fi
fi
# 5. The client judges of the local GoTrue server: auth-js (npm) and supabase_auth (a venv).
if [ "$mode" = test ]; then
  judges="$root/src-tauri/server/tests/judges"
  judge_lock=$(sha256sum "$judges/auth-js/package-lock.json" | cut -d' ' -f1)
  judge_stamp="$judges/auth-js/node_modules/.session-inspector-lock"
  if [ "$(cat "$judge_stamp" 2>/dev/null)" != "$judge_lock" ]; then
    say "installing @supabase/auth-js for the judges (npm ci)"
    (cd "$judges/auth-js" && npm ci --no-audit --no-fund --loglevel=error --engine-strict=false)
    echo "$judge_lock" >"$judge_stamp"
  fi
  venv="$root/target/judges/venv"
  requirements_hash=$(sha256sum "$judges/python/requirements.txt" | cut -d' ' -f1)
  if [ "$(cat "$venv/.requirements" 2>/dev/null)" != "$requirements_hash" ]; then
    say "installing supabase_auth for the judges (python venv in target/judges)"
    rm -rf "$venv"
    python3 -m venv "$venv" || die "python3 cannot create a venv (install python3-venv)."
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$judges/python/requirements.txt" ||
      die "pip could not install the Python judge's requirements."
    echo "$requirements_hash" >"$venv/.requirements"
  fi
fi
say "ready ($mode)"
