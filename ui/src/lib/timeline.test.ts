import { describe, expect, it } from "vitest";
import {
  axisOf,
  type Bar,
  capped,
  defaultPair,
  linkName,
  markText,
  pickable,
  seconds,
  summary,
  tokenName,
} from "./timeline";
import type { TimelineMark, TimelineSession, TimelineToken } from "./types";

const iso = (s: number) => new Date(s * 1000).toISOString();

function token(id: string, at: number, life = 100, extra: Partial<TimelineToken> = {}): TimelineToken {
  return {
    id,
    at: iso(at),
    kind: "TOKEN_REFRESHED",
    cause: "refreshNow",
    label: "Refresh now",
    refreshTokenFingerprint: `fp:${id}`,
    counter: null,
    exchange: null,
    issuedAt: at,
    expiresAt: at + life,
    claims: { iat: at, exp: at + life },
    ...extra,
  };
}

function mark(kind: TimelineMark["kind"], at: number, extra: Partial<TimelineMark> = {}): TimelineMark {
  return {
    kind,
    at: iso(at),
    code: null,
    status: null,
    cause: null,
    causeLabel: null,
    refreshTokenFingerprint: null,
    exchange: null,
    repeat: 1,
    lastAt: iso(at),
    ...extra,
  };
}

const session = (tokens: TimelineToken[], marks: TimelineMark[] = [], ended = false): TimelineSession => ({
  sessionId: "s",
  tokens,
  marks,
  ended,
});

describe("axisOf", () => {
  it("puts a token from a server whose clock runs ahead on this machine's clock", () => {
    // Arrived at 1000 by this clock; the server, 300 s ahead, wrote iat 1300 and exp 1420.
    const ahead = token("b", 1000, 120, { issuedAt: 1300, expiresAt: 1420 });
    const axis = axisOf(session([token("a", 940), ahead]), 1060);
    const bar = axis.bars[1]!;
    expect(bar.live, "60 s into its 120 s, still live").toBe(true);
    expect(bar.expired).toBe(false);
    expect(axis.end, "the axis ends at its expiry here, 1120").toBe(1120);
    // A recovered session's token (start-up) keeps the server's times: it may be old.
    const recovered = token("c", 1000, 120, { issuedAt: 700, expiresAt: 820, cause: "startUp" });
    expect(axisOf(session([recovered]), 1060).bars[0]!.expired).toBe(true);
  });

  it("places each token's life from iat to exp, with where the next one replaced it", () => {
    const axis = axisOf(session([token("a", 1000), token("b", 1050)], [mark("failure", 1075, { status: 503 })]), 1060);
    expect(axis.start).toBe(1000);
    expect(axis.end).toBe(1150);
    const [a, b] = axis.bars as [Bar, Bar];
    expect(a.left).toBe(0);
    expect(a.width).toBeCloseTo(66.67, 1);
    expect(a.replacedAt).toBeCloseTo(33.33, 1);
    expect(a.live).toBe(false);
    expect(b.left).toBeCloseTo(33.33, 1);
    expect(b.replacedAt).toBeNull();
    expect(b.live).toBe(true);
    expect(axis.marks[0]!.left).toBe(50);
  });

  it("has no live token once the session ended or its last token expired, and stretches to now while open", () => {
    const ended = axisOf(session([token("a", 1000)], [mark("signedOut", 1010)], true), 5000);
    expect(ended.end).toBe(1100);
    expect(ended.bars[0]!.live).toBe(false);
    const open = axisOf(session([token("a", 1000)]), 1200);
    expect(open.end).toBe(1200);
    expect(open.bars[0]!).toMatchObject({ live: false, expired: true });
    expect(open.bars[0]!.width).toBeCloseTo(50, 5);
  });

  it("draws a token of an earlier version (no claims) from when it arrived", () => {
    const old = token("a", 1000, 100, { issuedAt: null, expiresAt: null, claims: null });
    const axis = axisOf(session([old]), 1100);
    expect(axis.bars[0]!.left).toBe(0);
    expect(axis.bars[0]!.width).toBe(100);
  });
});

