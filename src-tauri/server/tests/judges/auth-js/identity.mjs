// Judge of linked identities and of the features the server leaves off, as auth-js sees them.
// On the server started with manual linking (JUDGE_SERVER=manual_linking): `getUserIdentities`,
// `linkIdentity({provider, options: {skipBrowserRedirect: true}})` with `flowType: 'pkce'`
// through the fake provider's form and `exchangeCodeForSession`, then `unlinkIdentity`. On
// the defaults: GoTrue's answers with manual linking, SAML and Web3 off, and an ID token no
// provider key can verify.
//
// Output and environment as scenario.mjs; see ../README.md.

import { describeError, finish, newClient, report, scenario, signIn } from './judge.mjs'

const REDIRECT_TO = 'http://127.0.0.1:43210/callback/judge-state'

async function hop(url, init = {}) {
  const response = await fetch(url, { ...init, redirect: 'manual' })
  const location = response.headers.get('location')
  const text = await response.text()
  return { status: response.status, location: location && new URL(location, url).href, text }
}

/** From the provider's page (linkIdentity's URL) to where GoTrue sends the browser. */
async function throughProvider(providerHref) {
  const providerUrl = new URL(providerHref)
  const form = new URLSearchParams({
    state: providerUrl.searchParams.get('state'),
    redirect_uri: providerUrl.searchParams.get('redirect_uri'),
    decision: 'allow',
    email: 'judge-linked@example.com',
    name: 'Judge Linked',
    sub: '515151',
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

const providers = (identities) => (identities ?? []).map((identity) => identity.provider).join(',')

async function linking() {
  await scenario('link_identity', async () => {
    const client = newClient(undefined, { flowType: 'pkce' })
    const session = await signIn(client)
    const before = await client.getUserIdentities()
    report('link_identity.before', !before.error && providers(before.data?.identities) === 'email',
      `error=${describeError(before.error)} providers=${providers(before.data?.identities)}`)

    const { data, error } = await client.linkIdentity({
      provider: 'github',
      options: { redirectTo: REDIRECT_TO, skipBrowserRedirect: true },
    })
    const url = data?.url ? new URL(data.url) : null
    report('link_identity.url', !error && url?.pathname.endsWith('/_provider/github/authorize') && !!url.searchParams.get('state'),
      `error=${describeError(error)} url=${url?.pathname}`)

    const back = await throughProvider(data.url)
    const code = back.searchParams.get('code')
    const exchanged = await client.exchangeCodeForSession(code)
    report('link_identity.session', !exchanged.error && exchanged.data?.session?.user?.id === session.user.id,
      `error=${describeError(exchanged.error)} user=${exchanged.data?.session?.user?.id} (was ${session.user.id})`)

    const after = await client.getUserIdentities()
    report('link_identity.after', providers(after.data?.identities) === 'email,github',
      `providers=${providers(after.data?.identities)}`)

    const github = after.data.identities.find((identity) => identity.provider === 'github')
    const unlinked = await client.unlinkIdentity(github)
    const left = await client.getUserIdentities()
    report('unlink_identity.removed', !unlinked.error && providers(left.data?.identities) === 'email',
      `error=${describeError(unlinked.error)} providers=${providers(left.data?.identities)}`)

    const last = await client.unlinkIdentity(left.data.identities[0])
    report('unlink_identity.last_refused', last.error?.status === 422 && last.error?.code === 'single_identity_not_deletable',
      describeError(last.error))
  })
}

async function defaults() {
  await scenario('manual_linking_disabled', async () => {
    const client = newClient()
    await signIn(client)
    const linked = await client.linkIdentity({ provider: 'github', options: { skipBrowserRedirect: true } })
    const { data } = await client.getUserIdentities()
    const unlinked = await client.unlinkIdentity(data.identities[0])
    report('manual_linking_disabled.refused',
      [linked.error, unlinked.error].every((e) => e?.status === 404 && e?.code === 'manual_linking_disabled' &&
        e?.message === 'Manual linking is disabled'),
      `link: ${describeError(linked.error)}; unlink: ${describeError(unlinked.error)}`)
  })

  await scenario('disabled_features', async () => {
    const client = newClient(undefined, { flowType: 'pkce' })
    const sso = await client.signInWithSSO({ domain: 'example.com' })
    report('saml_disabled.refused', sso.error?.status === 404 && sso.error?.code === 'saml_provider_disabled' &&
      sso.error?.message === 'SAML 2.0 is disabled', describeError(sso.error))

    const web3 = await client.signInWithWeb3({ chain: 'solana', message: 'judge', signature: new Uint8Array([1, 2, 3]) })
    report('web3_disabled.refused', web3.error?.status === 422 && web3.error?.code === 'web3_provider_disabled' &&
      web3.error?.message === 'Web3 provider is disabled', describeError(web3.error))

    const idToken = await client.signInWithIdToken({ provider: 'google', token: 'not-a-google-token' })
    report('id_token.unverifiable', idToken.error?.status === 400 && idToken.error?.message === 'Bad ID token' &&
      !idToken.data?.session, describeError(idToken.error))
  })
}

async function main() {
  if (process.env.JUDGE_SERVER === 'manual_linking') {
    await linking()
  } else {
    await defaults()
  }
  finish()
}

main().catch((error) => {
  report('identity', false, `judge crashed: ${error?.stack?.split('\n')[0] ?? error}`)
  finish()
})
