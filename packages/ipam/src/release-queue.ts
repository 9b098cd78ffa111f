import { IpamInvariantError } from "./errors.js";

const INITIAL_CAPACITY = 16;
/** Withdrawn entries tolerated before a compaction is even considered. */
const COMPACT_MIN_WITHDRAWN = 64;

/**
 * Released range indices in release order (first in, first out), so that the address
 * released longest ago is reused first.
 *
 * An index can leave the queue out of order when a caller takes it on purpose (a static
 * lease): {@link ReleaseQueue.withdraw} marks its entry dead instead of searching for it, and
 * {@link ReleaseQueue.take} skips dead entries. Because an index is pushed only when it is
 * released, its dead entries always precede its live one, so counting dead entries per index
 * is enough. The ring is compacted once dead entries outnumber live ones, which keeps memory
 * at most about twice the live count and every operation O(1) amortised.
 */
export class ReleaseQueue {
  #ring = new Uint32Array(INITIAL_CAPACITY);
  #head = 0;
  #length = 0;
  readonly #dead = new Map<number, number>();
  #deadTotal = 0;

  /** Number of live entries (released indices waiting for reuse). */
  get size(): number {
    return this.#length - this.#deadTotal;
  }

  /** Bytes held by the ring buffer. */
  get byteLength(): number {
    return this.#ring.byteLength;
  }

  /** Appends a released index; it will be taken after every index pushed before it. */
  push(index: number): void {
    if (this.#length === this.#ring.length) this.#resize(this.#ring.length * 2);
    this.#ring[(this.#head + this.#length) & (this.#ring.length - 1)] = index;
    this.#length++;
  }

  /** Kills the live entry of `index`, which the caller guarantees is queued. */
  withdraw(index: number): void {
    this.#dead.set(index, (this.#dead.get(index) ?? 0) + 1);
    this.#deadTotal++;
    if (this.#deadTotal >= COMPACT_MIN_WITHDRAWN && this.#deadTotal * 2 > this.#length) {
      this.#compact();
    }
  }

  /** Removes and returns the oldest live index, or -1 when none is left. */
  take(): number {
    while (this.#length > 0) {
      const index = this.#shift();
      if (!this.#consumeDead(index)) return index;
    }
    return -1;
  }

  /** Live indices, oldest first (for inspection and tests; O(length)). */
  *[Symbol.iterator](): IterableIterator<number> {
    const dead = new Map(this.#dead);
    for (let i = 0; i < this.#length; i++) {
      const index = this.#ring[(this.#head + i) & (this.#ring.length - 1)]!;
      if (!consume(dead, index)) yield index;
    }
  }

  #shift(): number {
    const index = this.#ring[this.#head]!;
    this.#head = (this.#head + 1) & (this.#ring.length - 1);
    this.#length--;
    return index;
  }

  /** True when this entry of `index` was dead (and is now forgotten). */
  #consumeDead(index: number): boolean {
    if (!consume(this.#dead, index)) return false;
    this.#deadTotal--;
    return true;
  }

  #compact(): void {
    const live = [...this];
    if (live.length !== this.size) {
      throw new IpamInvariantError(`release queue lost entries: ${live.length} != ${this.size}`);
    }
    this.#dead.clear();
    this.#deadTotal = 0;
    this.#ring = new Uint32Array(capacityFor(live.length));
    this.#ring.set(live);
    this.#head = 0;
    this.#length = live.length;
  }

  #resize(capacity: number): void {
    const ring = new Uint32Array(capacity);
    for (let i = 0; i < this.#length; i++) {
      ring[i] = this.#ring[(this.#head + i) & (this.#ring.length - 1)]!;
    }
    this.#ring = ring;
    this.#head = 0;
  }
}

/** Decrements the dead count of `index`; true when there was one. */
function consume(dead: Map<number, number>, index: number): boolean {
  const count = dead.get(index);
  if (count === undefined) return false;
  if (count === 1) dead.delete(index);
  else dead.set(index, count - 1);
  return true;
}

/** Smallest power of two that holds `length` entries with room to grow. */
function capacityFor(length: number): number {
  let capacity = INITIAL_CAPACITY;
  while (capacity < length * 2) capacity *= 2;
  return capacity;
}
