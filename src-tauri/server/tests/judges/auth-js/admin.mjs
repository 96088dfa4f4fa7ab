// Judge of GoTrue's admin API as auth-js's GoTrueAdminApi (`auth.admin.*`) drives it with the
// service-role key: create, list (pagination read from the Link and X-Total-Count headers),
// get, update, ban, delete users; generateLink whose token signs in through verifyOtp;
// inviteUserByEmail; the user's MFA factors; the OAuth client registry; and the errors the
// client hands back. Output and environment as scenario.mjs; see ../README.md.

import { GoTrueAdminApi, isAuthApiError } from '@supabase/auth-js'
import { describeError, emulator, finish, newClient, randomEmail, report, scenario, signIn } from './judge.mjs'

const SERVICE_ROLE_KEY = process.env.SERVICE_ROLE_KEY
if (!SERVICE_ROLE_KEY) {
  report('environment', false, 'missing environment variables: SERVICE_ROLE_KEY')
  finish()
}

const admin = new GoTrueAdminApi({
  url: process.env.GOTRUE_URL.replace(/\/+$/, ''),
  headers: { apikey: SERVICE_ROLE_KEY, Authorization: `Bearer ${SERVICE_ROLE_KEY}` },
})

const isApiError = (error, status, code) => isAuthApiError(error) && error.status === status && error.code === code

