#!/usr/bin/env bash
# Gets a machine ready to build (and, with `test`, test) Session Inspector.
# On Debian/Ubuntu it installs what is missing; on macOS and Windows (Git Bash) it installs
# nothing of the system's: it checks, and says what is missing and how to get it. Idempotent:
# when everything is present it only checks, in about a second.
#   setup.sh run   system libraries to build and run the app, Node, the UI's npm packages
#   setup.sh bundle  the same as run, plus the tauri CLI (pinned) and the packaging tools that
#                  make bundle and make install-test use (rpm, desktop-file-utils)
#   setup.sh test  the same as run, plus Xvfb, WebKitWebDriver, tauri-driver, cargo-machete,
#                  cargo-deny, gnome-keyring, keyutils, Chromium and ChromeDriver (the browser of
#                  the OAuth end-to-end test). Linux only.
# SETUP_UNAME stands in for `uname -s` (src-tauri/scripts/setup-test.sh checks each OS's path).
set -euo pipefail
mode=${1:-run}
root=$(cd "$(dirname "$0")/../.." && pwd)
os=${SETUP_UNAME:-$(uname -s)}

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[setup]\033[0m %s\n' "$*" >&2; exit 1; }

build_packages=(libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev libayatana-appindicator3-dev
  libssl-dev build-essential pkg-config file)
test_packages=(xvfb xauth xclip webkit2gtk-driver imagemagick dbus dbus-x11 gnome-keyring libsecret-tools
  keyutils python3 python3-venv chromium chromium-driver)
bundle_packages=(rpm desktop-file-utils)
node_packages=(nodejs npm)
TAURI_DRIVER_VERSION=2.1.0
# The tauri CLI of the tauri 2 line this app is built with (cargo-tauri, from crates.io).
TAURI_CLI_VERSION=2.12.4
CARGO_MACHETE_VERSION=0.9.2
CARGO_DENY_VERSION=0.20.2
NODE_MIN=20.19

packages=("${build_packages[@]}")
[ "$mode" = test ] && packages+=("${test_packages[@]}")
[ "$mode" = bundle ] && packages+=("${bundle_packages[@]}")

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

# A Linux without apt: what to install, by Debian name, and the build set on Fedora and Arch
# (names from Tauri 2's Linux prerequisites).
no_apt() {
  say "no apt-get: this setup installs packages on Debian/Ubuntu only. Missing, by Debian name:"
  say "  $*"
  say "the build libraries and Node elsewhere:"
  say "  Fedora: sudo dnf install webkit2gtk4.1-devel gtk3-devel openssl-devel librsvg2-devel" \
    "libappindicator-gtk3-devel file nodejs npm && sudo dnf group install c-development"
  say "  Arch:   sudo pacman -S --needed webkit2gtk-4.1 gtk3 base-devel openssl librsvg" \
    "libappindicator-gtk3 file nodejs npm"
  [ "$mode" = test ] &&
    say "the test tools (Xvfb, WebKitWebDriver, gnome-keyring, keyutils, Chromium...) have other names there."
  die "install those, then run this again."
}

apt_install() {
  command -v apt-get >/dev/null || no_apt "$@"
  say "installing with apt-get: $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
    || die "apt-get could not install: $*"
}

# Portable to macOS's bash 3.2 and BSD tools: no sort -V, no sha256sum there.
version_ge() { # $1 >= $2, both dotted numbers
  local IFS=. i
  local -a have=($1) want=($2)
  for i in 0 1 2; do
    [ "${have[i]:-0}" -gt "${want[i]:-0}" ] && return 0
    [ "${have[i]:-0}" -lt "${want[i]:-0}" ] && return 1
  done
  return 0
}
sha256() {
  if command -v sha256sum >/dev/null; then sha256sum "$1"; else shasum -a 256 "$1"; fi | cut -d' ' -f1
}

# macOS and Windows: every missing tool is one line, printed together; nothing is installed.
missing=()
lacks() { missing+=("$*"); }

check_rust() {
  command -v cargo >/dev/null ||
    lacks "Rust (cargo): install rustup from https://rustup.rs, then open a new terminal"
}

check_node() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    lacks "Node.js $NODE_MIN or newer, with npm: the LTS installer from https://nodejs.org"
    return
  fi
  local found
  found=$(node --version | sed 's/^v//')
  version_ge "$found" "$NODE_MIN" ||
    lacks "Node.js $NODE_MIN or newer (this is $found): the LTS installer from https://nodejs.org"
}

check_macos() {
  xcode-select -p >/dev/null 2>&1 ||
    lacks "Xcode command-line tools (compiler, linker, macOS SDK): run xcode-select --install"
  check_rust
  check_node
}

# WebView2 Runtime: Microsoft's documented check is a non-empty `pv` (not 0.0.0.0) under the
# runtime's EdgeUpdate client key, per machine (64- or 32-bit view) or per user.
webview2_installed() {
  local client='Microsoft\EdgeUpdate\Clients\{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}' hive
  for hive in 'HKLM\SOFTWARE\WOW6432Node' 'HKLM\SOFTWARE' 'HKCU\Software'; do
    # No MSYS path conversion: /v is reg's switch, not a path.
    MSYS_NO_PATHCONV=1 MSYS2_ARG_CONV_EXCL='*' reg query "$hive\\$client" /v pv 2>/dev/null |
      grep -qE 'REG_SZ +[1-9]' && return 0
  done
  return 1
}

