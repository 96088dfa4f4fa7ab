// Judge of WebAuthn MFA factors as auth-js lives with them: enroll, a "create" challenge whose
// options auth-js decodes, a registration verified through client.mfa.verify (which encodes the
// credential), MFA_CHALLENGE_VERIFIED and aal2, then a step-up from a second sign-in with a
// "request" challenge and an assertion, a refused assertion (a 500, as GoTrue answers it) and
// unenroll. The authenticator is this judge's own (node:crypto, P-256, "none" attestation). The
// server runs with WebAuthn on (rp id localhost, origin http://localhost:5173). Output and
// environment as scenario.mjs; see ../README.md.

import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto'
import { isAuthRetryableFetchError } from '@supabase/auth-js'
import { describeError, emulator, finish, newClient, randomEmail, report, scenario, signIn } from './judge.mjs'

const RP_ID = 'localhost'
const ORIGIN = 'http://localhost:5173'
const webauthn = { rpId: RP_ID, rpOrigins: [ORIGIN] }

// ---- CBOR (integers, byte and text strings, maps) and the authenticator -------------------------

function head(major, n) {
  if (n < 24) return Buffer.from([(major << 5) | n])
  if (n < 0x100) return Buffer.from([(major << 5) | 24, n])
  const out = Buffer.alloc(3)
  out[0] = (major << 5) | 25
  out.writeUInt16BE(n, 1)
  return out
}

function cbor(value) {
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -value - 1)
  if (typeof value === 'string') return Buffer.concat([head(3, Buffer.byteLength(value)), Buffer.from(value)])
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), Buffer.from(value)])
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value)
  return Buffer.concat([head(5, entries.length), ...entries.flatMap(([k, v]) => [cbor(k), cbor(v)])])
}

const sha256 = (data) => createHash('sha256').update(data).digest()
const b64url = (bytes) => Buffer.from(bytes).toString('base64url')

class Authenticator {
  constructor() {
    this.credentialId = randomBytes(32)
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    this.privateKey = privateKey
    const jwk = publicKey.export({ format: 'jwk' })
    this.coseKey = cbor(new Map([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x, 'base64url')], [-3, Buffer.from(jwk.y, 'base64url')]]))
    this.count = 0
  }

  clientData(type, challenge, origin) {
    return Buffer.from(JSON.stringify({ type, challenge: b64url(new Uint8Array(challenge)), origin, crossOrigin: false }))
  }

  /** A PublicKeyCredential as a browser hands it to auth-js (toJSON is what auth-js sends). */
  credential(json) {
    return {
      id: json.id,
      rawId: this.credentialId.buffer,
      type: 'public-key',
      authenticatorAttachment: 'cross-platform',
      getClientExtensionResults: () => ({}),
      toJSON: () => json,
    }
  }

  /** navigator.credentials.create() for the publicKey options auth-js decoded. */
  create(publicKey) {
    const length = Buffer.alloc(2)
    length.writeUInt16BE(this.credentialId.length)
    const authData = Buffer.concat([sha256(RP_ID), Buffer.from([0x45]), Buffer.alloc(4), Buffer.alloc(16), length, this.credentialId, this.coseKey])
    const clientData = this.clientData('webauthn.create', publicKey.challenge, ORIGIN)
    return this.credential({
      id: b64url(this.credentialId),
      rawId: b64url(this.credentialId),
      type: 'public-key',
      response: {
        attestationObject: b64url(cbor({ fmt: 'none', attStmt: {}, authData })),
        clientDataJSON: b64url(clientData),
        transports: ['usb'],
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'cross-platform',
    })
  }

  /** navigator.credentials.get() for the publicKey options auth-js decoded. */
  get(publicKey, origin = ORIGIN) {
    this.count += 1
    const counter = Buffer.alloc(4)
    counter.writeUInt32BE(this.count)
    const authData = Buffer.concat([sha256(RP_ID), Buffer.from([0x05]), counter])
    const clientData = this.clientData('webauthn.get', publicKey.challenge, origin)
    const signature = sign('sha256', Buffer.concat([authData, sha256(clientData)]), this.privateKey)
    return this.credential({
      id: b64url(this.credentialId),
      rawId: b64url(this.credentialId),
      type: 'public-key',
      response: { authenticatorData: b64url(authData), clientDataJSON: b64url(clientData), signature: b64url(signature) },
      clientExtensionResults: {},
      authenticatorAttachment: 'cross-platform',
    })
  }
}

// --------------------------------------------------------------------------------------------------

function claimsOf(accessToken) {
  return JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString())
}

const levels = (data) => `${data?.currentLevel}/${data?.nextLevel}`
const methods = (data) => (data?.currentAuthenticationMethods ?? []).map((entry) => entry.method)

