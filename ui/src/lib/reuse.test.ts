import { describe, expect, it } from "vitest";
import type { Prediction } from "./types";
import { forecast, intervalLine, lineKey, verdictLine } from "./reuse";

function prediction(over: Partial<Prediction> = {}): Prediction {
  return {
    outcome: { kind: "normalRotation" },
    format: "legacy",
    intervalSecs: 10,
    intervalAssumed: false,
    expected: { kind: "newToken" },
    expectedAfter: null,
    explanation: "",
    pastedFingerprint: "rt:abc",
    ...over,
  };
}

const tolerated = (format: "legacy" | "v2") =>
  prediction({ format, outcome: { kind: "toleratedInInterval", untilMs: 20_000, secondsLeft: 7 } });

describe("forecast", () => {
  it("says each outcome in one sentence", () => {
    expect(forecast(prediction(), 0).sentence).toMatch(/^Normal rotation: .*new refresh token\.$/);
    const parent = forecast(prediction({ outcome: { kind: "parentReissued" } }), 0);
    expect(parent.sentence).toBe("Parent of the active token: the server re-issues the active token, with no time limit.");
    const v2parent = forecast(prediction({ format: "v2", outcome: { kind: "parentReissued" } }), 0);
    expect(v2parent.sentence).toContain("One rotation behind");
    expect(forecast(prediction({ outcome: { kind: "revokesSession" } }), 0).sentence).toBe(
      "Reuse outside the interval: the server answers refresh_token_already_used and revokes the whole session.",
    );
    expect(forecast(prediction({ format: "v2", outcome: { kind: "revokesSession" } }), 0).sentence).toContain("deletes the whole session");
    const unknown = forecast(prediction({ format: null, outcome: { kind: "unknown", why: "it is not in the history" } }), 0);
    expect(unknown).toEqual({ kind: "unknown", sentence: "Cannot predict: it is not in the history.", secondsLeft: null });
  });

  it("counts a tolerated reuse down from its end and then says it revokes", () => {
    const early = forecast(tolerated("legacy"), 12_500);
    expect(early.secondsLeft).toBe(8);
    expect(early.sentence).toBe("Tolerated reuse: inside the reuse interval, 8 s left; the server mints a new child of this token.");
    expect(forecast(tolerated("legacy"), 19_001).secondsLeft).toBe(1);
    // Legacy: the last instant is still inside; v2: it is not.
    expect(forecast(tolerated("legacy"), 20_000)).toMatchObject({ kind: "toleratedInInterval", secondsLeft: 0 });
    expect(forecast(tolerated("legacy"), 20_001).kind).toBe("revokesSession");
    expect(forecast(tolerated("v2"), 19_999).sentence).toContain("re-issues the current token");
    expect(forecast(tolerated("v2"), 20_000)).toMatchObject({ kind: "revokesSession", secondsLeft: null });
  });
});

describe("intervalLine and verdictLine", () => {
  it("say whether the interval is known or assumed", () => {
    expect(intervalLine(prediction())).toBe("Reuse interval: 10 s (the built-in server's setting).");
    expect(intervalLine(prediction({ intervalAssumed: true }))).toContain("assuming the hosted default of 10 s");
  });

  it("says whether the prediction held", () => {
    expect(verdictLine({ held: true, whatHappened: "the server issued a new refresh token, rt:1" })).toBe(
      "Prediction held: the server issued a new refresh token, rt:1.",
    );
    expect(verdictLine({ held: false, whatHappened: "the server answered refresh_token_already_used: x" })).toMatch(
      /^Prediction missed: the server answered/,
    );
  });
});

describe("lineKey", () => {
  it("changes with the current refresh token and with its refusal, and only then", () => {
    const key = lineKey({ refreshTokenFingerprint: "rt:a" }, null);
    expect(lineKey({ refreshTokenFingerprint: "rt:a" }, null)).toBe(key);
    expect(lineKey({ refreshTokenFingerprint: "rt:b" }, null)).not.toBe(key);
    expect(lineKey({ refreshTokenFingerprint: "rt:a" }, { refreshTokenFingerprint: "rt:a" })).not.toBe(key);
    expect(lineKey(null, null)).not.toBe(key);
  });
});
