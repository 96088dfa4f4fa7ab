// The app's settings as the Rust side holds them (the profiles, the active one, auto-refresh),
// with what the top bar shows about them: the version, a load failure, a setting that failed.

import { api, toAppError, type AppInfo } from "../api";
import type { DetectedStack, Status } from "../types";

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

  /** Reset all data: the built-in demo opens again as on first launch. Null when it did, else
   *  why not (what was not removed); the status is read again either way. */
  resetAll = async (): Promise<string | null> => {
    this.settingsError = null;
    try {
      this.status = await api.resetAll();
      this.resets += 1;
      return null;
    } catch (raw) {
      await this.load();
      return toAppError(raw).message;
    }
  };

  /** A project was added: the app answers with the new status (the new profile active). */
  profileAdded = (next: Status): void => {
    this.status = next;
    this.noProfile = false;
  };
}

export const appStatus = new StatusStore();
