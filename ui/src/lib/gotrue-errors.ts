// A failure in plain words: what happened, what GoTrue's code means, and what to do next.
// The server's own message is shown beside this, never replaced by it.

export interface ErrorLike {
  kind: string;
  message: string;
  code?: string | null;
  status?: number | null;
}

export interface ErrorExplanation {
  title: string;
  meaning: string;
  code: string | null;
}

type Entry = { title: string; meaning: string };

/** GoTrue's error codes (the `code` field of its JSON error body). */
const CODES: Record<string, Entry> = {
  refresh_token_not_found: {
    title: "Refresh token not found",
    meaning:
      "The server has no such refresh token: it was revoked by a sign-out, belongs to another project, or was never issued. The session is over; sign in again.",
  },
  refresh_token_already_used: {
    title: "Refresh token already used",
    meaning:
      "This refresh token was rotated before, and the reuse came after the reuse interval. Auth treats that as a possible theft and revokes the whole session family; sign in again.",
  },
  session_expired: {
    title: "Session expired",
    meaning:
      "The session passed its time-box or inactivity timeout (project Auth settings). Refreshing cannot extend it; sign in again.",
  },
  session_not_found: {
    title: "Session not found",
    meaning:
      "The auth.sessions row behind this token is gone: signed out (possibly from another device with scope global), or deleted. Sign in again.",
  },
  user_banned: {
    title: "User banned",
    meaning: "The user has a banned_until in the future, so Auth refuses to refresh or sign in. Lift the ban in the dashboard or the admin API.",
  },
  invalid_credentials: {
    title: "Wrong email or password",
    meaning: "The email/phone and password do not match a user. Auth does not say which one is wrong, on purpose.",
  },
  over_request_rate_limit: {
    title: "Too many requests",
    meaning:
      "This client hit Auth's rate limit (HTTP 429). Wait and try again; the limits are in the project's Auth rate-limit settings.",
  },
  over_email_send_rate_limit: {
    title: "Too many emails",
    meaning: "Auth sent too many emails to this address recently. Wait before asking for another, or raise the limit.",
  },
  over_sms_send_rate_limit: {
    title: "Too many text messages",
    meaning: "Auth sent too many SMS messages to this number recently. Wait before asking for another.",
  },
  validation_failed: {
    title: "Request not valid",
    meaning: "A parameter is missing or has the wrong format (for example an empty refresh token or a malformed email).",
  },
  bad_json: {
    title: "Request body not valid JSON",
    meaning: "Auth could not parse the request body.",
  },
  bad_jwt: {
    title: "Access token not valid",
    meaning:
      "The JWT in the Authorization header is malformed, expired, or signed with a key this project does not accept. Refresh the session, then retry.",
  },
  no_authorization: {
    title: "No access token sent",
    meaning: "This endpoint needs a user's access token in the Authorization header, and none was sent.",
  },
  not_admin: {
    title: "Not an admin token",
    meaning: "This endpoint needs the service_role key; a user's token is not enough.",
  },
  user_not_found: {
    title: "User not found",
    meaning: "The user in the token no longer exists (deleted), so the session cannot continue. Sign in again or sign up.",
  },
  anonymous_provider_disabled: {
    title: "Anonymous sign-ins are off",
    meaning: "The project does not allow signInAnonymously(). Enable anonymous sign-ins in the Auth settings.",
  },
  signup_disabled: {
    title: "Sign-ups are off",
    meaning: "The project does not accept new users. Enable sign-ups in the Auth settings, or create the user as an admin.",
  },
  email_provider_disabled: {
    title: "Email sign-in is off",
    meaning: "The email provider is disabled in this project's Auth settings.",
  },
  email_not_confirmed: {
    title: "Email not confirmed",
    meaning: "The user has not clicked the confirmation link yet, and the project requires confirmation before sign-in.",
  },
  phone_not_confirmed: {
    title: "Phone not confirmed",
    meaning: "The user has not verified the phone number yet, and the project requires it before sign-in.",
  },
  weak_password: {
    title: "Password too weak",
    meaning: "The password does not meet the project's password rules (length, character kinds, or it appears in a breach list).",
  },
  user_already_exists: {
    title: "User already exists",
    meaning: "A user with this email or phone is already registered.",
  },
  email_exists: {
    title: "Email already in use",
    meaning: "Another user already has this email address.",
  },
  same_password: {
    title: "Same password",
    meaning: "The new password must differ from the current one: Auth refuses to set the password the user already has.",
  },
  phone_exists: {
    title: "Phone number already in use",
    meaning: "Another user already has this phone number.",
  },
  email_address_invalid: {
    title: "Email address not accepted",
    meaning: "Auth refused this address (its form, or a domain the project does not send to). Check it for typos.",
  },
  reauthentication_needed: {
    title: "Reauthentication needed",
    meaning:
      "The project has secure password change on and this session is over a day old: send a code (reauthenticate()), then change the password with that code as the nonce.",
  },
  reauthentication_not_valid: {
    title: "Reauthentication code not valid",
    meaning: "The nonce is wrong, was used, or has expired. Send a new code and use the newest one.",
  },
  current_password_required: {
    title: "Current password required",
    meaning:
      "The project requires the current password for a new one (GoTrue's UPDATE_PASSWORD_REQUIRE_CURRENT_PASSWORD): type it and save again (auth-js updateUser's current_password).",
  },
  current_password_invalid: {
    title: "Current password wrong",
    meaning: "The current password typed is not the user's password; GoTrue's message is the same as for a missing one.",
  },
  insufficient_aal: {
    title: "MFA required",
    meaning: "This action needs assurance level aal2: verify a second factor first.",
  },
  mfa_verification_failed: {
    title: "MFA code wrong",
    meaning:
      "The authenticator app's code did not match. Check that the device's clock is right (codes change every 30 seconds) and type the current one.",
  },
  mfa_challenge_expired: {
    title: "MFA challenge expired",
    meaning: "The challenge this code answered is too old. Verify again: a new challenge is made for it.",
  },
  mfa_factor_not_found: {
    title: "Factor not found",
    meaning: "The user has no such MFA factor (it was removed, or belongs to another user).",
  },
  mfa_factor_name_conflict: {
    title: "Factor name taken",
    meaning: "This user already has a factor with that name. Choose another name.",
  },
  too_many_enrolled_mfa_factors: {
    title: "Too many factors",
    meaning: "The user has as many factors as the project allows (unverified ones count too). Remove one first.",
  },
  mfa_totp_enroll_not_enabled: {
    title: "TOTP enrollment off",
    meaning: "The project does not allow enrolling authenticator apps (Auth → Multi-Factor).",
  },
  otp_expired: {
    title: "Code or link expired",
    meaning: "The one-time code or email link is wrong, has expired, or was already used. Ask for a new one.",
  },
  otp_disabled: {
    title: "Code sign-in refused",
    meaning:
      "Auth would not send a code: sign-ups are off (or “create the user” was unticked) and there is no user with this address, or one-time codes are off for this project.",
  },
  phone_provider_disabled: {
    title: "Phone sign-in off",
    meaning: "The project has no phone provider switched on (Auth → Providers → Phone).",
  },
  flow_state_not_found: {
    title: "PKCE flow not found",
    meaning: "The code does not match any sign-in in progress: it expired or was already exchanged.",
  },
  flow_state_expired: {
    title: "Sign-in took too long",
    meaning: "Auth keeps a browser sign-in open for 5 minutes; this one is older. Start again.",
  },
  bad_code_verifier: {
    title: "PKCE verifier does not match",
    meaning:
      "The code was issued for another PKCE challenge than the verifier sent with it: another app or browser started this sign-in. Start again from this app.",
  },
  oauth_provider_not_supported: {
    title: "Provider not supported",
    meaning: "Auth does not know this OAuth provider name.",
  },
  provider_disabled: {
    title: "Provider disabled",
    meaning: "This OAuth or SSO provider is not enabled in the project's Auth settings.",
  },
  request_timeout: {
    title: "Auth timed out",
    meaning: "The server took too long on this request (usually the database). The session is kept; try again.",
  },
  hook_timeout: {
    title: "Auth hook timed out",
    meaning: "A configured Auth hook (such as a custom access token hook) did not answer in time.",
  },
  unexpected_failure: {
    title: "Auth server failed",
    meaning: "Something unexpected went wrong on the server (a bug or a database problem). Check the project's Auth logs.",
  },
  manual_linking_disabled: {
    title: "Manual linking is off",
    meaning:
      "This project does not let a signed-in user link or unlink identities (auth-js's linkIdentity and unlinkIdentity). The setting is GOTRUE_SECURITY_MANUAL_LINKING_ENABLED on the Auth server ([auth] enable_manual_linking = true in the Supabase CLI's config.toml); it is off by default.",
  },
  single_identity_not_deletable: {
    title: "Last identity",
    meaning:
      "A user must keep at least one identity, so Auth refuses to unlink the only one. Link another provider first if this one must go.",
  },
  identity_not_found: {
    title: "Identity not found",
    meaning: "The user has no identity with this id: it was already unlinked (perhaps from another device), or belongs to another user.",
  },
  identity_already_exists: {
    title: "Identity already linked",
    meaning:
      "This provider account is already linked, to this user or to another one; Auth links a provider account to one user only. Unlink it there first, or use another account at the provider.",
  },
  email_conflict_identity_not_deletable: {
    title: "Unlinking would clash with another user's email",
    meaning:
      "Unlinking this identity would give the user the email of another identity, and another user already has that address. Auth refuses to make the conflict.",
  },
  conflict: {
    title: "Conflicting request",
    meaning: "Another request changed the same data at the same time. Try again.",
  },
};

