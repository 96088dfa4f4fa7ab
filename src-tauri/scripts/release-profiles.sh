#!/usr/bin/env bash
# Builds the release app under each candidate release profile and prints what each costs and
# gives: build time, the binary's size, and the .deb and .rpm sizes. The profile in Cargo.toml
# was chosen from this table (README, "Release builds and packages").
#
#   src-tauri/scripts/release-profiles.sh [name ...]     (default: every candidate)
#
# Slow: one full release build per candidate (about 10 to 20 minutes each on 2 cores). Each
# candidate gets its own target folder under target/profiles/, so a second run only re-bundles.
# The per-package opt-levels of Cargo.toml (dependencies at "s", the refresh path at 3) apply to
# every candidate; the candidates vary the rest. The settings are given as CARGO_PROFILE_RELEASE_*
# variables, which override Cargo.toml's [profile.release], so the
# table does not depend on the profile committed there.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

# name: opt-level lto codegen-units strip panic. Cargo's own release default is
# "3 false 16 debuginfo unwind"; no-strip keeps every symbol and the standard library's
# debug information.
declare -A candidates=(
  [no-strip]="3 false 16 none unwind"
  [cargo-default]="3 false 16 debuginfo unwind"
  [strip]="3 false 16 symbols unwind"
  [thin-lto]="3 thin 16 symbols unwind"
  [fat-lto]="3 fat 1 symbols unwind"
  [fat-lto-s]="s fat 1 symbols unwind"
  [fat-lto-abort]="3 fat 1 symbols abort"
)
order=(no-strip cargo-default strip thin-lto fat-lto fat-lto-s fat-lto-abort)
[ $# -gt 0 ] && order=("$@")

command -v cargo-tauri >/dev/null || { echo "cargo-tauri is missing: run make bundle once" >&2; exit 1; }
[ -f ui/dist/index.html ] || (cd ui && npm run --silent build)

mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
rows=()
for name in "${order[@]}"; do
  read -r opt lto cgu strip panic <<<"${candidates[$name]:?unknown candidate $name}"
  dir="$root/target/profiles/$name"
  echo "== $name: opt-level=$opt lto=$lto codegen-units=$cgu strip=$strip panic=$panic" >&2
  start=$SECONDS
  CARGO_TARGET_DIR="$dir" \
    CARGO_PROFILE_RELEASE_OPT_LEVEL="$opt" CARGO_PROFILE_RELEASE_LTO="$lto" \
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS="$cgu" CARGO_PROFILE_RELEASE_STRIP="$strip" \
    CARGO_PROFILE_RELEASE_PANIC="$panic" \
    cargo build --release --quiet --features prod --bin session-inspector
  built=$((SECONDS - start))
  CARGO_TARGET_DIR="$dir" cargo tauri bundle --bundles deb,rpm --features prod >/dev/null 2>&1 ||
    { echo "bundling $name failed: run 'CARGO_TARGET_DIR=$dir cargo tauri bundle --bundles deb,rpm --features prod'" >&2; exit 1; }
  bin=$(stat -c %s "$dir/release/session-inspector")
  deb=$(stat -c %s "$dir"/release/bundle/deb/*.deb)
  rpm=$(stat -c %s "$dir"/release/bundle/rpm/*.rpm)
  rows+=("| $name | $opt | $lto | $cgu | $strip | $panic | ${built} s | $(mib "$bin") | $(mib "$deb") | $(mib "$rpm") |")
done

echo "| candidate | opt-level | lto | codegen-units | strip | panic | build | binary MiB | .deb MiB | .rpm MiB |"
echo "|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
