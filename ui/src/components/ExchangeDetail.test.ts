import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
import { tick } from "svelte";
import { api } from "../lib/api";
import type { CopiedAs, Exchange } from "../lib/types";
import { expectOnlyPlannedCalls } from "../test/api";
import ExchangeDetail from "./ExchangeDetail.svelte";

vi.mock("../lib/api");
expectOnlyPlannedCalls();
afterEach(cleanup);

const EXCHANGE: Exchange = {
  id: 8,
  startedAt: "2026-12-02T10:00:00.000Z",
  durationMs: 4.9,
  method: "POST",
  url: "http://127.0.0.1:5400/auth/v1/token?grant_type=refresh_token",
  requestHeaders: [["apikey", "fp:30a67aa992a0"]],
  requestBody: '{"refresh_token":"fp:49a7b3f308bb"}',
  status: 200,
  responseHeaders: [],
  responseBody: null,
  serverDate: null,
  error: null,
};

const slot = (name: string, filled: boolean, why: string | null) => ({
  name,
  fingerprint: name === "SI_SUPABASE_KEY" ? "fp:30a67aa992a0" : "fp:49a7b3f308bb",
  place: name === "SI_SUPABASE_KEY" ? "the apikey header" : "the refresh_token in the body",
  filled,
  why,
});

async function settle() {
  await new Promise((resolve) => setTimeout(resolve, 0));
  await tick();
}

describe("ExchangeDetail, copy as", () => {
  it("copies redacted at once and lists the placeholders to set", async () => {
    vi.mocked(api.exchange).mockResolvedValue(EXCHANGE);
    const redacted: CopiedAs = {
      slots: [slot("SI_SUPABASE_KEY", false, "redacted copy"), slot("SI_REFRESH_TOKEN", false, "redacted copy")],
      clearsInSecs: null,
    };
    vi.mocked(api.copyExchangeAs).mockResolvedValue(redacted);
    render(ExchangeDetail, { props: { exchangeId: 8, onClose: () => {} } });
    await settle();
    await fireEvent.click(screen.getByRole("button", { name: "Copy as curl" }));
    expect(api.copyExchangeAs).toHaveBeenCalledWith(8, "curl", false);
    await settle();
    const result = document.getElementById("copy-as-result")?.textContent ?? "";
    expect(result).toContain("Copied as curl (redacted).");
    expect(result).toContain("SI_REFRESH_TOKEN — the refresh_token in the body, fp:49a7b3f308bb (redacted copy)");
    expect(result).not.toContain("Filled in");
  });

  it("asks before a copy with real tokens, and says what stayed a placeholder", async () => {
    vi.mocked(api.exchange).mockResolvedValue(EXCHANGE);
    const real: CopiedAs = {
      slots: [slot("SI_SUPABASE_KEY", true, null), slot("SI_REFRESH_TOKEN", false, "not held by the app")],
      clearsInSecs: 30,
    };
    vi.mocked(api.copyExchangeAs).mockResolvedValue(real);
    render(ExchangeDetail, { props: { exchangeId: 8, onClose: () => {} } });
    await settle();
    await fireEvent.click(screen.getByRole("button", { name: "With real tokens…" }));
    expect(api.copyExchangeAs, "nothing is copied before the choice").not.toHaveBeenCalled();
    expect(screen.getByRole("alertdialog").textContent).toContain("The copy will hold live tokens.");

    await fireEvent.click(screen.getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("alertdialog")).toBeNull();
    expect(api.copyExchangeAs).not.toHaveBeenCalled();

    await fireEvent.click(screen.getByRole("button", { name: "With real tokens…" }));
    await fireEvent.click(screen.getByRole("button", { name: "Copy as supabase-js with real tokens" }));
    expect(api.copyExchangeAs).toHaveBeenCalledWith(8, "supabaseJs", true);
    await settle();
    const result = document.getElementById("copy-as-result")?.textContent ?? "";
    expect(result).toContain("Copied as supabase-js with real tokens · clipboard clears in 30 s.");
    expect(result).toContain("Filled in: SI_SUPABASE_KEY.");
    expect(result).toContain("SI_REFRESH_TOKEN — the refresh_token in the body, fp:49a7b3f308bb (not held by the app)");
    expect(screen.queryByRole("alertdialog"), "the warning closes").toBeNull();
  });
});
