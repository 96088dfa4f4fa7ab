import { describe, expect, it } from "vitest";
import { clampLogWidth, LOG_WIDTH_MIN, widthAfterKey } from "./layout";

describe("the log's width", () => {
  it("stays within its bounds and leaves the panels their room", () => {
    expect(clampLogWidth(100, 1280)).toBe(LOG_WIDTH_MIN);
    expect(clampLogWidth(600.4, 1280)).toBe(600);
    expect(clampLogWidth(5000, 1280)).toBe(1280 - 360);
    // A window too narrow for both still shows the narrowest log.
    expect(clampLogWidth(500, 500)).toBe(LOG_WIDTH_MIN);
  });

  it("moves with the arrow keys, Home and End", () => {
    expect(widthAfterKey(440, "ArrowLeft", false, 1280)).toBe(460);
    expect(widthAfterKey(440, "ArrowRight", true, 1280)).toBe(360);
    expect(widthAfterKey(440, "Home", false, 1280)).toBe(LOG_WIDTH_MIN);
    expect(widthAfterKey(440, "End", false, 1280)).toBe(920);
    expect(widthAfterKey(440, "Enter", false, 1280)).toBeNull();
  });
});