describe("marks, names and picks", () => {
  it("says what a mark is", () => {
    expect(markText(mark("failure", 1, { status: 503 }))).toBe("Failed 503");
    expect(markText(mark("failure", 1, { status: 0 }))).toBe("Failed no answer");
    expect(markText(mark("rejected", 1, { status: 400, code: "refresh_token_not_found" }))).toBe(
      "Rejected 400 refresh_token_not_found",
    );
    expect(markText(mark("signedOut", 1, { code: "sign_out:local" }))).toBe("Signed out (sign_out:local)");
    expect(seconds("nonsense")).toBeNull();
  });

  it("picks among the tokens with claims and defaults to the last two", () => {
    const view = {
      sessions: [
        session([token("t0", 1), token("t1", 2, 100, { claims: null })]),
        session([token("t2", 3, 100, { counter: 7, label: "MFA step-up" }), token("t3", 4)]),
      ],
      stray: [],
    };
    const picks = pickable(view);
    expect(picks.map((p) => p.id)).toEqual(["t0", "t2", "t3"]);
    expect(picks[1]!.name).toBe("Session 2 · Token 1 · MFA step-up · #7");
    expect(defaultPair(picks)).toEqual(["t2", "t3"]);
    expect(defaultPair(picks.slice(0, 1))).toBeNull();
    expect(tokenName(view.sessions[0]!.tokens[0]!, 0)).toBe("Token 1 · Refresh now");
    expect(
      summary({ sessions: [session([token("a", 1)], [mark("failure", 2), mark("signedOut", 3)], true)], stray: [] }),
    ).toEqual({
      sessions: 1,
      tokens: 1,
      failures: 1,
    });
  });

  it("counts a repeated failure as many times as it came, and the stray ones too", () => {
    const repeated = mark("failure", 2, { status: 0, repeat: 5 });
    expect(markText(repeated)).toBe("Failed no answer ×5");
    expect(markText(mark("failure", 2, { status: 503, code: "unexpected_failure" }))).toBe("Failed 503 unexpected_failure");
    expect(
      summary({ sessions: [session([token("a", 1)], [repeated])], stray: [mark("rejected", 3, { status: 400 })] }),
    ).toEqual({ sessions: 1, tokens: 1, failures: 6 });
  });

  it("defaults the diff to the newest session's last two tokens, not across a new sign-in", () => {
    const view = {
      sessions: [session([token("t0", 1), token("t1", 2)]), session([token("t2", 3)])],
      stray: [],
    };
    expect(defaultPair(pickable(view))).toEqual(["t0", "t1"]);
    // Only one token in each session: the last two overall, the best there is.
    const single = { sessions: [session([token("t0", 1)]), session([token("t2", 3)])], stray: [] };
    expect(defaultPair(pickable(single))).toEqual(["t0", "t2"]);
  });

  it("names a link by its token, its cause and its fingerprint", () => {
    expect(linkName(token("b", 1, 100, { counter: 4 }), 1)).toBe("Rotation 2: Refresh now, fp:b #4: show its exchange");
    expect(linkName(token("a", 1, 100, { label: "Sign-in" }), 0)).toBe(
      "Token 1, start of the chain: Sign-in, fp:a: show its exchange",
    );
  });
});

describe("capped", () => {
  it("keeps a session's newest tokens and the marks from the first of them on", () => {
    const tokens = Array.from({ length: 30 }, (_, i) => token(`t${i}`, 1000 + i * 10));
    const marks = [mark("failure", 1005), mark("failure", 1250, { status: 503 })];
    const cut = capped(session(tokens, marks), 20);
    expect(cut.hiddenTokens).toBe(10);
    expect(cut.session.tokens.map((t) => t.id)).toEqual(tokens.slice(10).map((t) => t.id));
    expect(cut.hiddenMarks).toBe(1);
    expect(cut.session.marks).toEqual([marks[1]]);
    // The axis spans the tokens drawn, not the whole session.
    expect(axisOf(cut.session, 1400).start).toBe(1100);
    expect(capped(session(tokens.slice(0, 5), marks), 20)).toMatchObject({ hiddenTokens: 0, hiddenMarks: 0 });
  });
});
