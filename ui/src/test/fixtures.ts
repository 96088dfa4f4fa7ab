// What the app sends, as the component tests hand it to components: one session, the status,
// a project's sign-in methods, log rows. Each builder takes the fields a test cares about.
import type {
  ClientForecast,
  ClientRulesView,
  LogItem,
  RejectionView,
  SessionView,
  SignInMethods,
  Status,
  UserView,
} from "../lib/types";

/** 2024-05-01 14:00:00 UTC, the moment the fixtures' session was issued. */
export const ISSUED_AT = 1_714_572_000;
/** One hour later: when its access token expires. */
export const EXPIRES_AT = ISSUED_AT + 3600;

export function user(over: Partial<UserView> = {}): UserView {
  return {
    id: "5a3f7c1e-2b4d-4e6f-8a9b-0c1d2e3f4a5b",
    email: "ada@example.com",
    phone: "",
    role: "authenticated",
    isAnonymous: false,
    newEmail: null,
    emailChangeSentAt: null,
    ...over,
  };
}

export function session(over: Partial<SessionView> = {}): SessionView {
  return {
    user: user(),
    sessionId: "0d9c8b7a-6f5e-4d3c-2b1a-098765432100",
    expiresAt: EXPIRES_AT,
    issuedAt: ISSUED_AT,
    tokenType: "bearer",
    header: { alg: "ES256", kid: "key-1", typ: "JWT" },
    claims: {
      sub: "5a3f7c1e-2b4d-4e6f-8a9b-0c1d2e3f4a5b",
      role: "authenticated",
      exp: EXPIRES_AT,
      iat: ISSUED_AT,
      aal: "aal1",
      amr: [{ method: "password", timestamp: ISSUED_AT }],
      session_id: "0d9c8b7a-6f5e-4d3c-2b1a-098765432100",
    },
    accessTokenFingerprint: "at:3f9a12",
    refreshTokenFingerprint: "rt:b71c0e",
    refreshTokenShape: { format: "legacy" },
    clients: [],
    ...over,
  };
}

export function rejection(over: Partial<RejectionView> = {}): RejectionView {
  return {
    code: "refresh_token_not_found",
    status: 400,
    message: "Invalid Refresh Token: Refresh Token Not Found",
    accessTokenExpiresAt: EXPIRES_AT,
    refreshTokenFingerprint: "rt:b71c0e",
    text: "refresh token rejected: refresh_token_not_found (HTTP 400); the access token works until 15:00:00",
    ...over,
  };
}

export function status(over: Partial<Status> = {}): Status {
  return {
    profile: "Demo",
    profileId: "built-in-demo",
    builtIn: true,
    serverUrl: "http://127.0.0.1:54321",
    profiles: [
      { id: "built-in-demo", name: "Demo", builtIn: true, url: "http://127.0.0.1:54321", unavailable: null },
      { id: "p1", name: "Production", builtIn: false, url: "https://abc.supabase.co", unavailable: null },
    ],
    removable: false,
    autoRefresh: false,
    refreshMarginSecs: 30,
    expiryMarginSecs: 10,
    marginMinSecs: 5,
    marginMaxSecs: 3600,
    demoAccount: { email: "demo@sessioninspector.local", password: "demo-password" },
    keyring: "secretService",
    keyringNotice: null,
    officialClients: [],
    ...over,
  };
}

export function methods(over: Partial<SignInMethods> = {}): SignInMethods {
  return {
    email: true,
    phone: false,
    anonymous: true,
    providers: [],
    disableSignup: false,
    mailerAutoconfirm: true,
    phoneAutoconfirm: false,
    saml: false,
    ...over,
  };
}

export function clientRule(over: Partial<ClientRulesView> = {}): ClientRulesView {
  return {
    client: "supabase-js",
    package: "@supabase/auth-js",
    getSessionMarginSecs: 10,
    failureCooldownSecs: null,
    retries: "network errors, 500–504, 520–530",
    onRejected: "endsAfterExpiry",
    onRejectedText: "keeps the session until the access token expires, then signs out",
    sources: [{ name: "EXPIRY_MARGIN_MS", value: "10000", file: "src/lib/constants.ts" }],
    ...over,
  };
}

export function forecast(over: Partial<ClientForecast> = {}): ClientForecast {
  return {
    client: "supabase-js",
    autoRefreshFrom: EXPIRES_AT - 90,
    autoRefreshBy: EXPIRES_AT - 60,
    getSessionRefreshesFrom: EXPIRES_AT - 10,
    ...over,
  };
}

/** RFC 3339 for a unix time, as the log's `at` carries it. */
export const iso = (unix: number) => new Date(unix * 1000).toISOString();

let seq = 0;

type EventView = Extract<LogItem, { type: "event" }>["event"];

export function eventRow(kind: EventView["kind"], over: Partial<EventView> = {}): LogItem {
  const at = iso(ISSUED_AT + 60);
  return {
    type: "event",
    seq: ++seq,
    at,
    event: { kind, previous: null, at, reason: null, exchangeId: null, causeLabel: null, session: session(), rejection: null, ...over },
  };
}

export function requestRow(over: Partial<Extract<LogItem, { type: "request" }>["request"]> = {}): LogItem {
  const id = ++seq;
  return {
    type: "request",
    seq: id,
    at: iso(ISSUED_AT + 61),
    request: {
      id,
      method: "POST",
      path: "/auth/v1/token?grant_type=refresh_token",
      status: 200,
      durationMs: 42,
      code: null,
      error: null,
      ...over,
    },
  };
}

export function failureRow(operation: string, error: Extract<LogItem, { type: "failure" }>["error"]): LogItem {
  return { type: "failure", seq: ++seq, at: iso(ISSUED_AT + 62), operation, error, exchangeId: null };
}

export function joinedRow(operation: string): LogItem {
  return { type: "joined", seq: ++seq, at: iso(ISSUED_AT + 63), operation };
}
