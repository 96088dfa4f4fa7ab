// Generated from the Rust types by src-tauri/src/ipc_types.rs (ts-rs). Do not edit:
// change the Rust type, then run `UPDATE_IPC_TYPES=1 cargo test --test ipc_types`.

export type AppInfo = { name: string, version: string, identifier: string, tauriVersion: string, };

export type About = { 
/**
 * The short commit, or "unknown".
 */
commit: string, 
/**
 * The build had changes not committed; None when that is not known.
 */
modified: boolean | null, buildProfile: BuildProfile, 
/**
 * Whether this build has the built-in demo (the `demo` feature).
 */
demo: boolean, license: string, 
/**
 * The app's data folder (settings, the demo's database; sealed sessions too on Linux and
 * macOS, where it is also the local data folder).
 */
dataFolder: string, 
/**
 * The current log file.
 */
logFile: string, };

export type AboutPath = "dataFolder" | "logFile";

export type BuildProfile = "debug" | "release";

export type Status = { profile: string, profileId: string, builtIn: boolean, 
/**
 * The built-in server's URL while the demo profile is active.
 */
serverUrl: string | null, profiles: Array<ProfileView>, 
/**
 * Whether the active profile can be removed: a project, and not the last one of a build
 * without the demo (nothing would be left to open).
 */
removable: boolean, autoRefresh: boolean, refreshMarginSecs: number, 
/**
 * How close to expiry `get_session` refreshes (the Supabase clients' 10 s): the margin the
 * countdown marks while auto-refresh is off.
 */
expiryMarginSecs: number, 
/**
 * The margin's allowed range, in seconds.
 */
marginMinSecs: number, marginMaxSecs: number, 
/**
 * The demo's account, offered in the sign-in form while the built-in profile is active.
 */
demoAccount: DemoAccount | null, keyring: Backend, 
/**
 * Said plainly when tokens will not survive a reboot or a restart.
 */
keyringNotice: string | null, 
/**
 * The official clients' refresh rules, for the panel that compares them; each session
 * carries only its own times (`SessionView.clients`).
 */
officialClients: Array<ClientRulesView>, };

export type ResetDone = { 
/**
 * The profile that opened afterwards (the built-in demo, in a build with it); none when
 * there is nothing to open or it could not open.
 */
status: Status | null, 
/**
 * Why the profile that should have opened did not (the demo server did not start, say).
 */
notOpened: string | null, 
/**
 * What was deliberately kept, for people.
 */
kept: Array<string>, 
/**
 * The first `seq` of the live log after the reset: every item before it (the history
 * the reset forgot) goes from the window; what the reopened profile sent since stays.
 */
logFrom: number, };

export type ProfileView = { id: string, name: string, builtIn: boolean, 
/**
 * The project URL, or the built-in server's loopback URL while it runs.
 */
url: string | null, 
/**
 * Why this profile cannot be opened in this build (a saved demo profile in a build
 * without the demo); None when it can.
 */
unavailable: string | null, };

export type DemoAccount = { email: string, password: string, };

export type DetectedStack = { url: string, anonKey: string, };

export type Backend = "secretService" | "kernelKeyring" | "macosKeychain" | "windowsCredentialManager" | "memory";

export type SessionView = { user: UserView, sessionId: string | null, expiresAt: number, issuedAt: number | null, tokenType: string, header: Record<string, unknown>, claims: Record<string, unknown>, accessTokenFingerprint: string, refreshTokenFingerprint: string, refreshTokenShape: RefreshTokenShape, 
/**
 * What each official client would do with this session (refresh times, retries, what
 * a rejected refresh token does to it).
 */
clients: Array<ClientForecast>, };

export type UserView = { id: string, email: string, phone: string, role: string, isAnonymous: boolean, 
/**
 * An email change waiting for its confirmation (GoTrue's `new_email`).
 */
newEmail: string | null, 
/**
 * When GoTrue sent that change's confirmation mail (RFC 3339).
 */
emailChangeSentAt: string | null, };

