import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/svelte";
import { tick } from "svelte";
import { api } from "../lib/api";
import { appError, deferred, eventually, expectOnlyPlannedCalls } from "../test/api";
import { methods, session, status } from "../test/fixtures";
import SignInPanel from "./SignInPanel.svelte";

vi.mock("../lib/api");
expectOnlyPlannedCalls();
afterEach(() => cleanup());

const demo = status().demoAccount;
const tabNames = () => screen.queryAllByRole("tab").map((tab) => tab.textContent);
const selectedTab = () => screen.getAllByRole("tab").find((tab) => tab.getAttribute("aria-selected") === "true")?.textContent;

/** The panel once the project's sign-in methods have answered (or failed to). */
async function panel(answer: ReturnType<typeof methods> | Error, props: { demo?: typeof demo } = {}) {
  const pending = answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
  vi.mocked(api.signInMethods).mockReturnValue(pending);
  const result = render(SignInPanel, { props: { demo: props.demo ?? null } });
  expect(api.signInMethods).toHaveBeenCalledTimes(1);
  if (answer instanceof Error) {
    await eventually(() => expect(document.getElementById("signin-methods-error")).not.toBeNull());
  } else {
    await pending; // the panel's own reaction to the answer ran first
    await tick();
  }
  return result;
}

