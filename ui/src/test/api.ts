// What the component tests share about the mocked api (src/lib/__mocks__/api.ts): the check
// that no command was called without the test planning its answer, and answers a test holds
// back to look at a component while it waits.
import { afterEach, expect, vi } from "vitest";
import { api } from "../lib/api";
import { UNPLANNED } from "./unplanned";

/** After each test of the file: fails naming every api call the test planned no answer for. */
export function expectOnlyPlannedCalls(): void {
  afterEach(() => {
    const unplanned = Object.values(api).flatMap((fn) =>
      vi.isMockFunction(fn)
        ? fn.mock.settledResults.flatMap((r) =>
            r.type === "rejected" && r.value instanceof Error && r.value.name === UNPLANNED ? [r.value.message] : [],
          )
        : [],
    );
    expect(unplanned, "api calls without a planned answer").toEqual([]);
  });
}

/** A promise the test settles itself, to see what a component shows while it waits. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (reason: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A command's rejection as the app sends it (`ErrorView`). */
export function appError(kind: string, message: string, code: string | null = null, status: number | null = null) {
  return { kind, message, code, status };
}

/**
 * Polls `check` until it passes (returning what it returns) or the deadline passes: the
 * deadline is generous, so a loaded machine slows a test down but does not fail it.
 */
export function eventually<T>(check: () => T): Promise<T> {
  return vi.waitFor(check, { timeout: 5_000, interval: 10 });
}
