// What each field of a Supabase Auth access token means, in one line a developer can act on.
// Pure functions: the table component only lays the rows out.

import { localTime, relativeTime, timeAt } from "./format";

export interface ClaimContext {
  /** The current time in unix seconds; defaults to the clock. */
  now?: number;
}

export interface ClaimRow {
  part: "header" | "payload";
  name: string;
  /** The value as shown: strings as they are, everything else as compact JSON. */
  value: string;
  /** A local date and time for the time claims (exp, iat, nbf, auth_time), else null. */
  human: string | null;
  explanation: string;
}

/** Header fields first in this order, then any others alphabetically. */
const HEADER_ORDER = ["alg", "typ", "kid"];

/** Payload claims first in this order (who, for what, when, how), then the rest alphabetically. */
const PAYLOAD_ORDER = [
  "iss",
  "sub",
  "aud",
  "role",
  "exp",
  "iat",
  "nbf",
  "email",
  "phone",
  "aal",
  "amr",
  "session_id",
  "is_anonymous",
  "app_metadata",
  "user_metadata",
  "jti",
];

const TIME_CLAIMS = new Set(["exp", "iat", "nbf", "auth_time"]);

function nowSeconds(context?: ClaimContext): number {
  return context?.now ?? Date.now() / 1000;
}

/** "in 2 minutes", "3 minutes ago", "just now" for `at` relative to `now` (both unix seconds).
 *  Within two seconds either way is "just now": claims have one-second resolution and the
 *  window's clock ticks once a second, so a token issued this second must not read "in 1 second". */
export function fromNow(at: number, now: number): string {
  return relativeTime(at - now, 2);
}

