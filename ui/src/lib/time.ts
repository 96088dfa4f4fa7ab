// Time is derived, never counted: every tick recomputes from expires_at and the clock.

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

/** "1:05", "0:09", "-0:03" (expired three seconds ago), "2:01:00" for hours. */
export function formatCountdown(left: number): string {
  const sign = left < 0 ? "-" : "";
  const total = Math.floor(Math.abs(left));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours > 0
    ? `${sign}${hours}:${String(minutes).padStart(2, "0")}:${seconds}`
    : `${sign}${minutes}:${seconds}`;
}

/** "in 2 minutes", "5 seconds ago", "just now" within a second either way. */
export function relative(left: number): string {
  const abs = Math.abs(Math.round(left));
  if (abs < 1) return "just now";
  const [value, unit] =
    abs >= 86400 ? [Math.round(abs / 86400), "day"]
    : abs >= 3600 ? [Math.round(abs / 3600), "hour"]
    : abs >= 60 ? [Math.round(abs / 60), "minute"]
    : [abs, "second"];
  const words = `${value} ${unit}${value === 1 ? "" : "s"}`;
  return left >= 0 ? `in ${words}` : `${words} ago`;
}

/** Share of the token's lifetime still left, 0..1, for the progress bar. */
export function remainingFraction(issuedAt: number | null, expiresAt: number, left: number): number {
  const lifetime = issuedAt === null ? 3600 : expiresAt - issuedAt;
  if (lifetime <= 0) return 0;
  return Math.min(1, Math.max(0, left / lifetime));
}

export function localTime(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toLocaleString();
}

/** The server's clock offset as the countdown uses it: HTTP `Date` headers have one-second
 *  resolution, so offsets under two seconds are measurement noise and ignored. */
export function usableOffset(offsetMs: number | null): number {
  if (offsetMs === null || !Number.isFinite(offsetMs)) return 0;
  return Math.abs(offsetMs) >= 2000 ? offsetMs : 0;
}
