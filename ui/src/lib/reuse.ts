// The reuse predictor's words: what the server will do with a pasted refresh token, in one
// sentence, from the prediction Rust made (`session_engine::reuse`). Pure: the live countdown
// of a tolerated reuse is recomputed here from its end and the window's clock, with no IPC per
// second; once the interval has passed the sentence becomes the refusal the server will send.

import type { Prediction, Verdict } from "./types";

export type OutcomeKind = Prediction["outcome"]["kind"];

export type Forecast = {
  /** The outcome at `nowMs`: a tolerated reuse past its end is a revocation. */
  kind: OutcomeKind;
  sentence: string;
  /** Whole seconds left of a tolerated reuse, else null. */
  secondsLeft: number | null;
};

/** Whether a tolerated reuse has run out at `nowMs`. GoTrue keeps a legacy token usable at the
 *  interval's last instant (now <= used + interval) and a v2 reuse only strictly before it. */
function expired(p: Prediction, untilMs: number, nowMs: number): boolean {
  return p.format === "v2" ? nowMs >= untilMs : nowMs > untilMs;
}

export function forecast(p: Prediction, nowMs: number): Forecast {
  const v2 = p.format === "v2";
  const outcome = p.outcome;
  switch (outcome.kind) {
    case "normalRotation":
      return {
        kind: outcome.kind,
        sentence: "Normal rotation: this is the active token, the server swaps it for a new refresh token.",
        secondsLeft: null,
      };
    case "parentReissued":
      return {
        kind: outcome.kind,
        sentence: v2
          ? "One rotation behind the session (a lost answer): the server re-issues the current token, with no time limit."
          : "Parent of the active token: the server re-issues the active token, with no time limit.",
        secondsLeft: null,
      };
    case "toleratedInInterval": {
      if (expired(p, outcome.untilMs, nowMs)) return revokes(v2);
      const secondsLeft = Math.max(0, Math.ceil((outcome.untilMs - nowMs) / 1000));
      return {
        kind: outcome.kind,
        sentence: `Tolerated reuse: inside the reuse interval, ${secondsLeft} s left; the server ${
          v2 ? "re-issues the current token" : "mints a new child of this token"
        }.`,
        secondsLeft,
      };
    }
    case "revokesSession":
      return revokes(v2);
    case "unknown":
      return { kind: outcome.kind, sentence: `Cannot predict: ${outcome.why}.`, secondsLeft: null };
  }
}

function revokes(v2: boolean): Forecast {
  return {
    kind: "revokesSession",
    sentence: `Reuse outside the interval: the server answers refresh_token_already_used and ${
      v2 ? "deletes" : "revokes"
    } the whole session.`,
    secondsLeft: null,
  };
}

/** The reuse interval the prediction used, and whether it is the server's or assumed. */
export function intervalLine(p: Prediction): string {
  return p.intervalAssumed
    ? `Reuse interval: assuming the hosted default of ${p.intervalSecs} s (no client can read a project's setting).`
    : `Reuse interval: ${p.intervalSecs} s (the built-in server's setting).`;
}

/** After Rotate: whether the prediction held, and what the server did. */
export function verdictLine(v: Verdict): string {
  return `${v.held ? "Prediction held" : "Prediction missed"}: ${v.whatHappened}.`;
}

/** What the prediction depends on in the window's session: its refresh token, and whether the
 *  server refused that token for good. A change means the preview must be asked for again. */
export function lineKey(
  session: { refreshTokenFingerprint: string } | null,
  rejection: { refreshTokenFingerprint: string } | null,
): string {
  return `${session?.refreshTokenFingerprint ?? "none"}|${rejection?.refreshTokenFingerprint ?? ""}`;
}