export type RefreshTokenShape = { "format": "legacy" } | { "format": "v2", sessionId: string, counter: number, } | { "format": "unknown" };

export type RefreshView = { session: SessionView, 
/**
 * This call shared a refresh already in flight instead of sending its own request.
 */
joined: boolean, };

export type ClientForecast = { 
/**
 * Names the client in `ClientRulesView::client`.
 */
client: string, 
/**
 * Its auto-refresh refreshes no earlier than this…
 */
autoRefreshFrom: number, 
/**
 * …and no later than this (the same moment for a timer).
 */
autoRefreshBy: number, 
/**
 * `getSession()` refreshes first from this moment on.
 */
getSessionRefreshesFrom: number, };

export type ClientRulesView = { client: string, package: string, getSessionMarginSecs: number, failureCooldownSecs: number | null, 
/**
 * "network errors, 500–504, 520–530".
 */
retries: string, onRejected: OnRejected, onRejectedText: string, sources: Array<SourceConstant>, };

export type OnRejected = "endsAfterExpiry" | "keptUntilRestart" | "keptErrorsRaised";

export type SourceConstant = { name: string, value: string, file: string, };

export type SignatureStatus = { "status": "verified", alg: string, kid: string | null, } | { "status": "invalid_signature", alg: string, reason: string, cause: Invalid, } | { "status": "not_verified", reason: string, cause: Unverified, } | { "status": "server_accepted", alg: string, } | { "status": "server_rejected", alg: string, http_status: number, code: string | null, reason: string, };

export type Invalid = "mismatch" | "unsigned" | "algorithm_not_allowed" | "malformed";

export type Unverified = "needs_secret" | "unknown_kid" | "no_key" | "unusable_key" | "unsupported_algorithm" | "jwks_unavailable" | "server_unreachable" | "expired";

export type EventView = { kind: AuthEventKind, previous: AuthEventKind | null, at: string, reason: string | null, exchangeId: number | null, 
/**
 * What set it off, in the window's words (`Cause::label`: "Refresh now", "Auto-refresh",
 * "Paste", "get_session", "MFA step-up", …), when the engine knows.
 */
causeLabel: string | null, session: SessionView | null, 
/**
 * On `REFRESH_REJECTED`: why, and until when the kept access token works.
 */
rejection: RejectionView | null, };

export type RejectionView = { code: string, status: number, message: string, 
/**
 * When the access token stops working (unix seconds); then a supabase-js app signs out.
 */
accessTokenExpiresAt: number, refreshTokenFingerprint: string, 
/**
 * The whole of it in one line, as the log says it.
 */
text: string, };

export type AuthEventKind = "INITIAL_SESSION" | "SIGNED_IN" | "TOKEN_REFRESHED" | "SIGNED_OUT" | "USER_UPDATED" | "REFRESH_REJECTED" | "PASSWORD_RECOVERY" | "MFA_CHALLENGE_VERIFIED";

export type LogItem = { "type": "event", seq: number, at: string, event: EventView, } | { "type": "request", seq: number, at: string, request: RequestSummary, } | { "type": "failure", seq: number, at: string, operation: string, error: ErrorView, exchangeId: number | null, } | { "type": "joined", seq: number, at: string, operation: string, } | { "type": "profile", seq: number, at: string, profile: string, } | { "type": "clock", seq: number, at: string, offsetMs: number, };

export type RequestSummary = { id: number, method: string, 
/**
 * Path and query, e.g. `/auth/v1/token?grant_type=refresh_token`.
 */
path: string, 
/**
 * `null` when no answer arrived (timeout, connection refused).
 */
status: number | null, durationMs: number, 
/**
 * GoTrue's error code from the answer, when there was one.
 */
code: string | null, 
/**
 * A transport failure in words, when there was no answer.
 */
error: string | null, };

