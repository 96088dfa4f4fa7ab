import { afterEach, describe, expect, it } from "vitest";
import { markFirstPaint } from "./paint-mark";

describe("markFirstPaint", () => {
  afterEach(() => {
    performance.clearMarks();
  });

  it("marks once, after the next frame", async () => {
    markFirstPaint("thing-painted");
    expect(performance.getEntriesByName("thing-painted", "mark")).toHaveLength(0);
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 5)));
    expect(performance.getEntriesByName("thing-painted", "mark")).toHaveLength(1);
    markFirstPaint("thing-painted");
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 5)));
    expect(performance.getEntriesByName("thing-painted", "mark")).toHaveLength(1);
  });
});