async function main() {
  await emulator('PUT', '/clock', { skew_seconds: 0 })

  await scenario('webauthn', async () => {
    const email = randomEmail('webauthn')
    const password = 'judge-password-1'
    await emulator('POST', '/users', { email, password })
    const client = newClient()
    const events = []
    client.onAuthStateChange((event) => events.push(event))
    await signIn(client, email, password)
    const authenticator = new Authenticator()

    const enrolled = await client.mfa.webauthn.enroll({ friendlyName: 'judge key' })
    const factorId = enrolled.data?.id
    report('webauthn.enroll', !enrolled.error && enrolled.data.type === 'webauthn' && enrolled.data.friendly_name === 'judge key',
      `${describeError(enrolled.error)} type=${enrolled.data?.type}`)

    const created = await client.mfa.challenge({ factorId, webauthn })
    const creation = created.data?.webauthn?.credential_options?.publicKey
    report('webauthn.challenge_create',
      !created.error && created.data.webauthn.type === 'create' && creation.rp.id === RP_ID &&
        creation.challenge instanceof ArrayBuffer && creation.challenge.byteLength === 32 &&
        Buffer.from(creation.user.id).toString() === claimsOf((await client.getSession()).data.session.access_token).sub &&
        creation.pubKeyCredParams.some((p) => p.alg === -7),
      `${describeError(created.error)} type=${created.data?.webauthn?.type} rp=${creation?.rp?.id}`)

    const registered = await client.mfa.verify({
      factorId,
      challengeId: created.data.id,
      webauthn: { type: 'create', ...webauthn, credential_response: authenticator.create(creation) },
    })
    const session = (await client.getSession()).data.session
    report('webauthn.verify_create',
      !registered.error && claimsOf(session.access_token).aal === 'aal2' && session.refresh_token === registered.data.refresh_token &&
        events.at(-1) === 'MFA_CHALLENGE_VERIFIED',
      `${describeError(registered.error)} aal=${session && claimsOf(session.access_token).aal} events=${events.join(',')}`)

    const after = await client.mfa.getAuthenticatorAssuranceLevel()
    const listed = await client.mfa.listFactors()
    report('webauthn.aal_and_factors',
      levels(after.data) === 'aal2/aal2' && methods(after.data).includes('mfa/webauthn') &&
        listed.data?.webauthn?.length === 1 && listed.data.webauthn[0].id === factorId,
      `${levels(after.data)} methods=${methods(after.data)} webauthn factors=${listed.data?.webauthn?.length}`)

    // Another sign-in is aal1 and steps up with an assertion of the registered credential.
    const second = newClient()
    await signIn(second, email, password)
    const stepUp = await second.mfa.getAuthenticatorAssuranceLevel()
    const requested = await second.mfa.challenge({ factorId, webauthn })
    const request = requested.data?.webauthn?.credential_options?.publicKey
    report('webauthn.challenge_request',
      levels(stepUp.data) === 'aal1/aal2' && !requested.error && requested.data.webauthn.type === 'request' &&
        request.allowCredentials?.length === 1 &&
        Buffer.from(request.allowCredentials[0].id).equals(authenticator.credentialId),
      `${levels(stepUp.data)} ${describeError(requested.error)} type=${requested.data?.webauthn?.type}`)

    const refused = await second.mfa.verify({
      factorId,
      challengeId: requested.data.id,
      webauthn: { type: 'request', ...webauthn, credential_response: authenticator.get(request, 'http://evil.example') },
    })
    // GoTrue answers a failed assertion with a 500, which auth-js hands back as retryable.
    report('webauthn.verify_wrong_origin',
      isAuthRetryableFetchError(refused.error) && refused.error.status === 500 &&
        refused.error.message === 'Failed to validate WebAuthn MFA response',
      describeError(refused.error))

    const asserted = await second.mfa.verify({
      factorId,
      challengeId: requested.data.id,
      webauthn: { type: 'request', ...webauthn, credential_response: authenticator.get(request) },
    })
    const stepped = await second.mfa.getAuthenticatorAssuranceLevel()
    report('webauthn.verify_request', !asserted.error && levels(stepped.data) === 'aal2/aal2',
      `${describeError(asserted.error)} ${levels(stepped.data)}`)

    const unenrolled = await second.mfa.unenroll({ factorId })
    const remaining = await second.mfa.listFactors()
    report('webauthn.unenroll', !unenrolled.error && remaining.data?.all?.length === 0,
      `${describeError(unenrolled.error)} factors=${remaining.data?.all?.length}`)
  })

  await scenario('webauthn.invariants', async () => {
    const { violations } = await emulator('GET', '/invariants')
    report('webauthn.invariants', violations.length === 0, JSON.stringify(violations))
  })
}

main().then(finish, (error) => {
  report('webauthn', false, `judge crashed: ${error?.stack?.split('\n')[0] ?? error}`)
  finish()
})
