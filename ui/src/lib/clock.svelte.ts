// The window's one clock. Everything that shows time passing (the countdown, "expires in 2
// minutes", the claims' "in 1 minute") reads `clock.now`, so they all move on the same tick and
// there is one timer in the app, not one per component. Readers derive their values from
// `now` on every tick; nothing is counted down.

import { createSubscriber } from "svelte/reactivity";

/** How often `clock.now` changes while something reads it. */
export const TICK_MS = 1000;

let latest = Date.now();
let ticking = false;

// The timer runs while at least one effect (a template, a $derived read by one) reads
// `clock.now`, and stops when the last of them is destroyed.
const subscribe = createSubscriber((update) => {
  ticking = true;
  latest = Date.now();
  const timer = setInterval(() => {
    latest = Date.now();
    update();
  }, TICK_MS);
  return () => {
    clearInterval(timer);
    ticking = false;
  };
});

export const clock = {
  /** Milliseconds since the epoch, read from `Date.now()`; reactive, once a second. */
  get now(): number {
    subscribe();
    return ticking ? latest : Date.now();
  },
};
