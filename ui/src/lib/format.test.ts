import { describe, expect, it } from "vitest";
import { clockOffset, clockTime, formatCountdown, localTime, relativeTime, timeAt } from "./format";

const NOW = 1_714_572_000; // a fixed "now", unix seconds

describe("formatCountdown", () => {
  it("formats minutes, hours and expired times", () => {
    expect(formatCountdown(65.9)).toBe("1:05");
    expect(formatCountdown(9)).toBe("0:09");
    expect(formatCountdown(-3.2)).toBe("-0:03");
    expect(formatCountdown(7260)).toBe("2:01:00");
    expect(formatCountdown(120)).toBe("2:00");
  });
});

describe("relativeTime", () => {
  it("says it in words, in the largest unit, rounded", () => {
    expect(relativeTime(120)).toBe("in 2 minutes");
    expect(relativeTime(1)).toBe("in 1 second");
    expect(relativeTime(-5)).toBe("5 seconds ago");
    expect(relativeTime(7200)).toBe("in 2 hours");
    expect(relativeTime(-86400 * 3)).toBe("3 days ago");
    expect(relativeTime(80)).toBe("in 1 minute");
    expect(relativeTime(-180)).toBe("3 minutes ago");
    expect(relativeTime(-3520)).toBe("59 minutes ago");
    // 59.6 s rounds to a whole minute, not to "60 seconds".
    expect(relativeTime(59.6)).toBe("in 1 minute");
  });

  it("is \"just now\" within half a second, or within the tolerance given", () => {
    expect(relativeTime(0.3)).toBe("just now");
    expect(relativeTime(-0.4)).toBe("just now");
    expect(relativeTime(0)).toBe("just now");
    expect(relativeTime(1, 2)).toBe("just now");
    expect(relativeTime(-1.9, 2)).toBe("just now");
    expect(relativeTime(2, 2)).toBe("in 2 seconds");
    expect(relativeTime(Number.NaN)).toBe("just now");
  });
});

describe("dates and times of day", () => {
  it("shows a date and time exactly as toLocaleString does", () => {
    expect(localTime(NOW)).toBe(new Date(NOW * 1000).toLocaleString());
    expect(localTime(NOW + 80)).toBe(new Date((NOW + 80) * 1000).toLocaleString());
  });

  it("shows a time of day as 24-hour HH:MM:SS, with the date when not within a day", () => {
    const d = new Date((NOW - 3520) * 1000);
    const hhmmss = [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
    expect(timeAt(NOW - 3520, NOW)).toBe(hhmmss);
    const old = new Date((NOW - 3 * 86400) * 1000);
    const oldTime = [old.getHours(), old.getMinutes(), old.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
    expect(timeAt(NOW - 3 * 86400, NOW)).toBe(`${old.toLocaleDateString()} ${oldTime}`);
  });

  it("formats log times with milliseconds, 24-hour, midnight as 00", () => {
    const at = (h: number, m: number, s: number, ms: number) => new Date(2024, 4, 1, h, m, s, ms).toISOString();
    expect(clockTime(at(14, 2, 11, 45))).toBe("14:02:11.045");
    expect(clockTime(at(0, 0, 7, 5))).toBe("00:00:07.005");
    expect(clockTime(at(9, 30, 0, 999))).toBe("09:30:00.999");
    expect(clockTime("not a date")).toBe("not a date");
  });
});

describe("clockOffset", () => {
  it("shows whole seconds with their sign", () => {
    expect(clockOffset(60_000)).toBe("+60 s");
    expect(clockOffset(59_600)).toBe("+60 s");
    expect(clockOffset(-3_200)).toBe("−3 s");
  });
});
