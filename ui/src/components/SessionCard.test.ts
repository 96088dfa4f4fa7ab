import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/svelte";
import { tick, type ComponentProps } from "svelte";
import { api } from "../lib/api";
import { localTime } from "../lib/format";
import { SessionStore } from "../lib/stores/session.svelte";
import { appError, deferred, eventually, expectOnlyPlannedCalls } from "../test/api";
import { eventRow, EXPIRES_AT, ISSUED_AT, rejection, session } from "../test/fixtures";
import SessionCard from "./SessionCard.svelte";

vi.mock("../lib/api");
expectOnlyPlannedCalls();

// The window's one clock reads Date.now() and ticks with setInterval: both are faked, so a
// test sets the moment and moves it; setTimeout stays real for Testing Library's waits.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date", "setInterval", "clearInterval"] });
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

/** The card on its own, at `nowSecs` by the local clock. */
function card(nowSecs: number, over: Partial<ComponentProps<typeof SessionCard>> = {}) {
  vi.setSystemTime(nowSecs * 1000);
  return render(SessionCard, {
    props: {
      session: session(),
      busy: false,
      error: null,
      onRefresh: vi.fn(),
      offsetMs: 0,
      margin: 10,
      rejection: null,
      onEndSession: vi.fn(),
      ...over,
    },
  });
}

/** The card as the window wires it: to the session store, whose commands are the mocked api. */
function wiredCard(store: SessionStore, nowSecs: number, margin = 10) {
  vi.setSystemTime(nowSecs * 1000);
  return render(SessionCard, {
    props: {
      get session() {
        return store.session ?? session();
      },
      get busy() {
        return store.busy;
      },
      get error() {
        return store.refreshError;
      },
      onRefresh: store.refresh,
      get offsetMs() {
        return store.offsetMs;
      },
      margin,
      get rejection() {
        return store.rejection;
      },
      onEndSession: store.endSession,
    },
  });
}

const countdown = () => document.getElementById("countdown")?.textContent;
const words = () => document.querySelector(".countdown .words")?.textContent;
const refreshButton = () => screen.getByRole<HTMLButtonElement>("button", { name: /Refresh now|Refreshing/ });

describe("SessionCard's countdown", () => {
  it("is valid, with the lifetime left on the bar, long before expiry", () => {
    card(ISSUED_AT + 600);
    expect(countdown()).toBe("50:00");
    expect(words()).toBe("Valid · expires in 50 minutes");
    const bar = screen.getByRole("progressbar", { name: "Access token lifetime left" });
    expect(bar.getAttribute("aria-valuenow")).toBe("83");
    expect(document.querySelector(".countdown")?.classList.contains("fresh")).toBe(true);
  });

  it("is inside the refresh margin, then expired, as the clock ticks", async () => {
    card(EXPIRES_AT - 32, { margin: 30 });
    expect(countdown()).toBe("0:32");
    expect(words()).toMatch(/^Valid/);

    vi.advanceTimersByTime(2000);
    await tick();
    expect(countdown()).toBe("0:30");
    expect(words()).toBe("Inside the refresh margin · expires in 30 seconds");
    expect(document.querySelector(".countdown")?.classList.contains("margin")).toBe(true);

    vi.advanceTimersByTime(33_000);
    await tick();
    expect(countdown()).toBe("-0:03");
    expect(words()).toBe("Expired · expires 3 seconds ago");
    expect(document.querySelector(".countdown")?.classList.contains("expired")).toBe(true);
    expect(screen.getByRole("progressbar").getAttribute("aria-valuenow")).toBe("0");
  });

  it("counts from the server's clock when it is off, and says so", () => {
    // Our clock says two minutes are left; the server is a minute ahead, so one is.
    card(EXPIRES_AT - 120, { offsetMs: 60_000 });
    expect(countdown()).toBe("1:00");
    expect(document.getElementById("clock-offset")?.textContent?.trim()).toBe("server clock +60 s, corrected");
  });

  it("shows who the session is and how it signed in", () => {
    card(ISSUED_AT + 600, {
      session: session({ user: { id: "u-1", email: "", phone: "", role: "anon", isAnonymous: true, newEmail: null, emailChangeSentAt: null } }),
    });
    expect(screen.getByRole("heading", { name: "Anonymous user" })).toBeTruthy();
    expect(screen.getByText("anonymous")).toBeTruthy();
    expect(document.getElementById("session-aal")?.textContent).toBe("aal1");
    expect(document.getElementById("session-amr")?.textContent).toBe("password");
    expect(document.getElementById("expires-at")?.textContent).toBe(localTime(EXPIRES_AT));
    expect(document.getElementById("refresh-fingerprint")?.textContent).toBe("rt:b71c0e");
  });
});

