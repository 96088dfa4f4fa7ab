#!/usr/bin/env bash
# Runs auth-js's OWN test suite (supabase-js packages/core/auth-js/test: GoTrueClient,
# GoTrueApi, GoTrueClient.signOut, GoTrueClient.pkce) against the built-in server, started the
# way the suite's Supabase CLI stack is configured (test/supabase/config.toml there).
#
#   auth-js-suite.sh SUPABASE_JS [jest arguments...]
#
# SUPABASE_JS is a supabase-js checkout or a bare clone of it (git archive reads it). Nothing of
# supabase-js is committed here: its sources and tests are copied into target/auth-js-suite/ and
# run there. The suite's devDependencies come from tests/auth-js-suite/package-lock.json (npm ci).
# The suite addresses 127.0.0.1:54321; the copy is pointed at a free port instead.
#
# Prints, per file, passed and failed tests and how many of each sent at least one request to the
# server (the rest test client-side logic only), then the passes whose every request got 404, and
# the failures. Exit status: jest's.
set -euo pipefail

say() { printf '\033[1m[auth-js-suite]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[auth-js-suite]\033[0m %s\n' "$*" >&2; exit 2; }

root=$(cd "$(dirname "$0")/../.." && pwd)
[ $# -ge 1 ] || die "usage: $0 SUPABASE_JS [jest arguments...] (a supabase-js checkout or bare clone)"
source=$(realpath "$1"); shift
runner="$root/src-tauri/server/tests/auth-js-suite"
scratch="$root/target/auth-js-suite"
suite="$scratch/packages/core/auth-js"

say "copying auth-js from $source into $scratch"
rm -rf "$scratch/packages"; mkdir -p "$suite"
if [ -d "$source/packages/core/auth-js" ]; then
  cp -r "$source/packages/core/auth-js/src" "$source/packages/core/auth-js/test" "$suite/"
  cp "$source"/packages/core/auth-js/tsconfig*.json "$suite/"
  cp "$source/tsconfig.base.json" "$scratch/"
else
  git --git-dir="$source" rev-parse --verify -q HEAD >/dev/null || die "$source is neither a supabase-js checkout nor a git directory of one"
  git --git-dir="$source" archive HEAD packages/core/auth-js/src packages/core/auth-js/test \
    packages/core/auth-js/tsconfig.json packages/core/auth-js/tsconfig.test.json tsconfig.base.json |
    tar -x -C "$scratch"
fi

if ! cmp -s "$runner/package-lock.json" "$scratch/package-lock.json" || [ ! -d "$scratch/node_modules" ]; then
  say "installing the suite's test tools (npm ci)"
  cp "$runner/package.json" "$runner/package-lock.json" "$scratch/"
  (cd "$scratch" && npm ci --no-audit --no-fund --loglevel=error)
fi

# The suite signs its publishable and secret keys with the first key of this file, as the CLI
# stack does; the server is given the same file (--signing-keys).
keys="$suite/test/supabase/signing_keys.json"
(cd "$suite/test" && node generate-signing-keys.js >/dev/null)

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
grep -rl '127.0.0.1:54321' "$suite/test" | xargs sed -i "s/127\.0\.0\.1:54321/127.0.0.1:$port/g"

cat > "$suite/jest.config.js" <<JEST
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  transform: { '^.+\\\\.tsx?\$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json', diagnostics: false }] },
  testPathIgnorePatterns: ['/node_modules/', '/docker-tests/', '/example/'],
  setupFilesAfterEnv: ['$runner/count-requests.js'],
  rootDir: '.',
  silent: true,
  forceExit: true,
}
JEST

say "building local-gotrue"
cargo build --quiet -p local-gotrue
bin="${CARGO_TARGET_DIR:-$root/target}/debug/local-gotrue"

# The suite's config.toml, in this server's flags: site_url and additional_redirect_urls,
# max_frequency 1s, reuse interval 10 s, Google enabled, no SMS provider configured (Twilio is
# off there), the OAuth 2.1 server on, manual linking off (the default), the RS256 signing key,
# WebAuthn MFA factors on ([auth.mfa.web_authn]) with the [auth.webauthn] relying party.
"$bin" --port "$port" --signing-keys "$keys" --site-url http://127.0.0.1:3000 \
  --redirect-urls 'http://127.0.0.1:3000/**,https://127.0.0.1:3000/**,http://localhost:5173/**' \
  --max-frequency 1 --reuse-interval 10 --external-providers google \
  --no-sms-provider --sms-test-otp 1234567890=123456 \
  --mfa-webauthn --webauthn-rp-id localhost --webauthn-rp-origins http://localhost:5173 \
  --webauthn-rp-display-name 'auth-js tests' \
  > "$scratch/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$port/auth/v1/health" >/dev/null && break
  kill -0 $server 2>/dev/null || { cat "$scratch/server.log" >&2; die "the server did not start"; }
  sleep 0.1
done

export SUITE_SERVER_ORIGIN="http://127.0.0.1:$port" SUITE_REQUEST_LOG="$scratch/requests.ndjson"
: > "$SUITE_REQUEST_LOG"
files=(test/GoTrueClient.test.ts test/GoTrueApi.test.ts test/GoTrueClient.signOut.test.ts test/GoTrueClient.pkce.test.ts)
[ $# -eq 0 ] || files=()
say "running jest against http://127.0.0.1:$port"
set +e
(cd "$suite" && node "$scratch/node_modules/jest/bin/jest.js" --json --outputFile="$scratch/results.json" "${files[@]}" "$@" > "$scratch/jest.out" 2>&1)
status=$?
set -e
node "$runner/summary.js" "$scratch/results.json" "$SUITE_REQUEST_LOG"
say "jest's report: $scratch/results.json and jest.out; the server's log: $scratch/server.log"
exit $status
