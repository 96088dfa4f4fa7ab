// The official JS client beside Node's own raw HTTP, against the server session-bench
// started: @supabase/auth-js `refreshSession()` and a plain `fetch` of the same refresh
// grant, interleaved round by round. Prints one JSON line: p50/p99 of each, in ms.
// Environment: GOTRUE_URL, ANON_KEY, DEMO_EMAIL, DEMO_PASSWORD, ROUNDS, AUTH_JS_NODE_MODULES
// (the judges' node_modules, where @supabase/auth-js is installed).

import { createRequire } from 'node:module'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'

const require = createRequire(join(process.env.AUTH_JS_NODE_MODULES, 'bench.js'))
const { GoTrueClient } = require('@supabase/auth-js')

const url = process.env.GOTRUE_URL
const key = process.env.ANON_KEY
const rounds = Number(process.env.ROUNDS ?? 1000)
const headers = { apikey: key, Authorization: `Bearer ${key}` }

function memoryStorage() {
  const map = new Map()
  return {
    getItem: (k) => (map.has(k) ? map.get(k) : null),
    setItem: (k, v) => void map.set(k, v),
    removeItem: (k) => void map.delete(k),
  }
}

const client = new GoTrueClient({
  url,
  headers,
  autoRefreshToken: false,
  persistSession: true,
  detectSessionInUrl: false,
  storage: memoryStorage(),
})
const signIn = await client.signInWithPassword({
  email: process.env.DEMO_EMAIL,
  password: process.env.DEMO_PASSWORD,
})
if (signIn.error) throw signIn.error
// The app listens to its client's events: so does the benchmark.
client.onAuthStateChange(() => {})

async function rawSignIn() {
  const response = await fetch(`${url}/token?grant_type=password`, {
    method: 'POST',
    headers: { ...headers, 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: process.env.DEMO_EMAIL, password: process.env.DEMO_PASSWORD }),
  })
  return (await response.json()).refresh_token
}

let token = await rawSignIn()
async function raw() {
  const response = await fetch(`${url}/token?grant_type=refresh_token`, {
    method: 'POST',
    headers: { ...headers, 'X-Supabase-Api-Version': '2024-01-01', 'Content-Type': 'application/json;charset=UTF-8' },
    body: JSON.stringify({ refresh_token: token }),
  })
  const body = await response.json()
  if (!body.refresh_token) throw new Error(`raw refresh answered ${response.status}`)
  token = body.refresh_token
}

async function official() {
  const { data, error } = await client.refreshSession()
  if (error || !data.session) throw error ?? new Error('refreshSession returned no session')
}

async function timed(samples, work) {
  const started = performance.now()
  await work()
  samples.push(performance.now() - started)
}

for (let i = 0; i < 100; i++) {
  await raw()
  await official()
}
const rawSamples = []
const clientSamples = []
for (let i = 0; i < rounds; i++) {
  if (i % 2 === 0) {
    await timed(rawSamples, raw)
    await timed(clientSamples, official)
  } else {
    await timed(clientSamples, official)
    await timed(rawSamples, raw)
  }
}
const pct = (samples, p) => {
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.round((sorted.length - 1) * p)]
}
console.log(
  JSON.stringify({
    rounds,
    raw_p50: pct(rawSamples, 0.5),
    raw_p99: pct(rawSamples, 0.99),
    client_p50: pct(clientSamples, 0.5),
    client_p99: pct(clientSamples, 0.99),
  }),
)
process.exit(0)
