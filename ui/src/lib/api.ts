// The one place the UI crosses into Rust. Components call `api.*`, never `invoke` directly,
// and every failure arrives as an `AppError` with a stable `kind`.
import { Channel, invoke } from "@tauri-apps/api/core";
import type {
  About,
  AboutPath,
  CopiedAs,
  Copied,
  CopyFormat,
  DetectedStack,
  EmailChangeView,
  Exchange,
  Factor,
  IdentitiesView,
  InboxMessage,
  OAuthStarted,
  OtpChannel,
  OtpKind,
  OtpSent,
  SignInMethods,
  TotpEnrollmentView,
  LogItem,
  LogLayout,
  PastePreview,
  PasteRotated,
  ResetDone,
  Scenario,
  ScenarioInfo,
  ScenarioReport,
  SessionView,
  SignatureStatus,
  SignOutScope,
  Status,
  TimelineView,
  UserView,
} from "./types";

export interface AppInfo {
  name: string;
  version: string;
  identifier: string;
  tauriVersion: string;
}

/**
 * `kind` as the Rust side sends it (camelCase: "invalidInput", "internal", "notReady", or the
 * engine's own, e.g. "api", "retryableFetch"), plus the two the UI derives itself: "denied"
 * (the capability does not grant the command) and "unknown".
 */
export type ErrorKind = "invalidInput" | "internal" | "denied" | "unknown" | (string & {});

export class AppError extends Error {
  readonly kind: ErrorKind;
  /** GoTrue's error code, when the server sent one. */
  readonly code: string | null;
  /** The HTTP status, when there was an answer. */
  readonly status: number | null;

  constructor(kind: ErrorKind, message: string, code: string | null = null, status: number | null = null) {
    super(message);
    this.name = "AppError";
    this.kind = kind;
    this.code = code;
    this.status = status;
  }
}

/**
 * Commands reject with the app's `{kind, message}`; the IPC layer itself rejects with a plain
 * string (e.g. when a capability does not grant the command). Both become an AppError.
 */
export function toAppError(raw: unknown): AppError {
  if (raw instanceof AppError) return raw;
  if (typeof raw === "object" && raw !== null) {
    const { kind, message, code, status } = raw as Record<string, unknown>;
    if (typeof kind === "string" && typeof message === "string") {
      return new AppError(
        kind,
        message,
        typeof code === "string" ? code : null,
        typeof status === "number" ? status : null,
      );
    }
  }
  if (typeof raw === "string") {
    return new AppError(/not allowed/i.test(raw) ? "denied" : "unknown", raw);
  }
  if (raw instanceof Error) return new AppError("unknown", raw.message);
  return new AppError("unknown", "The app returned an error it could not describe.");
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (raw) {
    throw toAppError(raw);
  }
}

