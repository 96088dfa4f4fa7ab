import { describe, expect, it, vi } from "vitest";
import { eventRow, joinedRow, requestRow } from "../test/fixtures";
import { LiveLog, throttledFrames } from "./live-log.svelte";
import type { LogFilter, RowKind } from "./log";
import type { LogItem } from "./types";

const filter = (kinds: RowKind[] = [], query = ""): LogFilter => ({ kinds: new Set(kinds), query });
const clockItem = (): LogItem => ({ type: "clock", seq: 0, at: "2024-05-01T14:00:00.000Z", offsetMs: 0 });

/** A log whose frames run only when the test says so. */
function framed(capacity = 100) {
  const frames: (() => void)[] = [];
  const log = new LiveLog(capacity, (work) => frames.push(work));
  const nextFrame = () => frames.splice(0).forEach((work) => work());
  return { log, frames, nextFrame };
}

/** Counts how often each item is looked at (every look at a row reads its `type`). */
function watched(item: LogItem, reads: Map<number, number>): LogItem {
  return new Proxy(item, {
    get(target, key, receiver) {
      if (key === "type") reads.set(item.seq, (reads.get(item.seq) ?? 0) + 1);
      return Reflect.get(target, key, receiver);
    },
  });
}

describe("LiveLog", () => {
  it("keeps the newest items up to its capacity, and counts the rows among them", () => {
    const { log } = framed(3);
    const rows = [requestRow(), eventRow("TOKEN_REFRESHED"), joinedRow("refresh"), requestRow()];
    log.receive(rows[0]!);
    log.receive(clockItem());
    rows.slice(1).forEach((r) => log.receive(r));
    expect(log.items().map((i) => i.seq)).toEqual(rows.slice(1).map((r) => r.seq));
    const shown = log.shown(filter());
    expect(shown.total).toBe(3);
    expect(shown.slice(0, 10).map((r) => r.seq), "newest first").toEqual(rows.slice(1).reverse().map((r) => r.seq));
  });

  it("asks for one frame per batch, however many items arrive before it", () => {
    const { log, frames, nextFrame } = framed();
    const version = log.version;
    for (let i = 0; i < 50; i++) log.receive(requestRow());
    expect(frames).toHaveLength(1);
    expect(log.version, "nothing shown before the frame").toBe(version);
    nextFrame();
    expect(log.version).toBe(version + 1);
    log.receive(requestRow());
    expect(frames, "the next item asks for the next frame").toHaveLength(1);
  });

  it("stays bounded while no frame comes (a hidden window): the ring holds the newest, one frame waits", () => {
    const { log, frames } = framed(100);
    for (let i = 0; i < 1_000; i++) log.receive(requestRow({ path: `/n=${i}` }));
    expect(log.items()).toHaveLength(100);
    expect(frames).toHaveLength(1);
    const newest = log.shown(filter()).slice(0, 1)[0];
    expect(newest?.type === "request" && newest.request.path).toBe("/n=999");
  });

  it("filters each new batch alone, and looks at every item again only for a new filter", () => {
    const { log, nextFrame } = framed();
    const reads = new Map<number, number>();
    const first = [requestRow({ status: 200 }), requestRow({ status: 400 }), eventRow("TOKEN_REFRESHED")];
    first.forEach((item) => log.receive(watched(item, reads)));
    nextFrame();
    const failed = filter(["request"], "400");
    expect(log.shown(failed).count).toBe(1);
    const looked = new Map(reads);

    const batch = [requestRow({ status: 400 }), requestRow({ status: 200 })];
    batch.forEach((item) => log.receive(watched(item, reads)));
    nextFrame();
    const shown = log.shown(failed);
    expect(shown.count).toBe(2);
    expect(shown.total).toBe(5);
    for (const item of first) expect(reads.get(item.seq), "an earlier item is not filtered again").toBe(looked.get(item.seq));
    for (const item of batch) expect(reads.get(item.seq)).toBeGreaterThan(0);

    // The same filter asked again (a new object, the same selection): nothing is looked at.
    const before = new Map(reads);
    expect(log.shown(filter(["request"], " 400 ")).count).toBe(2);
    expect(reads).toEqual(before);

    // A new filter: every kept item once.
    expect(log.shown(filter(["TOKEN_REFRESHED"])).count).toBe(1);
    for (const item of [...first, ...batch]) expect(reads.get(item.seq)!).toBeGreaterThan(before.get(item.seq)!);
  });

  it("lets rows pushed out of the ring leave the rows shown", () => {
    const { log } = framed(3);
    const requests = filter(["request"]);
    const a = requestRow();
    [a, eventRow("SIGNED_IN"), requestRow()].forEach((item) => log.receive(item));
    expect(log.shown(requests).count).toBe(2);
    log.receive(eventRow("TOKEN_REFRESHED"));
    const shown = log.shown(requests);
    expect(shown.count).toBe(1);
    expect(shown.toArray().map((r) => r.seq)).not.toContain(a.seq);
  });

  it("says how many rows arrived above one shown before, and 0 once it is gone", () => {
    const { log } = framed(10);
    log.receive(requestRow());
    const before = log.shown(filter());
    const top = before.newest!;
    log.receive(joinedRow("refresh"));
    log.receive(requestRow());
    const after = log.shown(filter());
    expect(after.arrivedAfter(top)).toBe(2);
    expect(after.arrivedAfter(after.newest!)).toBe(0);
    log.clear();
    expect(log.shown(filter()).arrivedAfter(top)).toBe(0);
    expect(log.shown(filter()).count).toBe(0);
  });

  it("clears at once and goes on keeping what arrives after", () => {
    const { log } = framed(5);
    [requestRow(), requestRow()].forEach((item) => log.receive(item));
    log.shown(filter());
    log.clear();
    expect(log.items()).toEqual([]);
    const next = requestRow();
    log.receive(next);
    expect(log.shown(filter()).toArray()).toEqual([next]);
  });
});

describe("throttledFrames", () => {
  it("runs in an animation frame, at most once per interval", () => {
    vi.useFakeTimers();
    try {
      let clock = 0;
      const schedule = throttledFrames(100, () => clock);
      const ran: number[] = [];
      schedule(() => ran.push(clock));
      vi.advanceTimersByTime(16);
      expect(ran, "the first right away, in the next frame").toHaveLength(1);
      clock = 40;
      schedule(() => ran.push(clock));
      clock = 99;
      vi.advanceTimersByTime(59);
      expect(ran, "not before the interval is over").toHaveLength(1);
      clock = 160;
      vi.advanceTimersByTime(60 + 16);
      expect(ran).toEqual([0, 160]);
    } finally {
      vi.useRealTimers();
    }
  });
});
