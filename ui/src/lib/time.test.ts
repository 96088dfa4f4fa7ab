import { describe, expect, it } from "vitest";
import { expiryState, remainingFraction, secondsLeft, serverSeconds, usableOffset } from "./time";

describe("countdown", () => {
  it("is derived from expires_at and the clock, with the server offset applied", () => {
    expect(secondsLeft(1000, 940_000)).toBe(60);
    expect(secondsLeft(1000, 940_000, 5_000)).toBe(55);
  });

  it("names the state: fresh, inside the refresh margin, expired", () => {
    expect(expiryState(11, 10)).toBe("fresh");
    expect(expiryState(10, 10)).toBe("margin");
    expect(expiryState(0, 10)).toBe("expired");
  });

  it("gives the share of the lifetime left, clamped", () => {
    expect(remainingFraction(0, 120, 60)).toBe(0.5);
    expect(remainingFraction(0, 120, -5)).toBe(0);
    expect(remainingFraction(null, 3600, 7200)).toBe(1);
  });
});

describe("usableOffset", () => {
  it("ignores offsets under two seconds (Date headers have one-second resolution)", () => {
    expect(usableOffset(null)).toBe(0);
    expect(usableOffset(1999)).toBe(0);
    expect(usableOffset(-1500)).toBe(0);
    expect(usableOffset(2000)).toBe(2000);
    expect(usableOffset(-60_000)).toBe(-60_000);
    expect(usableOffset(Number.NaN)).toBe(0);
  });

  it("corrects the countdown by the server's clock", () => {
    // The server runs a minute ahead: a token it issued for 2 minutes has 2 minutes left.
    const localNow = 1_800_000_000_000;
    const expiresAt = localNow / 1000 + 180;
    expect(secondsLeft(expiresAt, localNow, usableOffset(60_000))).toBe(120);
    expect(serverSeconds(localNow, usableOffset(60_000))).toBe(localNow / 1000 + 60);
  });

  it("gives the server's now in whole seconds", () => {
    expect(serverSeconds(1_800_000_000_999)).toBe(1_800_000_000);
    expect(serverSeconds(1_800_000_000_500, -2_000)).toBe(1_799_999_998);
  });
});
