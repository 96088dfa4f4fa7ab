// Starting the window: what the app is, its settings, then the live log, which carries every
// change from then on. A "profile" item means the active profile changed: the settings reload.

import { api, toAppError } from "../api";
import { sessionStore } from "./session.svelte";
import { appStatus } from "./status.svelte";

export async function start(): Promise<void> {
  try {
    appStatus.info = await api.appInfo();
    await appStatus.load();
    await api.onLog((item) => {
      sessionStore.receive(item);
      if (item.type === "profile") void appStatus.load();
    });
    appStatus.detected = await api.detectLocalStack();
  } catch (raw) {
    appStatus.loadError = toAppError(raw).message;
  }
}
