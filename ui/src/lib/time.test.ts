import { describe, expect, it } from "vitest";
import { expiryState, formatCountdown, relative, remainingFraction, secondsLeft, usableOffset } from "./time";

describe("countdown", () => {
  it("is derived from expires_at and the clock, with the server offset applied", () => {
    expect(secondsLeft(1000, 940_000)).toBe(60);
    expect(secondsLeft(1000, 940_000, 5_000)).toBe(55);
  });

  it("formats minutes, hours and expired times", () => {
    expect(formatCountdown(65.9)).toBe("1:05");
    expect(formatCountdown(9)).toBe("0:09");
    expect(formatCountdown(-3.2)).toBe("-0:03");
    expect(formatCountdown(7260)).toBe("2:01:00");
  });

  it("names the state: fresh, inside the refresh margin, expired", () => {
    expect(expiryState(11, 10)).toBe("fresh");
    expect(expiryState(10, 10)).toBe("margin");
    expect(expiryState(0, 10)).toBe("expired");
  });

  it("says it in words", () => {
    expect(relative(120)).toBe("in 2 minutes");
    expect(relative(1)).toBe("in 1 second");
    expect(relative(-5)).toBe("5 seconds ago");
    expect(relative(0.3)).toBe("just now");
    expect(relative(-0.4)).toBe("just now");
    expect(relative(7200)).toBe("in 2 hours");
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
  });
});
