// The session on screen and the live log behind it. Every change of session arrives through
// the log (INITIAL_SESSION, SIGNED_IN, TOKEN_REFRESHED, SIGNED_OUT…), never from a command's
// answer, so an answer that arrives late can never overwrite a newer session.

import { api, toAppError } from "../api";
import { appendCapped } from "../log";
import { usableOffset } from "../time";
import type { ErrorView, LogItem, SessionView } from "../types";

/** The log keeps this many items; the oldest go first. */
export const LOG_LIMIT = 50_000;

export class SessionStore {
  session = $state<SessionView | null>(null);
  /** The live log, oldest first. Replaced, never mutated, on every change. */
  items = $state.raw<LogItem[]>([]);
  /** The server's clock minus ours (ms), as the countdown applies it; 0 when unknown. */
  offsetMs = $state(0);
  /** How many "Refresh now" presses are waiting for the engine. */
  inFlight = $state(0);
  /** Why the last "Refresh now" failed, until a new session or a new attempt. */
  refreshError = $state<ErrorView | null>(null);
  readonly busy = $derived(this.inFlight > 0);

  /** One item of the live log. */
  receive = (item: LogItem): void => {
    if (item.type === "clock") {
      this.offsetMs = usableOffset(item.offsetMs);
      return;
    }
    if (item.type === "profile") {
      this.refreshError = null;
      this.offsetMs = 0; // another server, another clock
    }
    if (item.type === "event") {
      this.session = item.event.session;
      if (item.event.kind !== "SIGNED_OUT") this.refreshError = null;
    }
    this.items = appendCapped(this.items, item, LOG_LIMIT);
  };

  /**
   * Refresh now. Every trigger goes to the engine, even while one is in flight: the engine's
   * single-flight lets the second join the first (one request, a "joined" row in the log).
   */
  refresh = async (): Promise<void> => {
    if (!this.session) return;
    this.inFlight += 1;
    this.refreshError = null;
    try {
      // The new session arrives through the live log (TOKEN_REFRESHED) like every change.
      await api.refreshNow();
    } catch (raw) {
      this.refreshError = toAppError(raw);
    } finally {
      this.inFlight -= 1;
    }
  };

  clearLog = (): void => {
    this.items = [];
  };
}

export const sessionStore = new SessionStore();
