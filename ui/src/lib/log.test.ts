import { describe, expect, it } from "vitest";
import { clockTime } from "./format";
import {
  exchangeIdOf,
  exportFileName,
  FILTER_CHIPS,
  filterRows,
  isFiltering,
  isRow,
  matches,
  prettyBody,
  rowKind,
  rowText,
  statusText,
  statusTone,
  toNdjson,
  visibleRange,
  type LogFilter,
  type RowItem,
  type RowKind,
} from "./log";
import type { AuthEventKind, LogItem, SessionView } from "./types";

const session: SessionView = {
  user: { id: "5a3f7c1e-2b4d-4e6f-8a9b-0c1d2e3f4a5b", email: "ada@example.com", phone: "", role: "authenticated", isAnonymous: false, newEmail: null, emailChangeSentAt: null },
  sessionId: "0d9c8b7a-6f5e-4d3c-2b1a-098765432100",
  expiresAt: 1_714_575_600,
  issuedAt: 1_714_572_000,
  tokenType: "bearer",
  header: { alg: "ES256" },
  claims: { sub: "5a3f7c1e" },
  accessTokenFingerprint: "at:3f9a12",
  refreshTokenFingerprint: "rt:b71c0e",
  refreshTokenShape: { format: "legacy" },
  clients: [],
};

let seq = 0;
const at = (ms: number) => new Date(Date.UTC(2024, 4, 1, 14, 2, 11) + ms).toISOString();

function event(kind: AuthEventKind, previous: AuthEventKind | null = null, reason: string | null = null): LogItem {
  seq += 1;
  return { type: "event", seq, at: at(seq), event: { kind, previous, at: at(seq), reason, exchangeId: seq, causeLabel: null, session, rejection: null } };
}
function request(path: string, status: number | null, code: string | null = null): LogItem {
  seq += 1;
  return {
    type: "request",
    seq,
    at: at(seq),
    request: { id: seq, method: "POST", path, status, durationMs: 42, code, error: status === null ? "connection refused" : null },
  };
}
function failure(code: string | null, message: string): LogItem {
  seq += 1;
  return {
    type: "failure",
    seq,
    at: at(seq),
    operation: "refresh",
    error: { kind: code ? "api" : "retryableFetch", message, code, status: code ? 400 : 0 },
    exchangeId: null,
  };
}
const joined = (): LogItem => ({ type: "joined", seq: ++seq, at: at(seq), operation: "refresh" });

const items: LogItem[] = [
  event("INITIAL_SESSION", null, "restored from the keyring"),
  { type: "profile", seq: ++seq, at: at(seq), profile: "demo" },
  request("/auth/v1/token?grant_type=refresh_token", 200),
  event("TOKEN_REFRESHED", "INITIAL_SESSION", "refresh now"),
  joined(),
  request("/auth/v1/token?grant_type=refresh_token", 400, "refresh_token_already_used"),
  failure("refresh_token_already_used", "Invalid Refresh Token: Already Used"),
  { type: "clock", seq: ++seq, at: at(seq), offsetMs: -120 },
  request("/auth/v1/logout?scope=global", null),
  event("SIGNED_OUT", "TOKEN_REFRESHED", "sign-out"),
];

const filter = (kinds: RowKind[], query = ""): LogFilter => ({ kinds: new Set(kinds), query });
/** Every row, as the log shows it when no chip is pressed and the search is empty. */
const NONE = filter([]);

