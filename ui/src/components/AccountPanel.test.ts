import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/svelte";
import { api } from "../lib/api";
import { appError, deferred, eventually, expectOnlyPlannedCalls } from "../test/api";
import { methods, session } from "../test/fixtures";
import AccountPanel from "./AccountPanel.svelte";

vi.mock("../lib/api");
expectOnlyPlannedCalls();
afterEach(() => cleanup());

describe("AccountPanel", () => {
  it("signs out with the scope chosen, and says what that sends", async () => {
    const answer = deferred<void>();
    vi.mocked(api.signOut).mockReturnValue(answer.promise);
    render(AccountPanel, { props: { session: session(), demo: null } });
    expect(screen.getByRole("heading", { name: "Sign out" })).toBeTruthy();
    expect(screen.getByText(/POST \/logout\?scope=local\./)).toBeTruthy();

    await fireEvent.change(screen.getByLabelText("Scope"), { target: { value: "others" } });
    expect(screen.getByText(/POST \/logout\?scope=others\./)).toBeTruthy();
    const button = screen.getByRole<HTMLButtonElement>("button", { name: "Sign out" });
    await fireEvent.click(button);
    expect(api.signOut).toHaveBeenCalledWith("others");
    expect(button.disabled).toBe(true);
    answer.resolve();
    await eventually(() => expect(button.disabled).toBe(false));
  });

  it("shows why a sign-out failed", async () => {
    vi.mocked(api.signOut).mockRejectedValue(appError("api", "Session not found", "session_not_found", 404));
    render(AccountPanel, { props: { session: session(), demo: null } });
    await fireEvent.click(screen.getByRole("button", { name: "Sign out" }));
    const box = await eventually(() => screen.getByRole("alert"));
    expect(within(box).getByText("Session not found", { selector: "strong" })).toBeTruthy();
    expect(api.signOut).toHaveBeenCalledWith("local");
  });

  it("offers the sign-in panel when there is no session", async () => {
    vi.mocked(api.signInMethods).mockResolvedValue(methods());
    render(AccountPanel, { props: { session: null, demo: null } });
    expect(screen.getByRole("heading", { name: "Sign in" })).toBeTruthy();
    await eventually(() => expect(screen.getAllByRole("tab").map((t) => t.textContent)).toEqual(["Password", "Email code"]));
  });

  it("after a password reset (PASSWORD_RECOVERY), asks for the new password first", async () => {
    vi.mocked(api.changePassword).mockResolvedValue(session().user);
    render(AccountPanel, { props: { session: session(), demo: null, recovery: true } });
    expect(screen.getByRole("heading", { name: "Set a new password" })).toBeTruthy();
    await fireEvent.input(screen.getByLabelText("New password"), { target: { value: "a-new-password" } });
    await fireEvent.click(screen.getByRole("button", { name: "Save the new password" }));
    expect(api.changePassword).toHaveBeenCalledWith("a-new-password", null, null);
  });

  it("ends the recovery when the new password is accepted, and says so where the form was", async () => {
    vi.mocked(api.changePassword).mockResolvedValue(session().user);
    const onPasswordSet = vi.fn();
    const { rerender } = render(AccountPanel, { props: { session: session(), demo: null, recovery: true, onPasswordSet } });
    await fireEvent.input(screen.getByLabelText("New password"), { target: { value: "a-new-password" } });
    await fireEvent.click(screen.getByRole("button", { name: "Save the new password" }));
    await eventually(() => expect(onPasswordSet).toHaveBeenCalledOnce());
    // The store ends the recovery: the form goes, the note stays.
    await rerender({ session: session(), demo: null, recovery: false, onPasswordSet });
    expect(screen.queryByRole("heading", { name: "Set a new password" })).toBeNull();
    expect(document.getElementById("recovery-changed")?.textContent).toMatch(/New password saved at/);
    // Not for another session.
    await rerender({ session: session({ sessionId: "another" }), demo: null, recovery: false, onPasswordSet });
    expect(document.getElementById("recovery-changed")).toBeNull();
  });

  it("does not ask for a new password for an ordinary session", () => {
    render(AccountPanel, { props: { session: session(), demo: null } });
    expect(screen.queryByRole("heading", { name: "Set a new password" })).toBeNull();
  });
});