export type ErrorView = { kind: string, message: string, code?: string | null, status?: number | null, };

export type Copied = { 
/**
 * The clipboard is cleared this many seconds from now, if it still holds the token.
 */
clearsInSecs: number, };

export type LogLayout = { 
/**
 * The log column's width in CSS pixels, beside the panels.
 */
logWidth: number, 
/**
 * The log takes the whole window; the panels are hidden until it is switched off.
 */
fullWidth: boolean, 
/**
 * Emails, user and session ids and fingerprints are masked everywhere in the window.
 */
screenshotSafe: boolean, };

export type CopyFormat = "curl" | "supabaseJs";

export type CopiedAs = { slots: Array<Slot>, 
/**
 * Set when real tokens are on the clipboard: it is cleared this many seconds from now if
 * it still holds the copy.
 */
clearsInSecs: number | null, };

export type Slot = { 
/**
 * `SI_REFRESH_TOKEN`, `SI_ACCESS_TOKEN`, `SI_SUPABASE_KEY`, …
 */
name: string, 
/**
 * The recorded fingerprint; none for a password (recorded as `[redacted]`).
 */
fingerprint: string | null, 
/**
 * Where it was in the exchange, in words ("the refresh_token in the body").
 */
place: string, 
/**
 * Filled with the real value (only when the user chose real tokens).
 */
filled: boolean, 
/**
 * For a placeholder, why: "redacted copy", "not held by the app any more", ….
 */
why: string | null, };

export type Exchange = { id: number, startedAt: string, durationMs: number, method: string, url: string, requestHeaders: Array<[string, string]>, requestBody: string | null, 
/**
 * None when no answer arrived.
 */
status: number | null, responseHeaders: Array<[string, string]>, responseBody: string | null, 
/**
 * The server's `Date` header: its clock, for skew correction.
 */
serverDate: string | null, error: string | null, };

export type PastePreview = { kind: ImportKind, description: string, refreshTokenFingerprint: string | null, refreshTokenShape: RefreshTokenShape | null, 
/**
 * Claims of the access token in the paste, when there was one.
 */
accessClaims: Record<string, unknown> | null, 
/**
 * The pasted refresh token is the current session's.
 */
isCurrent: boolean, 
/**
 * The paste holds a refresh token, so it can be rotated.
 */
canRotate: boolean, warnings: Array<string>, 
/**
 * What the server will do with the refresh token (the app's reuse predictor fills it
 * in from what it knows of the session; none here).
 */
prediction: Prediction | null, };

export type Prediction = { outcome: Outcome, 
/**
 * None when the token is of neither format.
 */
format: TokenFormat | null, 
/**
 * The reuse interval in seconds.
 */
intervalSecs: number, intervalAssumed: boolean, 
/**
 * The answer that will show the prediction held (none when nothing is predicted).
 */
expected: Expected | null, 
/**
 * For the tolerated case: what is expected once the interval has passed.
 */
expectedAfter: Expected | null, 
/**
 * Why, in a few sentences: the rule, the times, what is assumed.
 */
explanation: string, 
/**
 * The fingerprint of the pasted token.
 */
pastedFingerprint: string, };

export type Outcome = { "kind": "normalRotation" } | { "kind": "parentReissued" } | { "kind": "toleratedInInterval", 
/**
 * When the tolerance ends (Unix milliseconds): the window counts down from it.
 */
untilMs: number, secondsLeft: number, } | { "kind": "revokesSession" } | { "kind": "unknown", why: string, };

export type Expected = { "kind": "newToken" } | { "kind": "sameToken", fingerprint: string, } | { "kind": "error", code: string, };

export type TokenFormat = "legacy" | "v2";

export type Verdict = { held: boolean, 
/**
 * What the server did, in words.
 */
whatHappened: string, };

