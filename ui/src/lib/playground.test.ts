import { describe, expect, it } from "vitest";
import { endsAt, secondsLeft } from "./playground";

describe("the playground's countdown", () => {
  it("ends a waiting scenario its seconds after the click, and none that does not wait", () => {
    expect(endsAt(1_000, 10)).toBe(11_000);
    expect(endsAt(1_000, null)).toBeNull();
  });

  it("counts whole seconds up, and stops at zero", () => {
    expect(secondsLeft(11_000, 1_000)).toBe(10);
    expect(secondsLeft(11_000, 1_001)).toBe(10);
    expect(secondsLeft(11_000, 10_001)).toBe(1);
    expect(secondsLeft(11_000, 11_000)).toBe(0);
    expect(secondsLeft(11_000, 20_000)).toBe(0);
  });
});
