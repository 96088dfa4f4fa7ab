import { afterEach, describe, expect, it, vi } from "vitest";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import type { LogLayout } from "../types";
import { LayoutStore } from "./layout.svelte";

afterEach(() => {
  clearMocks();
  vi.useRealTimers();
});

const saved: LogLayout = { logWidth: 600, fullWidth: true, screenshotSafe: false };

describe("LayoutStore", () => {
  it("is screenshot-safe until the saved layout is read", async () => {
    let answer: (layout: LogLayout) => void = () => {};
    mockIPC((cmd) => {
      if (cmd === "log_layout") return new Promise<LogLayout>((resolve) => (answer = resolve));
      throw new Error(`unexpected ${cmd}`);
    });
    const store = new LayoutStore();
    const loading = store.load();
    expect(store.layout.screenshotSafe).toBe(true);
    answer(saved);
    await loading;
    expect(store.layout).toEqual(saved);
  });

  it("keeps screenshot-safe on and saves nothing when the read fails", async () => {
    vi.useFakeTimers();
    const writes: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "log_layout") throw { kind: "storage", message: "settings.json is unreadable" };
      writes.push(args);
      return saved;
    });
    const store = new LayoutStore();
    await store.load();
    expect(store.layout.screenshotSafe).toBe(true);
    expect(store.saveError).toContain("settings.json is unreadable");
    store.change({ logWidth: 500 });
    expect(store.layout.logWidth).toBe(500);
    await vi.advanceTimersByTimeAsync(1000);
    expect(writes).toEqual([]);
  });

  it("keeps a change made before the read answered, and saves it over the read values", async () => {
    vi.useFakeTimers();
    let answer: (layout: LogLayout) => void = () => {};
    const writes: LogLayout[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "log_layout") return new Promise<LogLayout>((resolve) => (answer = resolve));
      writes.push((args as { layout: LogLayout }).layout);
      return (args as { layout: LogLayout }).layout;
    });
    const store = new LayoutStore();
    const loading = store.load();
    store.change({ logWidth: 520 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(writes).toEqual([]);
    answer(saved);
    await loading;
    expect(store.layout).toEqual({ ...saved, logWidth: 520 });
    await vi.advanceTimersByTimeAsync(1000);
    expect(writes).toEqual([{ ...saved, logWidth: 520 }]);
  });
});
