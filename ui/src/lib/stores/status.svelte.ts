// The app's settings as the Rust side holds them (the profiles, the active one, auto-refresh),
// with what the top bar shows about them: the version, a load failure, a setting that failed.

import { api, toAppError, type AppInfo } from "../api";
import type { DetectedStack, ResetDone, Status } from "../types";
import { sessionStore } from "./session.svelte";

/** What Reset all data did: `ran` when it removed everything (the window then starts afresh);
 *  `message` says why it did not run or stopped part way, or, after it ran, what was kept and
 *  why no profile opened (null when there is nothing to add). */
export type ResetOutcome = { ran: boolean; message: string | null };

export class StatusStore {
  info = $state<AppInfo | null>(null);
  status = $state<Status | null>(null);
  /** Why the app could not start or load its status. */
  loadError = $state<string | null>(null);
  /** No profile is open: no project yet, in a build without the built-in demo. */
  noProfile = $state(false);
  /** Why the last change of a setting (profile, auto-refresh) failed. */
  settingsError = $state<string | null>(null);
  /** A profile switch is on its way. */
  switching = $state(false);
  /** How many times all data was reset: the window's panels start afresh after each. */
  resets = $state(0);
  /** A local `supabase start` stack that answered, if any. */
  detected = $state<DetectedStack | null>(null);

  /** The active profile's id; "" until the status has loaded. */
  readonly profileId = $derived(this.status?.profileId ?? "");
  /** Seconds before expiry that the countdown marks as the refresh margin: auto-refresh's
   *  while it is on, else the one `get_session` uses (from the app; 0 until it has answered). */
  readonly margin = $derived(
    this.status?.autoRefresh ? this.status.refreshMarginSecs : (this.status?.expiryMarginSecs ?? 0),
  );
  /** The detected local stack, while no profile points at it yet. */
  readonly offerStack = $derived(
    this.detected !== null && !this.status?.profiles.some((p) => p.url === this.detected?.url),
  );

  load = async (): Promise<void> => {
    try {
      this.status = await api.status();
      this.noProfile = false;
      this.loadError = null;
    } catch (raw) {
      const error = toAppError(raw);
      if (error.kind === "noProfile") {
        this.status = null;
        this.noProfile = true;
        this.loadError = null;
      } else {
        this.loadError = error.message;
      }
    }
  };

  /** Opens another profile; false (and `settingsError`) when it failed. */
  selectProfile = async (id: string): Promise<boolean> => {
    this.settingsError = null;
    this.switching = true;
    try {
      this.status = await api.selectProfile(id);
      return true;
    } catch (raw) {
      this.settingsError = toAppError(raw).message;
      return false;
    } finally {
      this.switching = false;
    }
  };

  /** Forgets the active profile (never the built-in one) and its stored session. */
  removeProfile = async (): Promise<void> => {
    if (!this.status || this.status.builtIn || !this.status.removable) return;
    this.settingsError = null;
    try {
      this.status = await api.removeProfile(this.status.profileId);
    } catch (raw) {
      this.settingsError = toAppError(raw).message;
    }
  };

  /** Applies the auto-refresh setting; false (and `settingsError`) when it failed. */
  setAutoRefresh = async (enabled: boolean, marginSecs: number): Promise<boolean> => {
    this.settingsError = null;
    try {
      this.status = await api.setAutoRefresh(enabled, marginSecs);
      return true;
    } catch (raw) {
      this.settingsError = toAppError(raw).message;
      return false;
    }
  };

  /** Reset all data. Once it is known to have run, what the window showed goes (the session,
   *  the log before it, a rejection or a recovery) and the profile that opened, if any, shows
   *  (the built-in demo as on first launch; in a build without it, the empty state). When it
   *  did not run or stopped part way, nothing on screen is forgotten and the status is read
   *  again. */
  resetAll = async (): Promise<ResetOutcome> => {
    this.settingsError = null;
    let done: ResetDone;
    try {
      done = await api.resetAll();
    } catch (raw) {
      await this.load();
      return { ran: false, message: toAppError(raw).message };
    }
    sessionStore.forget(done.logFrom);
    this.status = done.status;
    this.noProfile = done.status === null && done.notOpened === null;
    this.loadError = done.notOpened;
    this.resets += 1;
    const notes = [...done.kept];
    if (done.notOpened !== null) notes.unshift(`The built-in demo could not open: ${done.notOpened}`);
    return { ran: true, message: notes.length ? notes.join(" ") : null };
  };

  /** A project was added: the app answers with the new status (the new profile active). */
  profileAdded = (next: Status): void => {
    this.status = next;
    this.noProfile = false;
  };
}

export const appStatus = new StatusStore();
