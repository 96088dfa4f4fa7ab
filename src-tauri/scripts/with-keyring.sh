#!/usr/bin/env bash
# Runs a command with real OS keyrings to talk to, and nothing of the user's touched:
# a private D-Bus session with an unlocked gnome-keyring (Secret Service) whose data lives in a
# temporary folder, inside a fresh kernel session keyring (keyutils). Everything ends with it.
#   with-keyring.sh CMD [ARGS...]
set -euo pipefail
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
mkdir -p "$home/data" "$home/run"
chmod 700 "$home/run"
export XDG_DATA_HOME="$home/data" XDG_RUNTIME_DIR="$home/run"
# gnome-keyring ends with the private bus; the kernel keyring with the session.
dbus-run-session -- keyctl session - bash -c '
  echo -n throwaway | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  exec "$@"
' with-keyring "$@"
