import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
import { api } from "../lib/api";
import { LiveLog } from "../lib/live-log.svelte";
import type { TimelineMark, TimelineToken, TimelineView } from "../lib/types";
import { eventually, expectOnlyPlannedCalls } from "../test/api";
import Timeline from "./Timeline.svelte";

vi.mock("../lib/api");
expectOnlyPlannedCalls();
afterEach(() => cleanup());

const NOW = Math.floor(Date.now() / 1000);
const iso = (s: number) => new Date(s * 1000).toISOString();

function token(id: string, at: number, extra: Partial<TimelineToken> = {}, claims: Record<string, unknown> = {}): TimelineToken {
  return {
    id,
    at: iso(at),
    kind: "TOKEN_REFRESHED",
    cause: "refreshNow",
    label: "Refresh now",
    refreshTokenFingerprint: `fp:${id.padStart(12, "0")}`,
    counter: null,
    exchange: { id: 7, thisRun: true },
    issuedAt: at,
    expiresAt: at + 3600,
    claims: { sub: "u1", session_id: "s1", aal: "aal1", iat: at, exp: at + 3600, ...claims },
    ...extra,
  };
}

const failure: TimelineMark = {
  kind: "failure",
  at: iso(NOW - 50),
  code: null,
  status: 503,
  cause: "refreshNow",
  causeLabel: "Refresh now",
  refreshTokenFingerprint: "fp:000000000001",
  exchange: { id: 9, thisRun: false },
  repeat: 1,
  lastAt: iso(NOW - 50),
};

const view: TimelineView = {
  sessions: [
    {
      sessionId: "s1",
      tokens: [
        token("t0", NOW - 300, { kind: "SIGNED_IN", cause: "signIn", label: "Sign-in", exchange: { id: 1, thisRun: false } }),
        token("t1", NOW - 200, { counter: 2 }),
        token("t2", NOW - 100, { kind: "MFA_CHALLENGE_VERIFIED", cause: "mfaStepUp", label: "MFA step-up", exchange: null }, {
          aal: "aal2",
        }),
      ],
      marks: [failure],
      ended: false,
    },
  ],
  stray: [],
};

async function opened() {
  vi.mocked(api.timeline).mockResolvedValue(view);
  render(Timeline, { props: { log: new LiveLog() } });
  expect(api.timeline, "nothing is read while closed").not.toHaveBeenCalled();
  await fireEvent.click(screen.getByRole("button", { name: "Show" }));
  await eventually(() => expect(document.querySelectorAll(".bar")).toHaveLength(3));
}

const texts = (css: string) => [...document.querySelectorAll(css)].map((e) => e.textContent?.replace(/\s+/g, " ").trim());

