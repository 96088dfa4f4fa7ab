import { afterEach, describe, expect, it } from "vitest";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { AppError, api, toAppError } from "./api";

afterEach(() => clearMocks());

describe("api.appInfo", () => {
  it("calls the app_info command and returns its payload", async () => {
    const seen: string[] = [];
    mockIPC((cmd) => {
      seen.push(cmd);
      return { name: "session-inspector", version: "1.2.3", identifier: "x", tauriVersion: "2.12.5" };
    });
    const info = await api.appInfo();
    expect(seen).toEqual(["app_info"]);
    expect(info.version).toBe("1.2.3");
  });

  it("turns a command's {kind, message} rejection into an AppError", async () => {
    mockIPC(() => {
      throw { kind: "invalidInput", message: "URL must use https" };
    });
    const error = await api.appInfo().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ kind: "invalidInput", message: "URL must use https" });
  });
});

describe("toAppError", () => {
  it("marks an ACL refusal as denied", () => {
    const error = toAppError("app_info not allowed. Permissions associated with this command: allow-app-info");
    expect(error.kind).toBe("denied");
  });

  it("keeps other IPC strings as unknown with their text", () => {
    expect(toAppError("boom")).toMatchObject({ kind: "unknown", message: "boom" });
  });

  it("describes values that carry nothing useful", () => {
    expect(toAppError(42).message).toMatch(/could not describe/);
    expect(toAppError({ kind: 1, message: null }).kind).toBe("unknown");
  });
});
