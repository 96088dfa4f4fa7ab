import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
import { tick } from "svelte";
import { api } from "../lib/api";
import { appError, expectOnlyPlannedCalls } from "../test/api";
import { ISSUED_AT } from "../test/fixtures";
import TokenRow from "./TokenRow.svelte";

vi.mock("../lib/api");
expectOnlyPlannedCalls();

// "clipboard clears in N s" reads the window's clock: Date and its tick are faked (setTimeout,
// which hides a note after 2.5 s, too).
beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date", "setInterval", "clearInterval", "setTimeout", "clearTimeout"] });
  vi.setSystemTime(ISSUED_AT * 1000);
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

const ACCESS = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiI1YTNmIn0.c2lnbmF0dXJl";

/** Lets the mocked command's answer reach the component. */
async function settle() {
  await vi.advanceTimersByTimeAsync(0);
  await tick();
}

describe("TokenRow", () => {
  it("shows only the fingerprint until Reveal, then the token for that fingerprint, and Hide forgets it", async () => {
    vi.mocked(api.reveal).mockResolvedValue(ACCESS);
    render(TokenRow, { props: { which: "access", fingerprint: "at:3f9a12", detail: "JWT · ES256" } });
    expect(document.getElementById("access-fingerprint")?.textContent).toBe("at:3f9a12");
    expect(screen.getByText("JWT · ES256")).toBeTruthy();
    expect(document.getElementById("access-revealed")).toBeNull();

    const reveal = screen.getByRole("button", { name: "Reveal the access token" });
    expect(reveal.getAttribute("aria-pressed")).toBe("false");
    await fireEvent.click(reveal);
    expect(api.reveal).toHaveBeenCalledWith("access", "at:3f9a12");
    await settle();
    expect(document.getElementById("access-revealed")?.textContent).toBe(ACCESS);
    expect(document.getElementById("access-revealed")?.hasAttribute("data-private"), "screenshot-safe masks it").toBe(true);
    const hide = screen.getByRole("button", { name: "Hide the access token" });
    expect(hide.getAttribute("aria-pressed")).toBe("true");

    await fireEvent.click(hide);
    expect(document.getElementById("access-revealed")).toBeNull();
    expect(api.reveal, "Hide asks nothing").toHaveBeenCalledTimes(1);
  });

  it("hides a revealed token when the token changes (a refresh)", async () => {
    vi.mocked(api.reveal).mockResolvedValue(ACCESS);
    const view = render(TokenRow, { props: { which: "access", fingerprint: "at:3f9a12" } });
    await fireEvent.click(screen.getByRole("button", { name: "Reveal the access token" }));
    await settle();
    expect(document.getElementById("access-revealed")).not.toBeNull();

    view.rerender({ fingerprint: "at:new001" });
    expect(document.getElementById("access-revealed")).toBeNull();
    expect(screen.getByRole("button", { name: "Reveal the access token" })).toBeTruthy();
  });

  it("says why a reveal was refused, for a while", async () => {
    vi.mocked(api.reveal).mockRejectedValue(appError("invalidInput", "The session changed: reveal the token on screen"));
    render(TokenRow, { props: { which: "refresh", fingerprint: "rt:b71c0e" } });
    await fireEvent.click(screen.getByRole("button", { name: "Reveal the refresh token" }));
    await settle();
    expect(screen.getByRole("status").textContent).toBe("The session changed: reveal the token on screen");
    expect(document.getElementById("refresh-revealed")).toBeNull();
    await vi.advanceTimersByTimeAsync(2500);
    expect(screen.queryByRole("status")).toBeNull();
  });

  it("Copy leaves the token to the app and counts down to the clipboard's clearing", async () => {
    vi.mocked(api.copy).mockResolvedValue({ clearsInSecs: 30 });
    render(TokenRow, { props: { which: "refresh", fingerprint: "rt:b71c0e" } });
    await fireEvent.click(screen.getByRole("button", { name: "Copy the refresh token" }));
    expect(api.copy).toHaveBeenCalledWith("refresh", "rt:b71c0e");
    await settle();
    expect(document.getElementById("refresh-copied")?.textContent).toBe("Copied · clipboard clears in 30 s");
    expect(document.getElementById("refresh-revealed"), "copying shows nothing").toBeNull();

    await vi.advanceTimersByTimeAsync(10_000);
    expect(document.getElementById("refresh-copied")?.textContent).toBe("Copied · clipboard clears in 20 s");
    await vi.advanceTimersByTimeAsync(20_000);
    expect(document.getElementById("refresh-copied")).toBeNull();
  });

  it("says why a copy failed", async () => {
    vi.mocked(api.copy).mockRejectedValue(appError("clipboard", "no clipboard on this display"));
    render(TokenRow, { props: { which: "access", fingerprint: "at:3f9a12" } });
    await fireEvent.click(screen.getByRole("button", { name: "Copy the access token" }));
    await settle();
    expect(screen.getByRole("status").textContent).toBe("Not copied: no clipboard on this display");
    expect(document.getElementById("access-copied")).toBeNull();
  });
});
