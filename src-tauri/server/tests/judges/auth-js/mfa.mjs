// Judge of MFA (TOTP) as auth-js lives with it: enroll, challenge, verify with a code computed
// here (node:crypto, RFC 6238), MFA_CHALLENGE_VERIFIED, the assurance level before and after,
// refreshes at aal2, the errors auth-js hands back (wrong code, expired challenge,
// insufficient_aal) and unenroll. Output and environment as scenario.mjs; see ../README.md.

import { createHmac } from 'node:crypto'
import { isAuthApiError } from '@supabase/auth-js'
import { describeError, emulator, finish, newClient, randomEmail, refreshOk, report, scenario, short, signIn } from './judge.mjs'

// ---- RFC 6238: SHA-1, 30 s steps -------------------------------------------------------------

function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = 0
  let value = 0
  const out = []
  for (const c of text.replace(/=+$/, '').toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(c)
    bits += 5
    if (bits >= 8) {
      bits -= 8
      out.push((value >>> bits) & 0xff)
    }
  }
  return Buffer.from(out)
}

function totp(key, unixSecs, digits = 6) {
  const counter = Buffer.alloc(8)
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSecs / 30)))
  const mac = createHmac('sha1', key).update(counter).digest()
  const at = mac[19] & 15
  const value = ((mac[at] & 0x7f) << 24) | (mac[at + 1] << 16) | (mac[at + 2] << 8) | mac[at + 3]
  return String(value % 10 ** digits).padStart(digits, '0')
}

/** The server's now, in Unix seconds (its clock can be moved through the control surface). */
async function serverNow() {
  const clock = await emulator('GET', '/clock')
  return Math.floor(Date.parse(clock.now) / 1000)
}

async function codeFor(secret) {
  return totp(base32Decode(secret), await serverNow())
}

/** A code for none of the steps near the server's now. */
async function wrongCodeFor(secret) {
  const now = await serverNow()
  const near = [-2, -1, 0, 1, 2].map((step) => totp(base32Decode(secret), now + 30 * step))
  for (let n = 0; ; n += 1) {
    const candidate = String((n * 7919) % 1000000).padStart(6, '0')
    if (!near.includes(candidate)) return candidate
  }
}

function claimsOf(accessToken) {
  return JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString())
}

function isApiError(error, status, code) {
  return isAuthApiError(error) && error.status === status && error.code === code
}

async function ownUser(tag) {
  const email = randomEmail(tag)
  const password = 'judge-password-1'
  await emulator('POST', '/users', { email, password })
  return { email, password }
}

const levels = (data) => `${data?.currentLevel}/${data?.nextLevel}`
const methods = (data) => (data?.currentAuthenticationMethods ?? []).map((entry) => entry.method)

// --------------------------------------------------------------------------------------------