function isTime(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

function list(value: unknown): string {
  return Array.isArray(value) ? value.map(String).join(", ") : String(value);
}

function record(value: unknown): Record<string, unknown> | null {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

function timeClaim(name: string, value: unknown, now: number): string {
  if (!isTime(value)) return `${name} should be a number of seconds since 1970, but it is ${JSON.stringify(value)}.`;
  const when = `${localTime(value)} (${fromNow(value, now)})`;
  const past = value <= now;
  switch (name) {
    case "exp":
      return past
        ? `Expired ${when}: the Data API and Storage reject it now; the client must refresh with the refresh token.`
        : `Expires ${when}. Until then any Supabase API accepts it without asking Auth; after it, the client refreshes.`;
    case "iat":
      return `Issued ${when}, at sign-in or by the last refresh.`;
    case "nbf":
      return past
        ? `Not valid before ${when}: already in effect.`
        : `Not valid before ${when}: rejected until then (or a clock is off).`;
    default:
      return `Authenticated ${when}.`;
  }
}

function explainAmr(value: unknown, now: number): string {
  if (!Array.isArray(value) || value.length === 0) {
    return "Authentication methods used in this session (none listed).";
  }
  const steps = value.map((entry) => {
    const item = record(entry);
    if (!item) return String(entry);
    const method = typeof item.method === "string" ? item.method : "unknown method";
    return isTime(item.timestamp) ? `${method} at ${timeAt(item.timestamp, now)}` : method;
  });
  return `How the user proved who they are in this session: ${steps.join(", ")}. MFA adds a step here.`;
}

function explainAppMetadata(value: unknown): string {
  const meta = record(value);
  const base = "Set by the server; users cannot change it, so it is safe to use for authorization (RLS, hooks).";
  if (!meta) return base;
  const parts: string[] = [];
  if (typeof meta.provider === "string") parts.push(`signed up with ${meta.provider}`);
  if (Array.isArray(meta.providers) && meta.providers.length > 0) parts.push(`linked: ${list(meta.providers)}`);
  return parts.length > 0 ? `${base} Here: ${parts.join("; ")}.` : base;
}

/** A one-line explanation of one JWT claim or header field, as Supabase Auth uses it. */
export function explainClaim(name: string, value: unknown, context?: ClaimContext): string {
  const now = nowSeconds(context);
  if (TIME_CLAIMS.has(name)) return timeClaim(name, value, now);

  switch (name) {
    case "iss":
      return typeof value === "string" && /\/auth\/v1\/?$/.test(value)
        ? `Issuer: the Auth server of the project that minted this token (${value}).`
        : `Issuer: ${String(value)}. Supabase Auth uses the project's /auth/v1 URL; anything else came from another issuer.`;
    case "sub":
      return "The user's id (auth.users.id): what auth.uid() returns inside RLS policies.";
    case "aud":
      return list(value) === "authenticated"
        ? "Audience \"authenticated\": every signed-in user gets it. RLS policies key on role, not on aud."
        : `Audience ${JSON.stringify(value)}: who the token is meant for. Supabase Auth normally sets "authenticated".`;
    case "role":
      switch (value) {
        case "authenticated":
          return "Postgres role PostgREST switches to for this request: authenticated, a signed-in user (policies \"to authenticated\" apply).";
        case "anon":
          return "Postgres role anon: no user signed in (the anon key carries it). Only policies for anon apply.";
        case "service_role":
          return "Postgres role service_role: bypasses RLS entirely. It belongs on servers only, never in a client.";
        default:
          return `Postgres role PostgREST switches to: ${String(value)}, a custom role that must exist and be granted to authenticator.`;
      }
    case "email":
      return value
        ? "The user's email when the token was minted; a change shows up after the next refresh."
        : "No email address on this user.";
    case "phone":
      return value
        ? "The user's phone number when the token was minted; a change shows up after the next refresh."
        : "No phone number on this user.";
    case "app_metadata":
      return explainAppMetadata(value);
    case "user_metadata":
      return "Editable by the user through updateUser(): fine for display, never trust it for authorization.";
    case "aal":
      if (value === "aal1") return "Assurance level aal1: one factor verified (password, magic link, OAuth, OTP…).";
      if (value === "aal2") return "Assurance level aal2: a second factor (MFA) was verified in this session.";
      return `Assurance level ${String(value)}: how strongly the user was authenticated.`;
    case "amr":
      return explainAmr(value, now);
    case "session_id":
      return "The auth.sessions row this token belongs to; every refresh keeps it. Sign-out ends it (scope local), all the user's sessions (global), or all the others (others).";
    case "is_anonymous":
      return value === true
        ? "Anonymous user from signInAnonymously(); becomes permanent by linking an identity (email, phone or OAuth). Check this claim in RLS to keep anonymous users out."
        : "Not anonymous: the user has a real identity (email, phone, OAuth…).";
    case "jti":
      return "Unique id of this one token.";
    case "kid":
      return "Key id: which of the project's signing keys signed the token; verifiers look it up in the JWKS.";
    case "alg":
      if (value === "HS256") {
        return "HS256: signed with the project's shared JWT secret (legacy). Only a holder of the secret can verify it.";
      }
      if (value === "ES256" || value === "RS256") {
        return `${value}: signed with an asymmetric signing key. Anyone can verify it with the public keys at /auth/v1/.well-known/jwks.json.`;
      }
      return `Signing algorithm ${String(value)}.`;
    case "typ":
      return "Token type: a JSON Web Token.";
    case "ref":
      return "Project reference: found in the project's API keys (anon, service_role), not in user tokens.";
    default:
      return "Custom claim: added by a custom access token hook or a third-party issuer, not by Supabase Auth itself.";
  }
}

/** The value as text for the table: strings unquoted, the rest as compact JSON. */
export function displayValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined) return "";
  return JSON.stringify(value) ?? String(value);
}

function ordered(fields: Record<string, unknown>, order: string[]): string[] {
  const known = order.filter((name) => Object.hasOwn(fields, name));
  const rest = Object.keys(fields)
    .filter((name) => !order.includes(name))
    .sort();
  return [...known, ...rest];
}

/** All header fields, then all claims: well-known ones first, the rest alphabetically. */
export function claimRows(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  now?: number,
): ClaimRow[] {
  const context: ClaimContext = { now: now ?? Date.now() / 1000 };
  const rows = (part: ClaimRow["part"], fields: Record<string, unknown>, order: string[]): ClaimRow[] =>
    ordered(fields, order).map((name) => {
      const value = fields[name];
      return {
        part,
        name,
        value: displayValue(value),
        human: part === "payload" && TIME_CLAIMS.has(name) && isTime(value) ? localTime(value) : null,
        explanation: explainClaim(name, value, context),
      };
    });
  return [...rows("header", header, HEADER_ORDER), ...rows("payload", claims, PAYLOAD_ORDER)];
}
