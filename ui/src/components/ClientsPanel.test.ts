import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, render, screen, within } from "@testing-library/svelte";
import { tick } from "svelte";
import { clientRule, EXPIRES_AT, forecast, ISSUED_AT } from "../test/fixtures";
import ClientsPanel from "./ClientsPanel.svelte";

// The panel's times move with the window's clock: Date and its tick are faked.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date", "setInterval", "clearInterval"] });
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

const rules = [
  clientRule(),
  clientRule({
    client: "supabase-py",
    package: "supabase_auth",
    failureCooldownSecs: null,
    retries: "network errors",
    onRejected: "keptUntilRestart",
    onRejectedText: "keeps the session until the process restarts",
    sources: [{ name: "AUTO_REFRESH_TICK_DURATION", value: "10", file: "supabase_auth/constants.py" }],
  }),
  clientRule({ client: "supabase-rb", package: "supabase-rb", failureCooldownSecs: 30, retries: "none" }),
];
const forecasts = [
  forecast(),
  // supabase-py refreshes on a timer: one moment, not a window.
  forecast({ client: "supabase-py", autoRefreshFrom: EXPIRES_AT - 60, autoRefreshBy: EXPIRES_AT - 60 }),
  // supabase-rb has no forecast for this session: no row.
];

function panel(nowSecs: number, offsetMs = 0) {
  vi.setSystemTime(nowSecs * 1000);
  render(ClientsPanel, { props: { rules, clients: forecasts, expiresAt: EXPIRES_AT, offsetMs } });
}

const cells = (client: string) =>
  [...(document.getElementById(`client-${client}`)?.querySelectorAll("th, td") ?? [])].map((c) =>
    c.textContent?.replace(/\s+/g, " ").trim(),
  );

describe("ClientsPanel", () => {
  it("says what each client with a forecast would do, by its own rules", () => {
    panel(ISSUED_AT + 600);
    expect(screen.getAllByRole("row")).toHaveLength(3); // the heading row and two clients
    expect(cells("supabase-js")).toEqual([
      "supabase-js @supabase/auth-js",
      "in 48:30 to 49:00",
      "returns it as is for 49:50 more (margin 10 s)",
      "network errors, 500–504, 520–530",
      "keeps the session until the access token expires, then signs out",
    ]);
    expect(cells("supabase-py")?.[1], "a timer: one moment").toBe("in 49:00");
    expect(cells("supabase-py")?.[4]).toBe("keeps the session until the process restarts");
    expect(document.getElementById("client-supabase-rb"), "no forecast, no row").toBeNull();
  });

  it("lists every rule's source constants", () => {
    panel(ISSUED_AT + 600);
    const sources = within(screen.getByRole("group")).getAllByRole("listitem").map((li) => li.textContent?.replace(/\s+/g, " ").trim());
    expect(sources).toEqual([
      "EXPIRY_MARGIN_MS = 10000 · supabase-js, src/lib/constants.ts",
      "AUTO_REFRESH_TICK_DURATION = 10 · supabase-py, supabase_auth/constants.py",
      "EXPIRY_MARGIN_MS = 10000 · supabase-rb, src/lib/constants.ts",
    ]);
  });

  it("moves with the clock: inside the window, past it, inside getSession's margin, expired", async () => {
    panel(EXPIRES_AT - 70);
    expect(cells("supabase-js")?.[1]).toBe("at its next tick, by 0:10 at the latest");
    expect(cells("supabase-js")?.[2]).toBe("returns it as is for 1:00 more (margin 10 s)");

    vi.advanceTimersByTime(15_000);
    await tick();
    expect(cells("supabase-js")?.[1]).toBe("due now (0:05 past its moment)");

    vi.advanceTimersByTime(50_000);
    await tick();
    expect(cells("supabase-js")?.[2]).toBe("refreshes first (inside its 10 s margin)");

    vi.advanceTimersByTime(10_000);
    await tick();
    expect(cells("supabase-js")?.[1]).toBe("the access token has expired: it refreshes at once");
  });

  it("reads the server's clock", () => {
    panel(ISSUED_AT + 600, 2_910_000); // the server is 48:30 ahead: supabase-js's window opens now
    expect(cells("supabase-js")?.[1]).toBe("at its next tick, by 0:30 at the latest");
  });

  it("shows the cooldown of a client that answers failures from memory", () => {
    vi.setSystemTime((ISSUED_AT + 600) * 1000);
    render(ClientsPanel, {
      props: { rules: [rules[2]!], clients: [forecast({ client: "supabase-rb" })], expiresAt: EXPIRES_AT, offsetMs: 0 },
    });
    expect(cells("supabase-rb")?.[3]).toBe("none · a failure is answered from memory for 30 s");
  });
});
