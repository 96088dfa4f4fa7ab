// Judge of the OAuth sign-in with PKCE as auth-js does it:
// `signInWithOAuth({provider, options: {redirectTo, skipBrowserRedirect: true}})` with
// `flowType: 'pkce'` gives the URL; Node's fetch (redirects not followed) plays the browser
// through GoTrue's /authorize, the server's fake provider form and GoTrue's /callback; then
// `exchangeCodeForSession(code)` must give the client a session.
//
// Output and environment as scenario.mjs; see ../README.md.

import { describeError, finish, GOTRUE_URL, newClient, report, scenario, short } from './judge.mjs'

// Where the app's loopback listener would wait; nothing listens there, the judge only reads
// the URL GoTrue redirects to.
const REDIRECT_TO = 'http://127.0.0.1:43210/callback/judge-state'

/** One browser hop: the answer, with `location` resolved against the request. */
async function hop(url, init = {}) {
  const response = await fetch(url, { ...init, redirect: 'manual' })
  const location = response.headers.get('location')
  const text = await response.text()
  return { status: response.status, location: location && new URL(location, url).href, text }
}

/** From the authorize URL, through the provider's form, to where GoTrue sends the browser. */
async function throughProvider(authorizeUrl, decision) {
  const toProvider = await hop(authorizeUrl)
  if (toProvider.status !== 302) throw new Error(`/authorize answered ${toProvider.status}: ${toProvider.text.slice(0, 200)}`)
  const providerUrl = new URL(toProvider.location)
  const page = await hop(providerUrl.href)
  if (page.status !== 200 || !page.text.includes('<form')) throw new Error(`the provider page answered ${page.status}`)
  const form = new URLSearchParams({
    state: providerUrl.searchParams.get('state'),
    redirect_uri: providerUrl.searchParams.get('redirect_uri'),
    decision,
    email: 'judge-octo@example.com',
    name: 'Judge Octo',
    sub: '424242',
    email_verified: 'true',
  })
  const toCallback = await hop(`${providerUrl.origin}${providerUrl.pathname}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  })
  if (toCallback.status !== 302) throw new Error(`the provider answered ${toCallback.status}`)
  const back = await hop(toCallback.location)
  if (back.status !== 302) throw new Error(`/callback answered ${back.status}: ${back.text.slice(0, 200)}`)
  return new URL(back.location)
}

function amr(accessToken) {
  const payload = JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString())
  return (payload.amr ?? []).map((entry) => entry.method)
}

async function main() {
  await scenario('oauth_pkce', async () => {
    const client = newClient(undefined, { flowType: 'pkce' })
    const events = []
    client.onAuthStateChange((event) => events.push(event))
    const { data, error } = await client.signInWithOAuth({
      provider: 'github',
      options: { redirectTo: REDIRECT_TO, skipBrowserRedirect: true },
    })
    const url = data?.url ? new URL(data.url) : null
    report('oauth_pkce.url', !error && url && `${url.origin}${url.pathname}` === `${GOTRUE_URL}/authorize` &&
      url.searchParams.get('provider') === 'github' && url.searchParams.get('redirect_to') === REDIRECT_TO &&
      url.searchParams.get('code_challenge_method') === 's256' && url.searchParams.get('code_challenge')?.length === 43,
      `error=${describeError(error)} url=${url?.pathname}?provider=${url?.searchParams.get('provider')}&code_challenge_method=${url?.searchParams.get('code_challenge_method')}`)

    const back = await throughProvider(data.url, 'allow')
    const code = back.searchParams.get('code')
    report('oauth_pkce.redirect', `${back.origin}${back.pathname}` === REDIRECT_TO && !!code && !back.hash,
      `back to ${back.origin}${back.pathname} with code=${short(code)}`)

    const exchanged = await client.exchangeCodeForSession(code)
    const session = exchanged.data?.session
    report('oauth_pkce.session', !exchanged.error && !!session && session.user?.email === 'judge-octo@example.com' &&
      session.user?.app_metadata?.provider === 'github' && amr(session.access_token).includes('oauth') &&
      typeof session.provider_token === 'string',
      `error=${describeError(exchanged.error)} email=${session?.user?.email} amr=${session ? amr(session.access_token) : '-'} provider_token=${short(session?.provider_token)}`)
    const stored = await client.getSession()
    report('oauth_pkce.stored', stored.data.session?.refresh_token === session?.refresh_token,
      `getSession: ${short(stored.data.session?.refresh_token)}`)
    report('oauth_pkce.signed_in_event', events.includes('SIGNED_IN'), `events=${events.join(',')}`)

    // The same code again, from a client that still has a verifier: GoTrue has used it up.
    const other = newClient(undefined, { flowType: 'pkce' })
    await other.signInWithOAuth({ provider: 'github', options: { redirectTo: REDIRECT_TO, skipBrowserRedirect: true } })
    const replay = await other.exchangeCodeForSession(code)
    report('oauth_pkce.code_used_once', replay.error?.status === 404 && replay.error?.code === 'flow_state_not_found',
      describeError(replay.error))
  })

  await scenario('oauth_denied', async () => {
    const client = newClient(undefined, { flowType: 'pkce' })
    const { data } = await client.signInWithOAuth({
      provider: 'github',
      options: { redirectTo: REDIRECT_TO, skipBrowserRedirect: true },
    })
    const back = await throughProvider(data.url, 'deny')
    const fragment = new URLSearchParams(back.hash.slice(1))
    report('oauth_denied.error', back.searchParams.get('error') === 'access_denied' && !back.searchParams.get('code') &&
      fragment.get('error') === 'access_denied' && fragment.has('sb'),
      `error=${back.searchParams.get('error')} description=${back.searchParams.get('error_description')}`)
  })

  await scenario('oauth_disabled_provider', async () => {
    const client = newClient(undefined, { flowType: 'pkce' })
    const { data } = await client.signInWithOAuth({ provider: 'gitlab', options: { skipBrowserRedirect: true } })
    const answer = await hop(data.url)
    const body = JSON.parse(answer.text || '{}')
    report('oauth_disabled_provider.refused', answer.status === 400 &&
      body.msg === 'Unsupported provider: provider is not enabled',
      `${answer.status} ${answer.text.slice(0, 120)}`)
  })

  finish()
}

main().catch((error) => {
  report('oauth', false, `judge crashed: ${error?.stack?.split('\n')[0] ?? error}`)
  finish()
})