# The MSVC compiler and linker Rust's windows-msvc target links with: cl on PATH (a developer
# prompt), or any Visual Studio / Build Tools install with the C++ x64 tools, per vswhere.
msvc_installed() {
  command -v cl >/dev/null && return 0
  local vswhere program_files
  vswhere=$(command -v vswhere || true)
  if [ -z "$vswhere" ] && program_files=$(printenv 'ProgramFiles(x86)') &&
    command -v cygpath >/dev/null; then
    vswhere="$(cygpath -u "$program_files")/Microsoft Visual Studio/Installer/vswhere.exe"
  fi
  [ -n "$vswhere" ] && [ -x "$vswhere" ] &&
    [ -n "$("$vswhere" -latest -products '*' -requires \
      Microsoft.VisualStudio.Component.VC.Tools.x86.x64 -property installationPath 2>/dev/null)" ]
}

check_windows() {
  if ! command -v reg >/dev/null; then
    say "cannot read the registry here (no reg): check that \"Microsoft Edge WebView2 Runtime\"" \
      "is in Settings > Apps > Installed apps (Windows 11 has it already)"
  elif ! webview2_installed; then
    lacks "WebView2 Runtime: the Evergreen Bootstrapper from" \
      "https://developer.microsoft.com/microsoft-edge/webview2/"
  fi
  msvc_installed ||
    lacks "MSVC build tools: \"Build Tools for Visual Studio\" from" \
      "https://visualstudio.microsoft.com/visual-cpp-build-tools/ with the workload" \
      "\"Desktop development with C++\""
  check_rust
  if command -v rustc >/dev/null; then
    local host
    host=$(rustc -vV | sed -n 's/^host: //p')
    case "$host" in
      *-windows-msvc) ;;
      *) lacks "Rust's MSVC toolchain (the default here is $host): rustup default stable-msvc" ;;
    esac
  fi
  check_node
}

# 1. System packages (Linux), or the checks of what macOS and Windows need.
case "$os" in
  Linux)
    mapfile -t need < <(missing_debs "${packages[@]}")
    [ ${#need[@]} -eq 0 ] || apt_install "${need[@]}"
    ;;
  Darwin | MINGW* | MSYS* | CYGWIN*)
    case "$mode" in
      test) die "make test needs Linux (Xvfb, WebKitWebDriver, gnome-keyring, the kernel keyring). Here:" \
        "setup.sh run, then cargo test -p session-engine -p session-vault -p local-gotrue," \
        "cargo test --lib and (cd ui && npm test); README, \"Platforms\"." ;;
      bundle) die "make bundle builds only Linux packages (.deb, .rpm), on Linux. Here: setup.sh run," \
        "then make run or cargo run; README, \"Platforms\"." ;;
    esac
    if [ "$os" = Darwin ]; then check_macos; else check_windows; fi
    if [ ${#missing[@]} -gt 0 ]; then
      for line in "${missing[@]}"; do
        printf '\033[1;31m[setup]\033[0m missing: %s\n' "$line" >&2
      done
      die "install what is missing (nothing was installed), then run this again; README, \"Platforms\"."
    fi
    ;;
  *) die "unknown OS \"$os\": this setup knows Linux, macOS and Windows (Git Bash)." ;;
esac

# 2. Rust (a rustup toolchain, not installable from here) with rustfmt and clippy.
command -v cargo >/dev/null || die "cargo not found: install Rust 1.90 or newer (https://rustup.rs)."
if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
  command -v rustup >/dev/null || die "rustfmt/clippy missing and no rustup to add them."
  rustup component add rustfmt clippy
fi

# 3. Node (Vite 8 wants 20.19+) and the UI's locked npm packages.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  apt_install "${node_packages[@]}"
fi
node_version=$(node --version | sed 's/^v//')
version_ge "$node_version" "$NODE_MIN" ||
  die "Node $node_version is too old: the UI build needs Node $NODE_MIN or newer."
lock_hash=$(sha256 "$root/ui/package-lock.json")
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
# 4b. The tauri CLI, for make bundle.
if [ "$mode" = bundle ]; then
  cli="${CARGO_HOME:-$HOME/.cargo}/bin/cargo-tauri"
  if [ ! -x "$cli" ] || ! cargo install --list | grep -q "^tauri-cli v$TAURI_CLI_VERSION:"; then
    say "installing the tauri CLI $TAURI_CLI_VERSION (cargo install, several minutes)"
    cargo install tauri-cli --version "$TAURI_CLI_VERSION" --locked --force --quiet
  fi
fi
# 5. The client judges of the local GoTrue server: auth-js (npm) and supabase_auth (a venv).
if [ "$mode" = test ]; then
  judges="$root/src-tauri/server/tests/judges"
  judge_lock=$(sha256 "$judges/auth-js/package-lock.json")
  judge_stamp="$judges/auth-js/node_modules/.session-inspector-lock"
  if [ "$(cat "$judge_stamp" 2>/dev/null)" != "$judge_lock" ]; then
    say "installing @supabase/auth-js for the judges (npm ci)"
    (cd "$judges/auth-js" && npm ci --no-audit --no-fund --loglevel=error --engine-strict=false)
    echo "$judge_lock" >"$judge_stamp"
  fi
  venv="$root/target/judges/venv"
  requirements_hash=$(sha256 "$judges/python/requirements.txt")
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
