// Judge: drives a running local-gotrue server with the official @supabase/auth-js client
// and checks what the client itself reports (its session, its error objects).
//
// Environment: GOTRUE_URL, ANON_KEY, EMULATOR_URL, DEMO_EMAIL, DEMO_PASSWORD.
// Output: one JSON object per check on stdout, then a closing "N passed, M failed" line.
// Exit status 0 only when no check failed. See ../README.md.

import { AuthSessionMissingError, GoTrueClient, isAuthApiError, isAuthSessionMissingError } from '@supabase/auth-js'
import {
  ANON_KEY,
  DEMO_EMAIL,
  DEMO_PASSWORD,
  GOTRUE_URL,
  describeError,
  emulator,
  finish,
  isAlreadyUsed,
  memoryStorage,
  newClient,
  randomEmail,
  refreshOk,
  report,
  scenario,
  short,
  signIn,
  sleep,
} from './judge.mjs'

const REFRESH_ROUTE = 'POST /token?grant_type=refresh_token'

// --------------------------------------------------------------------------------------------

async function main() {
  // Start from a known emulator state (a previous judge may have left something behind).
  await emulator('PUT', '/clock', { skew_seconds: 0 })
  await emulator('DELETE', '/faults')
  await emulator('PUT', '/rate-limit', { enabled: false })

  // 1. Password sign-in.
  await scenario('password_sign_in', async () => {
    const client = newClient()
    const { data, error } = await client.signInWithPassword({
      email: DEMO_EMAIL,
      password: DEMO_PASSWORD,
    })
    const session = data?.session
    const { data: stored } = await client.getSession()
    const ok =
      !error &&
      !!session &&
      session.user?.email?.toLowerCase() === DEMO_EMAIL.toLowerCase() &&
      typeof session.refresh_token === 'string' &&
      session.refresh_token.length === 12 &&
      typeof session.access_token === 'string' &&
      stored.session?.refresh_token === session.refresh_token
    report(
      'password_sign_in',
      ok,
      error
        ? describeError(error)
        : `session=${!!session} email=${session?.user?.email} refresh_token=${short(session?.refresh_token)} ` +
            `stored_in_client=${stored.session?.refresh_token === session?.refresh_token}`
    )
  })

  // 2. Refresh rotates the refresh token and mints a new access token.
  await scenario('refresh_rotates', async () => {
    const client = newClient()
    const first = await signIn(client)
    // Access tokens carry second-resolution iat/exp and no jti (as GoTrue's): wait past the
    // second so the new token is necessarily a different string.
    await sleep(1100)
    const { data, error } = await client.refreshSession()
    const next = data?.session
    const { data: stored } = await client.getSession()
    const ok =
      !error &&
      !!next &&
      next.access_token !== first.access_token &&
      next.refresh_token !== first.refresh_token &&
      next.refresh_token.length === 12 &&
      typeof next.expires_at === 'number' &&
      next.expires_at > Math.floor(Date.now() / 1000) &&
      stored.session?.refresh_token === next.refresh_token
    report(
      'refresh_rotates',
      ok,
      error
        ? describeError(error)
        : `refresh ${short(first.refresh_token)} -> ${short(next?.refresh_token)}, access token changed=${
            next?.access_token !== first.access_token
          }, expires_at=${next?.expires_at}, client stored the new session=${
            stored.session?.refresh_token === next?.refresh_token
          }`
    )
  })

  // 3. The parent of the active token gets the active token back.
  await scenario('parent_of_active_returns_active', async () => {
    const client = newClient()
    const rt0 = (await signIn(client)).refresh_token
    const rt1 = (await refreshOk(client)).refresh_token
    const { data, error } = await client.refreshSession({ refresh_token: rt0 })
    const got = data?.session?.refresh_token
    report(
      'parent_of_active_returns_active',
      !error && got === rt1 && rt1 !== rt0,
      error
        ? `refresh with the parent failed: ${describeError(error)}`
        : `rt0=${short(rt0)} rt1(active)=${short(rt1)}; refresh with rt0 returned ${short(got)} (same as active: ${got === rt1})`
    )
  })

  // 4. An older (grandparent) token reused inside the reuse interval still refreshes.
  await scenario('reuse_inside_interval', async () => {
    const client = newClient()
    const a0 = (await signIn(client)).refresh_token
    const a1 = (await refreshOk(client)).refresh_token
    const a2 = (await refreshOk(client)).refresh_token
    const { data, error } = await client.refreshSession({ refresh_token: a0 })
    const got = data?.session?.refresh_token
    const ok = !error && !!got && got !== a2 && got !== a1 && got !== a0 && got.length === 12
    report(
      'reuse_inside_interval',
      ok,
      error
        ? `refresh with grandparent a0 failed: ${describeError(error)}`
        : `a0=${short(a0)} a1=${short(a1)} a2=${short(a2)}; refresh with a0 returned new token ${short(got)}`
    )
  })

  // 5. Reuse outside the interval: refresh_token_already_used, and the family is dead.
  await scenario('reuse_outside_interval', async () => {
    const client = newClient()
    const b0 = (await signIn(client)).refresh_token
    const b1 = (await refreshOk(client)).refresh_token
    const b2 = (await refreshOk(client)).refresh_token
    try {
      await emulator('PUT', '/clock', { skew_seconds: 30 })
      const r0 = await client.refreshSession({ refresh_token: b0 })
      report(
        'reuse_outside_interval.b0',
        isAlreadyUsed(r0.error) && !r0.data.session,
        `clock +30 s; refresh with b0=${short(b0)}: ${describeError(r0.error)}`
      )
      // GoTrue's RevokeTokenFamily also touches updated_at of the token it revokes (b2, the
      // active one), which re-opens b2's own reuse interval for 10 s. Step past that before
      // presenting the rest of the family.
      await emulator('PUT', '/clock', { skew_seconds: 45 })
      for (const [label, token] of [
        ['b1', b1],
        ['b2', b2],
      ]) {
        const other = newClient()
        const r = await other.refreshSession({ refresh_token: token })
        report(
          `reuse_outside_interval.${label}`,
          isAlreadyUsed(r.error) && !r.data.session,
          `clock +45 s (past the family revocation's interval); refresh with ${label}=${short(token)}: ${describeError(r.error)}`
        )
      }
    } finally {
      await emulator('PUT', '/clock', { skew_seconds: 0 })
    }
  })

  // 6. Global sign-out: the refresh token is gone and the access token's session is missing.
  await scenario('sign_out', async () => {
    const email = randomEmail('signout')
    const password = 'judge-password-1'
    await emulator('POST', '/users', { email, password }, [201])
    const c1 = newClient()
    const session = await signIn(c1, email, password)
    const oldRefresh = session.refresh_token
    const oldAccess = session.access_token
    const { error: signOutError } = await c1.signOut({ scope: 'global' })
    const { data: afterSignOut } = await c1.getSession()
    report(
      'sign_out.global',
      !signOutError && afterSignOut.session === null,
      `signOut({scope:'global'}): ${describeError(signOutError)}; client session cleared=${afterSignOut.session === null}`
    )

    const c2 = newClient()
    const refreshed = await c2.refreshSession({ refresh_token: oldRefresh })
    const e1 = refreshed.error
    report(
      'sign_out.refresh_not_found',
      isAuthApiError(e1) && e1.code === 'refresh_token_not_found' && e1.status === 400,
      `refresh with signed-out token ${short(oldRefresh)}: ${describeError(e1)}`
    )

    const user = await c2.getUser(oldAccess)
    const e2 = user.error
    report(
      'sign_out.get_user_session_missing',
      isAuthSessionMissingError(e2) && e2 instanceof AuthSessionMissingError && user.data.user === null,
      `getUser(old access token ${short(oldAccess)}): ${describeError(e2)} ` +
        `(auth-js maps the server's 403 session_not_found to AuthSessionMissingError)`
    )
  })

  // 7. A burst of 503s on /token: auth-js retries with backoff and recovers.
  await scenario('retry_503', async () => {
    const seen = []
    const client = newClient(seen)
    const before = await signIn(client)
    try {
      await emulator('DELETE', '/requests')
      seen.length = 0
      await emulator('POST', '/faults', { count: 3, status: 503, path: '/token' }, [201])
      const started = Date.now()
      const { data, error } = await client.refreshSession()
      const elapsed = Date.now() - started
      const got = data?.session?.refresh_token
      report(
        'retry_503.recovers',
        !error && !!got && got !== before.refresh_token && seen.map((r) => r.status).join(',') === '503,503,503,200',
        error
          ? `refreshSession after 3x503: ${describeError(error)}; statuses the client saw: ${seen.map((r) => r.status).join(',')}`
          : `one refreshSession() call succeeded after ${elapsed} ms with ${short(got)}; ` +
              `statuses the client saw: ${seen.map((r) => r.status).join(',')} (backoff 200/400/800 ms)`
      )
      const counts = await emulator('GET', '/requests')
      const k = counts?.routes?.[REFRESH_ROUTE] ?? 0
      report(
        'retry_503.request_count',
        k === 4,
        `${REFRESH_ROUTE} seen ${k} times (expected 4: three 503s then success); total=${counts?.total}`
      )
    } finally {
      await emulator('DELETE', '/faults')
    }
  })

  // 8. With rate limiting on, the client reports 429 over_request_rate_limit. A burst of 30
  // refilled at one request per 5 minutes: the 31st refresh is refused however slow the
  // machine (GoTrue's 150 per 5 minutes would refill one every 2 s).
  await scenario('rate_limit_429', async () => {
    const client = newClient()
    await signIn(client)
    let hitAt = null
    let lastError = null
    let other = null
    try {
      await emulator('PUT', '/rate-limit', { enabled: true, per_five_minutes: 1, burst: 30 }, [200, 204])
      for (let i = 1; i <= 40; i += 1) {
        const { error } = await client.refreshSession()
        if (!error) continue
        lastError = error
        if (isAuthApiError(error) && error.status === 429 && error.code === 'over_request_rate_limit') {
          hitAt = i
        } else {
          other = i
        }
        break
      }
    } finally {
      await emulator('PUT', '/rate-limit', { enabled: false }, [200, 204])
    }
    report(
      'rate_limit_429',
      hitAt === 31,
      hitAt !== null
        ? `refresh #${hitAt} got ${describeError(lastError)}`
        : other !== null
          ? `unexpected error at refresh #${other}: ${describeError(lastError)}`
          : 'no 429 within 40 refreshes'
    )
  })

  // Issue 11 (session ending, refresh-first sign-out): see the block at the end of this file.
  await sessionEndingScenarios()

  // 9. The server's own invariants hold after all of the above.
  await scenario('invariants', async () => {
    const { violations } = await emulator('GET', '/invariants')
    report(
      'invariants',
      Array.isArray(violations) && violations.length === 0,
      Array.isArray(violations) && violations.length === 0 ? 'no violations' : JSON.stringify(violations)
    )
  })
}

