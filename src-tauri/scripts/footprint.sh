#!/usr/bin/env bash
# Prints what the test suite must leave as it found it: the app's folders in the user's home
# (data, config, cache, state), the user's Downloads folder, the user's persistent kernel
# keyring, and the user's Secret Service items of the app's service (when a session bus is
# there). test.sh prints it before and after the tests and fails on any difference: every test
# works in its own folders and its own throwaway keyrings (with-keyring.sh).
set -uo pipefail
app=dev.sessioninspector.app
home=${HOME:-/root}
downloads=$(xdg-user-dir DOWNLOAD 2>/dev/null || true)
[ -n "$downloads" ] && [ "$downloads" != "$home" ] || downloads=$home/Downloads

for dir in "$home/.local/share/$app" "$home/.config/$app" "$home/.cache/$app" \
           "$home/.local/state/$app" "$downloads"; do
  if [ -e "$dir" ]; then
    # Name, size and modification time: a file written again shows up too.
    find "$dir" -printf 'file %p %s %T@\n' 2>/dev/null | sort
  else
    echo "absent $dir"
  fi
done

if command -v keyctl >/dev/null; then
  persistent=$(keyctl get_persistent @s 2>/dev/null || true)
  if [ -n "$persistent" ]; then
    for key in $(keyctl rlist "$persistent" 2>/dev/null); do
      echo "kernel-keyring $(keyctl rdescribe "$key" 2>/dev/null)"
    done | sort
  fi
fi

if [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] && command -v secret-tool >/dev/null; then
  timeout 10 secret-tool search --all service "$app" 2>/dev/null | grep -E '^(label|attribute)' | sort
fi