describe("SignInPanel's tabs", () => {
  it("offers one tab per method the project switched on, and each tab its form", async () => {
    await panel(methods({ email: true, phone: true, providers: ["github", "google"] }));
    expect(tabNames()).toEqual(["Password", "Email code", "Phone code", "OAuth"]);
    expect(selectedTab()).toBe("Password");
    expect(screen.getByLabelText("Password")).toBeTruthy();

    await fireEvent.click(screen.getByRole("tab", { name: "Phone code" }));
    expect(selectedTab()).toBe("Phone code");
    expect(screen.getByLabelText("Phone number")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Text me a code" })).toBeTruthy();

    await fireEvent.click(screen.getByRole("tab", { name: "Email code" }));
    expect(screen.getByRole("button", { name: "Email me a code" })).toBeTruthy();

    await fireEvent.click(screen.getByRole("tab", { name: "OAuth" }));
    expect(screen.getByRole("button", { name: "Continue with GitHub" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Continue with Google" })).toBeTruthy();
  });

  it("opens on the first method there is when email is off (no password form)", async () => {
    await panel(methods({ email: false, phone: true, anonymous: false }));
    expect(screen.queryByRole("tablist"), "one method: no tabs").toBeNull();
    expect(screen.getByLabelText("Phone number")).toBeTruthy();
    expect(screen.queryByLabelText("Password")).toBeNull();
    expect(screen.queryByRole("button", { name: "Sign in anonymously" })).toBeNull();
  });

  it("says so when the project has every method off, except anonymous sign-ins", async () => {
    await panel(methods({ email: false, phone: false, providers: [], anonymous: true }));
    const none = document.getElementById("signin-none")!;
    expect(none.textContent).toContain(
      "This project has every sign-in method switched off (Auth → Providers), except anonymous sign-ins.",
    );
    expect(screen.queryByRole("tab")).toBeNull();
    expect(screen.queryByRole("textbox")).toBeNull();
    expect(screen.getByRole("button", { name: "Sign in anonymously" })).toBeTruthy();
  });

  it("says so when the project has every method off, anonymous too", async () => {
    await panel(methods({ email: false, phone: false, providers: [], anonymous: false }));
    expect(document.getElementById("signin-none")?.textContent).toMatch(/switched off \(Auth → Providers\)\.\s+Paste a session/);
    expect(screen.queryByRole("button", { name: "Sign in anonymously" })).toBeNull();
  });

  it("offers the password form when the project's settings cannot be read, and says why", async () => {
    await panel(new Error("connection refused"));
    expect(document.getElementById("signin-methods-error")?.textContent).toContain(
      "The project's sign-in settings could not be read (connection refused); only password sign-in is offered.",
    );
    expect(screen.getByLabelText("Password")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Sign in anonymously" })).toBeTruthy();
  });
});

describe("SignInPanel's password form", () => {
  it("sends the email and password, is disabled while it waits, and shows Auth's refusal", async () => {
    await panel(methods());
    const answer = deferred<never>();
    vi.mocked(api.signInPassword).mockReturnValue(answer.promise);
    await fireEvent.input(screen.getByLabelText("Email"), { target: { value: "ada@example.com" } });
    await fireEvent.input(screen.getByLabelText("Password"), { target: { value: "wrong" } });
    const submit = screen.getByRole<HTMLButtonElement>("button", { name: "Sign in" });
    await fireEvent.click(submit);

    expect(api.signInPassword).toHaveBeenCalledWith("ada@example.com", "wrong");
    expect(submit.disabled).toBe(true);
    expect(screen.getByRole<HTMLButtonElement>("button", { name: "Sign in anonymously" }).disabled).toBe(true);

    answer.reject(appError("api", "Invalid login credentials", "invalid_credentials", 400));
    const box = await eventually(() => screen.getByRole("alert"));
    expect(box.id).toBe("account-error");
    expect(within(box).getByText("Wrong email or password")).toBeTruthy();
    expect(within(box).getByText("Invalid login credentials")).toBeTruthy();
    expect(submit.disabled).toBe(false);
    expect(screen.getByLabelText<HTMLInputElement>("Password").value, "kept for another try").toBe("wrong");
  });

  it("forgets the password once signed in, and a new tab forgets the last error", async () => {
    await panel(methods({ phone: true }));
    vi.mocked(api.signInPassword)
      .mockRejectedValueOnce(appError("api", "Invalid login credentials", "invalid_credentials", 400))
      .mockResolvedValueOnce(session());
    await fireEvent.input(screen.getByLabelText("Email"), { target: { value: "ada@example.com" } });
    await fireEvent.input(screen.getByLabelText("Password"), { target: { value: "secret" } });
    await fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    await eventually(() => screen.getByRole("alert"));

    await fireEvent.click(screen.getByRole("tab", { name: "Phone code" }));
    expect(screen.queryByRole("alert"), "the error belonged to the password tab").toBeNull();
    await fireEvent.click(screen.getByRole("tab", { name: "Password" }));
    await fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    await eventually(() => expect(screen.getByLabelText<HTMLInputElement>("Password").value).toBe(""));
    expect(api.signInPassword).toHaveBeenLastCalledWith("ada@example.com", "secret");
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("fills in the demo's user on the built-in server", async () => {
    await panel(methods(), { demo });
    await fireEvent.click(screen.getByRole("button", { name: "fill in demo@sessioninspector.local" }));
    expect(screen.getByLabelText<HTMLInputElement>("Email").value).toBe("demo@sessioninspector.local");
    expect(screen.getByLabelText<HTMLInputElement>("Password").value).toBe("demo-password");
  });

  it("signs in anonymously with one press", async () => {
    await panel(methods());
    vi.mocked(api.signInAnonymously).mockRejectedValue(
      appError("api", "Anonymous sign-ins are disabled", "anonymous_provider_disabled", 422),
    );
    await fireEvent.click(screen.getByRole("button", { name: "Sign in anonymously" }));
    expect(api.signInAnonymously).toHaveBeenCalledWith();
    const box = await eventually(() => screen.getByRole("alert"));
    expect(within(box).getByText("Anonymous sign-ins are off")).toBeTruthy();
  });
});

describe("SignInPanel, a forgotten password", () => {
  it("opens the reset steps from the Password tab with the typed email, and comes back", async () => {
    vi.mocked(api.signInMethods).mockResolvedValue(methods());
    vi.mocked(api.resetPassword).mockResolvedValue();
    render(SignInPanel, { props: { demo: null, email: "ada@example.com" } });
    await fireEvent.click(screen.getByRole("button", { name: "Forgot password?" }));
    expect(screen.getByLabelText<HTMLInputElement>("Email").value).toBe("ada@example.com");
    await fireEvent.click(screen.getByRole("button", { name: "Email me a reset code" }));
    expect(api.resetPassword).toHaveBeenCalledWith("ada@example.com");
    await eventually(() => expect(document.getElementById("forgot-sent")).not.toBeNull());
    cleanup();
    render(SignInPanel, { props: { demo: null } });
    await fireEvent.click(screen.getByRole("button", { name: "Forgot password?" }));
    await fireEvent.click(screen.getByRole("button", { name: "Back to sign-in" }));
    expect(screen.getByRole("button", { name: "Sign in" })).toBeTruthy();
  });
});