describe("SessionCard's Refresh now", () => {
  it("asks the app once, and is disabled and says so while it waits", async () => {
    const store = new SessionStore();
    store.receive(eventRow("INITIAL_SESSION"));
    const answer = deferred<Awaited<ReturnType<typeof api.refreshNow>>>();
    vi.mocked(api.refreshNow).mockReturnValue(answer.promise);
    wiredCard(store, ISSUED_AT + 600);

    expect(refreshButton().disabled).toBe(false);
    await fireEvent.click(refreshButton());
    expect(api.refreshNow).toHaveBeenCalledTimes(1);
    expect(api.refreshNow).toHaveBeenCalledWith();
    expect(refreshButton().disabled, "disabled while the refresh is in flight").toBe(true);
    expect(refreshButton().textContent?.trim()).toBe("Refreshing…");
    expect(refreshButton().getAttribute("aria-busy")).toBe("true");

    answer.resolve({ session: session({ refreshTokenFingerprint: "rt:new" }), joined: false });
    await eventually(() => expect(refreshButton().disabled).toBe(false));
    expect(refreshButton().textContent?.trim()).toBe("Refresh now");
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("shows why a refresh failed, with GoTrue's words, and clears it on the next try", async () => {
    const store = new SessionStore();
    store.receive(eventRow("INITIAL_SESSION"));
    vi.mocked(api.refreshNow).mockRejectedValueOnce(appError("api", "Service Unavailable", null, 503));
    wiredCard(store, ISSUED_AT + 600);

    await fireEvent.click(refreshButton());
    const box = await eventually(() => screen.getByRole("alert"));
    expect(box.id).toBe("refresh-error");
    expect(within(box).getByText("Auth unavailable")).toBeTruthy();
    expect(within(box).getByText("HTTP 503")).toBeTruthy();
    expect(within(box).getByText("Service Unavailable")).toBeTruthy();

    const again = deferred<Awaited<ReturnType<typeof api.refreshNow>>>();
    vi.mocked(api.refreshNow).mockReturnValueOnce(again.promise);
    await fireEvent.click(refreshButton());
    expect(screen.queryByRole("alert"), "a new attempt clears the old failure").toBeNull();
    again.resolve({ session: session(), joined: true });
    await eventually(() => expect(refreshButton().disabled).toBe(false));
  });
});

describe("SessionCard with a rejected refresh token", () => {
  it("says so once, with how long the access token still works, and End it now asks the app", async () => {
    const store = new SessionStore();
    store.receive(eventRow("INITIAL_SESSION"));
    vi.mocked(api.refreshNow).mockRejectedValueOnce(
      appError("api", "Invalid Refresh Token: Refresh Token Not Found", "refresh_token_not_found", 400),
    );
    vi.mocked(api.endSession).mockResolvedValue(undefined);
    wiredCard(store, EXPIRES_AT - 300);

    await fireEvent.click(refreshButton());
    await eventually(() => expect(store.refreshError).not.toBeNull());
    store.receive(eventRow("REFRESH_REJECTED", { previous: "INITIAL_SESSION", rejection: rejection() }));
    await tick();

    const banner = screen.getByRole("status");
    expect(banner.id).toBe("refresh-rejected");
    expect(banner.textContent).toContain("Refresh token rejected: refresh_token_not_found.");
    expect(banner.textContent).toContain(`still works until ${localTime(EXPIRES_AT)}`);
    expect(banner.textContent).toContain("(for 5:00 more)");
    expect(screen.queryByRole("alert"), "the rejection is said once, by the banner").toBeNull();

    await fireEvent.click(within(banner).getByRole("button", { name: "End it now" }));
    expect(api.endSession).toHaveBeenCalledTimes(1);
    expect(api.endSession).toHaveBeenCalledWith();
  });

  it("still says why End it now failed", async () => {
    const store = new SessionStore();
    store.receive(eventRow("REFRESH_REJECTED", { rejection: rejection() }));
    vi.mocked(api.endSession).mockRejectedValueOnce(appError("notReady", "the inspector is still starting"));
    wiredCard(store, EXPIRES_AT - 300);

    await fireEvent.click(screen.getByRole("button", { name: "End it now" }));
    const box = await eventually(() => screen.getByRole("alert"));
    expect(within(box).getByText("Not ready yet")).toBeTruthy();
    expect(within(box).getByText("the inspector is still starting")).toBeTruthy();
    expect(screen.getByRole("status").id, "the banner stays: the session is not over").toBe("refresh-rejected");
  });

  it("drops the '(for … more)' once the access token has expired", () => {
    card(EXPIRES_AT + 5, { rejection: rejection() });
    const banner = screen.getByRole("status");
    expect(banner.textContent).not.toContain("more)");
    expect(banner.textContent).toContain(`still works until ${localTime(EXPIRES_AT)}`);
  });
});
