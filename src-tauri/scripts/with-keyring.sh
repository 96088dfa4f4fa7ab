#!/usr/bin/env bash
# Runs a command with real OS keyrings to talk to, and nothing of the user's touched:
# a private D-Bus session with an unlocked gnome-keyring (Secret Service) whose data lives in a
# temporary folder, inside a fresh kernel session keyring (keyutils). Everything ends with it.
#   with-keyring.sh CMD [ARGS...]
set -euo pipefail
home=$(mktemp -d)
# WebKitGTK's document portal can leave a FUSE mount in the runtime dir whose daemon is already
# gone; unmount it lazily, and never let cleanup change the command's result.
cleanup() {
  # Daemons of this throwaway session that outlived its bus (their environment names $home).
  local environ pid
  for environ in /proc/[0-9]*/environ; do
    pid=${environ#/proc/}
    pid=${pid%/environ}
    if [ "$pid" != $$ ] && grep -qsF "$home" "$environ"; then kill "$pid" 2>/dev/null || true; fi
  done
  fusermount3 -uz "$home/run/doc" 2>/dev/null || umount -l "$home/run/doc" 2>/dev/null || true
  rm -rf "$home" 2>/dev/null || true
}
trap cleanup EXIT
mkdir -p "$home/data" "$home/run"
chmod 700 "$home/run"
export XDG_DATA_HOME="$home/data" XDG_RUNTIME_DIR="$home/run"
# Tests that open the OS keyring refuse to run without it (tests/support/mock_ipc.rs).
export SESSION_INSPECTOR_THROWAWAY_KEYRING="$home"
# gnome-keyring ends with the private bus; the kernel keyring with the session.
dbus-run-session -- keyctl session - bash -c '
  echo -n throwaway | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  exec "$@"
' with-keyring "$@"