export type PasteRotated = { 
/**
 * The session the answer made current, when the server issued one.
 */
rotated: RefreshView | null, 
/**
 * The refusal (or failed request), when it did not.
 */
error: ErrorView | null, 
/**
 * The prediction made just before sending.
 */
prediction: Prediction, 
/**
 * None when nothing was predicted (or the answer was discarded).
 */
verdict: Verdict | null, };

export type ImportKind = "refresh_token" | "access_token" | "bearer_header" | "storage_value" | "ssr_cookie" | "token_response";

export type SignOutScope = "global" | "local" | "others";

export type Which = "access" | "refresh";

export type SignInMethods = { 
/**
 * Email sign-ins: password, one-time code and magic link.
 */
email: boolean, 
/**
 * Phone sign-ins: password and SMS code.
 */
phone: boolean, anonymous: boolean, 
/**
 * OAuth providers switched on, by GoTrue's name (`github`, `google`, …), sorted.
 */
providers: Array<string>, 
/**
 * New users are refused (`/signup`, and OTP or OAuth for an unknown user).
 */
disableSignup: boolean, 
/**
 * Email addresses count as confirmed without a confirmation email.
 */
mailerAutoconfirm: boolean, phoneAutoconfirm: boolean, 
/**
 * SAML single sign-on is configured (the inspector does not drive it).
 */
saml: boolean, };

export type OtpKind = "email" | "sms" | "magiclink" | "signup" | "recovery";

export type OtpChannel = "email" | "phone";

export type OtpSent = { messageId: string | null, };

export type OAuthStarted = { provider: string, 
/**
 * GoTrue's `/authorize` URL (it carries the PKCE challenge, never the verifier).
 */
authorizeUrl: string, 
/**
 * The loopback address the browser is sent back to.
 */
redirectTo: string, 
/**
 * The Redirect URLs entry (Auth → URL Configuration) that admits `redirect_to` where
 * GoTrue does not accept loopback addresses by itself (releases before v2.171).
 */
allowListEntry: string, 
/**
 * Why the browser could not be opened (the window then offers the link to open by hand).
 */
browserError: string | null, };

export type InboxMessage = { id: string, 
/**
 * The email address (lowercase) or the phone number (digits, as GoTrue stores it).
 */
to: string, kind: InboxKind, subject: string, 
/**
 * The one-time code (6 digits).
 */
code: string, 
/**
 * For email: GoTrue's verification link, `<server>/auth/v1/verify?token=<token hash>&
 * type=<kind>&redirect_to=<url>`. Text messages carry only the code.
 */
link: string | null, 
/**
 * RFC 3339, by the server's clock.
 */
sentAt: string, };

export type InboxKind = "signup" | "magiclink" | "recovery" | "invite" | "sms" | "email_change" | "phone_change" | "reauthentication";

export type Factor = { id: string, 
/**
 * `totp`, `phone` or `webauthn`.
 */
factorType: string, friendlyName: string | null, 
/**
 * `verified` or `unverified`.
 */
status: string, createdAt: string | null, updatedAt: string | null, };

export type TotpEnrollmentView = { factorId: string, friendlyName: string | null, secret: string, uri: string, 
/**
 * The URI as a QR code, for an authenticator app's camera.
 */
qr: QrMatrix, };

export type QrMatrix = { size: number, modules: Array<boolean>, };

export type IdentitiesView = { identities: Array<IdentityView>, 
/**
 * The methods of the access token's `amr` claim, oldest first as GoTrue lists them.
 */
amr: Array<string>, };

export type IdentityView = { 
/**
 * GoTrue's `identity_id` (a UUID): what `DELETE /user/identities/{id}` takes.
 */
identityId: string, 
/**
 * `email`, `phone`, `github`, `google`, …
 */
provider: string, 
/**
 * The provider's id for the user (GoTrue's `id`, `identity_data.sub`).
 */
providerId: string, 
/**
 * `identity_data.email`, when the provider gave one.
 */
email: string | null, createdAt: string | null, lastSignInAt: string | null, 
/**
 * The `amr` method of the current access token this identity accounts for (`password`,
 * `oauth`, …), if any.
 */
usedBy: string | null, };