async function main() {
  await scenario('admin.users', async () => {
    const email = randomEmail('admin')
    const created = await admin.createUser({
      email,
      password: 'judge-password-1',
      email_confirm: true,
      user_metadata: { name: 'Judge' },
      app_metadata: { roles: ['tester'] },
    })
    const user = created.data.user
    report('admin.create_user',
      !created.error && user.email === email && user.email_confirmed_at && user.user_metadata.name === 'Judge' &&
        user.app_metadata.provider === 'email' && user.app_metadata.roles?.[0] === 'tester',
      `${describeError(created.error)} email=${user?.email}`)

    const duplicate = await admin.createUser({ email, password: 'judge-password-1' })
    report('admin.create_user_duplicate', isApiError(duplicate.error, 422, 'email_exists') && duplicate.data.user === null,
      describeError(duplicate.error))

    const invalid = await admin.createUser({ email: 'xx:;x@x.x', password: 'password123' })
    report('admin.create_user_invalid_email',
      isApiError(invalid.error, 400, 'validation_failed') && invalid.error.message === 'Unable to validate email address: invalid format',
      describeError(invalid.error))

    await admin.createUser({ email: randomEmail('admin-b') })
    await admin.createUser({ email: randomEmail('admin-c') })
    const page = await admin.listUsers({ page: 1, perPage: 2 })
    report('admin.list_users_paged',
      !page.error && page.data.users.length === 2 && page.data.aud === 'authenticated' && page.data.nextPage === 2 &&
        page.data.total >= 4 && page.data.lastPage === Math.ceil(page.data.total / 2),
      `${describeError(page.error)} users=${page.data.users?.length} next=${page.data.nextPage} last=${page.data.lastPage} total=${page.data.total}`)

    const badPage = await admin.listUsers({ page: -1, perPage: 10 })
    report('admin.list_users_bad_page', isApiError(badPage.error, 400, 'validation_failed') && badPage.data.users.length === 0,
      describeError(badPage.error))

    const fetched = await admin.getUserById(user.id)
    report('admin.get_user', !fetched.error && fetched.data.user.id === user.id, describeError(fetched.error))

    const missing = await admin.getUserById('83fd9e20-7a80-46e4-bf29-a86e3d6bbf66')
    report('admin.get_user_missing', isApiError(missing.error, 404, 'user_not_found') && missing.data.user === null,
      describeError(missing.error))

    const updated = await admin.updateUserById(user.id, { user_metadata: { color: 'yellow' }, ban_duration: '1h' })
    report('admin.update_user',
      !updated.error && updated.data.user.user_metadata.color === 'yellow' && updated.data.user.user_metadata.name === 'Judge' &&
        typeof updated.data.user.banned_until === 'string',
      `${describeError(updated.error)} banned_until=${updated.data.user?.banned_until}`)

    const banned = await newClient().signInWithPassword({ email, password: 'judge-password-1' })
    report('admin.banned_cannot_sign_in', isApiError(banned.error, 400, 'user_banned'), describeError(banned.error))

    const deleted = await admin.deleteUser(user.id)
    const gone = await admin.getUserById(user.id)
    report('admin.delete_user', !deleted.error && isApiError(gone.error, 404, 'user_not_found'), describeError(deleted.error))

    // GoTrue's SoftDeleteUser empties both metadata objects.
    const soft = (await admin.createUser({ email: randomEmail('admin-soft'), app_metadata: { roles: ['x'] } })).data.user
    const softDeleted = await admin.deleteUser(soft.id, true)
    const kept = await admin.getUserById(soft.id)
    report('admin.soft_delete',
      !softDeleted.error && !kept.error && kept.data.user.deleted_at &&
        Object.keys(kept.data.user.app_metadata).length === 0 && Object.keys(kept.data.user.user_metadata).length === 0,
      `${describeError(softDeleted.error ?? kept.error)} app_metadata=${JSON.stringify(kept.data.user?.app_metadata)}`)
  })

  await scenario('admin.links', async () => {
    const email = randomEmail('link')
    const linked = await admin.generateLink({ type: 'signup', email, password: 'judge-password-1', options: { data: { status: 'alpha' } } })
    const props = linked.data.properties
    report('admin.generate_link_signup',
      !linked.error && linked.data.user.email === email && linked.data.user.user_metadata.status === 'alpha' &&
        props.verification_type === 'signup' && /\?token=/.test(props.action_link) && /type=signup/.test(props.action_link) &&
        /^\d{6}$/.test(props.email_otp) && props.hashed_token.length === 56,
      `${describeError(linked.error)} type=${props?.verification_type}`)
    const inbox = await emulator('GET', `/inbox?to=${encodeURIComponent(email)}`)
    report('admin.generate_link_sends_nothing', inbox.length === 0, `messages=${inbox.length}`)

    const client = newClient()
    const verified = await client.verifyOtp({ type: 'signup', token_hash: props.hashed_token })
    report('admin.generate_link_verifies',
      !verified.error && verified.data.session && verified.data.user.email_confirmed_at,
      describeError(verified.error))

    const recovery = await admin.generateLink({ type: 'recovery', email: randomEmail('nobody') })
    report('admin.generate_link_recovery_unknown', isApiError(recovery.error, 404, 'user_not_found') && recovery.data.properties === null,
      describeError(recovery.error))

    const change = await admin.generateLink({ type: 'email_change_current', email, newEmail: randomEmail('moved') })
    report('admin.generate_link_email_change',
      !change.error && change.data.user.new_email && /type=email_change/.test(change.data.properties.action_link),
      `${describeError(change.error)} new_email=${change.data.user?.new_email}`)

    const guest = randomEmail('guest')
    const invited = await admin.inviteUserByEmail(guest, { data: { status: 'invited' } })
    const mail = await emulator('GET', `/inbox?to=${encodeURIComponent(guest)}`)
    const token = mail[0] && new URL(mail[0].link).searchParams.get('token')
    const accepted = token && (await newClient().verifyOtp({ type: 'invite', token_hash: token }))
    report('admin.invite',
      !invited.error && invited.data.user.invited_at && mail.length === 1 && mail[0].kind === 'invite' && accepted && !accepted.error,
      `${describeError(invited.error)} mails=${mail.length} ${describeError(accepted?.error)}`)
  })

  await scenario('admin.mfa', async () => {
    const email = randomEmail('adminmfa')
    await admin.createUser({ email, password: 'judge-password-1', email_confirm: true })
    const client = newClient()
    const session = await signIn(client, email, 'judge-password-1')
    await client.mfa.enroll({ factorType: 'totp', friendlyName: 'judge' })
    const listed = await admin.mfa.listFactors({ userId: session.user.id })
    const factorId = listed.data?.factors?.[0]?.id
    report('admin.mfa_list_factors', !listed.error && listed.data.factors.length === 1 && factorId, describeError(listed.error))
    const removed = await admin.mfa.deleteFactor({ userId: session.user.id, id: factorId })
    const after = await admin.mfa.listFactors({ userId: session.user.id })
    // auth-js hands back the deleted factor as GoTrue answers it, wrapped once more by its
    // `_request` (`data.data`).
    const deletedId = removed.data?.data?.id
    report('admin.mfa_delete_factor', !removed.error && deletedId === factorId && after.data?.factors?.length === 0,
      `${describeError(removed.error)} deleted=${deletedId === factorId} left=${after.data?.factors?.length}`)
  })

  await scenario('admin.oauth_clients', async () => {
    const created = await admin.oauth.createClient({ client_name: 'Judge client', redirect_uris: ['https://example.com/callback'] })
    const id = created.data?.client_id
    report('admin.oauth_create_client',
      !created.error && id && typeof created.data.client_secret === 'string' && created.data.grant_types.length === 2,
      describeError(created.error))
    const fetched = await admin.oauth.getClient(id)
    report('admin.oauth_get_client_without_secret', !fetched.error && fetched.data.client_id === id && fetched.data.client_secret === undefined,
      describeError(fetched.error))
    const regenerated = await admin.oauth.regenerateClientSecret(id)
    report('admin.oauth_regenerate_secret',
      !regenerated.error && regenerated.data.client_secret && regenerated.data.client_secret !== created.data.client_secret,
      describeError(regenerated.error))
    const invalid = await admin.oauth.createClient({ client_name: 'Bad', redirect_uris: [] })
    report('admin.oauth_invalid_redirect_uris', isApiError(invalid.error, 400, 'validation_failed') && invalid.data === null,
      describeError(invalid.error))
    const deleted = await admin.oauth.deleteClient(id)
    const gone = await admin.oauth.getClient(id)
    report('admin.oauth_delete_client', !deleted.error && isApiError(gone.error, 404, 'oauth_client_not_found'),
      describeError(gone.error))
  })

  await scenario('admin.not_admin', async () => {
    const user = newClient()
    const session = await signIn(user)
    const asUser = new GoTrueAdminApi({
      url: process.env.GOTRUE_URL.replace(/\/+$/, ''),
      headers: { apikey: process.env.ANON_KEY, Authorization: `Bearer ${session.access_token}` },
    })
    const refused = await asUser.listUsers()
    report('admin.not_admin', isApiError(refused.error, 403, 'not_admin'), describeError(refused.error))

    // A service-role token with an unsigned header (`alg: none`) is not verified.
    const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ role: 'service_role' })}.`
    const forged = new GoTrueAdminApi({
      url: process.env.GOTRUE_URL.replace(/\/+$/, ''),
      headers: { apikey: process.env.ANON_KEY, Authorization: `Bearer ${unsigned}` },
    })
    const rejected = await forged.listUsers()
    report('admin.bad_jwt', isApiError(rejected.error, 403, 'bad_jwt'), describeError(rejected.error))
  })

  await scenario('admin.invariants', async () => {
    const { violations } = await emulator('GET', '/invariants')
    report('admin.invariants', violations.length === 0, JSON.stringify(violations))
  })
}

main().then(finish, (error) => {
  report('admin', false, `judge crashed: ${error?.stack?.split('\n')[0] ?? error}`)
  finish()
})