export const api = {
  appInfo: () => call<AppInfo>("app_info"),
  /** The build (commit, profile, licence) and the data folder's and log file's paths. */
  about: () => call<About>("app_about"),
  /** Rust puts the path on the clipboard (the window has no clipboard permission). */
  copyPath: (which: AboutPath) => call<void>("app_copy_path", { which }),
  /** Forgets everything the app keeps, here only (nothing is sent to any server), and opens
   *  what a fresh install opens (the built-in demo, in a build with it); answers what it did:
   *  the new status if a profile opened, why not, what was kept, where the fresh log starts. */
  resetAll: () => call<ResetDone>("app_reset"),
  status: () => call<Status>("inspector_status"),
  /** "Refresh now": `joined` is true when it shared a refresh already in flight. */
  refreshNow: () => call<{ session: SessionView; joined: boolean }>("session_refresh"),
  /** The access token's signature, checked against the project's keys. */
  signature: () => call<SignatureStatus>("session_signature"),
  /** Whether this profile's project JWT secret (for HS256 tokens) is in the keyring. */
  jwtSecretKept: () => call<boolean>("jwt_secret_kept"),
  /** Keeps the project's JWT secret in the keyring; it never comes back to the window. */
  jwtSecretSave: (secret: string) => call<void>("jwt_secret_save", { secret }),
  jwtSecretForget: () => call<void>("jwt_secret_forget"),
  /**
   * The one way a token reaches the webview: an explicit reveal or copy by the user.
   * `fingerprint` is the one on screen: the app refuses if the session has changed since.
   */
  reveal: (which: "access" | "refresh", fingerprint: string) =>
    call<string>("session_reveal", { which, fingerprint }),
  /** Copy: the app puts the token on the clipboard itself (the window never receives it) and
   *  clears it after `clearsInSecs` if it is still there. */
  copy: (which: "access" | "refresh", fingerprint: string) =>
    call<Copied>("session_copy", { which, fingerprint }),
  pastePreview: (text: string) => call<PastePreview>("paste_preview", { text }),
  /** Rotate a pasted refresh token: the new session or the server's refusal, with the
   *  prediction made just before sending and whether it held. */
  pasteRotate: (text: string) => call<PasteRotated>("paste_rotate", { text }),
  signInPassword: (email: string, password: string) =>
    call<SessionView>("auth_sign_in_password", { email, password }),
  signInAnonymously: () => call<SessionView>("auth_sign_in_anonymously"),
  signOut: (scope: SignOutScope) => call<void>("auth_sign_out", { scope }),
  /** What the project lets a user sign in with (`GET /settings`). */
  signInMethods: () => call<SignInMethods>("auth_sign_in_methods"),
  /** `POST /otp`: a code (and for email a magic link) to an email address or phone number. */
  sendCode: (channel: OtpChannel, recipient: string, createUser: boolean) =>
    call<OtpSent>("auth_otp_send", { channel, recipient, createUser }),
  verifyCode: (channel: OtpChannel, recipient: string, code: string, kind: OtpKind) =>
    call<SessionView>("auth_otp_verify", { channel, recipient, code, kind }),
  /** A magic or confirmation link pasted from an email, verified without opening it. */
  verifyEmailLink: (link: string) => call<SessionView>("auth_email_link_verify", { link }),
  /** Opens the system browser on the provider; `oauthWait` then waits for it to come back. */
  oauthStart: (provider: string) => call<OAuthStarted>("auth_oauth_start", { provider }),
  oauthWait: () => call<SessionView>("auth_oauth_wait"),
  oauthCancel: () => call<void>("auth_oauth_cancel"),
  /** The built-in demo server's inbox, newest first; null for a real project. */
  demoInbox: () => call<InboxMessage[] | null>("demo_inbox"),
  /** The built-in server's playground: its scenarios, what each does and what to watch. */
  playgroundScenarios: () => call<ScenarioInfo[]>("playground_scenarios"),
  /** Runs one scenario (the app changes the server and refreshes); its steps show in the log. */
  playgroundRun: (scenario: Scenario) => call<ScenarioReport>("playground_run", { scenario }),
  /** Undoes what the scenarios changed on the server (faults, outage, skew, rate limit, policy). */
  playgroundReset: () => call<void>("playground_reset"),
  mfaFactors: () => call<Factor[]>("mfa_factors"),
  /** Enrolls a TOTP factor; its secret and otpauth URI come back once, to be shown. */
  mfaEnrollTotp: (friendlyName: string | null) =>
    call<TotpEnrollmentView>("mfa_enroll_totp", { friendlyName }),
  /** Challenge + verify: the session steps up to aal2 (MFA_CHALLENGE_VERIFIED in the log). */
  mfaVerify: (factorId: string, code: string) => call<SessionView>("mfa_verify", { factorId, code }),
  mfaUnenroll: (factorId: string) => call<void>("mfa_unenroll", { factorId }),
  /** The user's linked identities (GET /user) and which one the access token's amr used. */
  identities: () => call<IdentitiesView>("identities_list"),
  /** Links another provider in the system browser; `oauthWait`/`oauthCancel` as for a sign-in. */
  linkIdentityStart: (provider: string) => call<OAuthStarted>("identities_link_start", { provider }),
  unlinkIdentity: (identityId: string) => call<void>("identities_unlink", { identityId }),
  /** `POST /recover`: a password-reset code and link to `email`; its verification (kind
   *  "recovery", or the pasted link) signs in with PASSWORD_RECOVERY. */
  resetPassword: (email: string) => call<void>("auth_reset_password", { email }),
  /** `PUT /user {email}`: confirmation mail goes out; the answer's `newEmail` is pending. */
  changeEmail: (email: string) => call<UserView>("account_change_email", { email }),
  /** `PUT /user {password, nonce, current_password}`: `nonce` is the reauthentication code and
   *  `currentPassword` the user's current password, each when the project asks for it. */
  changePassword: (password: string, nonce: string | null, currentPassword: string | null) =>
    call<UserView>("account_change_password", { password, nonce, currentPassword }),
  /** `GET /reauthenticate`: the nonce a password change needs goes to the user. */
  reauthenticate: () => call<void>("account_reauthenticate"),
  /** `POST /resend {type: email_change}` for the signed-in user's pending change. */
  resendEmailChange: () => call<void>("account_resend_email_change"),
  /** `POST /verify {type: email_change}` with the code sent to `email` (either address). */
  confirmEmailChange: (email: string, code: string) =>
    call<EmailChangeView>("account_confirm_email_change", { email, code }),
  confirmEmailChangeLink: (link: string) => call<EmailChangeView>("account_confirm_email_change_link", { link }),
  /** Ends a session whose refresh token was rejected, here only (no request). */
  endSession: () => call<void>("auth_end_session"),
  /** Saves NDJSON (already redacted log items) to the Downloads folder (the app's data folder
   *  when there is none); returns the path. */
  exportLog: (fileName: string, ndjson: string) => call<string>("log_export", { fileName, ndjson }),
  exchange: (id: number) => call<Exchange | null>("log_exchange", { id }),
  /** The active profile's session timeline, from its history (fingerprints and claims only). */
  timeline: () => call<TimelineView>("timeline_get"),
  /** The exchange as curl or supabase-js, put on the clipboard by the app. Redacted unless
   *  `realTokens` (after the user confirmed): the window hears only which secrets were filled. */
  logLayout: () => call<LogLayout>("log_layout"),
  saveLogLayout: (layout: LogLayout) => call<LogLayout>("log_layout_save", { layout }),
  copyExchangeAs: (id: number, format: CopyFormat, realTokens: boolean) =>
    call<CopiedAs>("log_copy_as", { id, format, realTokens }),
  setAutoRefresh: (enabled: boolean, marginSecs: number) =>
    call<Status>("settings_auto_refresh", { enabled, marginSecs }),
  addProfile: (name: string, projectUrl: string, anonKey: string) =>
    call<Status>("profile_add", { name, projectUrl, anonKey }),
  selectProfile: (id: string) => call<Status>("profile_select", { id }),
  removeProfile: (id: string) => call<Status>("profile_remove", { id }),
  detectLocalStack: () => call<DetectedStack | null>("profile_detect_local"),
  /** The live log, item by item (auth events starting with INITIAL_SESSION, requests,
   *  failures, joined refreshes, profile switches, the server's clock offset); it follows
   *  profile switches. The app sends the items ready at once in one message; an item whose
   *  handler throws loses only itself, not the rest of its message. */
  onLog: async (handler: (item: LogItem) => void) => {
    const channel = new Channel<LogItem[]>();
    channel.onmessage = (batch) => {
      for (const item of batch) {
        try {
          handler(item);
        } catch (error) {
          console.error("a live-log item could not be shown", error);
        }
      }
    };
    await call<void>("session_events", { onEvent: channel });
  },
};
