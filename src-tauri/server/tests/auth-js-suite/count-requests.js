// Ours: counts the HTTP requests each test sends to the server under test, so a pass can be
// told apart from a test that never reached the server. Loaded by jest's setupFilesAfterEnv.
const fs = require('fs')
const target = process.env.SUITE_SERVER_ORIGIN
const out = process.env.SUITE_REQUEST_LOG
let count = 0
let statuses = []
const original = globalThis.fetch
globalThis.fetch = async (input, init) => {
  const url = typeof input === 'string' ? input : input && input.url ? input.url : String(input)
  if (!url.startsWith(target)) return original(input, init)
  count += 1
  const response = await original(input, init)
  // A 404 whose error_code is not_found is a route the server does not have; GoTrue's own
  // 404 answers (saml_provider_disabled, user_not_found…) carry other codes.
  let missing = false
  if (response.status === 404) {
    const body = await response.clone().json().catch(() => null)
    missing = !body || (body.error_code ?? body.code) === 'not_found'
  }
  statuses.push(missing ? 'missing' : response.status)
  return response
}
beforeEach(() => {
  count = 0
  statuses = []
})
afterEach(() => {
  const state = expect.getState()
  fs.appendFileSync(
    out,
    JSON.stringify({ file: state.testPath, test: state.currentTestName, requests: count, statuses }) + '\n'
  )
})
