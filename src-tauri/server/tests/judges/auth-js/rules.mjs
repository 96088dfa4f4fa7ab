// Judge of GoTrue's refresh rules as auth-js lives with them (issue 11, items 1 and 2): the
// server runs in the configuration named by JUDGE_SERVER, and the client's own fetch shows
// the `sb-auth-*` headers of each answer.
//
//   legacy-no-rotation  legacy tokens, REFRESH_TOKEN_ROTATION_ENABLED=false
//   v2                  v2 tokens, rotation on
//
// Output and environment as scenario.mjs; see ../README.md.

import { emulator, finish, isAlreadyUsed, newClient, refreshOk, report, scenario, short, signIn, describeError } from './judge.mjs'

const SERVER = process.env.JUDGE_SERVER
const header = (seen, name) => seen.at(-1)?.headers.get(name) ?? null

async function legacyWithoutRotation() {
  await scenario('rules.legacy_swaps_without_rotation', async () => {
    const seen = []
    const client = newClient(seen)
    const t0 = (await signIn(client)).refresh_token
    const t1 = (await refreshOk(client)).refresh_token
    report('rules.legacy_swaps_without_rotation.new_token', t1 !== t0 && t1.length === 12,
      `t0=${short(t0)} t1=${short(t1)}`)
    report('rules.legacy_swaps_without_rotation.headers',
      header(seen, 'sb-auth-refresh-token-reuse') === 'false' &&
        header(seen, 'sb-auth-refresh-token-prefix') === t1.slice(0, 5) &&
        header(seen, 'sb-auth-refresh-token-rotated') === null &&
        header(seen, 'sb-auth-refresh-token-reuse-cause') === null,
      `reuse=${header(seen, 'sb-auth-refresh-token-reuse')} rotated=${header(seen, 'sb-auth-refresh-token-rotated')} cause=${header(seen, 'sb-auth-refresh-token-reuse-cause')}`)
    const t2 = (await refreshOk(client)).refresh_token
    try {
      await emulator('PUT', '/clock', { skew_seconds: 30 })
      const other = newClient()
      const reused = await other.refreshSession({ refresh_token: t0 })
      report('rules.legacy_swaps_without_rotation.reuse_fails', isAlreadyUsed(reused.error),
        `clock +30 s, t0 again: ${describeError(reused.error)}`)
      const head = await client.refreshSession()
      report('rules.legacy_swaps_without_rotation.family_kept', !head.error && head.data.session?.refresh_token !== t2,
        `the client's own t2 still refreshes: ${describeError(head.error)}`)
    } finally {
      await emulator('PUT', '/clock', { skew_seconds: 0 })
    }
  })

  await scenario('rules.parent_of_active', async () => {
    const seen = []
    const client = newClient(seen)
    const t0 = (await signIn(client)).refresh_token
    const t1 = (await refreshOk(client)).refresh_token
    const again = await refreshOk(newClient(seen), { refresh_token: t0 })
    report('rules.parent_of_active.same_token', again.refresh_token === t1, `got ${short(again.refresh_token)}, active ${short(t1)}`)
    report('rules.parent_of_active.no_reuse_header',
      header(seen, 'sb-auth-refresh-token-reuse') === null && header(seen, 'sb-auth-refresh-token-prefix') === t1.slice(0, 5),
      `reuse=${header(seen, 'sb-auth-refresh-token-reuse')}`)
  })
}

async function v2() {
  await scenario('rules.v2_causes', async () => {
    const seen = []
    const client = newClient(seen)
    const t0 = (await signIn(client)).refresh_token
    const t1 = (await refreshOk(client)).refresh_token
    report('rules.v2_causes.normal', header(seen, 'sb-auth-refresh-token-reuse') === 'false' &&
      header(seen, 'sb-auth-refresh-token-counter') === '1', `counter=${header(seen, 'sb-auth-refresh-token-counter')}`)
    const again = await refreshOk(newClient(seen), { refresh_token: t0 })
    report('rules.v2_causes.joined',
      again.refresh_token === t1 && header(seen, 'sb-auth-refresh-token-reuse-cause') === 'concurrent-refresh,fail-to-save' &&
        header(seen, 'sb-auth-refresh-token-reuse') === null,
      `cause=${header(seen, 'sb-auth-refresh-token-reuse-cause')} same=${again.refresh_token === t1}`)
  })

  await scenario('rules.v2_termination', async () => {
    const seen = []
    const client = newClient(seen)
    const t0 = (await signIn(client)).refresh_token
    await refreshOk(client)
    const t2 = (await refreshOk(client)).refresh_token
    try {
      await emulator('PUT', '/clock', { skew_seconds: 30 })
      const attacker = newClient(seen)
      const reused = await attacker.refreshSession({ refresh_token: t0 })
      report('rules.v2_termination.rotated', isAlreadyUsed(reused.error) && header(seen, 'sb-auth-refresh-token-rotated') === 'true' &&
        header(seen, 'sb-auth-session-id') !== null,
        `${describeError(reused.error)} rotated=${header(seen, 'sb-auth-refresh-token-rotated')}`)
      const head = await client.refreshSession({ refresh_token: t2 })
      report('rules.v2_termination.session_gone', head.error?.code === 'refresh_token_not_found',
        `the owner's t2 afterwards: ${describeError(head.error)}`)
    } finally {
      await emulator('PUT', '/clock', { skew_seconds: 0 })
    }
  })
}

if (SERVER === 'legacy-no-rotation') await legacyWithoutRotation()
else if (SERVER === 'v2') await v2()
else report('environment', false, `JUDGE_SERVER must be legacy-no-rotation or v2, not ${SERVER}`)
finish()
