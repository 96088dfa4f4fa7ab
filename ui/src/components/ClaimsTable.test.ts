import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/svelte";
import { api } from "../lib/api";
import { localTime } from "../lib/format";
import type { SignatureStatus } from "../lib/types";
import { appError, eventually, expectOnlyPlannedCalls } from "../test/api";
import { EXPIRES_AT, ISSUED_AT, session } from "../test/fixtures";
import ClaimsTable from "./ClaimsTable.svelte";

vi.mock("../lib/api");
expectOnlyPlannedCalls();

// "in 50 minutes" is from the clock: Date is faked at ten minutes after issue.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date", "setInterval", "clearInterval"] });
  vi.setSystemTime((ISSUED_AT + 600) * 1000);
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

function table(over: { header?: Record<string, unknown>; fingerprint?: string; offsetMs?: number } = {}) {
  const s = session();
  return render(ClaimsTable, {
    props: {
      header: over.header ?? s.header,
      claims: s.claims,
      fingerprint: over.fingerprint ?? s.accessTokenFingerprint,
      offsetMs: over.offsetMs ?? 0,
    },
  });
}

/** The table's rows of one group ("Header", "Payload") as [name, value, when, meaning]. */
function group(title: string): string[][] {
  const body = [...document.querySelectorAll("#claims-table tbody")].find((b) => b.querySelector(".group")?.textContent === title);
  return [...(body?.querySelectorAll("tr:not(.group)") ?? [])].map((tr) =>
    [...tr.querySelectorAll("th, td")].map((cell) => cell.textContent ?? ""),
  );
}

const badge = () => document.getElementById("signature-status")?.textContent?.replace(/\s+/g, " ").trim();

