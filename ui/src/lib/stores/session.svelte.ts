// The session on screen and the live log behind it. Every change of session arrives through
// the log (INITIAL_SESSION, SIGNED_IN, TOKEN_REFRESHED, SIGNED_OUT…), never from a command's
// answer, so an answer that arrives late can never overwrite a newer session.

import { api, toAppError } from "../api";
import { LiveLog } from "../live-log.svelte";
import { usableOffset } from "../time";
import type { AuthEventKind, ErrorView, LogItem, RejectionView, SessionView } from "../types";

/** The events after which no session is a recovery one any more (a new sign-in, the end).
 *  USER_UPDATED is not one: an email change is an update too; the new password's own answer
 *  ends the recovery (`passwordSet`). */
const RECOVERY_ENDS: AuthEventKind[] = ["SIGNED_IN", "SIGNED_OUT"];

export class SessionStore {
  session = $state<SessionView | null>(null);
  /** The live log: a ring of the newest items, shown once per frame. */
  readonly log: LiveLog;
  /** The server's clock minus ours (ms), as the countdown applies it; 0 when unknown. */
  offsetMs = $state(0);
  /** How many "Refresh now" presses are waiting for the engine. */
  inFlight = $state(0);
  /** Why the last "Refresh now" failed, until a new session or a new attempt. */
  refreshError = $state<ErrorView | null>(null);
  /** The session's refresh token was refused for good while its access token still works:
   *  kept (as supabase-js keeps it) and marked, until it ends or gets a new refresh token. */
  rejection = $state<RejectionView | null>(null);
  /** The session that came from a password-reset code or link (PASSWORD_RECOVERY), by its
   *  session id, until its new password is set or it ends: a refresh keeps the id, so the
   *  recovery survives it, while another session (a paste that was refreshed on arrival:
   *  TOKEN_REFRESHED) is not taken for it. */
  recoverySessionId = $state<string | null>(null);
  /** The session on screen is that recovery session: the window asks for a new password, as
   *  auth-js apps do on PASSWORD_RECOVERY. */
  readonly recovery = $derived(this.recoverySessionId !== null && this.session?.sessionId === this.recoverySessionId);
  readonly busy = $derived(this.inFlight > 0);

  constructor(log: LiveLog = new LiveLog()) {
    this.log = log;
  }

  /** The items the log keeps, oldest first (a copy). */
  get items(): LogItem[] {
    return this.log.items();
  }

  /** One item of the live log: the session follows it at once; the log shows it at the next
   *  frame, with every other item of that frame. */
  receive = (item: LogItem): void => {
    if (item.type === "clock") {
      this.offsetMs = usableOffset(item.offsetMs);
      return;
    }
    if (item.type === "profile") {
      this.refreshError = null;
      this.rejection = null;
      this.offsetMs = 0; // another server, another clock
      this.recoverySessionId = null;
    }
    if (item.type === "event") {
      const { event } = item;
      this.session = event.session;
      if (event.kind === "PASSWORD_RECOVERY") this.recoverySessionId = event.session?.sessionId ?? null;
      else if (RECOVERY_ENDS.includes(event.kind)) this.recoverySessionId = null;
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
    this.log.receive(item);
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

  /** The recovery session's new password was accepted (the answer to PUT /user {password}). */
  passwordSet = (): void => {
    this.recoverySessionId = null;
  };

  clearLog = (): void => {
    this.log.clear();
  };

  /** After Reset all data: what the window showed from before it goes (the session, the log,
   *  a refresh error, a rejection, a recovery, the clock offset). The items the reopened
   *  profile sent since (`seq` at or after `logFrom`) are taken again as if they came first. */
  forget = (logFrom: number): void => {
    const since = this.log.items().filter((item) => item.seq >= logFrom);
    this.session = null;
    this.log.clear();
    this.offsetMs = 0;
    this.refreshError = null;
    this.rejection = null;
    this.recoverySessionId = null;
    for (const item of since) this.receive(item);
  };
}

export const sessionStore = new SessionStore();
