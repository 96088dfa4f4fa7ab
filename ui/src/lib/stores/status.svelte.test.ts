import { afterEach, describe, expect, it } from "vitest";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { status } from "../../test/fixtures";
import { StatusStore } from "./status.svelte";

afterEach(() => clearMocks());


describe("StatusStore", () => {
  it("marks the refresh margin only while auto-refresh is on", () => {
    const store = new StatusStore();
    expect(store.margin).toBe(0);
    store.status = status();
    expect(store.margin).toBe(10);
    store.status = status({ expiryMarginSecs: 12 });
    expect(store.margin).toBe(12);
    store.status = status({ autoRefresh: true });
    expect(store.margin).toBe(30);
  });

  it("takes no profile (a build without the demo, before its first project) as a state, not a failure", async () => {
    const store = new StatusStore();
    let open = false;
    mockIPC((cmd) => {
      if (cmd !== "inspector_status") throw new Error(`unexpected ${cmd}`);
      if (!open) throw { kind: "noProfile", message: "No profile yet: add your project with + Project." };
      return status({ profileId: "p1", builtIn: false, serverUrl: null, demoAccount: null });
    });
    await store.load();
    expect(store.noProfile).toBe(true);
    expect(store.status).toBeNull();
    expect(store.loadError).toBeNull();

    open = true;
    await store.load();
    expect(store.noProfile).toBe(false);
    expect(store.profileId).toBe("p1");
  });

  it("offers a detected local stack until a profile points at it", () => {
    const store = new StatusStore();
    store.status = status();
    expect(store.offerStack).toBe(false);
    store.detected = { url: "http://127.0.0.1:54399", anonKey: "eyJ…" };
    expect(store.offerStack).toBe(true);
    store.detected = { url: "https://abc.supabase.co", anonKey: "eyJ…" };
    expect(store.offerStack).toBe(false);
  });

  it("switches profiles, and on failure keeps the one in use and says why", async () => {
    const store = new StatusStore();
    store.status = status();
    let refuse = false;
    mockIPC((cmd, args) => {
      if (cmd !== "profile_select") throw new Error(`unexpected ${cmd}`);
      if (refuse) throw { kind: "invalidInput", message: "No such profile" };
      return status({ profileId: (args as { id: string }).id, builtIn: false, profile: "Production" });
    });

    expect(await store.selectProfile("p1")).toBe(true);
    expect(store.profileId).toBe("p1");
    expect(store.switching).toBe(false);

    refuse = true;
    expect(await store.selectProfile("gone")).toBe(false);
    expect(store.profileId).toBe("p1");
    expect(store.settingsError).toBe("No such profile");
    expect(store.switching).toBe(false);
  });

  it("never removes the built-in profile, nor a profile the app says cannot be removed", async () => {
    const store = new StatusStore();
    store.status = status();
    const calls: string[] = [];
    mockIPC((cmd) => {
      calls.push(cmd);
      return status();
    });
    await store.removeProfile();
    expect(calls).toEqual([]);
    store.status = status({ profileId: "p1", builtIn: false, removable: false });
    await store.removeProfile();
    expect(calls).toEqual([]);
    store.status = status({ profileId: "p1", builtIn: false, removable: true });
    await store.removeProfile();
    expect(calls).toEqual(["profile_remove"]);
    expect(store.profileId).toBe("built-in-demo");
  });

  it("reports a setting the app refused, and clears the report on the next change", async () => {
    const store = new StatusStore();
    store.status = status();
    mockIPC((_cmd, args) => {
      const { marginSecs } = args as { enabled: boolean; marginSecs: number };
      if (marginSecs < 5) throw { kind: "invalidInput", message: "The margin must be 5 to 3600 seconds" };
      return status({ autoRefresh: true, refreshMarginSecs: marginSecs });
    });
    expect(await store.setAutoRefresh(true, 2)).toBe(false);
    expect(store.settingsError).toMatch(/5 to 3600/);
    expect(store.status?.autoRefresh).toBe(false);
    expect(await store.setAutoRefresh(true, 45)).toBe(true);
    expect(store.settingsError).toBeNull();
    expect(store.margin).toBe(45);
  });
});
