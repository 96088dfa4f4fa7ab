// What every auth-js judge script shares: the report format, the environment, the control
// surface, and small helpers. See ../README.md.

import { AuthApiError, GoTrueClient, isAuthApiError } from '@supabase/auth-js'

let passed = 0
let failed = 0

export function report(check, ok, detail) {
  if (ok) passed += 1
  else failed += 1
  process.stdout.write(JSON.stringify({ check, ok: !!ok, detail: String(detail) }) + '\n')
}

export function finish() {
  process.stdout.write(`${passed} passed, ${failed} failed\n`)
  process.exit(failed === 0 ? 0 : 1)
}

/** Never more than the first 6 characters of a token. */
export function short(token) {
  if (typeof token !== 'string') return String(token)
  return `${token.slice(0, 6)}...(${token.length})`
}

export function describeError(error) {
  if (!error) return 'no error'
  const parts = [error.name ?? error.constructor?.name ?? 'Error']
  if ('status' in error) parts.push(`status=${error.status}`)
  if ('code' in error) parts.push(`code=${error.code}`)
  parts.push(`message=${JSON.stringify(error.message)}`)
  return parts.join(' ')
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

const REQUIRED_ENV = ['GOTRUE_URL', 'ANON_KEY', 'EMULATOR_URL', 'DEMO_EMAIL', 'DEMO_PASSWORD']
const missing = REQUIRED_ENV.filter((name) => !process.env[name])
if (missing.length) {
  report('environment', false, `missing environment variables: ${missing.join(', ')}`)
  finish()
}

export const GOTRUE_URL = process.env.GOTRUE_URL.replace(/\/+$/, '')
export const ANON_KEY = process.env.ANON_KEY
export const EMULATOR_URL = process.env.EMULATOR_URL.replace(/\/+$/, '')
export const DEMO_EMAIL = process.env.DEMO_EMAIL
export const DEMO_PASSWORD = process.env.DEMO_PASSWORD

/** Plain HTTP JSON call to the emulator's control surface; throws on an unexpected status. */
export async function emulator(method, path, body, expected = [200, 201, 204]) {
  const response = await fetch(`${EMULATOR_URL}${path}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  if (!expected.includes(response.status)) {
    throw new Error(`${method} ${path} answered ${response.status}: ${text.slice(0, 200)}`)
  }
  return text ? JSON.parse(text) : null
}

/** A storage object backed by a Map, one per client. */
export function memoryStorage() {
  const map = new Map()
  return {
    getItem: (key) => (map.has(key) ? map.get(key) : null),
    setItem: (key, value) => {
      map.set(key, value)
    },
    removeItem: (key) => {
      map.delete(key)
    },
  }
}

/**
 * A fresh client with its own storage. With `seen`, every response the client receives is
 * pushed onto that array as `{status, headers}` (the client's own view of the exchange).
 */
export function newClient(seen, options = {}) {
  const settings = {
    url: GOTRUE_URL,
    headers: { apikey: ANON_KEY, Authorization: `Bearer ${ANON_KEY}` },
    autoRefreshToken: false,
    persistSession: true,
    detectSessionInUrl: false,
    storage: memoryStorage(),
    ...options,
  }
  if (seen) {
    settings.fetch = async (input, init) => {
      const response = await fetch(input, init)
      seen.push({ status: response.status, headers: response.headers })
      return response
    }
  }
  return new GoTrueClient(settings)
}

/** Signs in with a password and returns the session; throws with the client's error. */
export async function signIn(client, email = DEMO_EMAIL, password = DEMO_PASSWORD) {
  const { data, error } = await client.signInWithPassword({ email, password })
  if (error) throw new Error(`signInWithPassword failed: ${describeError(error)}`)
  if (!data.session) throw new Error('signInWithPassword returned no session')
  return data.session
}

/** refreshSession, throwing unless the client returned a session. */
export async function refreshOk(client, args) {
  const { data, error } = await client.refreshSession(args)
  if (error) throw new Error(`refreshSession failed: ${describeError(error)}`)
  if (!data.session) throw new Error('refreshSession returned no session')
  return data.session
}

export function isAlreadyUsed(error) {
  return (
    isAuthApiError(error) &&
    error instanceof AuthApiError &&
    error.code === 'refresh_token_already_used' &&
    error.status === 400
  )
}

/** Runs one scenario; an exception becomes a failed check named after it. */
export async function scenario(name, body) {
  try {
    await body()
  } catch (error) {
    report(name, false, `scenario threw: ${error?.stack?.split('\n')[0] ?? error}`)
  }
}

export function randomEmail(tag) {
  return `judge-authjs-${tag}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}@example.com`
}
