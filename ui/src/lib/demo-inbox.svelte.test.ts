import { describe, expect, it, vi } from "vitest";
import { api } from "./api";
import { DemoInboxReader } from "./demo-inbox.svelte";
import type { InboxMessage } from "./types";

vi.mock("./api");

const message = { to: "a@example.com", kind: "recovery", code: "123456" } as unknown as InboxMessage;

describe("DemoInboxReader", () => {
  it("reads nothing outside the demo, and asks again each time whether it is the demo", async () => {
    let demo = false;
    const reader = new DemoInboxReader(() => demo);
    await reader.load();
    expect(api.demoInbox).not.toHaveBeenCalled();
    expect(reader.messages).toBeNull();
    demo = true;
    vi.mocked(api.demoInbox).mockResolvedValueOnce([message]);
    await reader.load();
    expect(reader.messages).toEqual([message]);
  });

  it("forgets what it read when a later reading fails", async () => {
    const reader = new DemoInboxReader(() => true);
    vi.mocked(api.demoInbox).mockResolvedValueOnce([message]);
    await reader.load();
    vi.mocked(api.demoInbox).mockRejectedValueOnce(new Error("gone"));
    await reader.load();
    expect(reader.messages).toBeNull();
  });
});
