import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/svelte";
import { api } from "../lib/api";
import type { InboxMessage } from "../lib/types";
import { appError, eventually, expectOnlyPlannedCalls } from "../test/api";
import { session, status } from "../test/fixtures";
import ForgotPassword from "./ForgotPassword.svelte";

vi.mock("../lib/api");
expectOnlyPlannedCalls();
afterEach(() => cleanup());

const recovery = (over: Partial<InboxMessage> = {}): InboxMessage => ({
  id: "r1",
  to: "ada@example.com",
  kind: "recovery",
  subject: "Reset Your Password",
  code: "246810",
  link: "http://127.0.0.1:54321/auth/v1/verify?token=abc&type=recovery&redirect_to=http://localhost",
  sentAt: "2024-05-01T14:02:11Z",
  ...over,
});

describe("ForgotPassword", () => {
  it("sends the reset email to the address typed in the password form, then verifies the code as a recovery", async () => {
    vi.mocked(api.resetPassword).mockResolvedValue();
    vi.mocked(api.verifyCode).mockResolvedValue(session());
    render(ForgotPassword, { props: { demo: null, email: "ada@example.com", onBack: () => {} } });
    await fireEvent.click(screen.getByRole("button", { name: "Email me a reset code" }));
    expect(api.resetPassword).toHaveBeenCalledWith("ada@example.com");
    const sent = await eventually(() => document.getElementById("forgot-sent"));
    expect(sent?.textContent).toMatch(/Sent to ada@example.com at/);
    expect(document.getElementById("forgot-events")?.textContent).toMatch(/PASSWORD_RECOVERY.*USER_UPDATED/s);

    await fireEvent.input(screen.getByLabelText("Code from the reset email"), { target: { value: " 246810 " } });
    await fireEvent.click(screen.getByRole("button", { name: "Verify" }));
    expect(api.verifyCode).toHaveBeenCalledWith("email", "ada@example.com", "246810", "recovery");
  });

  it("on the demo, offers the reset email's code and link from the inbox; the link is verified by its token", async () => {
    vi.mocked(api.resetPassword).mockResolvedValue();
    vi.mocked(api.demoInbox).mockResolvedValue([recovery(), recovery({ id: "m", kind: "magiclink" }), recovery({ id: "o", to: "eve@example.com" })]);
    vi.mocked(api.verifyEmailLink).mockResolvedValue(session());
    render(ForgotPassword, { props: { demo: status().demoAccount, email: "ada@example.com", onBack: () => {} } });
    await fireEvent.click(screen.getByRole("button", { name: "Email me a reset code" }));
    const list = await eventually(() => screen.getByRole("list"));
    expect(within(list).getAllByRole("listitem")).toHaveLength(1);
    await fireEvent.click(within(list).getByRole("button", { name: "use this link" }));
    await fireEvent.click(screen.getByRole("button", { name: "Verify the link" }));
    expect(api.verifyEmailLink).toHaveBeenCalledWith(recovery().link);
  });

  it("shows GoTrue's refusal of a wrong code and stays on the code step", async () => {
    vi.mocked(api.resetPassword).mockResolvedValue();
    vi.mocked(api.verifyCode).mockRejectedValue(appError("api", "Token has expired or is invalid", "otp_expired", 403));
    render(ForgotPassword, { props: { demo: null, email: "ada@example.com", onBack: () => {} } });
    await fireEvent.click(screen.getByRole("button", { name: "Email me a reset code" }));
    await eventually(() => document.getElementById("forgot-sent"));
    await fireEvent.input(screen.getByLabelText("Code from the reset email"), { target: { value: "000000" } });
    await fireEvent.click(screen.getByRole("button", { name: "Verify" }));
    const box = await eventually(() => screen.getByRole("alert"));
    expect(within(box).getByText("otp_expired")).toBeTruthy();
    expect(document.getElementById("forgot-sent")).not.toBeNull();
  });

  it("a resend too soon keeps the code step, with GoTrue's words", async () => {
    vi.mocked(api.resetPassword).mockRejectedValue(
      appError("api", "For security purposes, you can only request this after 40 seconds.", "over_email_send_rate_limit", 429),
    );
    render(ForgotPassword, { props: { demo: null, email: "ada@example.com", onBack: () => {} } });
    await fireEvent.click(screen.getByRole("button", { name: "Email me a reset code" }));
    const box = await eventually(() => screen.getByRole("alert"));
    expect(within(box).getByText(/only request this after 40 seconds/)).toBeTruthy();
    expect(document.getElementById("forgot-sent")?.textContent).toMatch(/For ada@example.com/);
  });

  it("goes back to the sign-in form", async () => {
    const onBack = vi.fn();
    render(ForgotPassword, { props: { demo: null, email: "", onBack } });
    await fireEvent.click(screen.getByRole("button", { name: "Back to sign-in" }));
    expect(onBack).toHaveBeenCalled();
  });
});
