// The live log's logic, free of the DOM: which items are rows, filtering and search, export,
// the arithmetic of the virtual window, and an exchange's body.

import { clockTime } from "./format";
import { explainError } from "./gotrue-errors";
import type { AuthEventKind, LogItem } from "./types";

/** An item that is shown as a row (profile and clock items only update the app's state). */
export type RowItem = Extract<LogItem, { type: "event" | "request" | "failure" | "joined" }>;

/** What a filter chip selects: one auth event kind, or one of the other row types. */
export type RowKind = AuthEventKind | "request" | "failure" | "joined";

const EVENT_KINDS: readonly AuthEventKind[] = [
  "INITIAL_SESSION",
  "SIGNED_IN",
  "TOKEN_REFRESHED",
  "SIGNED_OUT",
  "USER_UPDATED",
  "PASSWORD_RECOVERY",
  "MFA_CHALLENGE_VERIFIED",
  "REFRESH_REJECTED",
];

/** The filter chips, in order: each auth event kind by its name, then the other row types. */
export const FILTER_CHIPS: readonly { kind: RowKind; label: string }[] = [
  ...EVENT_KINDS.map((kind) => ({ kind, label: kind })),
  { kind: "request", label: "requests" },
  { kind: "failure", label: "failures" },
  { kind: "joined", label: "joined" },
];

export interface LogFilter {
  /** The kinds to show. Empty means no restriction: every kind is shown. */
  kinds: ReadonlySet<RowKind>;
  /** Free text; every whitespace-separated word must occur in the row (case-insensitive). */
  query: string;
}

export function isRow(item: LogItem): item is RowItem {
  return item.type === "event" || item.type === "request" || item.type === "failure" || item.type === "joined";
}

export function rowKind(item: RowItem): RowKind {
  return item.type === "event" ? item.event.kind : item.type;
}

/** The words shown for a request's status: the number, or that no answer came. */
export function statusText(status: number | null): string {
  return status === null ? "no answer" : String(status);
}

/** How a status reads at a glance: no answer or 5xx is bad, 4xx a warning, the rest good. */
export function statusTone(status: number | null): "good" | "warn" | "bad" {
  if (status === null || status >= 500) return "bad";
  if (status >= 400) return "warn";
  return "good";
}

/** "refresh joined the one in flight — no second request". */
export function joinedText(operation: string): string {
  return `${operation} joined the one in flight — no second request`;
}

const textCache = new WeakMap<object, string>();

/** Everything a row shows, as one searchable line of text. */
export function rowText(item: RowItem): string {
  const cached = textCache.get(item);
  if (cached !== undefined) return cached;
  const parts: (string | number | null | undefined)[] = [clockTime(item.at)];
  switch (item.type) {
    case "event": {
      const { event } = item;
      parts.push(event.kind);
      if (event.previous && event.kind !== "INITIAL_SESSION") parts.push(`${event.previous} → ${event.kind}`);
      parts.push(event.reason, event.rejection?.text);
      const session = event.session;
      if (session) {
        parts.push(
          session.refreshTokenFingerprint,
          session.accessTokenFingerprint,
          session.sessionId,
          session.user.email,
          session.user.phone,
          session.user.id,
        );
      }
      break;
    }
    case "request": {
      const { request } = item;
      parts.push(
        "request",
        request.method,
        request.path,
        statusText(request.status),
        `${request.durationMs} ms`,
        request.code,
        request.error,
      );
      break;
    }
    case "failure": {
      const explained = explainError(item.error);
      parts.push("failure", item.operation, explained.title, item.error.message, item.error.code, item.error.kind);
      if (item.error.status != null) parts.push(item.error.status);
      break;
    }
    case "joined":
      parts.push("joined", joinedText(item.operation));
      break;
  }
  const text = parts
    .filter((p) => p !== null && p !== undefined && p !== "")
    .join(" ")
    .toLowerCase();
  textCache.set(item, text);
  return text;
}

/** The query split into lower-case words, ready for `matches`. */
export function queryTerms(query: string): string[] {
  return query.toLowerCase().split(/\s+/).filter(Boolean);
}

export function matches(item: LogItem, filter: LogFilter, terms: string[] = queryTerms(filter.query)): boolean {
  if (!isRow(item)) return false;
  if (filter.kinds.size > 0 && !filter.kinds.has(rowKind(item))) return false;
  if (terms.length === 0) return true;
  const text = rowText(item);
  return terms.every((term) => text.includes(term));
}

/** The rows that pass the filter, in the order given. */
export function filterRows(items: readonly LogItem[], filter: LogFilter): RowItem[] {
  const terms = queryTerms(filter.query);
  const out: RowItem[] = [];
  for (const item of items) {
    if (matches(item, filter, terms)) out.push(item as RowItem);
  }
  return out;
}

export function isFiltering(filter: LogFilter): boolean {
  return filter.kinds.size > 0 || queryTerms(filter.query).length > 0;
}

/** The exchange behind a row, when there is one. */
export function exchangeIdOf(item: RowItem): number | null {
  switch (item.type) {
    case "event":
      return item.event.exchangeId;
    case "request":
      return item.request.id;
    case "failure":
      return item.exchangeId;
    default:
      return null;
  }
}

/** A body as shown in the exchange panel: JSON indented, anything else as it came. */
export function prettyBody(body: string | null): string {
  if (body === null || body === "") return "";
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

/**
 * One JSON object per line, oldest first (by `seq`), newline-terminated. Each line is the
 * item exactly as it arrived: nothing is added, and the items never carry tokens.
 */
export function toNdjson(items: readonly LogItem[]): string {
  if (items.length === 0) return "";
  const sorted = [...items].sort((a, b) => a.seq - b.seq);
  return sorted.map((item) => JSON.stringify(item)).join("\n") + "\n";
}

/** "session-inspector-log-20240501-140211.ndjson", in local time. */
export function exportFileName(date: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  const day = `${date.getFullYear()}${p(date.getMonth() + 1)}${p(date.getDate())}`;
  const time = `${p(date.getHours())}${p(date.getMinutes())}${p(date.getSeconds())}`;
  return `session-inspector-log-${day}-${time}.ndjson`;
}

export interface VisibleRange {
  /** First row to render (inclusive). */
  start: number;
  /** One past the last row to render. */
  end: number;
  /** Space standing in for the rows above `start`, in pixels. */
  padTop: number;
  /** Space standing in for the rows from `end` on, in pixels. */
  padBottom: number;
}

/**
 * The rows a fixed-height list must render to fill its viewport, plus `overscan` rows on
 * each side. Out-of-range scroll positions (elastic scrolling, a list that just shrank) are
 * clamped, so the result is always a valid slice of `count` rows.
 */
export function visibleRange(
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  count: number,
  overscan: number,
): VisibleRange {
  if (count <= 0 || rowHeight <= 0) return { start: 0, end: 0, padTop: 0, padBottom: 0 };
  const total = count * rowHeight;
  const height = Math.max(0, viewportHeight);
  const top = Math.min(Math.max(0, scrollTop), Math.max(0, total - height));
  const extra = Math.max(0, Math.floor(overscan));
  const first = Math.floor(top / rowHeight);
  const last = Math.ceil((top + height) / rowHeight);
  const start = Math.max(0, first - extra);
  const end = Math.min(count, Math.max(last, first + 1) + extra);
  return { start, end, padTop: start * rowHeight, padBottom: (count - end) * rowHeight };
}
