import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen, within } from "@testing-library/svelte";
import { api } from "../lib/api";
import { sessionStore } from "../lib/stores/session.svelte";
import { appStatus } from "../lib/stores/status.svelte";
import type { About, ResetDone, Status } from "../lib/types";
import { appError, deferred, eventually, expectOnlyPlannedCalls } from "../test/api";
import { eventRow, rejection, session, status } from "../test/fixtures";
import AboutDialog from "./AboutDialog.svelte";
import TopBar from "./TopBar.svelte";

vi.mock("../lib/api");
expectOnlyPlannedCalls();

const info = { name: "Session Inspector", version: "0.1.0", identifier: "dev.sessioninspector.app", tauriVersion: "2.12.5" };

function about(over: Partial<About> = {}): About {
  return {
    commit: "85f5371abc",
    modified: false,
    buildProfile: "release",
    demo: true,
    license: "MIT",
    dataFolder: "/home/ada/.local/share/dev.sessioninspector.app",
    logFile: "/home/ada/.local/share/dev.sessioninspector.app/logs/session-inspector.log",
    ...over,
  };
}

const demoOnly = status({ profiles: [status().profiles[0]!] });

function done(over: Partial<ResetDone> = {}): ResetDone {
  return { status: demoOnly, notOpened: null, kept: [], logFrom: 1_000_000, ...over };
}

beforeEach(() => {
  appStatus.info = info;
  appStatus.status = status();
  appStatus.settingsError = null;
  appStatus.resets = 0;
  sessionStore.clearLog();
  sessionStore.session = null;
  sessionStore.rejection = null;
  sessionStore.recoverySessionId = null;
  appStatus.noProfile = false;
  appStatus.loadError = null;
});
afterEach(() => cleanup());

function open(onClose = vi.fn()) {
  render(AboutDialog, { props: { info, status: appStatus.status, onClose } });
  return { dialog: screen.getByRole("dialog", { name: "About Session Inspector" }), onClose };
}

async function confirmStep() {
  await fireEvent.click(screen.getByRole("button", { name: "Reset all data…" }));
  return screen.getByLabelText<HTMLInputElement>("Type RESET to confirm");
}