/** Failures that come without a GoTrue code, named by the app's stable `kind`. */
const KINDS: Record<string, Entry> = {
  retryableFetch: {
    title: "Auth server unreachable",
    meaning:
      "No answer: the server could not be reached or timed out. Nothing was decided, so the session is kept; try again (with auto-refresh on, the app retries by itself).",
  },
  redirected: {
    title: "Auth answered with a redirect",
    meaning:
      "The server pointed the request somewhere else. The app never follows redirects (it would send the token or password again, to wherever the answer points), so nothing was sent there. Check the project URL: use the address the redirect names if you trust it.",
  },
  responseTooLarge: {
    title: "Answer too large",
    meaning:
      "The server's answer was larger than 1 MiB, far beyond any Auth answer, so the app stopped reading and did not use it. A proxy or another service may be answering at this URL. The session is unchanged.",
  },
  clipboard: {
    title: "Clipboard unavailable",
    meaning: "The system clipboard refused the copy (no clipboard service on this desktop?). Use Reveal and select the token instead.",
  },
  sessionMissing: {
    title: "Auth session missing!",
    meaning: "There is no session to work with: nothing to refresh or sign out. Sign in, or paste a refresh token.",
  },
  invalidInput: {
    title: "Input not accepted",
    meaning: "The app could not use what was entered; the message says what is wrong. Nothing was sent.",
  },
  invalidTokenResponse: {
    title: "Unusable answer from Auth",
    meaning: "The server answered with success, but not with a valid session (missing or malformed tokens). The stored session is unchanged.",
  },
  storage: {
    title: "Keyring failure",
    meaning: "The session could not be read from or written to the OS keyring. Check that the keyring is available and unlocked: the Secret Service (gnome-keyring, KWallet) on Linux, the login keychain on macOS, Credential Manager on Windows.",
  },
  profileClosed: {
    title: "Profile closed during the request",
    meaning:
      "The profile this request ran for was removed or reset while it ran, so its answer was not saved: no session was stored for a profile that is gone. Nothing is wrong with the keyring. Run it again on the profile now open if you still want it.",
  },
  refreshDiscarded: {
    title: "Refresh discarded",
    meaning:
      "The stored session changed while the refresh was in flight (a sign-out or a newer session), so its result was thrown away instead of overwriting the newer one.",
  },
  oauthCallback: {
    title: "Browser sign-in did not complete",
    meaning:
      "The browser came back with an error instead of a code: the provider's (access denied, the app not set up there) or Auth's. The message is what they said. Nothing changed here.",
  },
  oauthTimedOut: {
    title: "Browser sign-in timed out",
    meaning:
      "The browser did not come back within 5 minutes (Auth's PKCE flow expires then too). If it ended on the project's Site URL instead, this Auth does not accept the loopback redirect: add the Redirect URLs entry shown above. Start again.",
  },
  oauthCancelled: {
    title: "Browser sign-in cancelled",
    meaning: "The sign-in was stopped before the browser came back; the loopback listener is closed.",
  },
  oauthListener: {
    title: "No loopback port for the sign-in",
    meaning: "The app could not listen on 127.0.0.1 for the browser's return. Check that loopback connections are allowed.",
  },
  linkForAnotherProject: {
    title: "Link of another project",
    meaning:
      "The link points at another server than this profile's project, so its token was not sent here (it would be refused, and that project's live token would have been handed over). Paste it into that project's profile.",
  },
  noSignInWaiting: {
    title: "No browser sign-in waiting",
    meaning: "There is no sign-in in progress to wait for: start one with a provider's button.",
  },
  invalidMfaAnswer: {
    title: "Unusable MFA answer from Auth",
    meaning: "The server answered an MFA call with success, but without what Auth sends (an id, a secret, a URI). Nothing changed.",
  },
  notReady: {
    title: "Not ready yet",
    meaning: "The app is still starting or switching profiles. Try again in a moment.",
  },
  profileBusy: {
    title: "Profile still saving",
    meaning:
      "The profile's session was still being written to the keyring (often a keyring waiting to be unlocked), so the profile was not removed: it is still listed, with its stored session. Unlock the keyring if it asks, then remove it again.",
  },
  noProfile: {
    title: "No profile yet",
    meaning: "This build has no built-in demo server, and no project has been added: add one with + Project.",
  },
  noBuiltInServer: {
    title: "No built-in server in this build",
    meaning:
      "The profile is the built-in demo, saved by a build that has its server; this build was made without it. The profile is kept for that build: choose or add a project here.",
  },
  denied: {
    title: "Not permitted",
    meaning: "The app's permissions do not allow this command from the window. This is a bug in the app.",
  },
  internal: {
    title: "Something went wrong inside the app",
    meaning: "An internal failure; details are kept out of the window because they could contain paths or secrets.",
  },
  unknown: {
    title: "Unknown error",
    meaning: "The app could not tell what kind of failure this was; the message is all there is.",
  },
};

