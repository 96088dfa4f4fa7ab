// Judge of one-time codes and emailed links as auth-js lives with them: signInWithOtp,
// verifyOtp with the code (read from the server's inbox, GET /_emulator/inbox) and with a
// link's token_hash, resetPasswordForEmail, and GoTrue's refusals (wrong code, resend too
// soon, shouldCreateUser: false). Against a server with its defaults.
//
// Output and environment as scenario.mjs; see ../README.md.

import { isAuthApiError } from '@supabase/auth-js'
import { describeError, emulator, finish, newClient, randomEmail, report, scenario } from './judge.mjs'

/** The newest message the server sent to `to`. */
async function lastMessage(to) {
  const messages = await emulator('GET', `/inbox?to=${encodeURIComponent(to)}`)
  if (!messages.length) throw new Error(`nothing was sent to ${to}`)
  return messages.at(-1)
}

function amrMethod(session) {
  const payload = JSON.parse(Buffer.from(session.access_token.split('.')[1], 'base64url').toString())
  return payload.amr?.[0]?.method
}

function tokenOfLink(link) {
  return new URL(link).searchParams.get('token')
}

/** A client whose auth events are recorded. */
function listeningClient() {
  const client = newClient()
  const events = []
  client.onAuthStateChange((event) => events.push(event))
  return { client, events }
}

const randomPhone = () => `1555${Math.floor(1_000_000 + Math.random() * 8_999_999)}`

async function main() {
  await emulator('PUT', '/clock', { skew_seconds: 0 })
  const email = randomEmail('otp')

  await scenario('otp.email_code', async () => {
    const { client, events } = listeningClient()
    const sent = await client.signInWithOtp({ email })
    report('otp.email_code.sent', !sent.error && sent.data.session === null, describeError(sent.error))
    const message = await lastMessage(email)
    report('otp.email_code.inbox', /^\d{6}$/.test(message.code) && message.kind === 'magiclink',
      `kind=${message.kind} code length=${message.code?.length}`)
    const { data, error } = await client.verifyOtp({ email, token: message.code, type: 'email' })
    const { data: stored } = await client.getSession()
    report('otp.email_code.signed_in',
      !error && data.session?.user?.email === email && amrMethod(data.session) === 'otp' &&
        stored.session?.access_token === data.session.access_token && events.includes('SIGNED_IN'),
      `${describeError(error)} amr=${data.session && amrMethod(data.session)} events=${events.join(',')}`)
  })

  await scenario('otp.resend_too_soon', async () => {
    const { error } = await newClient().signInWithOtp({ email })
    report('otp.resend_too_soon.429',
      isAuthApiError(error) && error.status === 429 && error.code === 'over_email_send_rate_limit' &&
        /^For security purposes, you can only request this after \d+ seconds\.$/.test(error.message),
      describeError(error))
  })

  await scenario('otp.token_hash', async () => {
    const other = randomEmail('link')
    const { client, events } = listeningClient()
    await client.signInWithOtp({ email: other })
    const message = await lastMessage(other)
    const { data, error } = await client.verifyOtp({ token_hash: tokenOfLink(message.link), type: 'magiclink' })
    report('otp.token_hash.signed_in',
      !error && data.session?.user?.email === other && events.includes('SIGNED_IN'),
      `${describeError(error)} events=${events.join(',')}`)
    const again = await newClient().verifyOtp({ token_hash: tokenOfLink(message.link), type: 'magiclink' })
    report('otp.token_hash.single_use',
      isAuthApiError(again.error) && again.error.status === 403 && again.error.code === 'otp_expired',
      describeError(again.error))
  })

  await scenario('otp.wrong_code', async () => {
    const target = randomEmail('wrong')
    const { client } = listeningClient()
    await client.signInWithOtp({ email: target })
    const { code } = await lastMessage(target)
    const wrong = code === '000000' ? '000001' : '000000'
    const { data, error } = await client.verifyOtp({ email: target, token: wrong, type: 'email' })
    const { data: stored } = await client.getSession()
    report('otp.wrong_code.otp_expired',
      isAuthApiError(error) && error.status === 403 && error.code === 'otp_expired' &&
        error.message === 'Token has expired or is invalid' && data.session === null && stored.session === null,
      describeError(error))
  })

  await scenario('otp.should_create_user_false', async () => {
    const stranger = randomEmail('stranger')
    const { error } = await newClient().signInWithOtp({ email: stranger, options: { shouldCreateUser: false } })
    report('otp.should_create_user_false.otp_disabled',
      isAuthApiError(error) && error.status === 422 && error.code === 'otp_disabled',
      describeError(error))
  })

  await scenario('otp.phone', async () => {
    const phone = randomPhone()
    const { client } = listeningClient()
    const sent = await client.signInWithOtp({ phone: `+${phone}` })
    report('otp.phone.sent', !sent.error && sent.data.messageId === undefined, describeError(sent.error))
    const message = await lastMessage(phone)
    const { data, error } = await client.verifyOtp({ phone: `+${phone}`, token: message.code, type: 'sms' })
    report('otp.phone.signed_in',
      !error && data.session?.user?.phone === phone && amrMethod(data.session) === 'otp',
      `${describeError(error)} phone=${data.session?.user?.phone}`)
  })

  await scenario('otp.recovery', async () => {
    const target = randomEmail('reset')
    await emulator('POST', '/users', { email: target, password: 'judge-password-1' })
    const { client, events } = listeningClient()
    const asked = await client.resetPasswordForEmail(target)
    const message = await lastMessage(target)
    const { data, error } = await client.verifyOtp({ email: target, token: message.code, type: 'recovery' })
    report('otp.recovery.password_recovery',
      !asked.error && message.kind === 'recovery' && !error && !!data.session &&
        events.includes('PASSWORD_RECOVERY') && !events.includes('SIGNED_IN'),
      `${describeError(asked.error)} ${describeError(error)} events=${events.join(',')}`)
  })

  await scenario('otp.invariants', async () => {
    const { violations } = await emulator('GET', '/invariants')
    report('otp.invariants', violations.length === 0, JSON.stringify(violations))
  })
}

await main()
finish()
