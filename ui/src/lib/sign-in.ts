// Pure helpers of the sign-in panel and the MFA panel: which tab a project gets, what a typed
// recipient is, how providers are named, which inbox messages belong to whom, and what the
// session's assurance level means for the user.
import type { Factor, InboxMessage, OtpKind, SignInMethods } from "./types";

export type SignInTab = "password" | "email-code" | "phone-code" | "browser";

/** The tabs a project's `/settings` allows, in the order the panel shows them. */
export function tabsFor(methods: SignInMethods | null): SignInTab[] {
  // Until the settings answer (or when they cannot be read), password stays offered: it is
  // what every project had before, and the server's own answer says if it is off.
  if (!methods) return ["password"];
  const tabs: SignInTab[] = [];
  // The password form takes an email address (GoTrue refuses it when email is off).
  if (methods.email) tabs.push("password");
  if (methods.email) tabs.push("email-code");
  if (methods.phone) tabs.push("phone-code");
  if (methods.providers.length > 0) tabs.push("browser");
  return tabs;
}

export const TAB_LABELS: Record<SignInTab, string> = {
  password: "Password",
  "email-code": "Email code",
  "phone-code": "Phone code",
  browser: "OAuth",
};

/** Whether a failed send still leaves an earlier code usable: GoTrue refuses a resend within
 *  the frequency limit before it makes a new code, so the last one still works. */
export function earlierCodeStillWorks(code: string | null): boolean {
  return code === "over_email_send_rate_limit" || code === "over_sms_send_rate_limit";
}

/** The `type` GoTrue's `/verify` takes for a sign-in code sent to this kind of recipient. */
export function otpKindFor(channel: "email" | "phone"): OtpKind {
  return channel === "email" ? "email" : "sms";
}

const PROVIDER_NAMES: Record<string, string> = {
  github: "GitHub",
  gitlab: "GitLab",
  google: "Google",
  azure: "Microsoft (Azure)",
  linkedin_oidc: "LinkedIn",
  slack_oidc: "Slack",
  workos: "WorkOS",
  keycloak: "Keycloak",
  twitter: "X (Twitter)",
};

/** A provider's name as people write it. */
export function providerLabel(provider: string): string {
  return (
    PROVIDER_NAMES[provider] ??
    provider
      .split("_")
      .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
      .join(" ")
  );
}

/** Digits of a phone number, as GoTrue compares them (it drops `+`, spaces and dashes). */
function phoneDigits(value: string): string {
  return value.replace(/[^0-9]/g, "");
}

/** The inbox messages sent to `recipient` (an email, any case, or a phone number in any
 *  punctuation), newest first as the inbox gives them. */
export function inboxFor(messages: InboxMessage[], recipient: string): InboxMessage[] {
  const wanted = recipient.trim();
  if (!wanted) return messages;
  if (wanted.includes("@")) {
    return messages.filter((m) => m.to.toLowerCase() === wanted.toLowerCase());
  }
  const digits = phoneDigits(wanted);
  return messages.filter((m) => digits.length > 0 && phoneDigits(m.to) === digits);
}

export interface AssuranceSummary {
  /** The access token's `aal`. */
  current: string;
  /** The user has a verified factor and this session has not used it yet: apps and RLS
   *  policies that ask for aal2 refuse it. */
  needsStepUp: boolean;
  /** How the session got here (the token's `amr`, oldest first). */
  methods: string[];
}

/**
 * What the session's assurance level means, as auth-js's `getAuthenticatorAssuranceLevel`
 * works it out (the token's `aal` and `amr`; aal2 is next when a verified factor exists), but
 * from the user's factors as the server lists them now, not as they were at sign-in.
 */
export function summarizeAssurance(
  claims: Record<string, unknown>,
  factors: Pick<Factor, "status">[],
): AssuranceSummary | null {
  const current = typeof claims.aal === "string" ? claims.aal : null;
  if (!current) return null;
  const amr = Array.isArray(claims.amr) ? (claims.amr as { method?: unknown; timestamp?: unknown }[]) : [];
  const methods = [...amr]
    .sort((a, b) => Number(a.timestamp ?? 0) - Number(b.timestamp ?? 0))
    .map((entry) => String(entry.method ?? "?"));
  const verified = factors.some((factor) => factor.status === "verified");
  return { current, needsStepUp: current === "aal1" && verified, methods };
}

/** The inbox messages of these kinds sent to any of `recipients` (blank ones are skipped),
 *  newest first: an email change's mail goes to both addresses. */
export function inboxOf(messages: InboxMessage[], recipients: (string | null | undefined)[], kinds: InboxMessage["kind"][]): InboxMessage[] {
  const wanted = recipients.map((r) => (r ?? "").trim()).filter((r) => r.length > 0);
  if (wanted.length === 0) return [];
  const ids = new Set(wanted.flatMap((r) => inboxFor(messages, r)).map((m) => m.id));
  return messages.filter((m) => ids.has(m.id) && kinds.includes(m.kind));
}
