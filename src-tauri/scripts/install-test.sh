#!/usr/bin/env bash
# The install test: the .deb that `make bundle` built is installed on this machine with apt
# (which also proves its declared dependencies resolve), the installed app is checked (files,
# desktop entry, binary) and driven through WebDriver under Xvfb by the end-to-end smoke tests
# (the window paints the demo session, Refresh now rotates it, a restart restores it, the CSP
# holds), then the package is purged and the test checks that nothing it installed is left.
# Called by `make install-test` (CI runs it after `make test`) with the bundles folder of the
# release build. Needs root or sudo.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

step() { printf '\n\033[1;34m==> %s\033[0m\n' "$*"; }
die() { printf '\033[1;31m[install-test]\033[0m %s\n' "$*" >&2; exit 1; }
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else die "needs root (or sudo) to install the package: $*"
  fi
}

package=session-inspector
# The bundles folder: the argument, else cargo's default.
bundles=$(cd "${1:-target/release/bundle}" && pwd) || die "no bundles folder (run make bundle first)"
shopt -s nullglob
debs=("$bundles"/deb/*.deb)
rpms=("$bundles"/rpm/*.rpm)
shopt -u nullglob
[ ${#debs[@]} -eq 1 ] || die "expected one .deb in $bundles/deb (run make bundle): ${debs[*]:-none}"
deb=${debs[0]}
if dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
  die "$package is already installed on this machine: the test will not replace or remove your own install"
fi

# The user's own app folders, Downloads and keyrings, as they were: compared at the end.
footprint_before=$(src-tauri/scripts/footprint.sh)

step "the package: $(basename "$deb") ($(stat -c %s "$deb") bytes)"
dpkg-deb --info "$deb"
echo "-- contents (dpkg -c):"
dpkg -c "$deb"
if [ ${#rpms[@]} -eq 1 ] && command -v rpm >/dev/null; then
  echo "-- the .rpm: $(basename "${rpms[0]}") ($(stat -c %s "${rpms[0]}") bytes), requires:"
  rpm -qp --requires "${rpms[0]}" 2>/dev/null
  echo "-- its files:"
  rpm -qlp "${rpms[0]}" 2>/dev/null
fi

purged=false
purge() {
  $purged && return 0
  purged=true
  step "purging $package"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "$package" >/dev/null
}
trap purge EXIT

step "installing with apt-get (resolves the declared dependencies)"
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$deb" >/dev/null
mapfile -t installed < <(dpkg -L "$package")
files=()
for path in "${installed[@]}"; do [ -f "$path" ] && files+=("$path"); done
echo "installed ${#files[@]} files:"
printf '  %s\n' "${files[@]}"

step "what was installed"
binary=/usr/bin/$package
[ -x "$binary" ] || die "$binary is missing or not executable"
file "$binary"
# Every shared library the binary needs resolves on this system (the dependencies are right).
libraries=$(ldd "$binary")
if grep -q "not found" <<<"$libraries"; then
  grep "not found" <<<"$libraries"
  die "the installed binary needs libraries this system lacks"
fi
echo "ldd: all $(grep -c '=>' <<<"$libraries") shared libraries resolve"
desktop=$(printf '%s\n' "${files[@]}" | grep '^/usr/share/applications/.*\.desktop$') ||
  die "no desktop entry in the package"
cat "$desktop"
grep -q "^Exec=$package" "$desktop" || die "the desktop entry does not start $package"
grep -q "^Categories=Development;" "$desktop" || die "the desktop entry is not in Development"
icon=$(sed -n 's/^Icon=//p' "$desktop")
printf '%s\n' "${files[@]}" | grep -q "/usr/share/icons/hicolor/.*/apps/$icon.png" ||
  die "the desktop entry's icon $icon is not in the package"
desktop-file-validate "$desktop" || die "the desktop entry is not valid"
echo "desktop-file-validate: valid"

step "the installed app under Xvfb, through tauri-driver (the end-to-end smoke tests)"
smoke=(
  window_shows_the_product_name_and_the_version_from_app_info
  the_window_runs_no_inline_script_and_no_command_outside_its_capability
  the_demo_session_counts_down_refreshes_and_is_restored_after_a_restart
)
SESSION_INSPECTOR_E2E_APP="$binary" xvfb-run -a -s "-screen 0 1280x800x24" \
  src-tauri/scripts/with-keyring.sh \
  cargo test --test e2e -- --ignored --test-threads=1 --exact "${smoke[@]}" |
  tee "$root/target/install-test-e2e.log"
# --exact with a renamed test runs nothing and still passes: each must have run.
grep -q "test result: ok. ${#smoke[@]} passed" "$root/target/install-test-e2e.log" ||
  die "not all ${#smoke[@]} smoke tests ran (a test renamed?)"
echo "screenshots of the installed app: target/e2e/installed/"

purge
step "nothing left behind"
dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -qE "ok (installed|config-files)" &&
  die "$package is still known to dpkg after the purge"
left=()
for path in "${files[@]}"; do [ -e "$path" ] && left+=("$path"); done
[ ${#left[@]} -eq 0 ] || die "files left after the purge: ${left[*]}"
echo "the package is gone and none of its ${#files[@]} files remain"

# The user's app folders, Downloads and keyrings are as they were.
src-tauri/scripts/footprint.sh compare "$footprint_before"
