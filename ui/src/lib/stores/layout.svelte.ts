// The log's layout as the window shows it, read once at start and saved by the app (in its
// settings) a moment after it last changed, so a drag writes the file once, not per pixel.
// Until the saved layout is known the window is screenshot-safe: the first session may paint
// before the read answers, and a read that fails must not show what the user chose to hide.

import { api, toAppError } from "../api";
import type { LogLayout } from "../types";

const SAVE_AFTER_MS = 300;

export class LayoutStore {
  layout = $state<LogLayout>({ logWidth: 440, fullWidth: false, screenshotSafe: true });
  saveError = $state<string | null>(null);
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The saved layout has been read; until then nothing is saved over it. */
  private loaded = false;
  /** What changed before the saved layout arrived: it wins over the saved values. */
  private early: Partial<LogLayout> = {};

  async load(): Promise<void> {
    try {
      this.layout = { ...(await api.logLayout()), ...this.early };
    } catch (raw) {
      this.saveError = `The layout could not be read (${toAppError(raw).message}): screenshot-safe mode stays on, and changes are not saved.`;
      return;
    }
    this.loaded = true;
    if (Object.keys(this.early).length > 0) this.scheduleSave();
    this.early = {};
  }

  /** Shows `change` at once and saves it shortly after (once the saved layout is known). */
  change(change: Partial<LogLayout>): void {
    this.layout = { ...this.layout, ...change };
    if (!this.loaded) {
      this.early = { ...this.early, ...change };
      return;
    }
    this.scheduleSave();
  }

  private scheduleSave(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.save(), SAVE_AFTER_MS);
  }

  private async save(): Promise<void> {
    try {
      await api.saveLogLayout(this.layout);
      this.saveError = null;
    } catch (raw) {
      this.saveError = `The layout was not saved: ${toAppError(raw).message}`;
    }
  }
}

export const layoutStore = new LayoutStore();
