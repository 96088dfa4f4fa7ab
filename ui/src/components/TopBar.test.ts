import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/svelte";
import { api } from "../lib/api";
import { appStatus } from "../lib/stores/status.svelte";
import type { Status } from "../lib/types";
import { appError, deferred, eventually, expectOnlyPlannedCalls } from "../test/api";
import { status } from "../test/fixtures";
import AutoRefreshControl from "./AutoRefreshControl.svelte";
import TopBar from "./TopBar.svelte";

vi.mock("../lib/api");
expectOnlyPlannedCalls();

// The top bar reads the app's one status store: each test starts it afresh.
beforeEach(() => {
  appStatus.info = { name: "session-inspector", version: "1.4.0", identifier: "dev.inspector", tauriVersion: "2.9.1" };
  appStatus.status = status();
  appStatus.loadError = null;
  appStatus.noProfile = false;
  appStatus.settingsError = null;
  appStatus.switching = false;
  appStatus.detected = null;
});
afterEach(() => cleanup());

const production = status({ profile: "Production", profileId: "p1", builtIn: false, serverUrl: null, removable: true });
// A build without the demo: its one project, and the demo profile an earlier build saved.
const onlyProject = status({
  profile: "Production",
  profileId: "p1",
  builtIn: false,
  serverUrl: null,
  demoAccount: null,
  removable: false,
  profiles: [
    { id: "built-in-demo", name: "Demo", builtIn: true, url: null, unavailable: "This build has no built-in demo server." },
    { id: "p1", name: "Production", builtIn: false, url: "https://abc.supabase.co", unavailable: null },
  ],
});
const picker = () => screen.getByLabelText<HTMLSelectElement>("Profile");