describe("ClaimsTable", () => {
  it("marks the phone claim's value private, for screenshot-safe mode", async () => {
    vi.mocked(api.signature).mockResolvedValue({ status: "verified", alg: "ES256", kid: "key-1" });
    const s = session();
    render(ClaimsTable, {
      props: { header: s.header, claims: { ...s.claims, phone: "447700900123" }, fingerprint: s.accessTokenFingerprint, offsetMs: 0 },
    });
    const cells = [...document.querySelectorAll("#claims-table td.value")];
    const phone = cells.find((cell) => cell.textContent === "447700900123");
    expect(phone?.hasAttribute("data-private")).toBe(true);
    expect(cells.filter((cell) => cell.hasAttribute("data-private"))).toHaveLength(1);
    await eventually(() => expect(api.signature).toHaveBeenCalledTimes(1));
  });

  it("lays the header and the claims out in order, with when and what each means", async () => {
    vi.mocked(api.signature).mockResolvedValue({ status: "verified", alg: "ES256", kid: "key-1" });
    table();
    expect(group("Header").map((row) => row[0])).toEqual(["alg", "typ", "kid"]);
    expect(group("Payload").map((row) => row[0])).toEqual(["sub", "role", "exp", "iat", "aal", "amr", "session_id"]);
    const exp = group("Payload").find((row) => row[0] === "exp")!;
    expect(exp[1]).toBe(String(EXPIRES_AT));
    expect(exp[2]).toBe(localTime(EXPIRES_AT));
    expect(exp[3]).toBe(
      `Expires ${localTime(EXPIRES_AT)} (in 50 minutes). Until then any Supabase API accepts it without asking Auth; ` +
        "after it, the client refreshes.",
    );
    expect(group("Payload").find((row) => row[0] === "amr")![1]).toBe(`[{"method":"password","timestamp":${ISSUED_AT}}]`);
    await eventually(() => expect(badge()).toBe("✓ Signature verified · ES256 · key-1"));
    expect(api.signature).toHaveBeenCalledTimes(1);
    expect(api.jwtSecretKept, "no keyring read for an asymmetric token").not.toHaveBeenCalled();
  });

  it("reads 'when' from the server's clock", () => {
    vi.mocked(api.signature).mockResolvedValue({ status: "verified", alg: "ES256", kid: null });
    table({ offsetMs: 45 * 60_000 });
    expect(group("Payload").find((row) => row[0] === "exp")![3]).toContain("(in 5 minutes)");
  });

  it("switches between the table and the raw JSON", async () => {
    vi.mocked(api.signature).mockResolvedValue({ status: "verified", alg: "ES256", kid: null });
    table();
    const toggle = screen.getByRole("group", { name: "Show claims as" });
    expect(within(toggle).getByRole("button", { name: "Table" }).getAttribute("aria-pressed")).toBe("true");
    await fireEvent.click(within(toggle).getByRole("button", { name: "Raw JSON" }));
    expect(document.getElementById("claims-table")).toBeNull();
    const raw = document.getElementById("claims-raw")!;
    expect(JSON.parse(raw.textContent ?? "")).toEqual({ header: session().header, payload: session().claims });
    expect(within(toggle).getByRole("button", { name: "Raw JSON" }).getAttribute("aria-pressed")).toBe("true");
  });

  it("checks the signature again for a new token, not for the same one", async () => {
    vi.mocked(api.signature)
      .mockResolvedValueOnce({ status: "verified", alg: "ES256", kid: "key-1" })
      .mockResolvedValueOnce({ status: "invalid_signature", alg: "ES256", reason: "the signature does not match", cause: "mismatch" });
    const view = table();
    await eventually(() => expect(badge()).toMatch(/^✓/));
    view.rerender({ offsetMs: 3000 });
    expect(api.signature).toHaveBeenCalledTimes(1);
    view.rerender({ fingerprint: "at:other" });
    await eventually(() => expect(badge()).toBe("✗ Signature invalid · ES256 — the signature does not match"));
    expect(api.signature).toHaveBeenCalledTimes(2);
  });

  it("for HS256, asks for the project's JWT secret, keeps it, and checks again", async () => {
    const needsSecret: SignatureStatus = {
      status: "server_accepted",
      alg: "HS256",
    };
    vi.mocked(api.signature)
      .mockResolvedValueOnce(needsSecret)
      .mockResolvedValueOnce({ status: "verified", alg: "HS256", kid: null });
    vi.mocked(api.jwtSecretKept).mockResolvedValueOnce(false).mockResolvedValueOnce(true);
    vi.mocked(api.jwtSecretSave).mockResolvedValue(undefined);
    table({ header: { alg: "HS256", typ: "JWT" } });
    await eventually(() => expect(badge()).toMatch(/^✓ Accepted by the server · HS256/));

    const save = screen.getByRole<HTMLButtonElement>("button", { name: "Verify with it" });
    expect(save.disabled).toBe(true);
    await fireEvent.input(screen.getByLabelText("Project JWT secret"), { target: { value: "super-secret-jwt-token" } });
    await fireEvent.click(save);
    expect(api.jwtSecretSave).toHaveBeenCalledWith("super-secret-jwt-token");
    await eventually(() => expect(badge()).toBe("✓ Signature verified · HS256"));
    expect(screen.getByText("The project's JWT secret is in the keyring.")).toBeTruthy();
    expect(api.jwtSecretKept).toHaveBeenCalledTimes(2);
  });

  it("says why the secret was not kept", async () => {
    vi.mocked(api.signature).mockResolvedValue({
      status: "not_verified",
      reason: "HS256 needs the project's JWT secret",
      cause: "needs_secret",
    });
    vi.mocked(api.jwtSecretKept).mockResolvedValue(false);
    vi.mocked(api.jwtSecretSave).mockRejectedValue(appError("invalidInput", "The secret must be at least 32 characters"));
    table({ header: { alg: "HS256" } });
    await eventually(() => expect(screen.getByLabelText("Project JWT secret")).toBeTruthy());
    await fireEvent.input(screen.getByLabelText("Project JWT secret"), { target: { value: "short" } });
    await fireEvent.click(screen.getByRole("button", { name: "Verify with it" }));
    const error = await eventually(() => screen.getByRole("alert"));
    expect(error.textContent).toBe("The secret must be at least 32 characters");
  });

  it("says the signature is not verified when the check itself failed", async () => {
    vi.mocked(api.signature).mockRejectedValue(appError("retryableFetch", "JWKS unreachable"));
    table();
    await eventually(() => expect(badge()).toBe("Signature not verified — JWKS unreachable"));
  });
});
