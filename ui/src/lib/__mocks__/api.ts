// The api as component tests see it: a test that says `vi.mock("../lib/api")` gets this
// module in place of ../api.ts for every component it renders. Each command is a vi.fn()
// that answers only what the test tells it to (`vi.mocked(api.x).mockResolvedValue(…)`);
// called without that, it rejects with an UnplannedApiCall, which `expectOnlyPlannedCalls`
// (src/test/api.ts) turns into a failed test. AppError and toAppError are the real ones, so a
// rejection a test plans reaches the component exactly as a command's would.
import { vi, type Mock } from "vitest";
import { UNPLANNED } from "../../test/unplanned";

const actual = await vi.importActual<typeof import("../api")>("../api");

export const { AppError, toAppError } = actual;
export type { AppInfo, ErrorKind } from "../api";

type RealApi = typeof actual.api;
export type MockedApi = { [K in keyof RealApi]: Mock<RealApi[K]> };

function command(name: string) {
  return vi.fn(async (...args: unknown[]) => {
    const call = `api.${name}(${args.map((a) => JSON.stringify(a)).join(", ")})`;
    const error = new Error(`${call} was called, but the test planned no answer`);
    error.name = UNPLANNED;
    throw error;
  });
}

export const api = Object.fromEntries(Object.keys(actual.api).map((name) => [name, command(name)])) as unknown as MockedApi;
