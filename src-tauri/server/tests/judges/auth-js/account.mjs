// Judge of account changes as auth-js lives with them: updateUser with a new email (pending as
// new_email, USER_UPDATED), verifyOtp type email_change for both addresses (the first answers
// GoTrue's single-confirmation message, which auth-js turns into a null user and session; the
// second signs in with the new email), GoTrue's refusals (email_exists, same_password),
// reauthenticate with its nonce in the inbox, and resend (too soon, invalid email). Against a
// server with email autoconfirm off, so both confirmations are needed.
//
// Output and environment as scenario.mjs; see ../README.md.

import { isAuthApiError } from '@supabase/auth-js'
import { describeError, DEMO_EMAIL, emulator, finish, newClient, randomEmail, report, scenario, signIn } from './judge.mjs'

async function lastMessage(to) {
  const messages = await emulator('GET', `/inbox?to=${encodeURIComponent(to)}`)
  if (!messages.length) throw new Error(`nothing was sent to ${to}`)
  return messages.at(-1)
}

const PASSWORD = 'judge-password-1'

/** A confirmed user of its own, signed in on a client whose events are recorded. */
async function ownUser(tag) {
  const email = randomEmail(tag)
  await emulator('POST', '/users', { email, password: PASSWORD })
  const client = newClient()
  const events = []
  client.onAuthStateChange((event) => events.push(event))
  await signIn(client, email, PASSWORD)
  return { client, events, email }
}

async function main() {
  await emulator('PUT', '/clock', { skew_seconds: 0 })

  await scenario('account.email_change', async () => {
    const { client, events, email } = await ownUser('change')
    const newEmail = randomEmail('changed')
    const { data, error } = await client.updateUser({ email: newEmail })
    report('account.email_change.pending',
      !error && data.user?.email === email && data.user?.new_email === newEmail &&
        !!data.user?.email_change_sent_at && events.includes('USER_UPDATED'),
      `${describeError(error)} new_email=${data.user?.new_email} events=${events.join(',')}`)
    const toNew = await lastMessage(newEmail)
    const toCurrent = await lastMessage(email)
    const first = await client.verifyOtp({ email: newEmail, token: toNew.code, type: 'email_change' })
    report('account.email_change.first_of_two',
      !first.error && first.data.user === null && first.data.session === null &&
        toNew.kind === 'email_change' && toCurrent.kind === 'email_change',
      `${describeError(first.error)} kinds=${toNew.kind},${toCurrent.kind}`)
    const second = await client.verifyOtp({ token_hash: new URL(toCurrent.link).searchParams.get('token'), type: 'email_change' })
    const { data: stored } = await client.getSession()
    report('account.email_change.applied',
      !second.error && second.data.session?.user?.email === newEmail && !second.data.user?.new_email &&
        stored.session?.user?.email === newEmail,
      `${describeError(second.error)} email=${second.data.session?.user?.email}`)
  })

  await scenario('account.email_exists', async () => {
    const { client } = await ownUser('taken')
    const { error } = await client.updateUser({ email: DEMO_EMAIL })
    report('account.email_exists.422',
      isAuthApiError(error) && error.status === 422 && error.code === 'email_exists',
      describeError(error))
  })

  await scenario('account.same_password', async () => {
    const { client } = await ownUser('same')
    const { error } = await client.updateUser({ password: PASSWORD })
    report('account.same_password.422',
      isAuthApiError(error) && error.status === 422 && error.code === 'same_password',
      describeError(error))
  })

  await scenario('account.reauthenticate', async () => {
    const { client, email } = await ownUser('reauth')
    const { data, error } = await client.reauthenticate()
    const message = await lastMessage(email)
    report('account.reauthenticate.nonce_sent',
      !error && data.user === null && data.session === null &&
        message.kind === 'reauthentication' && /^\d{6}$/.test(message.code),
      `${describeError(error)} kind=${message.kind}`)
    const changed = await client.updateUser({ password: 'judge-password-2', nonce: message.code })
    report('account.reauthenticate.password_changed', !changed.error, describeError(changed.error))
  })

  await scenario('account.resend', async () => {
    const { client, email } = await ownUser('resend')
    await client.updateUser({ email: randomEmail('resend-new') })
    const soon = await newClient().resend({ type: 'email_change', email })
    report('account.resend.too_soon',
      isAuthApiError(soon.error) && soon.error.status === 429 && soon.error.code === 'over_email_send_rate_limit',
      describeError(soon.error))
    const invalid = await newClient().resend({ type: 'signup', email: 'not-an-email' })
    report('account.resend.invalid_email',
      isAuthApiError(invalid.error) && invalid.error.status === 400 && invalid.error.code === 'validation_failed',
      describeError(invalid.error))
  })

  // GoTrue's User.UpdatePassword: a new password revokes the outstanding tokens (here the
  // pending email change's codes); the pending address itself stays.
  await scenario('account.password_change', async () => {
    const { client } = await ownUser('revoke')
    const newEmail = randomEmail('revoke-new')
    await client.updateUser({ email: newEmail })
    const toNew = await lastMessage(newEmail)
    const changed = await client.updateUser({ password: 'judge-password-3' })
    const stale = await client.verifyOtp({ email: newEmail, token: toNew.code, type: 'email_change' })
    report('account.password_change.revokes_tokens',
      !changed.error && changed.data.user?.new_email === newEmail && !changed.data.user?.email_change_sent_at &&
        isAuthApiError(stale.error) && stale.error.status === 403 && stale.error.code === 'otp_expired',
      `${describeError(changed.error)} stale=${describeError(stale.error)}`)
  })

  await scenario('account.invariants', async () => {
    const { violations } = await emulator('GET', '/invariants')
    report('account.invariants', violations.length === 0, JSON.stringify(violations))
  })
}

await main()
finish()
