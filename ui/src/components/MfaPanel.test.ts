import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/svelte";
import { api } from "../lib/api";
import type { Factor, SessionView, TotpEnrollmentView } from "../lib/types";
import { appError, deferred, eventually, expectOnlyPlannedCalls } from "../test/api";
import { ISSUED_AT, session, user } from "../test/fixtures";
import MfaPanel from "./MfaPanel.svelte";

vi.mock("../lib/api");
expectOnlyPlannedCalls();
afterEach(() => cleanup());

function factor(over: Partial<Factor> = {}): Factor {
  return {
    id: "f1a2b3c4-0000-4000-8000-000000000001",
    factorType: "totp",
    friendlyName: "My phone",
    status: "verified",
    createdAt: null,
    updatedAt: null,
    ...over,
  };
}

const enrollment: TotpEnrollmentView = {
  factorId: "f9e8d7c6-0000-4000-8000-000000000002",
  friendlyName: "Laptop",
  secret: "JBSWY3DPEHPK3PXP",
  uri: "otpauth://totp/demo:ada@example.com?secret=JBSWY3DPEHPK3PXP&issuer=demo",
  qr: { size: 2, modules: [true, false, false, true] },
};

const aal2 = (base: SessionView = session()): SessionView =>
  session({
    ...base,
    claims: {
      ...base.claims,
      aal: "aal2",
      amr: [
        { method: "totp", timestamp: ISSUED_AT + 60 },
        { method: "password", timestamp: ISSUED_AT },
      ],
    },
  });

/** The panel once the user's factors have been read. */
async function panel(factors: Factor[], s: SessionView = session()) {
  vi.mocked(api.mfaFactors).mockResolvedValue(factors);
  const view = render(MfaPanel, { props: { session: s } });
  await eventually(() => expect(screen.queryByText("Reading the user's factors…")).toBeNull());
  return view;
}

const needsAal2 = () => document.getElementById("mfa-needs-aal2");

