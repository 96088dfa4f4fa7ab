// The log's column width: its bounds (the Rust side refuses outside them, `layout.rs`) and
// what the window leaves to the panels beside it.

export const LOG_WIDTH_MIN = 320;
export const LOG_WIDTH_MAX = 4000;
/** The panels keep at least this much of the window. */
export const PANELS_MIN = 360;
/** One arrow key press on the resize handle; with Shift, four. */
export const KEY_STEP = 20;

/** `width` within the bounds and within a window `windowWidth` wide. */
export function clampLogWidth(width: number, windowWidth: number): number {
  const widest = Math.max(LOG_WIDTH_MIN, Math.min(LOG_WIDTH_MAX, windowWidth - PANELS_MIN));
  return Math.round(Math.min(widest, Math.max(LOG_WIDTH_MIN, width)));
}

/** The width after a key on the handle (the log is on the right: left widens it), or null
 *  for a key the handle does not use. */
export function widthAfterKey(width: number, key: string, shift: boolean, windowWidth: number): number | null {
  const step = shift ? KEY_STEP * 4 : KEY_STEP;
  const next = new Map([
    ["ArrowLeft", width + step],
    ["ArrowRight", width - step],
    ["Home", LOG_WIDTH_MIN],
    ["End", LOG_WIDTH_MAX],
  ]).get(key);
  return next === undefined ? null : clampLogWidth(next, windowWidth);
}