async function main() {
  await emulator('PUT', '/clock', { skew_seconds: 0 })
  await emulator('DELETE', '/faults')

  report(
    'mfa.totp_helper_rfc6238',
    totp(Buffer.from('12345678901234567890'), 59, 8) === '94287082' &&
      totp(Buffer.from('12345678901234567890'), 1111111109, 8) === '07081804',
    'RFC 6238 appendix B, SHA-1'
  )

  await scenario('mfa.totp', async () => {
    const who = await ownUser('mfa')
    const client = newClient()
    const events = []
    client.onAuthStateChange((event) => events.push(event))
    await signIn(client, who.email, who.password)

    const before = await client.mfa.getAuthenticatorAssuranceLevel()
    report('mfa.aal_before', !before.error && levels(before.data) === 'aal1/aal1' && methods(before.data).join() === 'password',
      `${levels(before.data)} methods=${methods(before.data)} ${describeError(before.error)}`)

    const enrolled = await client.mfa.enroll({ factorType: 'totp', friendlyName: 'judge' })
    const factorId = enrolled.data?.id
    const secret = enrolled.data?.totp?.secret
    report('mfa.enroll',
      !enrolled.error && enrolled.data.type === 'totp' && enrolled.data.friendly_name === 'judge' &&
        typeof secret === 'string' && secret.length === 32 &&
        enrolled.data.totp.uri.startsWith('otpauth://totp/') && enrolled.data.totp.uri.includes(`secret=${secret}`) &&
        enrolled.data.totp.qr_code.startsWith('data:image/svg+xml;utf-8,<?xml'),
      `${describeError(enrolled.error)} type=${enrolled.data?.type} secret=${short(secret)}`)

    const listed = await client.mfa.listFactors()
    report('mfa.list_factors_unverified',
      !listed.error && listed.data.all.length === 1 && listed.data.all[0].status === 'unverified' && listed.data.totp.length === 0,
      `all=${listed.data?.all?.length} totp=${listed.data?.totp?.length} ${describeError(listed.error)}`)

    const challenged = await client.mfa.challenge({ factorId })
    const now = await serverNow()
    report('mfa.challenge',
      !challenged.error && challenged.data.type === 'totp' && challenged.data.expires_at >= now + 299 && challenged.data.expires_at <= now + 301,
      `${describeError(challenged.error)} expires in ${challenged.data?.expires_at - now} s`)

    const wrong = await client.mfa.verify({ factorId, challengeId: challenged.data.id, code: await wrongCodeFor(secret) })
    report('mfa.verify.wrong_code', isApiError(wrong.error, 422, 'mfa_verification_failed') && !events.includes('MFA_CHALLENGE_VERIFIED'),
      describeError(wrong.error))

    const sessionBefore = (await client.getSession()).data.session
    const verified = await client.mfa.verify({ factorId, challengeId: challenged.data.id, code: await codeFor(secret) })
    const session = (await client.getSession()).data.session
    report('mfa.verify.session',
      !verified.error && claimsOf(session.access_token).aal === 'aal2' &&
        session.refresh_token === verified.data.refresh_token && session.refresh_token !== sessionBefore.refresh_token &&
        claimsOf(session.access_token).session_id === claimsOf(sessionBefore.access_token).session_id,
      `${describeError(verified.error)} aal=${session && claimsOf(session.access_token).aal} refresh ${short(sessionBefore.refresh_token)} -> ${short(session?.refresh_token)}`)
    report('mfa.verify.event', events.at(-1) === 'MFA_CHALLENGE_VERIFIED', `events=${events.join(',')}`)

    const after = await client.mfa.getAuthenticatorAssuranceLevel()
    report('mfa.aal_after', !after.error && levels(after.data) === 'aal2/aal2' && methods(after.data).includes('totp') && methods(after.data).includes('password'),
      `${levels(after.data)} methods=${methods(after.data)}`)

    const refreshed = await refreshOk(client)
    report('mfa.refresh_keeps_aal2', claimsOf(refreshed.access_token).aal === 'aal2' && refreshed.user.factors?.[0]?.status === 'verified',
      `aal=${claimsOf(refreshed.access_token).aal} amr=${claimsOf(refreshed.access_token).amr.map((e) => e.method)}`)

    // Another sign-in of the user is aal1, with a verified factor: it needs a step-up.
    const second = newClient()
    await signIn(second, who.email, who.password)
    const stepUp = await second.mfa.getAuthenticatorAssuranceLevel()
    report('mfa.second_sign_in_needs_step_up', levels(stepUp.data) === 'aal1/aal2', levels(stepUp.data))
    const refused = await second.mfa.unenroll({ factorId })
    report('mfa.unenroll_at_aal1_refused', isApiError(refused.error, 422, 'insufficient_aal'), describeError(refused.error))

    const stepped = await second.mfa.challengeAndVerify({ factorId, code: await codeFor(secret) })
    const steppedLevel = await second.mfa.getAuthenticatorAssuranceLevel()
    report('mfa.challenge_and_verify', !stepped.error && levels(steppedLevel.data) === 'aal2/aal2',
      `${describeError(stepped.error)} ${levels(steppedLevel.data)}`)

    const unenrolled = await second.mfa.unenroll({ factorId })
    const refreshedAfter = await refreshOk(second)
    const factorsAfter = await second.mfa.listFactors()
    report('mfa.unenroll',
      !unenrolled.error && unenrolled.data.id === factorId && claimsOf(refreshedAfter.access_token).aal === 'aal1' &&
        factorsAfter.data.all.length === 0,
      `${describeError(unenrolled.error)} aal after refresh=${claimsOf(refreshedAfter.access_token).aal} factors=${factorsAfter.data?.all?.length}`)
  })

  await scenario('mfa.expired_challenge', async () => {
    const who = await ownUser('mfa-expired')
    const client = newClient()
    await signIn(client, who.email, who.password)
    const enrolled = await client.mfa.enroll({ factorType: 'totp' })
    const challenged = await client.mfa.challenge({ factorId: enrolled.data.id })
    try {
      await emulator('PUT', '/clock', { skew_seconds: 301 })
      const late = await client.mfa.verify({
        factorId: enrolled.data.id,
        challengeId: challenged.data.id,
        code: await codeFor(enrolled.data.totp.secret),
      })
      report('mfa.expired_challenge', isApiError(late.error, 422, 'mfa_challenge_expired'), describeError(late.error))
    } finally {
      await emulator('PUT', '/clock', { skew_seconds: 0 })
    }
  })

  await scenario('mfa.invariants', async () => {
    const { violations } = await emulator('GET', '/invariants')
    report('mfa.invariants', violations.length === 0, JSON.stringify(violations))
  })
}

main().then(finish, (error) => {
  report('mfa', false, `judge crashed: ${error?.stack?.split('\n')[0] ?? error}`)
  finish()
})