describe("rows", () => {
  it("leaves profile and clock items out", () => {
    expect(items.filter(isRow)).toHaveLength(8);
    expect(filterRows(items, NONE)).toHaveLength(8);
    expect(matches(items[1]!, NONE)).toBe(false);
  });

  it("names each row's kind", () => {
    expect(items.filter(isRow).map(rowKind)).toEqual([
      "INITIAL_SESSION",
      "request",
      "TOKEN_REFRESHED",
      "joined",
      "request",
      "failure",
      "request",
      "SIGNED_OUT",
    ]);
  });

  it("knows the exchange behind a row", () => {
    const rows = items.filter(isRow);
    expect(exchangeIdOf(rows[0]!)).toBe(1);
    expect(exchangeIdOf(rows[1]!)).toBe(3);
    expect(exchangeIdOf(rows[3]!)).toBeNull();
    expect(exchangeIdOf(rows[5]!)).toBeNull();
  });

  it("shows each row's time with milliseconds, and finds it by that time", () => {
    const first = items.filter(isRow)[0]!;
    expect(clockTime(first.at)).toMatch(/^\d{2}:\d{2}:\d{2}\.001$/);
    expect(rowText(first).startsWith(clockTime(first.at))).toBe(true);
    expect(filterRows(items, filter([], clockTime(first.at)))).toEqual([first]);
  });

  it("words and colours a request's status", () => {
    expect(statusText(503)).toBe("503");
    expect(statusText(null)).toBe("no answer");
    expect(statusTone(null)).toBe("bad");
    expect(statusTone(503)).toBe("bad");
    expect(statusTone(500)).toBe("bad");
    expect(statusTone(400)).toBe("warn");
    expect(statusTone(499)).toBe("warn");
    expect(statusTone(200)).toBe("good");
    expect(statusTone(302)).toBe("good");
  });
});

describe("filtering", () => {
  it("offers one chip per kind of row, each once", () => {
    expect(FILTER_CHIPS.map((chip) => chip.kind)).toEqual([
      "INITIAL_SESSION",
      "SIGNED_IN",
      "TOKEN_REFRESHED",
      "SIGNED_OUT",
      "USER_UPDATED",
      "PASSWORD_RECOVERY",
      "MFA_CHALLENGE_VERIFIED",
      "REFRESH_REJECTED",
      "request",
      "failure",
      "joined",
    ]);
    expect(FILTER_CHIPS.map((chip) => chip.label).slice(8)).toEqual(["requests", "failures", "joined"]);
  });

  it("selects by kind, and an empty selection shows everything", () => {
    expect(filterRows(items, filter(["TOKEN_REFRESHED"])).map(rowKind)).toEqual(["TOKEN_REFRESHED"]);
    expect(filterRows(items, filter(["request"]))).toHaveLength(3);
    expect(filterRows(items, filter(["failure", "joined"])).map(rowKind)).toEqual(["joined", "failure"]);
    expect(filterRows(items, filter([]))).toHaveLength(8);
    expect(isFiltering(NONE)).toBe(false);
    expect(isFiltering(filter([], "  "))).toBe(false);
    expect(isFiltering(filter(["request"]))).toBe(true);
  });

  it("searches the visible text, case-insensitively, all words", () => {
    expect(filterRows(items, filter([], "already_used")).map(rowKind)).toEqual(["request", "failure"]);
    expect(filterRows(items, filter([], "Invalid Refresh token")).map(rowKind)).toEqual(["failure"]);
    expect(filterRows(items, filter([], "logout"))).toHaveLength(1);
    expect(filterRows(items, filter([], "no answer"))).toHaveLength(1);
    expect(filterRows(items, filter([], "initial_session → token_refreshed"))).toHaveLength(1);
    expect(filterRows(items, filter([], "keyring")).map(rowKind)).toEqual(["INITIAL_SESSION"]);
    expect(filterRows(items, filter([], "rt:b71c0e"))).toHaveLength(3);
    expect(filterRows(items, filter([], "in flight"))).toHaveLength(1);
    expect(filterRows(items, filter([], "400"))).toHaveLength(2);
    expect(filterRows(items, filter(["request"], "400"))).toHaveLength(1);
    expect(filterRows(items, filter([], "nothing like this"))).toHaveLength(0);
  });

  it("includes the explained title of a failure", () => {
    const row = items.find((i) => i.type === "failure");
    expect(row && isRow(row) && rowText(row)).toContain("refresh token already used");
  });

  it("filters 10,000 items exactly (and reports how long it took, without a time limit)", () => {
    const many: LogItem[] = [];
    let failedRequests = 0;
    for (let i = 0; i < 10_000; i++) {
      if (i % 3 === 0) {
        many.push(event("TOKEN_REFRESHED", "TOKEN_REFRESHED", "auto-refresh"));
      } else {
        const failed = i % 7 === 0;
        if (failed) failedRequests += 1;
        many.push(request(`/auth/v1/user?n=${i}`, failed ? 500 : 200, failed ? "unexpected_failure" : null));
      }
    }
    const started = performance.now();
    const refreshed = filterRows(many, filter(["TOKEN_REFRESHED"]));
    const searched = filterRows(many, filter([], "unexpected_failure user"));
    const again = filterRows(many, filter(["request"], "n=9998"));
    const took = performance.now() - started;
    console.log(`three filters over 10,000 items: ${took.toFixed(1)} ms`);
    expect(refreshed).toHaveLength(3334);
    expect(searched).toHaveLength(failedRequests);
    expect(again).toHaveLength(1);
  });
});

