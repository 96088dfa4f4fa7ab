#!/usr/bin/env bash
# Checks setup.sh's macOS and Windows paths, and Linux without apt, on this Linux machine:
# SETUP_UNAME stands in for `uname -s`, and PATH holds only stub commands (which log their
# calls) plus the few tools the script itself uses. Each case runs a copy of setup.sh in a
# throwaway tree, so nothing here touches the repository's node_modules. Under a second.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/base" "$work/home"
# The script's own plumbing, present in every case.
for tool in dirname sed cut sha256sum printenv grep cat mkdir; do
  ln -s "$(command -v "$tool")" "$work/base/$tool"
done

# One stub for every command: it logs "name args" to $CALLS and acts by name.
cat >"$work/stub" <<EOF
#!$BASH
name=\${0##*/}
echo "\$name \$*" >>"\$CALLS"
case "\$name \${1:-}" in
  "node --version") echo "v\$STUB_NODE" ;;
  "rustc -vV") echo "host: \$STUB_HOST" ;;
  "reg query") [ -n "\$STUB_PV" ] && echo "    pv    REG_SZ    \$STUB_PV" ;;
  "vswhere "*) echo 'C:\\BuildTools' ;;
  "xcode-select -p") echo /Library/Developer/CommandLineTools ;;
  "npm ci") mkdir -p node_modules ;;
  "apt-get "* | "sudo "* | "brew "* | "winget "*) exit 1 ;;
esac
exit 0
EOF
chmod +x "$work/stub"

failures=0
case_name=
out=
status=0

# run NAME UNAME MODE "ENV=..." -- COMMAND...: a fresh tree, PATH = those stubs + the base tools.
run() {
  case_name=$1
  local uname=$2 mode=$3 settings=$4 dir="$work/$1"
  shift 5
  mkdir -p "$dir/bin" "$dir/repo/src-tauri/scripts" "$dir/repo/ui"
  cp "$here/setup.sh" "$dir/repo/src-tauri/scripts/"
  echo '{"lockfileVersion": 3}' >"$dir/repo/ui/package-lock.json"
  local command
  for command in "$@"; do ln -s "$work/stub" "$dir/bin/$command"; done
  : >"$dir/calls"
  status=0
  # shellcheck disable=SC2086 # $settings is a list of NAME=value words
  out=$(env -i PATH="$dir/bin:$work/base" HOME="$work/home" CALLS="$dir/calls" \
    STUB_NODE=22.12.0 STUB_HOST=x86_64-pc-windows-msvc STUB_PV= $settings SETUP_UNAME="$uname" \
    "$BASH" "$dir/repo/src-tauri/scripts/setup.sh" "$mode" 2>&1) || status=$?
  calls=$(cat "$dir/calls")
}

check() {
  local what=$1
  shift
  if ! "$@"; then
    printf 'FAIL [%s] %s\n' "$case_name" "$what"
    printf '  exit %s; output:\n%s\n  calls:\n%s\n' "$status" "$out" "$calls" | sed 's/^/    /'
    failures=$((failures + 1))
  fi
}
says() { grep -qF -- "$1" <<<"$out"; }
not() { ! "$@"; }
failed() { [ "$status" -ne 0 ]; }
called() { grep -q "^$1 " <<<"$calls"; }
installs_nothing() {
  not called apt-get && not called sudo && not called brew && not called winget
}

run macos-bare Darwin run "" -- apt-get sudo brew
check "fails" failed
check "Xcode CLT missing" says "missing: Xcode command-line tools"
check "how to get the CLT" says "xcode-select --install"
check "Rust missing" says "missing: Rust (cargo)"
check "Node missing" says "missing: Node.js 20.19 or newer, with npm"
check "installs nothing" installs_nothing

run macos-old-node Darwin run "STUB_NODE=18.19.0" -- apt-get brew xcode-select cargo rustc node npm
check "fails" failed
check "old Node named" says "missing: Node.js 20.19 or newer (this is 18.19.0)"
check "CLT present" not says "Xcode command-line tools"
check "Rust present" not says "missing: Rust"
check "no npm install before the checks pass" not called npm
check "installs nothing" installs_nothing

run macos-ready Darwin run "" -- apt-get brew xcode-select cargo rustc node npm
check "succeeds" not failed
check "ready" says "ready (run)"
check "the UI's packages" called "npm ci"
check "installs no system package" installs_nothing

run macos-test Darwin test "" -- apt-get brew xcode-select cargo rustc node npm
check "fails" failed
check "says make test needs Linux" says "make test needs Linux"
check "installs nothing" installs_nothing

for uname in Darwin MINGW64_NT-10.0-22631; do
  run "bundle-$uname" "$uname" bundle "" -- apt-get sudo brew winget reg xcode-select cargo rustc node npm
  check "fails" failed
  check "says make bundle builds only Linux packages" says "make bundle builds only Linux packages"
  check "installs nothing" installs_nothing
  check "checks nothing else" not called cargo
done

run windows-bare MINGW64_NT-10.0-22631 run "" -- apt-get sudo winget reg
check "fails" failed
check "WebView2 missing" says "missing: WebView2 Runtime"
check "MSVC missing, with the workload" says 'missing: MSVC build tools: "Build Tools for Visual Studio"'
check "the workload named" says '"Desktop development with C++"'
check "Rust missing" says "missing: Rust (cargo)"
check "Node missing" says "missing: Node.js 20.19"
check "the README section" says 'README, "Platforms"'
check "asked the registry" called "reg query"
check "installs nothing" installs_nothing

run windows-gnu-rust MSYS_NT-10.0 run "STUB_PV=120.0.2210.91 STUB_HOST=x86_64-pc-windows-gnu" -- \
  apt-get reg vswhere cargo rustc node npm
check "fails" failed
check "wants the MSVC toolchain" says "rustup default stable-msvc"
check "WebView2 found" not says "WebView2"
check "MSVC found by vswhere" not says "MSVC build tools"

run windows-ready MINGW64_NT-10.0-22631 run "STUB_PV=120.0.2210.91" -- \
  apt-get reg vswhere cargo rustc node npm
check "succeeds" not failed
check "ready" says "ready (run)"
check "installs no system package" installs_nothing

run windows-no-reg CYGWIN_NT-10.0 run "" -- vswhere cargo rustc node npm
check "succeeds without the registry" not failed
check "says how to check WebView2" says "Settings > Apps > Installed apps"

run linux-without-apt Linux run "" -- sudo cargo rustc node npm
check "fails" failed
check "Debian names" says "libwebkit2gtk-4.1-dev"
check "Fedora" says "Fedora: sudo dnf install webkit2gtk4.1-devel"
check "Arch" says "Arch:   sudo pacman -S --needed webkit2gtk-4.1"
check "no apt error" not says "apt-get could not install"
check "installs nothing" installs_nothing

if [ "$failures" -gt 0 ]; then
  echo "setup.sh: $failures check(s) failed"
  exit 1
fi
echo "setup.sh: macOS, Windows and apt-less Linux paths as expected (11 cases)"
