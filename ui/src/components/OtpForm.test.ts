import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/svelte";
import { api } from "../lib/api";
import type { InboxMessage } from "../lib/types";
import { appError, deferred, eventually, expectOnlyPlannedCalls } from "../test/api";
import { session, status } from "../test/fixtures";
import OtpForm from "./OtpForm.svelte";

vi.mock("../lib/api");
expectOnlyPlannedCalls();
afterEach(() => cleanup());

const demo = status().demoAccount;

function message(over: Partial<InboxMessage> = {}): InboxMessage {
  return {
    id: "m1",
    to: "ada@example.com",
    kind: "magiclink",
    subject: "Your Magic Link",
    code: "123456",
    link: "http://127.0.0.1:54321/auth/v1/verify?token=abc&type=magiclink&redirect_to=http://localhost",
    sentAt: "2024-05-01T14:02:11Z",
    ...over,
  };
}

function form(channel: "email" | "phone", over: { demo?: typeof demo; disableSignup?: boolean } = {}) {
  return render(OtpForm, { props: { channel, demo: over.demo ?? null, disableSignup: over.disableSignup ?? false } });
}

const recipientField = () => screen.getByLabelText<HTMLInputElement>(/^(Email|Phone number)$/);
const codeField = () => screen.getByLabelText<HTMLInputElement>(/^Code from the/);
const codeStep = () => document.getElementById("otp-sent");

async function typeRecipient(value: string) {
  await fireEvent.input(recipientField(), { target: { value } });
}

describe("OtpForm, sending a code", () => {
  it("sends to the typed address, then shows the code step; the code goes with its kind", async () => {
    vi.mocked(api.sendCode).mockResolvedValue({ messageId: "m1" });
    vi.mocked(api.verifyCode).mockResolvedValue(session());
    form("email");
    expect(codeStep()).toBeNull();
    await typeRecipient("  ada@example.com ");
    await fireEvent.click(screen.getByRole("button", { name: "Email me a code" }));

    expect(api.sendCode).toHaveBeenCalledWith("email", "ada@example.com", true);
    await eventually(() => expect(codeStep()).not.toBeNull());
    expect(codeStep()?.textContent).toMatch(/^\s*Sent to ada@example.com at .+\./);
    expect(api.demoInbox, "not the demo: no inbox").not.toHaveBeenCalled();

    await fireEvent.input(codeField(), { target: { value: " 654321 " } });
    await fireEvent.click(screen.getByRole("button", { name: "Verify and sign in" }));
    expect(api.verifyCode).toHaveBeenCalledWith("email", "ada@example.com", "654321", "email");
    await eventually(() => expect(codeField().value).toBe(""));
  });

  it("texts a phone number, verifies with the sms kind, and offers no link", async () => {
    vi.mocked(api.sendCode).mockResolvedValue({ messageId: null });
    vi.mocked(api.verifyCode).mockResolvedValue(session());
    form("phone");
    await typeRecipient("+1 555 123 4567");
    await fireEvent.click(screen.getByRole("button", { name: "Text me a code" }));
    expect(api.sendCode).toHaveBeenCalledWith("phone", "+1 555 123 4567", true);
    await eventually(() => expect(codeStep()).not.toBeNull());
    expect(screen.getByLabelText("Code from the text message")).toBeTruthy();
    expect(screen.queryByLabelText(/paste the link/)).toBeNull();

    await fireEvent.input(codeField(), { target: { value: "111222" } });
    await fireEvent.click(screen.getByRole("button", { name: "Verify and sign in" }));
    expect(api.verifyCode).toHaveBeenCalledWith("phone", "+1 555 123 4567", "111222", "sms");
  });

  it("never asks to create a user when the project's sign-ups are off", async () => {
    vi.mocked(api.sendCode).mockResolvedValue({ messageId: null });
    form("email", { disableSignup: true });
    const create = screen.getByRole<HTMLInputElement>("checkbox", { name: /Create the user/ });
    expect(create.disabled).toBe(true);
    expect(screen.getByText("(sign-ups are off in this project)")).toBeTruthy();
    await typeRecipient("ada@example.com");
    await fireEvent.click(screen.getByRole("button", { name: "Email me a code" }));
    expect(api.sendCode).toHaveBeenCalledWith("email", "ada@example.com", false);
  });

  it("sends without creating a user when the box is unticked", async () => {
    vi.mocked(api.sendCode).mockResolvedValue({ messageId: null });
    form("email");
    await fireEvent.click(screen.getByRole("checkbox", { name: /Create the user/ }));
    await typeRecipient("ada@example.com");
    await fireEvent.click(screen.getByRole("button", { name: "Email me a code" }));
    expect(api.sendCode).toHaveBeenCalledWith("email", "ada@example.com", false);
  });

  it("stays on the address, busy then with Auth's refusal, when no code was sent", async () => {
    const answer = deferred<never>();
    vi.mocked(api.sendCode).mockReturnValue(answer.promise);
    form("email");
    await typeRecipient("new@example.com");
    const send = screen.getByRole<HTMLButtonElement>("button", { name: "Email me a code" });
    await fireEvent.click(send);
    expect(send.disabled).toBe(true);
    answer.reject(appError("api", "Signups not allowed for otp", "otp_disabled", 422));
    const box = await eventually(() => screen.getByRole("alert"));
    expect(within(box).getByText("Signups not allowed for otp")).toBeTruthy();
    expect(codeStep(), "no code was made: no code step").toBeNull();
    expect(send.disabled).toBe(false);
  });
});