describe("MfaPanel", () => {
  it("reads the factors once, says the session's level, and offers to add one when there is none", async () => {
    const pending = deferred<Factor[]>();
    vi.mocked(api.mfaFactors).mockReturnValue(pending.promise);
    render(MfaPanel, { props: { session: session() } });
    expect(screen.getByText("Reading the user's factors…")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Add an authenticator app" }), "not before the factors are known").toBeNull();

    pending.resolve([]);
    await eventually(() => expect(document.getElementById("mfa-no-factors")).not.toBeNull());
    expect(api.mfaFactors).toHaveBeenCalledTimes(1);
    expect(document.getElementById("mfa-no-factors")?.textContent).toBe("No factors: this user signs in with one step (aal1).");
    expect(document.getElementById("mfa-aal")?.textContent).toBe("aal1");
    expect(document.getElementById("mfa-amr")?.textContent).toBe("password");
    expect(needsAal2()).toBeNull();
    expect(screen.getByRole("button", { name: "Add an authenticator app" })).toBeTruthy();
  });

  it("enrolls: shows the QR code and the secret, then verifies the code for that factor", async () => {
    await panel([]);
    vi.mocked(api.mfaEnrollTotp).mockResolvedValue(enrollment);
    vi.mocked(api.mfaFactors).mockResolvedValue([factor({ id: enrollment.factorId, status: "unverified", friendlyName: "Laptop" })]);
    await fireEvent.input(screen.getByLabelText("Name (optional)"), { target: { value: " Laptop " } });
    await fireEvent.click(screen.getByRole("button", { name: "Add an authenticator app" }));
    expect(api.mfaEnrollTotp).toHaveBeenCalledWith("Laptop");

    await eventually(() => expect(document.getElementById("mfa-enrollment")).not.toBeNull());
    const qr = screen.getByRole("img", { name: "QR code for the authenticator app" });
    expect(qr.querySelector("path")?.getAttribute("d"), "the two dark modules, inside the quiet zone").toBe(
      "M4 4h1v1h-1zM5 5h1v1h-1z",
    );
    expect(document.getElementById("mfa-secret")?.textContent).toBe("JBSWY3DPEHPK3PXP");
    expect(document.getElementById("mfa-secret")?.hasAttribute("data-private"), "screenshot-safe masks it").toBe(true);
    await eventually(() => expect(api.mfaFactors).toHaveBeenCalledTimes(2)); // read again after the action
    await eventually(() => expect(within(document.getElementById("mfa-factors")!).getByText("unverified")).toBeTruthy());

    vi.mocked(api.mfaVerify).mockResolvedValue(aal2());
    await fireEvent.input(screen.getByLabelText("The app's current code"), { target: { value: "123456" } });
    await fireEvent.click(screen.getByRole("button", { name: "Verify and turn on" }));
    expect(api.mfaVerify).toHaveBeenCalledWith(enrollment.factorId, "123456");
    await eventually(() => expect(document.getElementById("mfa-enrollment")).toBeNull());
  });

  it("enrolls without a name when none is typed", async () => {
    await panel([]);
    vi.mocked(api.mfaEnrollTotp).mockResolvedValue(enrollment);
    await fireEvent.click(screen.getByRole("button", { name: "Add an authenticator app" }));
    expect(api.mfaEnrollTotp).toHaveBeenCalledWith(null);
    await eventually(() => expect(document.getElementById("mfa-secret")).not.toBeNull());
  });

  it("keeps the enrollment on screen with Auth's words when the code is wrong", async () => {
    await panel([]);
    vi.mocked(api.mfaEnrollTotp).mockResolvedValue(enrollment);
    await fireEvent.click(screen.getByRole("button", { name: "Add an authenticator app" }));
    await eventually(() => expect(document.getElementById("mfa-enrollment")).not.toBeNull());

    vi.mocked(api.mfaVerify).mockRejectedValue(appError("api", "Invalid TOTP code entered", "mfa_verification_failed", 422));
    await fireEvent.input(screen.getByLabelText("The app's current code"), { target: { value: "000000" } });
    await fireEvent.click(screen.getByRole("button", { name: "Verify and turn on" }));
    const box = await eventually(() => screen.getByRole("alert"));
    expect(box.id).toBe("mfa-error");
    expect(within(box).getByText("MFA code wrong")).toBeTruthy();
    expect(within(box).getByText("Invalid TOTP code entered")).toBeTruthy();
    expect(document.getElementById("mfa-secret")?.textContent, "the same secret, to try again").toBe("JBSWY3DPEHPK3PXP");
  });

  it("Cancel during an enrollment removes the unverified factor", async () => {
    await panel([]);
    vi.mocked(api.mfaEnrollTotp).mockResolvedValue(enrollment);
    vi.mocked(api.mfaUnenroll).mockResolvedValue(undefined);
    await fireEvent.click(screen.getByRole("button", { name: "Add an authenticator app" }));
    await eventually(() => expect(document.getElementById("mfa-enrollment")).not.toBeNull());
    await fireEvent.click(screen.getByRole("button", { name: "Cancel" }));
    expect(api.mfaUnenroll).toHaveBeenCalledWith(enrollment.factorId);
    await eventually(() => expect(document.getElementById("mfa-enrollment")).toBeNull());
  });

  it("warns that an aal1 session of a user with a verified factor needs a step-up, and steps up with its code", async () => {
    await panel([factor()]);
    const banner = needsAal2();
    expect(banner?.getAttribute("role")).toBe("status");
    expect(banner?.textContent).toContain("this session has not used it: it is still aal1");
    expect(screen.queryByRole("button", { name: "Add an authenticator app" }), "a second factor needs aal2 first").toBeNull();

    vi.mocked(api.mfaVerify).mockResolvedValue(aal2());
    await fireEvent.input(screen.getByLabelText("Code from the authenticator app"), { target: { value: "987654" } });
    await fireEvent.click(screen.getByRole("button", { name: "Verify and step up to aal2" }));
    expect(api.mfaVerify).toHaveBeenCalledWith(factor().id, "987654");
  });

  it("asks which factor to step up with when there are several verified ones", async () => {
    const second = factor({ id: "f1a2b3c4-0000-4000-8000-000000000009", friendlyName: "Tablet" });
    await panel([factor(), second, factor({ id: "unverified-1", status: "unverified", friendlyName: "Old" })]);
    const select = screen.getByLabelText<HTMLSelectElement>("Factor");
    expect([...select.options].map((o) => o.textContent)).toEqual(["My phone", "Tablet"]);
    await fireEvent.change(select, { target: { value: second.id } });
    vi.mocked(api.mfaVerify).mockResolvedValue(aal2());
    await fireEvent.input(screen.getByLabelText("Code from the authenticator app"), { target: { value: "111111" } });
    await fireEvent.click(screen.getByRole("button", { name: "Verify and step up to aal2" }));
    expect(api.mfaVerify).toHaveBeenCalledWith(second.id, "111111");
  });

  it("has no banner once the session is aal2, and says how it got there", async () => {
    await panel([factor()], aal2());
    expect(needsAal2()).toBeNull();
    expect(document.getElementById("mfa-aal")?.textContent).toBe("aal2");
    expect(document.getElementById("mfa-amr")?.textContent).toBe("password → totp");
    expect(screen.getByRole("button", { name: "Add an authenticator app" })).toBeTruthy();
  });

  it("has no banner for an aal1 user whose only factor is unverified", async () => {
    await panel([factor({ status: "unverified" })]);
    expect(needsAal2()).toBeNull();
    expect(within(document.getElementById("mfa-factors")!).getByText("unverified")).toBeTruthy();
  });

  it("removes a factor and reads the factors again", async () => {
    await panel([factor()], aal2());
    vi.mocked(api.mfaUnenroll).mockResolvedValue(undefined);
    vi.mocked(api.mfaFactors).mockResolvedValue([]);
    await fireEvent.click(screen.getByRole("button", { name: "remove" }));
    expect(api.mfaUnenroll).toHaveBeenCalledWith(factor().id);
    await eventually(() => expect(document.getElementById("mfa-no-factors")).not.toBeNull());
  });

  it("offers nothing to an anonymous user but says why", async () => {
    await panel([], session({ user: user({ email: "", isAnonymous: true }) }));
    expect(document.getElementById("mfa-anonymous")?.textContent).toBe(
      "Anonymous users cannot enroll factors (Auth answers 403): sign in as a user to try MFA.",
    );
    expect(screen.queryByRole("button", { name: "Add an authenticator app" })).toBeNull();
    expect(screen.queryByLabelText("Code from the authenticator app")).toBeNull();
  });

  it("shows why the factors could not be read", async () => {
    vi.mocked(api.mfaFactors).mockRejectedValue(appError("api", "invalid JWT: token is expired", "bad_jwt", 401));
    render(MfaPanel, { props: { session: session() } });
    const box = await eventually(() => screen.getByRole("alert"));
    expect(within(box).getByText("Access token not valid")).toBeTruthy();
  });

  it("reads the factors again for a step-up, not for a plain refresh", async () => {
    const view = await panel([factor()]);
    expect(api.mfaFactors).toHaveBeenCalledTimes(1);
    view.rerender({ session: session({ accessTokenFingerprint: "at:refreshed", refreshTokenFingerprint: "rt:refreshed" }) });
    view.rerender({ session: aal2() });
    await eventually(() => expect(needsAal2()).toBeNull());
    expect(api.mfaFactors).toHaveBeenCalledTimes(2);
  });
});
