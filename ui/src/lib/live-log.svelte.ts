// The live log's items in the window: a ring of the newest LOG_LIMIT items, filled as items
// arrive (no copy of the list per item), and shown in an animation frame at most every
// SHOW_EVERY_MS. The rows that pass the filter are kept as positions in a second ring,
// extended by each new batch alone; only a new filter looks at every kept item again. A window that is hidden gets no frames:
// its items still go into the ring (bounded), and the next frame catches up on what is kept.

import { isRow, matches, queryTerms, type LogFilter, type RowItem } from "./log";
import { Ring } from "./ring";
import type { LogItem } from "./types";

/** The log keeps this many items; the oldest go first. */
export const LOG_LIMIT = 100_000;

/** Runs `work` before the next paint. */
export type FrameScheduler = (work: () => void) => void;

/** The log's rows change at most this often (ms): drawing the list costs about the same for
 *  one new row as for fifty, so a stream of items is shown ten times a second, not sixty. */
export const SHOW_EVERY_MS = 100;

/** The next animation frame at least `every` ms after the last one this scheduler ran. */
export function throttledFrames(every: number, now: () => number = () => performance.now()): FrameScheduler {
  let last = -Infinity;
  const frame = (work: () => void) => {
    const run = () => {
      last = now();
      work();
    };
    if (typeof requestAnimationFrame === "function") requestAnimationFrame(run);
    else setTimeout(run, 16);
  };
  return (work) => {
    const wait = last + every - now();
    if (wait <= 0) frame(work);
    else setTimeout(() => frame(work), wait);
  };
}

/** The rows shown for one filter, as of one frame. */
export interface ShownRows {
  /** Rows that pass the filter. */
  readonly count: number;
  /** Rows kept, whatever the filter. */
  readonly total: number;
  /** Arrival position of the newest row shown; null when none is. */
  readonly newest: number | null;
  /** The rows from `start` to `end` (exclusive), counted from the newest. */
  slice(start: number, end: number): RowItem[];
  /** How many rows shown arrived after the row at arrival position `position`; 0 when that
   *  row is not shown any more (cleared, pushed out, filtered out). */
  arrivedAfter(position: number): number;
  /** Every row shown, oldest first (a copy, for export). */
  toArray(): RowItem[];
}

function filterKey(filter: LogFilter): string {
  return `${[...filter.kinds].sort().join(",")}|${queryTerms(filter.query).join(" ")}`;
}

export class LiveLog {
  /** Bumped once per frame in which the log changed: what the window reads depends on it. */
  version = $state(0);

  readonly #items: Ring<LogItem>;
  /** How many of the kept items are rows. */
  #rows = 0;
  #scheduled = false;
  readonly #schedule: FrameScheduler;

  /** Arrival positions of the kept rows that pass `#shownKey`'s filter, oldest first. */
  readonly #shown: Ring<number>;
  #shownKey: string | null = null;
  /** Items before this arrival position have been filtered into `#shown`. */
  #filteredTo = 0;

  constructor(capacity = LOG_LIMIT, schedule: FrameScheduler = throttledFrames(SHOW_EVERY_MS)) {
    this.#items = new Ring(capacity);
    this.#shown = new Ring(capacity);
    this.#schedule = schedule;
  }

  /** Keeps `item` (pushing out the oldest when full); the window sees it at the next frame. */
  receive(item: LogItem): void {
    const out = this.#items.push(item);
    if (isRow(item)) this.#rows += 1;
    if (out !== undefined && isRow(out)) this.#rows -= 1;
    if (!this.#scheduled) {
      this.#scheduled = true;
      this.#schedule(() => this.flush());
    }
  }

  /** Shows what arrived since the last frame (the frame scheduler calls it). */
  flush(): void {
    this.#scheduled = false;
    this.version += 1;
  }

  clear(): void {
    this.#items.clear();
    this.#rows = 0;
    this.flush();
  }

  /** Every kept item, oldest first (a copy). */
  items(): LogItem[] {
    return this.#items.toArray();
  }

  /** The rows that pass `filter`, brought up to date with the items received so far. */
  shown(filter: LogFilter): ShownRows {
    void this.version; // read, so that whoever shows the rows follows every frame
    const items = this.#items;
    const shown = this.#shown;
    const key = filterKey(filter);
    if (key !== this.#shownKey) {
      shown.clear();
      this.#shownKey = key;
      this.#filteredTo = items.first;
    }
    while (shown.size > 0 && shown.oldest()! < items.first) shown.shift();
    const terms = queryTerms(filter.query);
    for (let p = Math.max(this.#filteredTo, items.first); p < items.end; p++) {
      if (matches(items.at(p)!, filter, terms)) shown.push(p);
    }
    this.#filteredTo = items.end;
    return snapshot(items, shown, this.#rows);
  }
}

function snapshot(items: Ring<LogItem>, shown: Ring<number>, total: number): ShownRows {
  const count = shown.size;
  const end = shown.end;
  const rowAt = (p: number | undefined) => (p === undefined ? undefined : (items.at(p) as RowItem | undefined));
  return {
    count,
    total,
    newest: count > 0 ? shown.at(end - 1)! : null,
    slice(start, stop) {
      const out: RowItem[] = [];
      for (let i = Math.max(0, start); i < Math.min(stop, count); i++) {
        const row = rowAt(shown.at(end - 1 - i));
        if (row) out.push(row);
      }
      return out;
    },
    arrivedAfter(position) {
      // Positions are ascending: a binary search over the ring.
      let low = shown.first;
      let high = end - 1;
      while (low <= high) {
        const mid = (low + high) >>> 1;
        const at = shown.at(mid)!;
        if (at === position) return end - 1 - mid;
        if (at < position) low = mid + 1;
        else high = mid - 1;
      }
      return 0;
    },
    toArray() {
      const out: RowItem[] = [];
      for (let i = shown.first; i < end; i++) {
        const row = rowAt(shown.at(i));
        if (row) out.push(row);
      }
      return out;
    },
  };
}