describe("TopBar", () => {
  it("shows the profile in use, the demo server's address, the version, and no Remove for the built-in profile", () => {
    render(TopBar, { props: { addingProject: false } });
    expect(screen.getByRole("heading", { name: "Session Inspector" })).toBeTruthy();
    expect(picker().value).toBe("built-in-demo");
    expect([...picker().options].map((o) => o.textContent)).toEqual(["Demo", "Production"]);
    expect(document.getElementById("server-url")?.textContent).toBe("http://127.0.0.1:54321");
    expect(document.getElementById("app-version")?.textContent).toBe("v1.4.0");
    expect(document.getElementById("app-version")?.getAttribute("aria-haspopup")).toBe("dialog");
    expect(screen.queryByRole("button", { name: "Remove…" })).toBeNull();
  });

  it("shows only what it knows while the status has not loaded, and why it failed", () => {
    appStatus.status = null;
    appStatus.loadError = "The app could not read its settings";
    render(TopBar, { props: { addingProject: false } });
    expect(screen.queryByLabelText("Profile")).toBeNull();
    expect(screen.queryByRole("button", { name: /Project/ })).toBeNull();
    expect(screen.getByRole("alert").textContent).toBe("The app could not read its settings");
  });

  it("with no profile open (no demo in this build) offers only + Project: no picker, no demo address, no Remove", () => {
    appStatus.status = null;
    appStatus.noProfile = true;
    render(TopBar, { props: { addingProject: false } });
    expect(screen.getByRole("button", { name: "+ Project" })).toBeTruthy();
    expect(screen.queryByLabelText("Profile")).toBeNull();
    expect(document.getElementById("server-url")).toBeNull();
    expect(screen.queryByRole("button", { name: "Remove…" })).toBeNull();
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("opens and closes the project form, and marks a local stack found", async () => {
    appStatus.detected = { url: "http://127.0.0.1:54399", anonKey: "eyJ…" };
    render(TopBar, { props: { addingProject: false } });
    const add = screen.getByRole("button", { name: "+ Project" });
    expect(add.querySelector(".dot")?.getAttribute("title")).toBe("A local stack was found");
    expect(add.getAttribute("aria-expanded")).toBe("false");
    await fireEvent.click(add);
    expect(add.getAttribute("aria-expanded")).toBe("true");
    await fireEvent.click(add);
    expect(add.getAttribute("aria-expanded")).toBe("false");
  });

  it("switches profiles: the picker is disabled while the app opens the profile, then Remove is offered", async () => {
    const answer = deferred<Status>();
    vi.mocked(api.selectProfile).mockReturnValue(answer.promise);
    render(TopBar, { props: { addingProject: false } });
    await fireEvent.change(picker(), { target: { value: "p1" } });

    expect(api.selectProfile).toHaveBeenCalledWith("p1");
    expect(picker().disabled).toBe(true);
    expect(picker().getAttribute("aria-busy")).toBe("true");
    expect(screen.getByLabelText("Opening the profile")).toBeTruthy();

    answer.resolve(production);
    await eventually(() => expect(picker().disabled).toBe(false));
    expect(picker().value).toBe("p1");
    expect(document.getElementById("server-url")).toBeNull();
    expect(screen.getByRole("button", { name: "Remove…" })).toBeTruthy();
  });

  it("goes back to the profile in use when a switch is refused, and says why", async () => {
    vi.mocked(api.selectProfile).mockRejectedValue(appError("invalidInput", 'there is no profile "p1"'));
    render(TopBar, { props: { addingProject: false } });
    await fireEvent.change(picker(), { target: { value: "p1" } });
    await eventually(() => expect(appStatus.settingsError).toBe('there is no profile "p1"'));
    expect(picker().value).toBe("built-in-demo");
    expect(picker().disabled).toBe(false);
  });

  it("removes a project profile only after a confirmation, and Keep keeps it", async () => {
    appStatus.status = production;
    vi.mocked(api.removeProfile).mockResolvedValue(status());
    render(TopBar, { props: { addingProject: false } });

    await fireEvent.click(screen.getByRole("button", { name: "Remove…" }));
    const confirm = screen.getByRole("group", { name: "Remove this profile?" });
    expect(confirm.textContent).toContain("Forget “Production” and its stored session?");
    await fireEvent.click(within(confirm).getByRole("button", { name: "Keep" }));
    expect(api.removeProfile).not.toHaveBeenCalled();

    await fireEvent.click(screen.getByRole("button", { name: "Remove…" }));
    await fireEvent.click(screen.getByRole("button", { name: "Remove" }));
    expect(api.removeProfile).toHaveBeenCalledWith("p1");
    await eventually(() => expect(picker().value).toBe("built-in-demo"));
    expect(screen.queryByRole("button", { name: "Remove…" })).toBeNull();
  });
});

describe("TopBar in a build without the demo", () => {
  it("disables Remove on the only project and says why", async () => {
    appStatus.status = onlyProject;
    render(TopBar, { props: { addingProject: false } });
    const remove = screen.getByRole<HTMLButtonElement>("button", { name: "Remove…" });
    expect(remove.disabled).toBe(true);
    expect(remove.title).toContain("this build has no built-in demo");
    // Nor does the store ask the app to remove it.
    await appStatus.removeProfile();
    expect(api.removeProfile).not.toHaveBeenCalled();
  });

  it("lists a saved demo profile as unavailable, with why, and enables the others", () => {
    appStatus.status = onlyProject;
    render(TopBar, { props: { addingProject: false } });
    const [demo, project] = [...picker().options];
    expect(demo!.disabled).toBe(true);
    expect(demo!.title).toBe("This build has no built-in demo server.");
    expect(demo!.textContent).toBe("Demo\u00a0(not in this build)");
    expect(project!.disabled).toBe(false);
    expect(project!.textContent).toBe("Production");
  });
});

describe("AutoRefreshControl", () => {
  function control() {
    render(AutoRefreshControl, {
      props: {
        get status() {
          return appStatus.status!;
        },
      },
    });
    return {
      toggle: screen.getByRole<HTMLInputElement>("checkbox", { name: "Auto-refresh" }),
      margin: screen.getByRole<HTMLInputElement>("spinbutton", { name: "s before expiry" }),
    };
  }

  it("shows the setting in force, within the allowed range", () => {
    const { toggle, margin } = control();
    expect(toggle.checked).toBe(false);
    expect(margin.value).toBe("30");
    expect(margin.min).toBe("5");
    expect(margin.max).toBe("3600");
  });

  it("turns auto-refresh on with the margin in force, and changes the margin keeping the switch", async () => {
    vi.mocked(api.setAutoRefresh)
      .mockResolvedValueOnce(status({ autoRefresh: true }))
      .mockResolvedValueOnce(status({ autoRefresh: true, refreshMarginSecs: 45 }));
    const { toggle, margin } = control();
    await fireEvent.click(toggle);
    expect(api.setAutoRefresh).toHaveBeenLastCalledWith(true, 30);
    await eventually(() => expect(appStatus.status?.autoRefresh).toBe(true));
    expect(appStatus.margin).toBe(30);

    await fireEvent.change(margin, { target: { value: "45" } });
    expect(api.setAutoRefresh).toHaveBeenLastCalledWith(true, 45);
    await eventually(() => expect(appStatus.margin).toBe(45));
    expect(toggle.checked).toBe(true);
  });

  it("shows the setting still in force when the app refuses a change, and says why", async () => {
    vi.mocked(api.setAutoRefresh).mockRejectedValue(appError("invalidInput", "The margin must be between 5 and 3600 seconds."));
    const { toggle, margin } = control();
    await fireEvent.change(margin, { target: { value: "2" } });
    expect(api.setAutoRefresh).toHaveBeenLastCalledWith(false, 2);
    await eventually(() => expect(margin.value).toBe("30"));
    expect(appStatus.settingsError).toBe("The margin must be between 5 and 3600 seconds.");

    await fireEvent.click(toggle);
    await eventually(() => expect(toggle.checked).toBe(false));
    expect(api.setAutoRefresh).toHaveBeenLastCalledWith(true, 30);
  });
});
