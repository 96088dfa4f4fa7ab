// Time is derived, never counted: every tick recomputes from expires_at and the clock.
// How these values are shown is lib/format.ts's job.

export type ExpiryState = "fresh" | "margin" | "expired";

/** Seconds left until `expiresAt` (unix seconds) at `nowMs`, corrected by the server's
 *  clock offset when known (server minus local, in ms). */
export function secondsLeft(expiresAt: number, nowMs: number, serverOffsetMs = 0): number {
  return expiresAt - (nowMs + serverOffsetMs) / 1000;
}

export function expiryState(left: number, marginSeconds: number): ExpiryState {
  if (left <= 0) return "expired";
  if (left <= marginSeconds) return "margin";
  return "fresh";
}

/** Share of the token's lifetime still left, 0..1, for the progress bar. */
export function remainingFraction(issuedAt: number | null, expiresAt: number, left: number): number {
  const lifetime = issuedAt === null ? 3600 : expiresAt - issuedAt;
  if (lifetime <= 0) return 0;
  return Math.min(1, Math.max(0, left / lifetime));
}

/** The server's clock offset as the countdown uses it: HTTP `Date` headers have one-second
 *  resolution, so offsets under two seconds are measurement noise and ignored. */
export function usableOffset(offsetMs: number | null): number {
  if (offsetMs === null || !Number.isFinite(offsetMs)) return 0;
  return Math.abs(offsetMs) >= 2000 ? offsetMs : 0;
}

/** The server's "now" in whole unix seconds: the local clock corrected by the server's offset. */
export function serverSeconds(nowMs: number, serverOffsetMs = 0): number {
  return Math.floor((nowMs + serverOffsetMs) / 1000);
}