describe("exchange bodies", () => {
  it("indents JSON and leaves anything else as it came", () => {
    expect(prettyBody('{"error":"invalid_grant","n":[1,2]}')).toBe(
      '{\n  "error": "invalid_grant",\n  "n": [\n    1,\n    2\n  ]\n}',
    );
    expect(prettyBody("<html><body>503 Service Unavailable</body></html>")).toBe(
      "<html><body>503 Service Unavailable</body></html>",
    );
    expect(prettyBody("")).toBe("");
    expect(prettyBody(null)).toBe("");
  });
});

describe("NDJSON export", () => {
  it("writes one object per line, oldest first, newline-terminated, nothing added", () => {
    const rows = filterRows(items, NONE);
    const text = toNdjson([...rows].reverse());
    expect(text.endsWith("\n")).toBe(true);
    const lines = text.slice(0, -1).split("\n");
    expect(lines).toHaveLength(rows.length);
    const parsed = lines.map((line) => JSON.parse(line) as LogItem);
    expect(parsed.map((p) => p.seq)).toEqual(rows.map((r) => r.seq));
    expect(parsed).toEqual(rows);
    for (const [i, p] of parsed.entries()) expect(Object.keys(p)).toEqual(Object.keys(rows[i]!));
    expect(toNdjson([])).toBe("");
  });

  it("names the file after the moment of export", () => {
    expect(exportFileName(new Date(2024, 4, 1, 14, 2, 11))).toBe("session-inspector-log-20240501-140211.ndjson");
  });
});

describe("visibleRange", () => {
  it("renders the viewport plus overscan", () => {
    expect(visibleRange(0, 300, 30, 1000, 5)).toEqual({ start: 0, end: 15, padTop: 0, padBottom: 985 * 30 });
    expect(visibleRange(3000, 300, 30, 1000, 5)).toEqual({ start: 95, end: 115, padTop: 95 * 30, padBottom: 885 * 30 });
    expect(visibleRange(3015, 300, 30, 1000, 0)).toEqual({ start: 100, end: 111, padTop: 3000, padBottom: 889 * 30 });
  });

  it("keeps the total height constant", () => {
    for (const top of [0, 17, 450, 29_000, 29_700]) {
      const r = visibleRange(top, 300, 30, 1000, 4);
      expect(r.padTop + (r.end - r.start) * 30 + r.padBottom).toBe(30_000);
    }
  });

  it("handles the edges", () => {
    expect(visibleRange(0, 300, 30, 0, 5)).toEqual({ start: 0, end: 0, padTop: 0, padBottom: 0 });
    expect(visibleRange(0, 300, 30, 3, 5)).toEqual({ start: 0, end: 3, padTop: 0, padBottom: 0 });
    // Elastic scrolling above the top.
    expect(visibleRange(-50, 300, 30, 1000, 2).start).toBe(0);
    // Scrolled far past the end (the list just shrank): the last rows, not an empty slice.
    const past = visibleRange(1e6, 300, 30, 100, 2);
    expect(past.end).toBe(100);
    expect(past.start).toBe(88);
    expect(past.padBottom).toBe(0);
    // A viewport not measured yet still renders one row plus overscan.
    expect(visibleRange(0, 0, 30, 100, 3)).toEqual({ start: 0, end: 4, padTop: 0, padBottom: 96 * 30 });
    expect(visibleRange(0, 300, 0, 100, 3)).toEqual({ start: 0, end: 0, padTop: 0, padBottom: 0 });
  });
});
