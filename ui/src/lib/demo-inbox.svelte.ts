// The built-in demo's inbox as a panel reads it: what the last reading found, or null when the
// profile is not the demo or the reading failed (the panel then shows no inbox, never an error).
import { api } from "./api";
import type { InboxMessage } from "./types";

export class DemoInboxReader {
  messages = $state<InboxMessage[] | null>(null);

  /** `isDemo` is read at each reading: a panel's `demo` prop can change. */
  constructor(private readonly isDemo: () => boolean) {}

  load = async (): Promise<void> => {
    if (!this.isDemo()) return;
    try {
      this.messages = await api.demoInbox();
    } catch {
      this.messages = null;
    }
  };
}
