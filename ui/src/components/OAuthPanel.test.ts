import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/svelte";
import { api } from "../lib/api";
import type { OAuthStarted, SessionView } from "../lib/types";
import { appError, deferred, eventually, expectOnlyPlannedCalls } from "../test/api";
import { session } from "../test/fixtures";
import OAuthPanel from "./OAuthPanel.svelte";

vi.mock("../lib/api");
expectOnlyPlannedCalls();
afterEach(() => cleanup());

function started(over: Partial<OAuthStarted> = {}): OAuthStarted {
  return {
    provider: "github",
    authorizeUrl: "https://abc.supabase.co/auth/v1/authorize?provider=github&code_challenge=Xy9&code_challenge_method=s256",
    redirectTo: "http://127.0.0.1:49152/callback/5f1e0c",
    allowListEntry: "http://127.0.0.1:*/callback/**",
    browserError: null,
    ...over,
  };
}

const waitingBox = () => document.getElementById("oauth-waiting");

/** The panel after pressing a provider's button, the browser gone to the provider. */
async function startSignIn(start: OAuthStarted) {
  const wait = deferred<SessionView>();
  vi.mocked(api.oauthStart).mockResolvedValue(start);
  vi.mocked(api.oauthWait).mockReturnValue(wait.promise);
  vi.mocked(api.oauthCancel).mockResolvedValue(undefined);
  const view = render(OAuthPanel, { props: { providers: ["github", "google"] } });
  await fireEvent.click(screen.getByRole("button", { name: "Continue with GitHub" }));
  await eventually(() => expect(waitingBox()).not.toBeNull());
  return { view, wait };
}

describe("OAuthPanel", () => {
  it("offers a button per provider, by the name people know it by", () => {
    render(OAuthPanel, { props: { providers: ["github", "linkedin_oidc", "my_sso"] } });
    expect(screen.getAllByRole("button").map((b) => b.textContent?.trim())).toEqual([
      "Continue with GitHub",
      "Continue with LinkedIn",
      "Continue with My Sso",
    ]);
  });

  it("waits for the browser with the link to open by hand and the Redirect URLs advice", async () => {
    await startSignIn(started());
    expect(api.oauthStart).toHaveBeenCalledWith("github");
    expect(api.oauthWait).toHaveBeenCalledWith();

    const box = waitingBox()!;
    expect(box.getAttribute("role")).toBe("status");
    expect(box.textContent).toContain("Finish signing in with GitHub in your browser.");
    expect(within(box).getByText("If no browser window appeared, open this link yourself:")).toBeTruthy();
    expect(document.getElementById("oauth-url")?.textContent).toBe(started().authorizeUrl);
    expect(box.textContent, "the one-shot path is not spelled out").toContain("http://127.0.0.1:49152/callback/…");
    expect(box.textContent).not.toContain("5f1e0c");
    expect(document.getElementById("oauth-allow-entry")?.textContent).toBe("http://127.0.0.1:*/callback/**");
    expect(box.textContent).toMatch(/under Auth → URL\s+Configuration → Redirect URLs/);
    expect(screen.queryByRole("button", { name: /Continue with/ }), "no second sign-in while one waits").toBeNull();
  });

  it("says the browser could not be opened, and still gives the link", async () => {
    await startSignIn(started({ browserError: "no program to open https links (xdg-open not found)" }));
    expect(document.getElementById("oauth-browser-error")?.textContent).toBe(
      "Your browser could not be opened (no program to open https links (xdg-open not found)). Open this link yourself:",
    );
    expect(document.getElementById("oauth-url")?.textContent).toBe(started().authorizeUrl);
  });

  it("Cancel stops the listener and goes back to the providers, without an error box", async () => {
    const { wait } = await startSignIn(started());
    await fireEvent.click(screen.getByRole("button", { name: "Cancel" }));
    expect(api.oauthCancel).toHaveBeenCalledTimes(1);
    expect(api.oauthCancel).toHaveBeenCalledWith();

    wait.reject(appError("oauthCancelled", "the browser sign-in was cancelled"));
    await eventually(() => expect(waitingBox()).toBeNull());
    expect(screen.getByRole("button", { name: "Continue with GitHub" })).toBeTruthy();
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("shows why the browser came back without a session", async () => {
    const { wait } = await startSignIn(started());
    wait.reject(appError("oauthCallback", "access_denied: The user denied the request"));
    const box = await eventually(() => screen.getByRole("alert"));
    expect(within(box).getByText("Browser sign-in did not complete")).toBeTruthy();
    expect(within(box).getByText("access_denied: The user denied the request")).toBeTruthy();
    expect(waitingBox()).toBeNull();
  });

  it("goes back to the providers once signed in (the session comes through the log)", async () => {
    const { wait } = await startSignIn(started());
    wait.resolve(session());
    await eventually(() => expect(waitingBox()).toBeNull());
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("shows why the sign-in could not start, and waits for nothing", async () => {
    vi.mocked(api.oauthStart).mockRejectedValue(appError("oauthListener", "cannot listen on 127.0.0.1: permission denied"));
    render(OAuthPanel, { props: { providers: ["github"] } });
    await fireEvent.click(screen.getByRole("button", { name: "Continue with GitHub" }));
    const box = await eventually(() => screen.getByRole("alert"));
    expect(within(box).getByText("No loopback port for the sign-in")).toBeTruthy();
    expect(api.oauthWait).not.toHaveBeenCalled();
    expect(screen.getByRole<HTMLButtonElement>("button", { name: "Continue with GitHub" }).disabled).toBe(false);
  });

  it("stops the listener when the panel goes away while it waits", async () => {
    const { view } = await startSignIn(started());
    view.unmount();
    expect(api.oauthCancel).toHaveBeenCalledTimes(1);
  });
});
