// Shapes the Rust side sends (src-tauri/src/views.rs, src-tauri/src/log.rs). Tokens never
// appear, except as the return value of the explicit reveal command: fingerprints do.

export interface UserView {
  id: string;
  email: string;
  phone: string;
  role: string;
  isAnonymous: boolean;
}

export type RefreshTokenShape =
  | { format: "legacy" }
  | { format: "v2"; session_id: string; counter: number }
  | { format: "unknown" };

export interface SessionView {
  user: UserView;
  sessionId: string | null;
  expiresAt: number;
  issuedAt: number | null;
  tokenType: string;
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  accessTokenFingerprint: string;
  refreshTokenFingerprint: string;
  refreshTokenShape: RefreshTokenShape;
}

export type EventKind = "INITIAL_SESSION" | "SIGNED_IN" | "TOKEN_REFRESHED" | "SIGNED_OUT" | "USER_UPDATED";

export interface EventView {
  kind: EventKind;
  previous: EventKind | null;
  at: string;
  reason: string | null;
  exchangeId: number | null;
  session: SessionView | null;
}

/** A failure as the webview receives it: `kind` is stable; `code`/`status` when GoTrue sent them. */
export interface ErrorView {
  kind: string;
  message: string;
  code?: string | null;
  status?: number | null;
}

/** One HTTP exchange in brief (secrets already replaced by fingerprints). */
export interface RequestSummary {
  id: number;
  method: string;
  /** Path and query, e.g. `/auth/v1/token?grant_type=refresh_token`. */
  path: string;
  /** null when no answer arrived (timeout, connection refused). */
  status: number | null;
  durationMs: number;
  /** GoTrue's error code from the answer's body, when there was one. */
  code: string | null;
  /** Transport failure in words, when there was no answer. */
  error: string | null;
}

/**
 * One row of the live log, as streamed by `session_events`. `seq` increases by one per item
 * and is unique for the app's lifetime; `at` is an RFC 3339 timestamp with milliseconds.
 */
export type LogItem =
  | { type: "event"; seq: number; at: string; event: EventView }
  | { type: "request"; seq: number; at: string; request: RequestSummary }
  /** A user action or the auto-refresh failed; `operation` e.g. "refresh", "paste", "signIn". */
  | { type: "failure"; seq: number; at: string; operation: string; error: ErrorView; exchangeId: number | null }
  /** A refresh that joined one already in flight instead of sending its own request. */
  | { type: "joined"; seq: number; at: string; operation: string }
  /** The active profile changed; the UI reloads status. */
  | { type: "profile"; seq: number; at: string; profile: string }
  /** The server's clock minus ours, from the last answer's Date header (ms). */
  | { type: "clock"; seq: number; at: string; offsetMs: number };

export type LogType = LogItem["type"];

/** The full, redacted HTTP exchange behind a log row. */
export interface Exchange {
  id: number;
  startedAt: string;
  durationMs: number;
  method: string;
  url: string;
  requestHeaders: [string, string][];
  requestBody: string | null;
  status: number | null;
  responseHeaders: [string, string][];
  responseBody: string | null;
  serverDate: string | null;
  error: string | null;
}

export type SignatureStatus =
  | { status: "verified"; alg: string; kid: string | null }
  | { status: "invalid_signature"; alg: string; reason: string }
  | { status: "not_verified"; reason: string };

export interface ProfileView {
  id: string;
  name: string;
  builtIn: boolean;
  /** The project URL, or the built-in server's loopback URL. */
  url: string | null;
}

export interface Status {
  profile: string;
  profileId: string;
  builtIn: boolean;
  /** The built-in server's URL while the demo profile is active. */
  serverUrl: string | null;
  profiles: ProfileView[];
  autoRefresh: boolean;
  refreshMarginSecs: number;
  keyring: "secretService" | "kernelKeyring" | "memory";
  keyringNotice: string | null;
}

/** What a paste was recognized as, before anything is sent. */
export interface PastePreview {
  kind: "refresh_token" | "access_token" | "bearer_header" | "storage_value" | "ssr_cookie" | "token_response";
  description: string;
  refreshTokenFingerprint: string | null;
  refreshTokenShape: RefreshTokenShape | null;
  /** Claims of the access token in the paste, when there was one. */
  accessClaims: Record<string, unknown> | null;
  /** True when the pasted refresh token is the current session's. */
  isCurrent: boolean;
  /** True when the input can be rotated (it holds a refresh token). */
  canRotate: boolean;
  warnings: string[];
}

export interface DetectedStack {
  url: string;
  anonKey: string;
}

export type SignOutScope = "global" | "local" | "others";
