// Starting the window, from main.ts before the first mount: what the app is, its settings and
// the live log (which carries every change from then on) are asked for at once, so no round
// trip waits on another; the session comes with the log's INITIAL_SESSION. A "profile" item
// means the active profile changed: the settings reload. The `start:*` User Timing marks show
// where start-up goes (BENCH_TIMELINE=1 src-tauri/scripts/bench-window.sh).

import { api, toAppError } from "../api";
import { sessionStore } from "./session.svelte";
import { layoutStore } from "./layout.svelte";
import { appStatus } from "./status.svelte";

const mark = (name: string) => performance.mark(`start:${name}`);

export async function start(): Promise<void> {
  try {
    mark("begin");
    let first = true;
    await Promise.all([
      api.appInfo().then((info) => {
        appStatus.info = info;
        mark("info");
      }),
      appStatus.load().then(() => mark("status")),
      layoutStore.load(),
      api
        .onLog((item) => {
          if (first) mark(`first-item:${item.type}`);
          first = false;
          if (item.type === "event" && item.event.kind === "INITIAL_SESSION") mark("initial-session");
          sessionStore.receive(item);
          if (item.type === "profile") void appStatus.load();
        })
        .then(() => mark("subscribed")),
    ]);
    appStatus.detected = await api.detectLocalStack();
    mark("detected");
  } catch (raw) {
    appStatus.loadError = toAppError(raw).message;
  }
}
