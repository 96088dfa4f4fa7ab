// How the official-clients panel words each client's timing for the session on screen. The
// times themselves come from Rust (`SessionView.clients`, one table in the engine); this only
// says them relative to the server's "now" on every tick of the clock.

import type { ClientForecast } from "./types";
import { formatCountdown } from "./format";

/** When this client's auto-refresh would refresh the session, seen at `now` (unix seconds,
 *  the server's clock), or what it would have done if that moment has passed. */
export function autoRefreshWhen(forecast: ClientForecast, now: number, expiresAt: number): string {
  const from = forecast.autoRefreshFrom - now;
  const by = forecast.autoRefreshBy - now;
  if (now >= expiresAt) return "the access token has expired: it refreshes at once";
  if (by <= 0) return `due now (${formatCountdown(-by)} past its moment)`;
  if (forecast.autoRefreshFrom === forecast.autoRefreshBy) return `in ${formatCountdown(by)}`;
  if (from > 0) return `in ${formatCountdown(from)} to ${formatCountdown(by)}`;
  return `at its next tick, by ${formatCountdown(by)} at the latest`;
}

/** When `getSession()` starts refreshing first, seen at `now`; `marginSecs` is the client's. */
export function getSessionWhen(forecast: ClientForecast, marginSecs: number, now: number): string {
  const left = forecast.getSessionRefreshesFrom - now;
  return left > 0
    ? `returns it as is for ${formatCountdown(left)} more (margin ${marginSecs} s)`
    : `refreshes first (inside its ${marginSecs} s margin)`;
}
