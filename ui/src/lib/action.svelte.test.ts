import { describe, expect, it } from "vitest";
import { Action } from "./action.svelte";
import { AppError } from "./api";

describe("Action", () => {
  it("runs one action at a time and is busy meanwhile", async () => {
    const action = new Action();
    let release = () => {};
    let runs = 0;
    const first = action.run(
      () =>
        new Promise<void>((resolve) => {
          runs += 1;
          release = resolve;
        }),
    );
    expect(action.busy).toBe(true);
    await action.run(async () => void (runs += 1));
    expect(runs).toBe(1);
    release();
    await first;
    expect(action.busy).toBe(false);
  });

  it("keeps why the last action failed, and forgets it when the next starts", async () => {
    const action = new Action();
    await action.run(async () => {
      throw { kind: "api", message: "Invalid login credentials", code: "invalid_credentials", status: 400 };
    });
    expect(action.error).toBeInstanceOf(AppError);
    expect(action.error?.code).toBe("invalid_credentials");
    expect(action.busy).toBe(false);
    await action.run(async () => {});
    expect(action.error).toBeNull();
  });
});
