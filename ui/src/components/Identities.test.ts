import { afterEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/svelte";
import { api } from "../lib/api";
import type { IdentitiesView, IdentityView, OAuthStarted, SessionView } from "../lib/types";
import { appError, deferred, eventually, expectOnlyPlannedCalls } from "../test/api";
import { methods, session } from "../test/fixtures";
import Identities from "./Identities.svelte";

vi.mock("../lib/api");
expectOnlyPlannedCalls();
afterEach(() => cleanup());

function identity(over: Partial<IdentityView> = {}): IdentityView {
  return {
    identityId: "1d2e3f40-0000-4000-8000-000000000001",
    provider: "email",
    providerId: "5a3f7c1e-2b4d-4e6f-8a9b-0c1d2e3f4a5b",
    email: "ada@example.com",
    createdAt: "2024-05-01T14:00:00Z",
    lastSignInAt: "2024-05-01T14:00:00Z",
    usedBy: "password",
    ...over,
  };
}

const github = identity({
  identityId: "9a8b7c6d-0000-4000-8000-000000000002",
  provider: "github",
  providerId: "12345",
  email: "ada@github.example",
  usedBy: null,
});

const listed = (...identities: IdentityView[]): IdentitiesView => ({ identities, amr: ["password"] });

const started: OAuthStarted = {
  provider: "github",
  authorizeUrl: "http://127.0.0.1:9999/authorize?provider=github",
  redirectTo: "http://127.0.0.1:50123/callback/abc",
  allowListEntry: "http://127.0.0.1:*/callback/*",
  browserError: null,
};

/** The panel once the identities and the project's providers have been read. */
async function panel(view: IdentitiesView, providers: string[] = ["github"], s: SessionView = session()) {
  vi.mocked(api.identities).mockResolvedValue(view);
  vi.mocked(api.signInMethods).mockResolvedValue(methods({ providers }));
  const rendered = render(Identities, { props: { session: s } });
  await eventually(() => expect(screen.queryByText("Reading the user's identities…")).toBeNull());
  await eventually(() => expect(api.signInMethods).toHaveBeenCalled());
  return rendered;
}

const byId = (id: string) => document.getElementById(id);
const unlinkOf = (i: IdentityView) => byId(`identity-unlink-${i.identityId}`);

describe("Identities", () => {
  it("lists each identity with its provider, email, times, short id, and the one this token's amr used", async () => {
    const pending = deferred<IdentitiesView>();
    vi.mocked(api.identities).mockReturnValue(pending.promise);
    vi.mocked(api.signInMethods).mockResolvedValue(methods({ providers: ["github", "google"] }));
    render(Identities, { props: { session: session() } });
    expect(screen.getByText("Reading the user's identities…")).toBeTruthy();

    pending.resolve(listed(identity(), github));
    await eventually(() => expect(byId("identities-list")).not.toBeNull());
    const rows = byId("identities-list")!.querySelectorAll("li");
    expect(rows).toHaveLength(2);
    expect(rows[0]!.textContent).toContain("Email");
    expect(rows[0]!.textContent).toContain("ada@example.com");
    expect(rows[0]!.textContent).toContain("this session · password");
    expect(rows[0]!.textContent).toContain("1d2e3f40…");
    expect(rows[0]!.textContent).toMatch(/linked .*2024.* · last sign-in /);
    expect(rows[1]!.textContent).toContain("GitHub");
    expect(rows[1]!.textContent).toContain("ada@github.example");
    expect(rows[1]!.textContent).not.toContain("this session");
    await eventually(() => expect(screen.getByRole("button", { name: "Link Google" })).toBeTruthy());
    expect(screen.getByRole("button", { name: "Link GitHub" })).toBeTruthy();
    expect(api.identities).toHaveBeenCalledTimes(1);
  });

  it("asks before unlinking, unlinks by identity id, and reads the list again", async () => {
    await panel(listed(identity(), github));
    await fireEvent.click(unlinkOf(github)!);
    const confirm = byId("identity-confirm")!;
    expect(confirm.textContent).toContain("Unlink GitHub (ada@github.example)?");
    expect(api.unlinkIdentity).not.toHaveBeenCalled();

    await fireEvent.click(screen.getByRole("button", { name: "Keep it" }));
    expect(byId("identity-confirm")).toBeNull();

    vi.mocked(api.unlinkIdentity).mockResolvedValue(undefined);
    vi.mocked(api.identities).mockResolvedValue(listed(identity()));
    await fireEvent.click(unlinkOf(github)!);
    await fireEvent.click(byId("identity-unlink-confirm")!);
    expect(api.unlinkIdentity).toHaveBeenCalledWith(github.identityId);
    await eventually(() => expect(byId("identities-list")!.querySelectorAll("li")).toHaveLength(1));
    expect(byId("identity-confirm")).toBeNull();
    expect(byId("identities-error")).toBeNull();
  });

  it("says GoTrue's refusal to unlink the last identity in plain words", async () => {
    await panel(listed(identity()));
    vi.mocked(api.unlinkIdentity).mockRejectedValue(
      appError("api", "User must have at least 1 identity after unlinking", "single_identity_not_deletable", 422),
    );
    await fireEvent.click(unlinkOf(identity())!);
    await fireEvent.click(byId("identity-unlink-confirm")!);
    const error = await eventually(() => byId("identities-error")!);
    expect(error.textContent).toContain("Last identity");
    expect(error.textContent).toContain("single_identity_not_deletable");
    expect(error.textContent).toContain("User must have at least 1 identity after unlinking");
    expect(error.textContent).toContain("at least one identity");
    expect(byId("identities-list")!.querySelectorAll("li")).toHaveLength(1);
  });

  it("links: waits for the browser with a Cancel, and reads the identities again for the new session", async () => {
    const rendered = await panel(listed(identity()));
    const wait = deferred<SessionView>();
    vi.mocked(api.linkIdentityStart).mockResolvedValue(started);
    vi.mocked(api.oauthWait).mockReturnValue(wait.promise);
    await fireEvent.click(screen.getByRole("button", { name: "Link GitHub" }));
    expect(api.linkIdentityStart).toHaveBeenCalledWith("github");
    const waiting = await eventually(() => byId("identities-waiting")!);
    expect(waiting.textContent).toContain("Finish linking GitHub in your browser.");
    expect(byId("identities-url")!.textContent).toBe(started.authorizeUrl);
    expect(screen.queryByRole("button", { name: "Link GitHub" })).toBeNull();
    expect(unlinkOf(identity()), "no unlinking while a link is waiting").toBeNull();

    vi.mocked(api.identities).mockResolvedValue(listed(identity({ usedBy: null }), { ...github, usedBy: "oauth" }));
    const linked = session({ sessionId: "7e6d5c4b-0000-4000-8000-000000000003" });
    wait.resolve(linked);
    await eventually(() => expect(byId("identities-waiting")).toBeNull());
    expect(api.identities, "the answer alone reads nothing").toHaveBeenCalledTimes(1);
    // SIGNED_IN in the live log brings the new session.
    await rendered.rerender({ session: linked });
    await eventually(() => expect(byId("identities-list")!.querySelectorAll("li")).toHaveLength(2));
    expect(byId("identities-list")!.textContent).toContain("this session · oauth");
    expect(api.identities).toHaveBeenCalledTimes(2);
  });

  it("Cancel stops the link without an error box", async () => {
    await panel(listed(identity()));
    const wait = deferred<SessionView>();
    vi.mocked(api.linkIdentityStart).mockResolvedValue(started);
    vi.mocked(api.oauthWait).mockReturnValue(wait.promise);
    vi.mocked(api.oauthCancel).mockResolvedValue(undefined);
    await fireEvent.click(screen.getByRole("button", { name: "Link GitHub" }));
    await eventually(() => byId("identities-cancel")!);
    await fireEvent.click(byId("identities-cancel")!);
    expect(api.oauthCancel).toHaveBeenCalledTimes(1);
    wait.reject(appError("oauthCancelled", "the browser sign-in was cancelled"));
    await eventually(() => expect(screen.getByRole("button", { name: "Link GitHub" })).toBeTruthy());
    expect(byId("identities-error")).toBeNull();
  });

  it("with manual linking off, says so with the setting's name and offers no buttons that would fail", async () => {
    await panel(listed(identity(), github));
    vi.mocked(api.linkIdentityStart).mockRejectedValue(
      appError("api", "Manual linking is disabled", "manual_linking_disabled", 404),
    );
    await fireEvent.click(screen.getByRole("button", { name: "Link GitHub" }));
    const off = await eventually(() => byId("identities-manual-off")!);
    expect(off.textContent).toContain("Manual linking is disabled");
    expect(off.textContent).toContain("GOTRUE_SECURITY_MANUAL_LINKING_ENABLED");
    expect(off.textContent).toContain("[auth] enable_manual_linking");
    expect(screen.queryByRole("button", { name: "Link GitHub" })).toBeNull();
    expect(unlinkOf(github)).toBeNull();
    expect(byId("identities-error")!.textContent).toContain("Manual linking is off");
    expect(byId("identities-list")!.querySelectorAll("li"), "the identities are still listed").toHaveLength(2);
  });

  it("says an identity already linked elsewhere in plain words", async () => {
    await panel(listed(identity()));
    vi.mocked(api.linkIdentityStart).mockResolvedValue(started);
    vi.mocked(api.oauthWait).mockRejectedValue(
      appError("oauthCallback", "Identity is already linked to another user", "identity_already_exists", 422),
    );
    await fireEvent.click(screen.getByRole("button", { name: "Link GitHub" }));
    const error = await eventually(() => byId("identities-error")!);
    expect(error.textContent).toContain("Identity already linked");
    expect(byId("identities-manual-off")).toBeNull();
  });

  it("drops a late answer to an older reading, and a reading that works clears the last one's failure", async () => {
    const first = deferred<IdentitiesView>();
    vi.mocked(api.identities).mockReturnValueOnce(first.promise);
    vi.mocked(api.signInMethods).mockResolvedValue(methods({ providers: [] }));
    const rendered = render(Identities, { props: { session: session() } });
    // A new session reads again; its answer comes first, the old one after it.
    const second = deferred<IdentitiesView>();
    vi.mocked(api.identities).mockReturnValueOnce(second.promise);
    await rendered.rerender({ session: session({ sessionId: "7e6d5c4b-0000-4000-8000-000000000003" }) });
    await eventually(() => expect(api.identities).toHaveBeenCalledTimes(2));
    second.resolve(listed(identity(), github));
    await eventually(() => expect(byId("identities-list")!.querySelectorAll("li")).toHaveLength(2));
    first.resolve(listed(identity()));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(byId("identities-list")!.querySelectorAll("li"), "the older answer is dropped").toHaveLength(2);

    vi.mocked(api.identities).mockRejectedValueOnce(appError("network", "The auth server could not be reached"));
    await rendered.rerender({ session: session({ sessionId: "8e6d5c4b-0000-4000-8000-000000000004" }) });
    await eventually(() => expect(byId("identities-error")!.textContent).toContain("could not be reached"));
    vi.mocked(api.identities).mockResolvedValueOnce(listed(identity()));
    await rendered.rerender({ session: session({ sessionId: "9e6d5c4b-0000-4000-8000-000000000005" }) });
    await eventually(() => expect(byId("identities-list")!.querySelectorAll("li")).toHaveLength(1));
    expect(byId("identities-error")).toBeNull();
  });

  it("names each unlink by its identity (two of one provider), and puts the focus on the confirmation", async () => {
    const work = { ...github, identityId: "9a8b7c6d-0000-4000-8000-00000000000a", email: "ada@work.example" };
    await panel(listed(identity(), github, work));
    expect(screen.getByRole("button", { name: "Unlink GitHub (ada@github.example)" }).id).toBe(`identity-unlink-${github.identityId}`);
    await fireEvent.click(screen.getByRole("button", { name: "Unlink GitHub (ada@work.example)" }));
    const confirm = screen.getByRole("group", { name: "Unlink GitHub?" });
    expect(confirm.textContent).toContain("ada@work.example");
    expect(document.activeElement).toBe(byId("identity-unlink-confirm"));
  });

  it("cancels the waiting link when it goes (a profile switch or another user), even one still being started", async () => {
    vi.mocked(api.oauthCancel).mockResolvedValue(undefined);
    const waitingOne = await panel(listed(identity()));
    vi.mocked(api.linkIdentityStart).mockResolvedValue(started);
    vi.mocked(api.oauthWait).mockReturnValue(deferred<SessionView>().promise);
    await fireEvent.click(screen.getByRole("button", { name: "Link GitHub" }));
    await eventually(() => byId("identities-waiting")!);
    waitingOne.unmount();
    expect(api.oauthCancel).toHaveBeenCalledTimes(1);

    const starting = deferred<OAuthStarted>();
    const startingOne = await panel(listed(identity()));
    vi.mocked(api.linkIdentityStart).mockReturnValue(starting.promise);
    await fireEvent.click(screen.getByRole("button", { name: "Link GitHub" }));
    startingOne.unmount();
    starting.resolve(started);
    await eventually(() => expect(api.oauthCancel).toHaveBeenCalledTimes(2));
    expect(api.oauthWait, "nothing waits for a panel that is gone").toHaveBeenCalledTimes(1);
  });
});