describe("Timeline", () => {
  it("draws the chain with its causes, the bars with the live one, and the failure", async () => {
    await opened();
    expect(texts(".rotation .cause")).toEqual(["Refresh now", "MFA step-up"]);
    expect(texts(".origin .cause")).toEqual(["Sign-in"]);
    expect(texts(".token")).toEqual(["fp:0000000000t0", "fp:0000000000t1 #2", "fp:0000000000t2"]);
    expect(document.querySelectorAll(".bar.live")).toHaveLength(1);
    expect(document.getElementById("timeline-bar-t2")?.classList.contains("live")).toBe(true);
    expect(texts(".mark.failure")).toEqual(["Failed 503"]);
    expect(document.getElementById("timeline-summary")?.textContent).toMatch(/1 session · 3 access tokens · 1 failure/);
    // A token with no recorded exchange has nothing to open.
    expect((document.getElementById("timeline-link-t2") as HTMLButtonElement).disabled).toBe(true);
  });

  it("opens this run's exchange and says an earlier run's is gone", async () => {
    await opened();
    vi.mocked(api.exchange).mockResolvedValue(null);
    await fireEvent.click(document.getElementById("timeline-link-t1")!);
    await eventually(() => expect(api.exchange).toHaveBeenCalledWith(7));
    expect(document.getElementById("timeline-exchange-gone")).toBeNull();
    await fireEvent.click(document.getElementById("timeline-mark-1-0")!);
    expect(document.getElementById("timeline-exchange-gone")?.textContent).toMatch(/earlier run of the app/);
    expect(api.exchange).toHaveBeenCalledTimes(1);
  });

  it("diffs the last two tokens by default, and flags another session's token as wrong", async () => {
    await opened();
    const row = (claim: string) => document.querySelector(`#claims-diff tr[data-claim="${claim}"]`);
    expect(row("aal")?.getAttribute("data-kind")).toBe("notable");
    expect(row("exp")?.getAttribute("data-kind")).toBe("expected");
    expect(row("sub"), "unchanged claims are folded away").toBeNull();
    expect(document.getElementById("diff-unchanged")?.textContent).toMatch(/2 unchanged/);
    expect(document.getElementById("diff-none")).toBeNull();

    vi.mocked(api.timeline).mockResolvedValue({
      sessions: [
        ...view.sessions,
        { sessionId: "s9", tokens: [token("t3", NOW - 10, {}, { session_id: "s9" })], marks: [], ended: false },
      ],
      stray: [],
    });
    const log = new LiveLog();
    cleanup();
    render(Timeline, { props: { log } });
    await fireEvent.click(screen.getByRole("button", { name: "Show" }));
    await eventually(() => expect(document.querySelectorAll(".bar")).toHaveLength(4));
    // The default pair stays within one session: no red row after a new sign-in.
    expect(document.querySelectorAll("#claims-diff tr.wrong")).toHaveLength(0);
    expect((document.getElementById("diff-b") as HTMLSelectElement).value).toBe("t2");
    const a = document.getElementById("diff-a") as HTMLSelectElement;
    const b = document.getElementById("diff-b") as HTMLSelectElement;
    a.value = "t0";
    await fireEvent.change(a);
    b.value = "t3";
    await fireEvent.change(b);
    await eventually(() => expect(row("session_id")?.getAttribute("data-kind")).toBe("wrong"));
    expect(row("session_id")?.textContent).toMatch(/different sessions/);
    expect(document.getElementById("diff-summary")?.textContent).toMatch(/1 must not change/);
    // The same token on both sides: nothing changed, and it says so.
    a.value = "t3";
    await fireEvent.change(a);
    await eventually(() => expect(document.getElementById("diff-none")).not.toBeNull());
    expect(document.getElementById("claims-diff")?.hidden).toBe(true);
  });

  it("names each link by its token, shows iat and exp as times, and reads at once when opened", async () => {
    await opened();
    expect(api.timeline).toHaveBeenCalledTimes(1);
    const link = screen.getByRole("button", { name: /^Rotation 2: Refresh now, fp:0000000000t1 #2/ });
    expect(link.id).toBe("timeline-link-t1");
    expect(link.dataset.exchange).toBe("7");
    expect(screen.queryAllByRole("button", { name: "Refresh now" })).toHaveLength(0);
    const iat = document.querySelector('#claims-diff tr[data-claim="iat"]');
    expect(iat?.querySelectorAll(".when")).toHaveLength(2);
  });

  it("draws a failure of an unknown token apart, and folds a long session's older tokens", async () => {
    const many = Array.from({ length: 25 }, (_, i) => token(`t${i}`, NOW - 1000 + i * 10));
    vi.mocked(api.timeline).mockResolvedValue({
      sessions: [{ sessionId: "s1", tokens: many, marks: [], ended: false }],
      stray: [{ ...failure, status: 400, code: "refresh_token_not_found", refreshTokenFingerprint: "fp:stranger", repeat: 3 }],
    });
    render(Timeline, { props: { log: new LiveLog() } });
    await fireEvent.click(screen.getByRole("button", { name: "Show" }));
    await eventually(() => expect(document.querySelectorAll(".bar")).toHaveLength(20));
    expect(texts("#timeline-stray .mark")).toEqual(["Failed 400 refresh_token_not_found ×3"]);
    expect(document.querySelectorAll("[id^=timeline-session-]")).toHaveLength(1);
    expect(document.getElementById("timeline-summary")?.textContent).toMatch(/1 session · 25 access tokens · 3 failures/);
    expect(document.querySelector(".folded")?.textContent).toMatch(/5 older tokens folded/);
    // The rows keep their numbers in the session.
    expect(texts("#timeline-session-1 .row-label")[0]).toBe("6");
    await fireEvent.click(document.getElementById("timeline-older-1")!);
    await eventually(() => expect(document.querySelectorAll(".bar")).toHaveLength(25));
  });
});
