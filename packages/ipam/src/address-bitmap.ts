import { IpamInvariantError } from "./errors.js";

const WORD_BITS = 32;

/**
 * A fixed-size set of indices 0..size-1, one bit each in a `Uint32Array` (bit `i & 31` of
 * word `i >>> 5`). A /8 range takes 2 MiB. Searching skips 32 clear bits per word compare and
 * finds the lowest set bit of a word with `Math.clz32`.
 */
export class AddressBitmap {
  /** Number of indices the bitmap covers. */
  readonly size: number;
  readonly #words: Uint32Array;

  /** Creates a bitmap of `size` indices, all set when `filled`, else all clear. */
  constructor(size: number, filled: boolean) {
    if (!Number.isInteger(size) || size < 0) {
      throw new IpamInvariantError(`bitmap size must be a non-negative integer, got ${size}`);
    }
    this.size = size;
    this.#words = new Uint32Array(Math.ceil(size / WORD_BITS));
    if (filled) this.#fill();
  }

  /** Bytes held by the bit array. */
  get byteLength(): number {
    return this.#words.byteLength;
  }

  /** True when `index` is in the set. */
  has(index: number): boolean {
    return (this.#words[index >>> 5]! & (1 << (index & 31))) !== 0;
  }

  /** Adds `index` to the set. */
  add(index: number): void {
    this.#check(index);
    this.#words[index >>> 5]! |= 1 << (index & 31);
  }

  /** Removes `index` from the set. */
  delete(index: number): void {
    this.#check(index);
    this.#words[index >>> 5]! &= ~(1 << (index & 31));
  }

  /**
   * The lowest index in the set that is `>= from`, or -1. Costs one compare per 32 indices
   * between `from` and the result, so callers that only move `from` forward pay each word once.
   */
  nextAtOrAfter(from: number): number {
    if (from >= this.size) return -1;
    const words = this.#words;
    let w = from >>> 5;
    let word = words[w]! & (-1 << (from & 31));
    while (word === 0) {
      w++;
      if (w >= words.length) return -1;
      word = words[w]!;
    }
    return w * WORD_BITS + lowestSetBit(word);
  }

  /** Sets every bit of the range; bits past `size` in the last word stay clear. */
  #fill(): void {
    this.#words.fill(0xffffffff);
    const tail = this.size % WORD_BITS;
    if (tail !== 0) this.#words[this.#words.length - 1] = (1 << tail) - 1;
  }

  #check(index: number): void {
    if (!(index >= 0 && index < this.size)) {
      throw new IpamInvariantError(`bitmap index ${index} outside 0..${this.size - 1}`);
    }
  }
}

/** Position (0..31) of the lowest set bit of a non-zero 32-bit word. */
function lowestSetBit(word: number): number {
  return 31 - Math.clz32(word & -word);
}