describe("AboutDialog", () => {
  it("shows the version, commit, Tauri, build, keyring, both paths with Copy, and the licence", async () => {
    vi.mocked(api.about).mockResolvedValue(about({ modified: true }));
    vi.mocked(api.copyPath).mockResolvedValue();
    const { dialog } = open();
    expect(dialog.getAttribute("aria-modal")).toBe("true");
    expect(document.activeElement).toBe(dialog);
    await eventually(() => expect(document.getElementById("about-commit")?.textContent).toBe("85f5371abc (modified)"));
    expect(document.getElementById("about-version")?.textContent).toBe("0.1.0");
    expect(dialog.textContent).toContain("2.12.5");
    expect(document.getElementById("about-build")?.textContent).toBe("release");
    expect(document.getElementById("about-keyring")?.textContent).toBe("Secret Service (gnome-keyring, KWallet)");
    expect(document.getElementById("about-data-folder")?.textContent).toBe(about().dataFolder);
    expect(document.getElementById("about-log-file")?.textContent).toBe(about().logFile);
    expect(dialog.textContent).toContain("Licensed under the MIT licence.");

    await fireEvent.click(screen.getByRole("button", { name: "Copy the log file's path" }));
    expect(api.copyPath).toHaveBeenCalledWith("logFile");
    await eventually(() => expect(screen.getByRole("button", { name: "Copy the log file's path" }).textContent).toBe("Copied"));
  });

  it("says an unmodified build plainly and why the build facts could not be read", async () => {
    vi.mocked(api.about).mockRejectedValueOnce(appError("internal", "Something went wrong inside the app."));
    open();
    await eventually(() => expect(screen.getByRole("alert").textContent).toBe("Something went wrong inside the app."));
    expect(document.getElementById("about-commit")?.textContent?.trim()).toBe("…");
    cleanup();
    vi.mocked(api.about).mockResolvedValue(about());
    open();
    await eventually(() => expect(document.getElementById("about-commit")?.textContent).toBe("85f5371abc"));
  });

  it("closes on Escape and on the close button", async () => {
    vi.mocked(api.about).mockResolvedValue(about());
    const { onClose } = open();
    await fireEvent.keyDown(window, { key: "Escape" });
    expect(onClose).toHaveBeenCalledTimes(1);
    await fireEvent.click(screen.getByRole("button", { name: "Close" }));
    expect(onClose).toHaveBeenCalledTimes(2);
  });

  it("asks for RESET, naming every profile and what goes, and that nothing is signed out on a server", async () => {
    vi.mocked(api.about).mockResolvedValue(about());
    open();
    const word = await confirmStep();
    expect(document.activeElement).toBe(word);
    const confirm = screen.getByRole("group", { name: "Reset all data" });
    expect(confirm.textContent).toContain("2 profiles (the built-in demo and “Production”)");
    expect(confirm.textContent).toContain("their sessions in the keyring, sealing keys and project JWT secrets");
    expect(confirm.textContent).toContain("the built-in demo's database");
    expect(confirm.textContent).toContain("Nothing is sent to any server: sessions are not signed out there");
    const go = within(confirm).getByRole<HTMLButtonElement>("button", { name: "Reset all data" });
    expect(go.disabled).toBe(true);
    await fireEvent.input(word, { target: { value: "reset" } });
    expect(go.disabled).toBe(true);
    await fireEvent.input(word, { target: { value: "RESET" } });
    expect(go.disabled).toBe(false);
    await fireEvent.click(within(confirm).getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("group", { name: "Reset all data" })).toBeNull();
    expect(api.resetAll).not.toHaveBeenCalled();
  });

  it("resets: waits with everything disabled, then the window starts afresh and the dialog closes", async () => {
    vi.mocked(api.about).mockResolvedValue(about());
    const answer = deferred<ResetDone>();
    vi.mocked(api.resetAll).mockReturnValue(answer.promise);
    const old = session({ sessionId: "old-session" });
    const before = eventRow("PASSWORD_RECOVERY", { session: old });
    sessionStore.receive(before);
    sessionStore.receive(eventRow("REFRESH_REJECTED", { session: old, rejection: rejection() }));
    expect(sessionStore.recovery && sessionStore.rejection !== null).toBe(true);
    const { onClose } = open();
    const word = await confirmStep();
    await fireEvent.input(word, { target: { value: "RESET" } });
    await fireEvent.click(screen.getByRole("button", { name: "Reset all data" }));

    const busy = screen.getByRole<HTMLButtonElement>("button", { name: /Resetting/ });
    expect(busy.disabled).toBe(true);
    expect(busy.getAttribute("aria-busy")).toBe("true");
    expect(screen.getByRole<HTMLButtonElement>("button", { name: "Close" }).disabled).toBe(true);
    expect(word.disabled).toBe(true);
    expect(sessionStore.items, "nothing is forgotten before the reset is known to have run").toHaveLength(2);
    await fireEvent.keyDown(window, { key: "Escape" });
    expect(onClose).not.toHaveBeenCalled();

    // The reopened demo's first event arrives before the answer: it stays.
    const fresh = eventRow("SIGNED_IN", { session: session({ sessionId: "new-session" }) });
    sessionStore.receive(fresh);
    answer.resolve(done({ logFrom: fresh.seq }));
    await eventually(() => expect(onClose).toHaveBeenCalled());
    expect(appStatus.status).toEqual(demoOnly);
    expect(appStatus.resets).toBe(1);
    expect(sessionStore.items).toEqual([fresh]);
    expect(sessionStore.session?.sessionId).toBe("new-session");
    expect(sessionStore.rejection).toBeNull();
    expect(sessionStore.recovery).toBe(false);
  });

  it("an answer that the profile is busy forgets nothing on screen", async () => {
    vi.mocked(api.about).mockResolvedValue(about());
    const busy = "The active profile is still busy with a request; nothing was removed. Try again in a moment.";
    vi.mocked(api.resetAll).mockRejectedValueOnce(appError("resetInUse", busy));
    vi.mocked(api.status).mockResolvedValue(status());
    const row = eventRow("SIGNED_IN");
    sessionStore.receive(row);
    open();
    const word = await confirmStep();
    await fireEvent.input(word, { target: { value: "RESET" } });
    await fireEvent.click(screen.getByRole("button", { name: "Reset all data" }));

    await eventually(() => expect(document.getElementById("reset-error")?.textContent).toBe(busy));
    expect(sessionStore.items).toEqual([row]);
    expect(sessionStore.session).not.toBeNull();
    expect(appStatus.resets).toBe(0);
  });

  it("a reset that ran says so, with what was kept and why the demo did not open", async () => {
    vi.mocked(api.about).mockResolvedValue(about());
    vi.mocked(api.resetAll).mockResolvedValueOnce(
      done({ status: null, notOpened: "the built-in server did not start", kept: ["The built-in demo's folder was kept."] }),
    );
    sessionStore.receive(eventRow("SIGNED_IN"));
    const { onClose } = open();
    const word = await confirmStep();
    await fireEvent.input(word, { target: { value: "RESET" } });
    await fireEvent.click(screen.getByRole("button", { name: "Reset all data" }));

    await eventually(() =>
      expect(screen.getByRole("status").textContent).toBe(
        "All data was reset. The built-in demo could not open: the built-in server did not start The built-in demo's folder was kept.",
      ),
    );
    expect(screen.queryByRole("alert")).toBeNull();
    expect(onClose).not.toHaveBeenCalled();
    expect(appStatus.resets).toBe(1);
    expect(appStatus.status).toBeNull();
    expect(appStatus.noProfile, "a profile that failed to open is not the empty state").toBe(false);
    expect(appStatus.loadError).toBe("the built-in server did not start");
    expect(sessionStore.session).toBeNull();
    await fireEvent.click(screen.getByRole("button", { name: "Close" }));
    expect(onClose).toHaveBeenCalled();
  });

  it("in a build without the demo: no demo in the list, the empty state afterwards", async () => {
    vi.mocked(api.about).mockResolvedValue(about({ demo: false }));
    vi.mocked(api.resetAll).mockResolvedValueOnce(done({ status: null }));
    appStatus.status = status({ profiles: [status().profiles[1]!] });
    const { onClose } = open();
    await eventually(() => expect(document.getElementById("about-build")?.textContent).toBe("release"));
    const word = await confirmStep();
    const confirm = screen.getByRole("group", { name: "Reset all data" });
    expect(confirm.textContent).toContain("1 profile (“Production”)");
    expect(confirm.textContent).not.toContain("built-in demo");
    expect(confirm.textContent).toContain("The window then waits for a project");
    await fireEvent.input(word, { target: { value: "RESET" } });
    await fireEvent.click(screen.getByRole("button", { name: "Reset all data" }));
    await eventually(() => expect(onClose).toHaveBeenCalled());
    expect(appStatus.noProfile).toBe(true);
    expect(appStatus.status).toBeNull();
  });

  it("Cancel puts focus back on Reset all data…", async () => {
    vi.mocked(api.about).mockResolvedValue(about());
    open();
    await confirmStep();
    await fireEvent.click(screen.getByRole("button", { name: "Cancel" }));
    await eventually(() => expect(document.activeElement?.id).toBe("reset-start"));
  });

  it("makes the window behind it inert while open", async () => {
    vi.mocked(api.about).mockResolvedValue(about());
    const behind = document.body.appendChild(document.createElement("main"));
    const { dialog } = open();
    expect(behind.hasAttribute("inert")).toBe(true);
    expect(dialog.closest("[inert]")).toBeNull();
    cleanup();
    expect(behind.hasAttribute("inert")).toBe(false);
    behind.remove();
  });

  it("names every keyring the app can use", async () => {
    vi.mocked(api.about).mockResolvedValue(about());
    for (const [keyring, name] of [
      ["macosKeychain", "macOS Keychain"],
      ["windowsCredentialManager", "Windows Credential Manager"],
    ] as const) {
      render(AboutDialog, { props: { info, status: status({ keyring }), onClose: vi.fn() } });
      expect(document.getElementById("about-keyring")?.textContent).toBe(name);
      cleanup();
    }
  });

  it("says what was not removed when the reset stops part way, and lets the user try again", async () => {
    vi.mocked(api.about).mockResolvedValue(about());
    const left = 'Reset stopped part way. Not removed: the keyring entries of "Production" (the OS keyring refused: locked).';
    vi.mocked(api.resetAll).mockRejectedValueOnce(appError("resetIncomplete", left)).mockResolvedValueOnce(done());
    vi.mocked(api.status).mockResolvedValue(status());
    const { onClose } = open();
    const word = await confirmStep();
    await fireEvent.input(word, { target: { value: "RESET" } });
    await fireEvent.click(screen.getByRole("button", { name: "Reset all data" }));

    await eventually(() => expect(document.getElementById("reset-error")?.textContent).toBe(left));
    expect(screen.getByRole("alert").textContent).toBe(left);
    expect(onClose).not.toHaveBeenCalled();
    expect(appStatus.resets).toBe(0);
    expect(api.status).toHaveBeenCalled();
    expect(document.activeElement).toBe(word);

    await fireEvent.click(screen.getByRole("button", { name: "Reset all data" }));
    await eventually(() => expect(onClose).toHaveBeenCalled());
  });
});

describe("TopBar's version chip", () => {
  it("opens About, and focus goes back to it when About closes", async () => {
    vi.mocked(api.about).mockResolvedValue(about());
    render(TopBar, { props: { addingProject: false } });
    const chip = screen.getByRole("button", { name: "About Session Inspector, version 0.1.0" });
    expect(chip.textContent).toBe("v0.1.0");
    chip.focus();
    await fireEvent.click(chip);
    const dialog = screen.getByRole("dialog", { name: "About Session Inspector" });
    expect(chip.getAttribute("aria-expanded")).toBe("true");
    expect(document.activeElement).toBe(dialog);
    await fireEvent.keyDown(window, { key: "Escape" });
    await eventually(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(document.activeElement).toBe(chip);
  });
});