export type EmailChangeView = { "outcome": "firstOfTwo", message: string, } | { "outcome": "applied", session: SessionView, };

export type TimelineView = { 
/**
 * Oldest first; a new sign-in (or a new session id) starts a new one.
 */
sessions: Array<TimelineSession>, 
/**
 * Failures and rejections of a refresh token no session here holds (a pasted stranger's,
 * or one whose tokens were compacted away): drawn apart, so that they never cut a chain.
 */
stray: Array<TimelineMark>, };

export type TimelineSession = { 
/**
 * The access tokens' `session_id` claim, when they carry one.
 */
sessionId: string | null, 
/**
 * Its access tokens in the order they arrived; each but the first came by a rotation.
 */
tokens: Array<TimelineToken>, 
/**
 * Failures, rejections and the sign-out, in order.
 */
marks: Array<TimelineMark>, 
/**
 * Signed out (or ended): no token comes after the last.
 */
ended: boolean, };

export type TimelineToken = { 
/**
 * Unique within the view (`t0`, `t1`, …): what the window's pickers name.
 */
id: string, at: string, 
/**
 * The event that brought it (`SIGNED_IN`, `TOKEN_REFRESHED`, `MFA_CHALLENGE_VERIFIED`, …).
 */
kind: string, 
/**
 * What made it (`refreshNow`, `autoRefresh`, …); none for a session first seen at launch
 * or recorded by an earlier version.
 */
cause: string | null, 
/**
 * What the window writes on the link that made it: the cause's words (`Cause::label`),
 * or, without a cause, what the event says.
 */
label: string, refreshTokenFingerprint: string | null, 
/**
 * The v2 refresh token's counter; none for legacy tokens.
 */
counter: number | null, exchange: ExchangeRef | null, 
/**
 * `iat` and `exp` in Unix seconds, from the claims.
 */
issuedAt: number | null, expiresAt: number | null, 
/**
 * The kept claims (`session_profiles::CLAIMS_KEPT`); none for an entry of an earlier version.
 */
claims: Record<string, unknown> | null, };

export type TimelineMark = { kind: MarkKind, at: string, 
/**
 * The GoTrue code, or the sign-out's reason.
 */
code: string | null, status: number | null, cause: string | null, 
/**
 * The cause's words (`Cause::label`), when there is one.
 */
causeLabel: string | null, 
/**
 * The refresh token sent (a failure) or refused (a rejection).
 */
refreshTokenFingerprint: string | null, 
/**
 * The last of them, when the same failure came again and again (`repeat` > 1): one mark
 * for a ticker failing all night, not hundreds.
 */
exchange: ExchangeRef | null, 
/**
 * How many times in a row this failure came (same token, status and code); 1 for most.
 */
repeat: number, 
/**
 * When the last of them came (`at` when `repeat` is 1).
 */
lastAt: string, };

export type MarkKind = "failure" | "rejected" | "signedOut";

export type ExchangeRef = { id: number, thisRun: boolean, };

export type Scenario = "twoClients" | "reuseAfterInterval" | "serverDown" | "rateLimitStorm" | "sessionTimebox" | "inactivityTimeout" | "skewedClock" | "keyRotation";

export type ScenarioInfo = { scenario: Scenario, title: string, does: string, watch: string, 
/**
 * The scenario waits this long (seconds); the panel counts it down.
 */
seconds: number | null, };

export type ScenarioReport = { scenario: Scenario, lines: Array<string>, 
/**
 * What the scenario left changed on the server once it finished, for the panel to show
 * beside "Reset playground" (which undoes it; so does the next scenario).
 */
stillOn: string | null, };
