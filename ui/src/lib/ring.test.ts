import { describe, expect, it } from "vitest";
import { Ring } from "./ring";

describe("Ring", () => {
  it("keeps the newest values, each at the position it got when pushed", () => {
    const ring = new Ring<string>(3);
    expect(["a", "b", "c"].map((v) => ring.push(v))).toEqual([undefined, undefined, undefined]);
    expect(ring.push("d"), "the oldest is pushed out").toBe("a");
    expect(ring.push("e")).toBe("b");
    expect(ring.toArray()).toEqual(["c", "d", "e"]);
    expect([ring.size, ring.first, ring.end]).toEqual([3, 2, 5]);
    expect(ring.at(1), "pushed out").toBeUndefined();
    expect(ring.at(4)).toBe("e");
    expect(ring.at(5), "not yet pushed").toBeUndefined();
    expect(ring.oldest()).toBe("c");
  });

  it("drops its oldest on shift, and forgets everything on clear with positions going on", () => {
    const ring = new Ring<number>(4);
    [1, 2, 3].forEach((v) => ring.push(v));
    expect(ring.shift()).toBe(1);
    expect(ring.toArray()).toEqual([2, 3]);
    ring.clear();
    expect([ring.size, ring.first, ring.end]).toEqual([0, 3, 3]);
    expect(ring.shift()).toBeUndefined();
    ring.push(9);
    expect(ring.at(3)).toBe(9);
  });

  it("refuses a capacity that holds nothing", () => {
    expect(() => new Ring(0)).toThrow(RangeError);
  });
});