function byStatus(status: number): Entry | null {
  if (status === 0) return KINDS.retryableFetch ?? null;
  if (status === 400) return { title: "Bad request", meaning: "Auth rejected the request as malformed or not allowed." };
  if (status === 401) {
    return { title: "Not authenticated", meaning: "Auth did not accept the credentials or token sent (HTTP 401)." };
  }
  if (status === 403) {
    return { title: "Forbidden", meaning: "Auth understood who is asking but refuses this action (HTTP 403)." };
  }
  if (status === 404) return { title: "Not found", meaning: "The endpoint or object does not exist on this server (HTTP 404)." };
  if (status === 422) {
    return { title: "Cannot process", meaning: "The request was well-formed but Auth cannot act on it (HTTP 422)." };
  }
  if (status === 429) return CODES.over_request_rate_limit ?? null;
  if (status === 500) {
    return { title: "Auth server error", meaning: "The server failed (HTTP 500). The session is kept; check the project's Auth logs." };
  }
  if (status === 502 || status === 504) {
    return {
      title: "Gateway error",
      meaning: `A proxy in front of Auth got no good answer (HTTP ${status}). Usually temporary; the session is kept.`,
    };
  }
  if (status === 503) {
    return {
      title: "Auth unavailable",
      meaning: "The server is down or overloaded (HTTP 503), e.g. a paused project. The session is kept; try again later.",
    };
  }
  if (status >= 500) return { title: "Server error", meaning: `The server failed (HTTP ${status}). The session is kept.` };
  if (status >= 400) return { title: "Request refused", meaning: `Auth refused the request (HTTP ${status}).` };
  return null;
}

/** Title and meaning for a failure: by GoTrue code first, then the app's kind, then the status. */
export function explainError(e: ErrorLike): ErrorExplanation {
  const code = e.code ?? null;
  // A retryable failure with an answer (a 5xx) is described by its status, which says more
  // than "unreachable".
  const answered = e.kind === "retryableFetch" && e.status ? byStatus(e.status) : null;
  const known =
    (code !== null ? CODES[code] : undefined) ?? answered ?? KINDS[e.kind] ?? (e.status != null ? byStatus(e.status) : null);
  if (known) {
    // A code we have no words for still deserves a mention.
    const meaning = code !== null && !CODES[code] ? `${known.meaning} Auth's code: ${code}.` : known.meaning;
    return { title: known.title, meaning, code };
  }
  if (code !== null) {
    return { title: "Auth refused the request", meaning: `GoTrue answered with code ${code}; the message says more.`, code };
  }
  return { title: "Something failed", meaning: "No more detail than the message is available.", code };
}
