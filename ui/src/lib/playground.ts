// The playground panel's small logic: when a waiting scenario (the outage) ends, and how many
// whole seconds are left of it on the window's clock.

/** When a scenario that waits `seconds` (none: it does not wait) ends, if it starts at `startedAt`. */
export function endsAt(startedAt: number, seconds: number | null): number | null {
  return seconds === null ? null : startedAt + seconds * 1000;
}

/** Whole seconds left until `end` (rounded up, never below 0). */
export function secondsLeft(end: number, now: number): number {
  return Math.max(0, Math.ceil((end - now) / 1000));
}
