// A fixed-capacity ring addressed by absolute position: the n-th value ever pushed keeps
// position n until it is pushed out (the oldest go first) or cleared. Positions let a
// consumer remember "how far it has read" without copying the values.

export class Ring<T> {
  readonly capacity: number;
  #slots: (T | undefined)[];
  /** Absolute position of the oldest value kept. */
  #first = 0;
  /** Absolute position the next value will get. */
  #end = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError("a ring holds at least one value");
    this.capacity = capacity;
    this.#slots = new Array<T | undefined>(capacity);
  }

  /** How many values are kept. */
  get size(): number {
    return this.#end - this.#first;
  }

  /** Absolute position of the oldest value kept (equals `end` when empty). */
  get first(): number {
    return this.#first;
  }

  /** Absolute position the next value will get. */
  get end(): number {
    return this.#end;
  }

  /** Adds `value` as the newest; returns the value pushed out to make room, if any. */
  push(value: T): T | undefined {
    let evicted: T | undefined;
    if (this.size === this.capacity) {
      evicted = this.#slots[this.#first % this.capacity];
      this.#first += 1;
    }
    this.#slots[this.#end % this.capacity] = value;
    this.#end += 1;
    return evicted;
  }

  /** The value at absolute position `position`, if it is still kept. */
  at(position: number): T | undefined {
    if (position < this.#first || position >= this.#end) return undefined;
    return this.#slots[position % this.capacity];
  }

  /** The oldest value kept. */
  oldest(): T | undefined {
    return this.at(this.#first);
  }

  /** Drops the oldest value kept. */
  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const slot = this.#first % this.capacity;
    const value = this.#slots[slot];
    this.#slots[slot] = undefined;
    this.#first += 1;
    return value;
  }

  /** Forgets every value; positions go on from where they were. */
  clear(): void {
    this.#slots = new Array<T | undefined>(this.capacity);
    this.#first = this.#end;
  }

  /** The values kept, oldest first (a copy). */
  toArray(): T[] {
    const out: T[] = [];
    for (let p = this.#first; p < this.#end; p++) out.push(this.#slots[p % this.capacity] as T);
    return out;
  }
}
