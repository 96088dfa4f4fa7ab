import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/svelte";
import { api } from "../lib/api";
import type { InboxMessage } from "../lib/types";
import { appError, eventually, expectOnlyPlannedCalls } from "../test/api";
import { session, status, user } from "../test/fixtures";
import EmailChange from "./EmailChange.svelte";

vi.mock("../lib/api");
expectOnlyPlannedCalls();
afterEach(() => cleanup());

const pendingUser = () => user({ newEmail: "new@example.com", emailChangeSentAt: "2024-05-01T14:02:11Z" });
const mail = (id: string, to: string, code: string): InboxMessage => ({
  id,
  to,
  kind: "email_change",
  subject: "Confirm Email Change",
  code,
  link: `http://127.0.0.1:54321/auth/v1/verify?token=${id}&type=email_change&redirect_to=http://localhost`,
  sentAt: "2024-05-01T14:02:11Z",
});

describe("EmailChange", () => {
  it("asks for the change; pending, it says where the confirmations went", async () => {
    vi.mocked(api.changeEmail).mockResolvedValue(pendingUser());
    const view = render(EmailChange, { props: { user: user(), demo: null } });
    expect(document.getElementById("email-change-pending")).toBeNull();
    await fireEvent.input(screen.getByLabelText("New email"), { target: { value: " new@example.com " } });
    await fireEvent.click(screen.getByRole("button", { name: "Send confirmation" }));
    expect(api.changeEmail).toHaveBeenCalledWith("new@example.com");
    // The changed user arrives through the live log (USER_UPDATED), as the session's.
    await view.rerender({ user: pendingUser(), demo: null });
    const pending = document.getElementById("email-change-pending")?.textContent ?? "";
    // Off the demo the window cannot know whether secure email change is on: it says both.
    expect(pending).toMatch(/Confirmation sent to new@example.com\s+at .+\./);
    expect(pending).toMatch(/With secure email change on \(GoTrue's default\) ada@example.com gets one too/);
    expect(pending).toMatch(/with it off, only the new address gets mail/);
    expect(screen.getByLabelText("Code sent to new@example.com")).toBeTruthy();
    expect(screen.getByLabelText("Code sent to ada@example.com")).toBeTruthy();
  });

  it("shows GoTrue's first-of-two message, then the change applied", async () => {
    vi.mocked(api.confirmEmailChange)
      .mockResolvedValueOnce({ outcome: "firstOfTwo", message: "Confirmation link accepted. Please proceed to confirm link sent to the other email" })
      .mockResolvedValueOnce({ outcome: "applied", session: session({ user: user({ email: "new@example.com" }) }) });
    render(EmailChange, { props: { user: pendingUser(), demo: null } });
    await fireEvent.input(screen.getByLabelText("Code sent to new@example.com"), { target: { value: "111111" } });
    await fireEvent.click(screen.getByRole("button", { name: "Confirm new@example.com" }));
    expect(api.confirmEmailChange).toHaveBeenCalledWith("new@example.com", "111111");
    await eventually(() => expect(screen.getByRole("status").textContent).toMatch(/proceed to confirm link sent to the other email/));

    await fireEvent.input(screen.getByLabelText("Code sent to ada@example.com"), { target: { value: "222222" } });
    await fireEvent.click(screen.getByRole("button", { name: "Confirm ada@example.com" }));
    expect(api.confirmEmailChange).toHaveBeenLastCalledWith("ada@example.com", "222222");
    await eventually(() => expect(screen.getByRole("status").textContent).toMatch(/Email changed to new@example.com.*SIGNED_IN/));
  });

  it("on the demo, each inbox code goes to the field of its address; a link confirms by its token", async () => {
    vi.mocked(api.demoInbox).mockResolvedValue([mail("a", "new@example.com", "111111"), mail("b", "ada@example.com", "222222"), mail("c", "eve@example.com", "333333")]);
    vi.mocked(api.resendEmailChange).mockResolvedValue();
    vi.mocked(api.confirmEmailChangeLink).mockResolvedValue({ outcome: "firstOfTwo", message: "Confirmation link accepted." });
    render(EmailChange, { props: { user: pendingUser(), demo: status().demoAccount } });
    // The inbox loads with "Send again" (or after the request).
    await fireEvent.click(screen.getByRole("button", { name: "Send again" }));
    expect(api.resendEmailChange).toHaveBeenCalled();
    const list = await eventually(() => screen.getByRole("list"));
    const [toNew, toCurrent, ...more] = within(list).getAllByRole("listitem");
    expect(more).toEqual([]);
    if (!toNew || !toCurrent) throw new Error("two messages expected");
    await fireEvent.click(within(toNew).getByRole("button", { name: "use this code" }));
    await fireEvent.click(within(toCurrent).getByRole("button", { name: "use this code" }));
    expect(screen.getByLabelText<HTMLInputElement>("Code sent to new@example.com").value).toBe("111111");
    expect(screen.getByLabelText<HTMLInputElement>("Code sent to ada@example.com").value).toBe("222222");
    await fireEvent.click(within(toCurrent).getByRole("button", { name: "use this link" }));
    await fireEvent.click(screen.getByRole("button", { name: "Confirm with the link" }));
    expect(api.confirmEmailChangeLink).toHaveBeenCalledWith(mail("b", "", "").link);
  });

  it("shows the server's refusals: the address taken, a resend too soon", async () => {
    vi.mocked(api.changeEmail).mockRejectedValue(appError("api", "A user with this email address has already been registered", "email_exists", 422));
    vi.mocked(api.resendEmailChange).mockRejectedValue(
      appError("api", "For security purposes, you can only request this after 59 seconds.", "over_email_send_rate_limit", 429),
    );
    render(EmailChange, { props: { user: pendingUser(), demo: null } });
    await fireEvent.input(screen.getByLabelText("New email"), { target: { value: "eve@example.com" } });
    await fireEvent.click(screen.getByRole("button", { name: "Send confirmation" }));
    let box = await eventually(() => screen.getByRole("alert"));
    expect(within(box).getByText("Email already in use")).toBeTruthy();
    await fireEvent.click(screen.getByRole("button", { name: "Send again" }));
    box = await eventually(() => {
      const alert = screen.getByRole("alert");
      expect(alert.textContent).toMatch(/over_email_send_rate_limit/);
      return alert;
    });
    expect(within(box).getByText(/only request this after 59 seconds/)).toBeTruthy();
  });

  it("on the demo says whom the mail went to: both addresses, or only the new one", async () => {
    vi.mocked(api.resendEmailChange).mockResolvedValue();
    vi.mocked(api.demoInbox).mockResolvedValueOnce([mail("a", "new@example.com", "111111"), mail("b", "ada@example.com", "222222")]);
    render(EmailChange, { props: { user: pendingUser(), demo: status().demoAccount } });
    await fireEvent.click(screen.getByRole("button", { name: "Send again" }));
    await eventually(() => expect(document.getElementById("email-change-pending")!.textContent).toMatch(/ada@example.com got one too \(secure email change\)/));
    cleanup();

    vi.mocked(api.demoInbox).mockResolvedValueOnce([mail("a", "new@example.com", "111111")]);
    render(EmailChange, { props: { user: pendingUser(), demo: status().demoAccount } });
    await fireEvent.click(screen.getByRole("button", { name: "Send again" }));
    await eventually(() => expect(document.getElementById("email-change-pending")!.textContent).toMatch(/Only the new address got mail: secure email change is off/));
    expect(screen.queryByLabelText("Code sent to ada@example.com"), "no field for a code that was never sent").toBeNull();
  });

  it("after a password change revoked the codes, offers Send again instead; the inbox shows only the latest round", async () => {
    const revoked = user({ newEmail: "new@example.com", emailChangeSentAt: null });
    const view = render(EmailChange, { props: { user: revoked, demo: status().demoAccount } });
    expect(document.getElementById("email-change-revoked")!.textContent).toMatch(/codes and links were revoked/);
    expect(screen.queryByLabelText("Code sent to new@example.com")).toBeNull();
    expect(document.getElementById("email-change-inbox-title")).toBeNull();

    const old = { ...mail("old", "new@example.com", "000000"), sentAt: "2024-05-01T13:00:00Z" };
    vi.mocked(api.demoInbox).mockResolvedValue([old, mail("a", "new@example.com", "111111")]);
    vi.mocked(api.resendEmailChange).mockResolvedValue();
    await fireEvent.click(screen.getByRole("button", { name: "Send again" }));
    expect(api.resendEmailChange).toHaveBeenCalled();
    // The resend's USER_UPDATED brings the new sent time.
    await view.rerender({ user: pendingUser(), demo: status().demoAccount });
    const list = await eventually(() => screen.getByRole("list"));
    expect(within(list).getAllByRole("listitem").map((li) => li.querySelector("code")?.textContent)).toEqual(["111111"]);
  });
});
