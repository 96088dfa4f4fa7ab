import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { clock, TICK_MS } from "./clock.svelte";

/** Lets Svelte run the effects it scheduled (and the teardowns it queued). */
const settle = () => vi.advanceTimersByTimeAsync(0);

const START = Date.UTC(2024, 4, 1, 14, 2, 11);

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(START);
});
afterEach(() => {
  vi.useRealTimers();
});

describe("clock", () => {
  it("reads the system clock when nothing is subscribed", () => {
    expect(clock.now).toBe(START);
    vi.setSystemTime(START + 1234);
    expect(clock.now).toBe(START + 1234);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("ticks every reader once a second from one timer, and stops when none is left", async () => {
    const a: number[] = [];
    const b: number[] = [];
    const stopA = $effect.root(() => {
      $effect(() => void a.push(clock.now));
    });
    const stopB = $effect.root(() => {
      $effect(() => void b.push(clock.now));
    });
    await settle();
    expect(vi.getTimerCount()).toBe(1);

    await vi.advanceTimersByTimeAsync(TICK_MS);
    await vi.advanceTimersByTimeAsync(TICK_MS);
    expect(a).toEqual([START, START + TICK_MS, START + 2 * TICK_MS]);
    expect(b).toEqual(a);

    stopA();
    await settle();
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(TICK_MS);
    expect(a).toHaveLength(3);
    expect(b).toHaveLength(4);

    stopB();
    await settle();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("derives values from the time it reads, so a late tick cannot drift", async () => {
    const expiresAt = START / 1000 + 90;
    const left: number[] = [];
    const stop = $effect.root(() => {
      $effect(() => void left.push(expiresAt - clock.now / 1000));
    });
    await settle();
    await vi.advanceTimersByTimeAsync(TICK_MS);
    // The machine sleeps until 30 s after the start; the next tick (31 s) reads the real time.
    vi.setSystemTime(START + 30_000);
    await vi.advanceTimersByTimeAsync(TICK_MS);
    expect(left).toEqual([90, 89, 59]);
    stop();
    await settle();
  });
});
