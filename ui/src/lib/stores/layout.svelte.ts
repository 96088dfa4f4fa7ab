// The log's layout as the window shows it, read once at start and saved by the app (in its
// settings) a moment after it last changed, so a drag writes the file once, not per pixel.

import { api, toAppError } from "../api";
import type { LogLayout } from "../types";

const SAVE_AFTER_MS = 300;

class LayoutStore {
  layout = $state<LogLayout>({ logWidth: 440, fullWidth: false, screenshotSafe: false });
  saveError = $state<string | null>(null);
  private timer: ReturnType<typeof setTimeout> | undefined;

  async load(): Promise<void> {
    this.layout = await api.logLayout();
  }

  /** Shows `change` at once and saves it shortly after. */
  change(change: Partial<LogLayout>): void {
    this.layout = { ...this.layout, ...change };
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
