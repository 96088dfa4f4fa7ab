import { describe, expect, it } from "vitest";
import { expiryState, formatCountdown, relative, remainingFraction, secondsLeft } from "./time";

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
    expect(relative(7200)).toBe("in 2 hours");
  });

  it("gives the share of the lifetime left, clamped", () => {
    expect(remainingFraction(0, 120, 60)).toBe(0.5);
    expect(remainingFraction(0, 120, -5)).toBe(0);
    expect(remainingFraction(null, 3600, 7200)).toBe(1);
  });
});
