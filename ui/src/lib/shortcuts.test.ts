import { describe, expect, it } from "vitest";
import { isRefreshShortcut } from "./shortcuts";

const key = (key: string, mods: { ctrlKey?: boolean; metaKey?: boolean } = {}) => ({
  key,
  ctrlKey: mods.ctrlKey ?? false,
  metaKey: mods.metaKey ?? false,
});

describe("isRefreshShortcut", () => {
  it("is Ctrl+R or ⌘R, with or without Shift", () => {
    expect(isRefreshShortcut(key("r", { ctrlKey: true }))).toBe(true);
    expect(isRefreshShortcut(key("R", { ctrlKey: true }))).toBe(true);
    expect(isRefreshShortcut(key("r", { metaKey: true }))).toBe(true);
  });

  it("leaves every other key alone", () => {
    expect(isRefreshShortcut(key("r"))).toBe(false);
    expect(isRefreshShortcut(key("t", { ctrlKey: true }))).toBe(false);
    expect(isRefreshShortcut(key("Control", { ctrlKey: true }))).toBe(false);
  });
});
