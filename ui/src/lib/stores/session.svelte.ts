// The session on screen and the live log behind it. Every change of session arrives through
// the log (INITIAL_SESSION, SIGNED_IN, TOKEN_REFRESHED, SIGNED_OUT…), never from a command's
// answer, so an answer that arrives late can never overwrite a newer session.

import { api, toAppError } from "../api";
import { appendCapped } from "../log";
import { usableOffset } from "../time";
import type { AuthEventKind, ErrorView, LogItem, RejectionView, SessionView } from "../types";

/** The log keeps this many items; the oldest go first. */
export const LOG_LIMIT = 50_000;

/** The events after which a recovery session no longer asks for a new password. */
const RECOVERY_ENDS: AuthEventKind[] = ["USER_UPDATED", "SIGNED_IN", "SIGNED_OUT"];

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
  /** The session's refresh token was refused for good while its access token still works:
   *  kept (as supabase-js keeps it) and marked, until it ends or gets a new refresh token. */
  rejection = $state<RejectionView | null>(null);
  /** The session came from a password-reset code or link (PASSWORD_RECOVERY): the window
   *  asks for a new password, as auth-js apps do on that event, until the password is set
   *  (USER_UPDATED) or the session ends or changes hands. */
  recovery = $state(false);
  readonly busy = $derived(this.inFlight > 0);

  /** One item of the live log. */
  receive = (item: LogItem): void => {
    if (item.type === "clock") {
      this.offsetMs = usableOffset(item.offsetMs);
      return;
    }
    if (item.type === "profile") {
      this.refreshError = null;
      this.rejection = null;
      this.offsetMs = 0; // another server, another clock
      this.recovery = false;
    }
    if (item.type === "event") {
      const { event } = item;
      this.session = event.session;
      if (event.kind === "PASSWORD_RECOVERY") this.recovery = true;
      else if (RECOVERY_ENDS.includes(event.kind)) this.recovery = false;
      // REFRESH_REJECTED carries the mark; so does INITIAL_SESSION when it still stands (a
      // window that subscribes later, or after a profile switch back).
      if (event.rejection) {
        this.rejection = event.rejection;
      } else {
        if (event.kind !== "SIGNED_OUT") this.refreshError = null;
        // A new session or a new refresh token lifts the mark; so does the session's end.
        const sameToken = event.session?.refreshTokenFingerprint === this.rejection?.refreshTokenFingerprint;
        if (!sameToken) this.rejection = null;
      }
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

  /** "End it now": the rejected session ends here (SIGNED_OUT arrives through the log). */
  endSession = async (): Promise<void> => {
    try {
      await api.endSession();
    } catch (raw) {
      this.refreshError = toAppError(raw);
    }
  };

  clearLog = (): void => {
    this.items = [];
  };
}

export const sessionStore = new SessionStore();
