#!/usr/bin/env bash
# Prints what the test suite must leave as it found it, of the app's own things only: its
# folders in the user's home (data, config, cache, state), its exports in the user's Downloads
# folder, its entries in the user's persistent kernel keyring, and its items in the user's
# Secret Service (when one is already running). test.sh and install-test.sh take it before
# their tests and fail on any difference after: every test works in its own folders and
# throwaway keyrings (with-keyring.sh). It changes nothing itself.
#   footprint.sh                   prints the footprint; never fails
#   footprint.sh compare BEFORE    compares the footprint now with BEFORE (an earlier print):
#                                  prints how many entries are unchanged, or the difference
#                                  and fails
set -u
if [ "${1:-}" = compare ]; then
  before=${2?footprint.sh compare needs the earlier footprint}
  after=$("$0")
  if [ "$before" != "$after" ]; then
    echo "the tests changed the user's own files or keyrings (before → after):"
    diff <(echo "$before") <(echo "$after")
    exit 1
  fi
  echo "unchanged: $(echo "$after" | wc -l) entries (src-tauri/scripts/footprint.sh)"
  exit 0
fi
app=dev.sessioninspector.app
home=${HOME:-/root}
downloads=$(xdg-user-dir DOWNLOAD 2>/dev/null || true)
[ -n "$downloads" ] && [ "$downloads" != "$home" ] || downloads=$home/Downloads

for dir in "$home/.local/share/$app" "$home/.config/$app" "$home/.cache/$app" \
           "$home/.local/state/$app"; do
  if [ -e "$dir" ]; then
    # Name, size and modification time: a file written again shows up too.
    find "$dir" -printf 'file %p %s %T@\n' 2>/dev/null | sort
  else
    echo "absent $dir"
  fi
done
find "$downloads" -maxdepth 1 -name 'session-inspector-log-*' -printf 'export %p %s %T@\n' \
  2>/dev/null | sort

if command -v keyctl >/dev/null; then
  # In a session keyring of its own, so the user's session keyring is not touched.
  # Each of the app's entries by name and a hash of its content (an overwrite shows too).
  keyctl session - sh -c '
    persistent=$(keyctl get_persistent @s 2>/dev/null) || exit 0
    for key in $(keyctl rlist "$persistent" 2>/dev/null); do
      description=$(keyctl rdescribe "$key" 2>/dev/null) || continue
      case "$description" in
        *"@$1") echo "kernel-keyring $description $(keyctl pipe "$key" 2>/dev/null | sha256sum | cut -c1-16)" ;;
      esac
    done' footprint "$app" 2>/dev/null | sort
fi

# Only a Secret Service that is already running: asking would start one otherwise.
if [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] && command -v secret-tool >/dev/null &&
   dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
     org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null |
     grep -q 'boolean true'; then
  timeout 10 secret-tool search --all service "$app" 2>/dev/null | grep -E '^(label|attribute)' | sort
fi
exit 0
