// The timeline's drawing, as pure functions of the view the app sends (`timeline_get`): where
// each access token's life and each mark sit on a session's time axis, which token is live, and
// the list the claims diff picks from. Times are Unix seconds; positions are percentages of the
// axis.

import { usableOffset } from "./time";
import type { TimelineMark, TimelineSession, TimelineToken, TimelineView } from "./types";

export interface Bar {
  token: TimelineToken;
  /** Where the token's life starts and how wide it is (percent of the axis). */
  left: number;
  width: number;
  /** Where a later token replaced it (percent of the axis), if one did before it expired. */
  replacedAt: number | null;
  /** The session's current token, not expired yet. */
  live: boolean;
  /** Expired by `now`. */
  expired: boolean;
}

export interface PlacedMark {
  mark: TimelineMark;
  left: number;
}

export interface Axis {
  start: number;
  end: number;
  bars: Bar[];
  marks: PlacedMark[];
}

/** Seconds of an RFC 3339 time; null when it does not parse. */
export function seconds(iso: string): number | null {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms / 1000;
}

/**
 * How far the server's clock ran ahead of this machine's when it issued `token`, in seconds:
 * a token this app just got (any cause but a start-up recovery, which may bring back an old
 * one) arrived as it was issued, so its `iat` less its arrival is that lead (the same
 * two-second floor as the countdown's offset). Taken off the token's `iat` and `exp`, so that
 * bars, marks and "now" are all on this machine's clock, a skewed server included.
 */
export function serverLead(token: TimelineToken): number {
  if (token.issuedAt === null || !token.cause || token.cause === "startUp") return 0;
  const arrived = seconds(token.at);
  if (arrived === null) return 0;
  return usableOffset((token.issuedAt - arrived) * 1000) / 1000;
}

/** When a token's life starts on this machine's clock: its `iat`, else when it arrived. */
const startOf = (token: TimelineToken) =>
  token.issuedAt !== null ? token.issuedAt - serverLead(token) : seconds(token.at);

/** When it expires on this machine's clock. */
const endOf = (token: TimelineToken) =>
  token.expiresAt !== null ? token.expiresAt - serverLead(token) : null;

/** One session's axis: from its first token (or mark) to the last expiry, `now` included
 *  while the session is open. */
export function axisOf(session: TimelineSession, now: number): Axis {
  const times: number[] = [];
  for (const token of session.tokens) {
    const start = startOf(token);
    if (start !== null) times.push(start);
    const end = endOf(token);
    if (end !== null) times.push(end);
  }
  for (const mark of session.marks) {
    const at = seconds(mark.at);
    if (at !== null) times.push(at);
  }
  if (!session.ended) times.push(now);
  const start = times.length ? Math.min(...times) : now;
  const end = Math.max(start + 1, ...times);
  const place = (t: number) => Math.min(100, Math.max(0, ((t - start) / (end - start)) * 100));
  const last = session.tokens.length - 1;
  const bars = session.tokens.map((token, i): Bar => {
    const from = startOf(token) ?? start;
    const to = endOf(token) ?? Math.max(from, now);
    const next = session.tokens[i + 1];
    const replaced = next ? (seconds(next.at) ?? startOf(next)) : null;
    const ends = endOf(token);
    const expired = ends !== null && ends <= now;
    return {
      token,
      left: place(from),
      width: Math.max(0.5, place(to) - place(from)),
      replacedAt: replaced !== null && replaced < to ? place(replaced) : null,
      live: i === last && !session.ended && !expired,
      expired,
    };
  });
  const marks = session.marks.map((mark) => ({ mark, left: place(seconds(mark.at) ?? end) }));
  return { start, end, bars, marks };
}

/** What a mark's chip says: a failure's status and code (and how many times it came in a
 *  row), a sign-out's reason. */
