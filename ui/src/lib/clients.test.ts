import { describe, expect, it } from "vitest";
import { autoRefreshWhen, getSessionWhen } from "./clients";
import type { ClientForecast } from "./types";

const EXPIRES = 1_800_000_000;
const js: ClientForecast = {
  client: "supabase-js",
  autoRefreshFrom: EXPIRES - 120,
  autoRefreshBy: EXPIRES - 90,
  getSessionRefreshesFrom: EXPIRES - 90,
};
const py: ClientForecast = {
  client: "supabase-py",
  autoRefreshFrom: EXPIRES - 10,
  autoRefreshBy: EXPIRES - 10,
  getSessionRefreshesFrom: EXPIRES - 10,
};

describe("autoRefreshWhen", () => {
  it("gives a ticker's window and a timer's moment", () => {
    expect(autoRefreshWhen(js, EXPIRES - 162, EXPIRES)).toBe("in 0:42 to 1:12");
    expect(autoRefreshWhen(py, EXPIRES - 120, EXPIRES)).toBe("in 1:50");
  });
  it("moves with the clock", () => {
    expect(autoRefreshWhen(py, EXPIRES - 119, EXPIRES)).toBe("in 1:49");
  });
  it("inside a ticker's window says the next tick", () => {
    expect(autoRefreshWhen(js, EXPIRES - 100, EXPIRES)).toBe("at its next tick, by 0:10 at the latest");
  });
  it("past the moment, and past expiry", () => {
    expect(autoRefreshWhen(py, EXPIRES - 5, EXPIRES)).toBe("due now (0:05 past its moment)");
    expect(autoRefreshWhen(py, EXPIRES + 1, EXPIRES)).toBe("the access token has expired: it refreshes at once");
  });
});

describe("getSessionWhen", () => {
  it("counts down to the margin, then refreshes first", () => {
    expect(getSessionWhen(js, 90, EXPIRES - 100)).toBe("returns it as is for 0:10 more (margin 90 s)");
    expect(getSessionWhen(js, 90, EXPIRES - 90)).toBe("refreshes first (inside its 90 s margin)");
  });
});
