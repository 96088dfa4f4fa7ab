import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/svelte";
import { api } from "../lib/api";
import { appError, eventually, expectOnlyPlannedCalls } from "../test/api";
import { status, user } from "../test/fixtures";
import PasswordChange from "./PasswordChange.svelte";

vi.mock("../lib/api");
expectOnlyPlannedCalls();
afterEach(() => cleanup());

const field = () => screen.getByLabelText<HTMLInputElement>("New password");

async function submit(password: string, button = "Change password") {
  await fireEvent.input(field(), { target: { value: password } });
  await fireEvent.click(screen.getByRole("button", { name: button }));
}

describe("PasswordChange", () => {
  it("changes the password (no nonce) and says USER_UPDATED followed", async () => {
    vi.mocked(api.changePassword).mockResolvedValue(user());
    render(PasswordChange, { props: { demo: null, email: "ada@example.com" } });
    await submit("a-new-password");
    expect(api.changePassword).toHaveBeenCalledWith("a-new-password", null, null);
    const done = await eventually(() => screen.getByRole("status"));
    expect(done.textContent).toMatch(/Password changed at .+ \(USER_UPDATED\)/);
    expect(field().value).toBe("");
  });

  it("after a password reset, asks for the new password and names PASSWORD_RECOVERY", async () => {
    vi.mocked(api.changePassword).mockResolvedValue(user());
    render(PasswordChange, { props: { recovery: true, demo: null, email: "ada@example.com" } });
    expect(screen.getByRole("heading", { name: "Set a new password" })).toBeTruthy();
    expect(document.getElementById("recovery-hint")?.textContent).toMatch(/PASSWORD_RECOVERY/);
    await submit("a-new-password", "Save the new password");
    expect(api.changePassword).toHaveBeenCalledWith("a-new-password", null, null);
  });

  it("shows same_password and weak_password in GoTrue's words", async () => {
    const refusals: [string, string][] = [
      ["same_password", "New password should be different from the old password."],
      ["weak_password", "Password should be at least 6 characters."],
    ];
    for (const [code, words] of refusals) {
      vi.mocked(api.changePassword).mockRejectedValueOnce(appError("api", words, code, 422));
      render(PasswordChange, { props: { demo: null, email: "ada@example.com" } });
      await submit("x");
      const box = await eventually(() => screen.getByRole("alert"));
      expect(within(box).getByText(code)).toBeTruthy();
      expect(within(box).getByText(words)).toBeTruthy();
      expect(screen.queryByRole("button", { name: "Send a code" }), "no reauthentication asked").toBeNull();
      cleanup();
    }
  });

  it("on reauthentication_needed offers to send a code, then retries with it as the nonce", async () => {
    vi.mocked(api.changePassword)
      .mockRejectedValueOnce(appError("api", "Password update requires reauthentication", "reauthentication_needed", 400))
      .mockResolvedValueOnce(user());
    vi.mocked(api.reauthenticate).mockResolvedValue();
    vi.mocked(api.demoInbox).mockResolvedValue([
      { id: "n1", to: "ada@example.com", kind: "reauthentication", subject: "Confirm reauthentication", code: "135790", link: null, sentAt: "2024-05-01T14:02:11Z" },
    ]);
    render(PasswordChange, { props: { demo: status().demoAccount, email: "ada@example.com" } });
    await submit("a-new-password");
    const box = await eventually(() => screen.getByRole("alert"));
    expect(within(box).getByText("Reauthentication needed")).toBeTruthy();

    await fireEvent.click(screen.getByRole("button", { name: "Send a code" }));
    expect(api.reauthenticate).toHaveBeenCalled();
    await eventually(() => expect(document.getElementById("password-code-sent")?.textContent).toMatch(/Sent to ada@example.com/));
    await fireEvent.click(await eventually(() => screen.getByRole("button", { name: "use this code" })));
    expect(screen.getByLabelText<HTMLInputElement>("Code (nonce)").value).toBe("135790");
    await fireEvent.click(screen.getByRole("button", { name: "Change password" }));
    expect(api.changePassword).toHaveBeenLastCalledWith("a-new-password", "135790", null);
    await eventually(() => screen.getByRole("status"));
    expect(screen.queryByLabelText("Code (nonce)"), "done: no nonce asked any more").toBeNull();
  });

  it("keeps asking for the code when GoTrue says it is not valid", async () => {
    vi.mocked(api.changePassword).mockRejectedValue(appError("api", "Reauthentication nonce is invalid", "reauthentication_not_valid", 400));
    render(PasswordChange, { props: { demo: null, email: "ada@example.com" } });
    await submit("a-new-password");
    const box = await eventually(() => screen.getByRole("alert"));
    expect(within(box).getByText("Reauthentication code not valid")).toBeTruthy();
    expect(screen.getByLabelText("Code (nonce)")).toBeTruthy();
  });

  it("on current_password_required asks for the current password, then sends it (auth-js current_password)", async () => {
    const words = "Current password required when setting new password.";
    vi.mocked(api.changePassword)
      .mockRejectedValueOnce(appError("api", words, "current_password_required", 400))
      .mockRejectedValueOnce(appError("api", words, "current_password_invalid", 400))
      .mockResolvedValueOnce(user());
    render(PasswordChange, { props: { demo: null, email: "ada@example.com" } });
    expect(screen.queryByLabelText("Current password")).toBeNull();
    await submit("a-new-password");
    const box = await eventually(() => screen.getByRole("alert"));
    expect(within(box).getByText("Current password required")).toBeTruthy();
    const current = await eventually(() => screen.getByLabelText<HTMLInputElement>("Current password"));
    expect(screen.getByText(/PUT \/user \{password, current_password\}/)).toBeTruthy();
    await fireEvent.input(current, { target: { value: "wrong" } });
    await fireEvent.click(screen.getByRole("button", { name: "Change password" }));
    expect(api.changePassword).toHaveBeenLastCalledWith("a-new-password", null, "wrong");
    await eventually(() => expect(within(screen.getByRole("alert")).getByText("Current password wrong")).toBeTruthy());
    await fireEvent.input(screen.getByLabelText("Current password"), { target: { value: "the-old-password" } });
    await fireEvent.click(screen.getByRole("button", { name: "Change password" }));
    expect(api.changePassword).toHaveBeenLastCalledWith("a-new-password", null, "the-old-password");
    await eventually(() => expect(screen.queryByLabelText("Current password")).toBeNull());
  });
});