describe("OtpForm, a resend too soon", () => {
  const tooSoon = appError(
    "api",
    "For security purposes, you can only request this after 52 seconds.",
    "over_email_send_rate_limit",
    429,
  );

  it("from the address: shows the code step anyway, with GoTrue's message (the last code still works)", async () => {
    vi.mocked(api.sendCode).mockRejectedValue(tooSoon);
    form("email");
    await typeRecipient("ada@example.com");
    await fireEvent.click(screen.getByRole("button", { name: "Email me a code" }));

    const box = await eventually(() => screen.getByRole("alert"));
    expect(codeStep()?.textContent).toMatch(/^\s*For ada@example.com\./);
    expect(within(box).getByText("Too many emails")).toBeTruthy();
    expect(within(box).getByText("For security purposes, you can only request this after 52 seconds.")).toBeTruthy();
    expect(codeField()).toBeTruthy();
  });

  it("from the code step: Send again refused keeps the code step and what was typed", async () => {
    vi.mocked(api.sendCode).mockResolvedValueOnce({ messageId: "m1" }).mockRejectedValueOnce(tooSoon);
    form("email");
    await typeRecipient("ada@example.com");
    await fireEvent.click(screen.getByRole("button", { name: "Email me a code" }));
    await eventually(() => expect(codeStep()).not.toBeNull());
    await fireEvent.input(codeField(), { target: { value: "12" } });

    await fireEvent.click(screen.getByRole("button", { name: "Send again" }));
    expect(api.sendCode).toHaveBeenLastCalledWith("email", "ada@example.com", true);
    const box = await eventually(() => screen.getByRole("alert"));
    expect(within(box).getByText("For security purposes, you can only request this after 52 seconds.")).toBeTruthy();
    expect(codeStep()).not.toBeNull();
    expect(codeField().value).toBe("12");
  });
});

describe("OtpForm, 'I already have a code'", () => {
  it("needs an address, then goes to the code step without sending anything", async () => {
    vi.mocked(api.verifyEmailLink).mockResolvedValue(session());
    form("email");
    const have = screen.getByRole<HTMLButtonElement>("button", { name: "I already have a code or link" });
    expect(have.disabled).toBe(true);
    await typeRecipient("ada@example.com");
    expect(have.disabled).toBe(false);
    await fireEvent.click(have);

    expect(api.sendCode).not.toHaveBeenCalled();
    expect(codeStep()?.textContent).toMatch(/^\s*For ada@example.com\./);
    await fireEvent.input(screen.getByLabelText(/paste the link from the email/), {
      target: { value: "https://abc.supabase.co/auth/v1/verify?token=t&type=magiclink" },
    });
    await fireEvent.click(screen.getByRole("button", { name: "Sign in with the link" }));
    expect(api.verifyEmailLink).toHaveBeenCalledWith("https://abc.supabase.co/auth/v1/verify?token=t&type=magiclink");

    await fireEvent.click(screen.getByRole("button", { name: "Change" }));
    expect(codeStep()).toBeNull();
    expect(recipientField().value).toBe("ada@example.com");
  });
});

describe("OtpForm on the built-in demo", () => {
  it("shows the inbox's messages for this address, and fills in their code and link", async () => {
    vi.mocked(api.sendCode).mockResolvedValue({ messageId: "m2" });
    vi.mocked(api.demoInbox).mockResolvedValue([
      message({ id: "m2", code: "222222", link: "http://127.0.0.1:54321/auth/v1/verify?token=two" }),
      message({ id: "m3", to: "bob@example.com", code: "333333" }),
    ]);
    vi.mocked(api.verifyCode).mockResolvedValue(session());
    vi.mocked(api.verifyEmailLink).mockResolvedValue(session());
    form("email", { demo });
    await typeRecipient("Ada@Example.com");
    await fireEvent.click(screen.getByRole("button", { name: "Email me a code" }));

    const inbox = await eventually(() => screen.getByRole("region", { name: /Built-in server's inbox/ }));
    await eventually(() => expect(within(inbox).queryByText("222222")).not.toBeNull());
    expect(api.demoInbox).toHaveBeenCalledTimes(1);
    expect(within(inbox).queryByText("333333"), "another address's message").toBeNull();

    await fireEvent.click(within(inbox).getByRole("button", { name: "use this code" }));
    expect(codeField().value).toBe("222222");
    await fireEvent.click(within(inbox).getByRole("button", { name: "use this link" }));
    expect(screen.getByLabelText<HTMLInputElement>(/paste the link/).value).toBe("http://127.0.0.1:54321/auth/v1/verify?token=two");

    await fireEvent.click(screen.getByRole("button", { name: "Verify and sign in" }));
    expect(api.verifyCode).toHaveBeenCalledWith("email", "Ada@Example.com", "222222", "email");
  });

  it("says when nothing has arrived yet, and checks again on request", async () => {
    vi.mocked(api.demoInbox).mockResolvedValueOnce([]).mockResolvedValueOnce([message()]);
    form("email", { demo });
    await typeRecipient("ada@example.com");
    await fireEvent.click(screen.getByRole("button", { name: "I already have a code or link" }));
    await eventually(() => expect(document.getElementById("inbox-empty")?.textContent).toBe("Nothing for ada@example.com yet."));

    await fireEvent.click(screen.getByRole("button", { name: "check again" }));
    await eventually(() => expect(screen.getByText("123456")).toBeTruthy());
    expect(api.demoInbox).toHaveBeenCalledTimes(2);
  });
});