export function markText(mark: TimelineMark): string {
  if (mark.kind === "signedOut") return mark.code ? `Signed out (${mark.code})` : "Signed out";
  const status = mark.status === 0 ? "no answer" : mark.status !== null ? String(mark.status) : null;
  const what = [status, mark.code].filter(Boolean).join(" ");
  const prefix = mark.kind === "rejected" ? "Rejected" : "Failed";
  const times = mark.repeat > 1 ? ` ×${mark.repeat}` : "";
  return (what ? `${prefix} ${what}` : prefix) + times;
}

/** How many of a session's newest tokens are drawn until the user asks for older ones. */
export const TOKENS_SHOWN = 20;
/** How many of the newest sessions are drawn until the user asks for older ones. */
export const SESSIONS_SHOWN = 5;

export interface Capped {
  /** The session with only its newest `limit` tokens, and the marks from the first of them on. */
  session: TimelineSession;
  /** How many older tokens and marks are folded away. */
  hiddenTokens: number;
  hiddenMarks: number;
}

/** A session cut to its newest `limit` tokens, so that a session refreshed for weeks draws a
 *  few rows on an axis of their span, not a thousand hairlines. */
export function capped(session: TimelineSession, limit: number): Capped {
  const hiddenTokens = Math.max(0, session.tokens.length - limit);
  if (hiddenTokens === 0) return { session, hiddenTokens: 0, hiddenMarks: 0 };
  const tokens = session.tokens.slice(hiddenTokens);
  const from = seconds(tokens[0]!.at) ?? -Infinity;
  const marks = session.marks.filter((mark) => (seconds(mark.lastAt) ?? Infinity) >= from);
  return {
    session: { ...session, tokens, marks },
    hiddenTokens,
    hiddenMarks: session.marks.length - marks.length,
  };
}

/** A token as the pickers and the chain name it: its position in the session and its cause. */
export function tokenName(token: TimelineToken, index: number): string {
  const counter = token.counter !== null ? ` · #${token.counter}` : "";
  return `Token ${index + 1} · ${token.label}${counter}`;
}

export interface Pick {
  id: string;
  name: string;
  token: TimelineToken;
  /** The index of its session in the view. */
  session: number;
}

/** Every token that kept its claims, oldest first, named with its session: what the diff picks from. */
export function pickable(view: TimelineView): Pick[] {
  const picks: Pick[] = [];
  view.sessions.forEach((session, s) => {
    session.tokens.forEach((token, i) => {
      if (token.claims) picks.push({ id: token.id, name: `Session ${s + 1} · ${tokenName(token, i)}`, token, session: s });
    });
  });
  return picks;
}

/** The diff's default pair: the last two tokens of the newest session that has two (a fresh
 *  sign-in's first token is not compared with the session before it), else the last two. */
export function defaultPair(picks: Pick[]): [string, string] | null {
  const sessions = [...new Set(picks.map((p) => p.session))].reverse();
  for (const session of sessions) {
    const [a, b] = picks.filter((p) => p.session === session).slice(-2);
    if (a && b) return [a.id, b.id];
  }
  const [a, b] = picks.slice(-2);
  return a && b ? [a.id, b.id] : null;
}

/** Totals for the panel's summary line. */
export function summary(view: TimelineView): { sessions: number; tokens: number; failures: number } {
  let tokens = 0;
  const failed = (marks: TimelineMark[]) =>
    marks.filter((m) => m.kind !== "signedOut").reduce((n, m) => n + m.repeat, 0);
  let failures = failed(view.stray);
  for (const session of view.sessions) {
    tokens += session.tokens.length;
    failures += failed(session.marks);
  }
  return { sessions: view.sessions.length, tokens, failures };
}

/** The accessible name of the link that made a token: which token, what made it, and the
 *  token's fingerprint (so that it is not heard as one more "Refresh now" button). */
export function linkName(token: TimelineToken, index: number): string {
  const which = index === 0 ? `Token 1, start of the chain` : `Rotation ${index + 1}`;
  const counter = token.counter !== null ? ` #${token.counter}` : "";
  return `${which}: ${token.label}, ${token.refreshTokenFingerprint ?? "no fingerprint"}${counter}: show its exchange`;
}