// Scenario blocks below main() add themselves here; they run after it, in file order.
const laterScenarios = []

main()
  .then(async () => {
    for (const run of laterScenarios) await run()
  })
  .catch((error) => {
    report('judge', false, `judge crashed: ${error?.stack?.split('\n')[0] ?? error}`)
  })
  .finally(finish)

// ---- signing-key rotation: getClaims refetches the JWKS for a new kid (issue 11 item 7) ----
laterScenarios.push(async function signingKeyRotation() {
  await scenario('key_rotation', async () => {
    const calls = []
    const client = new GoTrueClient({
      url: GOTRUE_URL,
      headers: { apikey: ANON_KEY, Authorization: `Bearer ${ANON_KEY}` },
      autoRefreshToken: false,
      persistSession: true,
      detectSessionInUrl: false,
      storage: memoryStorage(),
      // auth-js keeps its JWKS cache per storage key: a key of its own starts it empty.
      storageKey: `judge-key-rotation-${Date.now()}`,
      fetch: async (input, init) => {
        calls.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`)
        return fetch(input, init)
      },
    })
    const count = (suffix) => calls.filter((call) => call.endsWith(suffix)).length
    const header = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[0], 'base64url').toString())
    try {
      const first = await emulator('POST', '/signing-keys/rotate', { algorithm: 'es256' })
      const before = await signIn(client)
      const r1 = await client.getClaims(before.access_token)
      report(
        'key_rotation.first_key_verifies',
        !r1.error && r1.data?.header?.kid === first.kid && header(before.access_token).kid === first.kid &&
          count('/.well-known/jwks.json') === 1 && count('/user') === 0,
        `getClaims: ${describeError(r1.error)}; kid=${r1.data?.header?.kid} (rotated in: ${first.kid}); ` +
          `requests: ${calls.join(', ')}`
      )

      const second = await emulator('POST', '/signing-keys/rotate', { algorithm: 'es256' })
      const after = await signIn(client)
      const r2 = await client.getClaims(after.access_token)
      report(
        'key_rotation.new_key_verifies_after_refetch',
        !r2.error && r2.data?.header?.kid === second.kid && second.kid !== first.kid &&
          count('/.well-known/jwks.json') === 2 && count('/user') === 0,
        `getClaims after a second rotation: ${describeError(r2.error)}; kid=${r2.data?.header?.kid}; ` +
          `JWKS fetched ${count('/.well-known/jwks.json')} times (a refetch for the unknown kid), ` +
          `GET /user ${count('/user')} times; requests: ${calls.join(', ')}`
      )

      const r3 = await client.getClaims(before.access_token)
      report(
        'key_rotation.previous_key_still_verifies',
        !r3.error && r3.data?.header?.kid === first.kid && count('/.well-known/jwks.json') === 2,
        `getClaims(token of the first key): ${describeError(r3.error)}; JWKS fetched ${count('/.well-known/jwks.json')} times`
      )
    } finally {
      await emulator('POST', '/signing-keys/rotate', { algorithm: 'hs256' })
    }
  })
})
// ---- end of signing-key rotation ----

// ---- Issue 11, items 5 and 6: how a session ends, and sign-out with an expired access token ----
// What current auth-js does: a rejected refresh token keeps a session whose access token still
// works (and remembers the failure for 60 s); once the access token has expired, the rejection
// removes the session (SIGNED_OUT); signOut refreshes an expired access token before /logout.

/** A fresh user of its own, so the server's session list can be read for it alone. */
async function ownUser(tag) {
  const email = randomEmail(tag)
  const password = 'judge-password-1'
  const user = await emulator('POST', '/users', { email, password })
  return { email, password, id: user.id }
}

async function serverSessionsOf(userId) {
  const sessions = await emulator('GET', '/sessions')
  return sessions.filter((s) => s.user_id === userId)
}

async function refreshRequests() {
  const counts = await emulator('GET', '/requests')
  return counts.routes?.[REFRESH_ROUTE] ?? 0
}

/** Signs `who` in on a server clock two hours behind: the access token is already expired. */
async function signInExpired(client, who) {
  await emulator('PUT', '/clock', { skew_seconds: -7200 })
  try {
    return await signIn(client, who.email, who.password)
  } finally {
    await emulator('PUT', '/clock', { skew_seconds: 0 })
  }
}

function sessionIdOf(session) {
  const payload = JSON.parse(Buffer.from(session.access_token.split('.')[1], 'base64url').toString())
  return payload.session_id
}

async function sessionEndingScenarios() {
  await scenario('rejected_refresh_keeps_a_valid_session', async () => {
    const who = await ownUser('rejected-valid')
    const client = newClient()
    const events = []
    client.onAuthStateChange((event) => events.push(event))
    const session = await signIn(client, who.email, who.password)
    await emulator('DELETE', `/sessions/${sessionIdOf(session)}`)
    const before = await refreshRequests()
    const { error } = await client.refreshSession()
    const { data: kept } = await client.getSession()
    const { error: again } = await client.refreshSession()
    const sent = (await refreshRequests()) - before
    const ok =
      isAuthApiError(error) &&
      error.code === 'refresh_token_not_found' &&
      kept.session?.refresh_token === session.refresh_token &&
      !events.includes('SIGNED_OUT') &&
      again?.code === 'refresh_token_not_found' &&
      sent === 1
    report(
      'rejected_refresh_keeps_a_valid_session',
      ok,
      `refresh: ${describeError(error)}; session kept=${kept.session?.refresh_token === session.refresh_token} ` +
        `events=${events.join(',')}; second refresh within 60 s: ${describeError(again)}; refresh requests sent=${sent}`
    )
  })

  await scenario('rejected_refresh_ends_an_expired_session', async () => {
    const who = await ownUser('rejected-expired')
    const client = newClient()
    const events = []
    client.onAuthStateChange((event) => events.push(event))
    const session = await signInExpired(client, who)
    await emulator('DELETE', `/sessions/${sessionIdOf(session)}`)
    const { data, error } = await client.getSession()
    const { data: after } = await client.getSession()
    const ok =
      isAuthApiError(error) &&
      error.code === 'refresh_token_not_found' &&
      data.session === null &&
      after.session === null &&
      events.includes('SIGNED_OUT')
    report(
      'rejected_refresh_ends_an_expired_session',
      ok,
      `getSession: ${describeError(error)} session=${data.session !== null}; afterwards session=${after.session !== null}; ` +
        `events=${events.join(',')}`
    )
  })

  await scenario('sign_out_refreshes_an_expired_access_token', async () => {
    const who = await ownUser('signout-expired')
    const client = newClient()
    const events = []
    client.onAuthStateChange((event) => events.push(event))
    await signInExpired(client, who)
    const before = (await serverSessionsOf(who.id)).length
    const { error } = await client.signOut()
    const after = (await serverSessionsOf(who.id)).length
    const ok =
      !error &&
      before === 1 &&
      after === 0 &&
      events.includes('TOKEN_REFRESHED') &&
      events.at(-1) === 'SIGNED_OUT'
    report(
      'sign_out_refreshes_an_expired_access_token',
      ok,
      `signOut: ${describeError(error)}; server sessions before=${before} after=${after}; events=${events.join(',')}`
    )
  })
}

// ---- end of the issue 11 block ----
