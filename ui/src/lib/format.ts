// Every time the window shows, formatted in one place. Dates and times of day come from
// Intl.DateTimeFormat, "in 2 minutes" / "5 seconds ago" from Intl.RelativeTimeFormat. Only the
// countdown ("1:05") and the clock-offset chip ("+60 s") are the app's own: Intl has no format
// for them in the engines the app runs in.

/** The app's sentences are English, so relative times are too ("Expires … (in 2 minutes)"). */
const RELATIVE = new Intl.RelativeTimeFormat("en", { numeric: "always" });

/** A date and time in the user's locale: exactly what `Date#toLocaleString()` shows. */
const DATE_TIME = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "numeric",
  day: "numeric",
  hour: "numeric",
  minute: "numeric",
  second: "numeric",
});

/** A date in the user's locale: exactly what `Date#toLocaleDateString()` shows. */
const DATE = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "numeric", day: "numeric" });

// Times of day are fixed-width 24-hour "14:02:11" in every locale: they line up in the log's
// column, and the log's search finds "14:02" on every machine.
const TIME_OF_DAY = new Intl.DateTimeFormat("en-GB", {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23",
});
const TIME_OF_DAY_MS = new Intl.DateTimeFormat("en-GB", {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  fractionalSecondDigits: 3,
  hourCycle: "h23",
});

const UNITS: readonly [Intl.RelativeTimeFormatUnit, number][] = [
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];

/**
 * "in 2 minutes", "5 seconds ago", in the largest whole unit, rounded. Within `justNowWithin`
 * seconds either way it is "just now".
 */
export function relativeTime(deltaSeconds: number, justNowWithin = 0.5): string {
  if (!Number.isFinite(deltaSeconds) || Math.abs(deltaSeconds) < justNowWithin) return "just now";
  const abs = Math.round(Math.abs(deltaSeconds));
  if (abs < 1) return "just now";
  const [unit, size] = UNITS.find(([, seconds]) => abs >= seconds) ?? ["second", 1];
  const value = Math.round(abs / size);
  return RELATIVE.format(deltaSeconds < 0 ? -value : value, unit);
}

/** A date and time in the user's locale, e.g. "5/1/2024, 2:02:11 PM". */
export function localTime(unixSeconds: number): string {
  return DATE_TIME.format(unixSeconds * 1000);
}

/** "14:02:11" in local time, with the date in front when it is not within a day of `now`. */
export function timeAt(unixSeconds: number, nowSeconds: number): string {
  const time = TIME_OF_DAY.format(unixSeconds * 1000);
  return Math.abs(nowSeconds - unixSeconds) < 86400 ? time : `${DATE.format(unixSeconds * 1000)} ${time}`;
}

/** "14:02:11.045" in local time, for an RFC 3339 timestamp; the input itself when unreadable. */
export function clockTime(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : TIME_OF_DAY_MS.format(ms);
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

/** The server's clock minus ours, in whole seconds with its sign: "+60 s", "−3 s". */
export function clockOffset(offsetMs: number): string {
  return `${offsetMs > 0 ? "+" : "−"}${Math.round(Math.abs(offsetMs) / 1000)} s`;
}
