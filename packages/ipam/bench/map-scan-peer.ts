/**
 * COMPARISON PEER, NOT PART OF THE LIBRARY.
 *
 * A TypeScript reimplementation of the design of the Go original's IPAM, written only to be
 * measured against `Ipv4Pool` in bench.ts: one map entry per address of the range (dotted-quad
 * string -> allocated flag), allocation by scanning the map for the first free entry, and a
 * second map owner -> IP standing for the original's separate MAC cache. Counters scan the
 * whole map, as the original does on every pool reconcile.
 *
 * One difference is unavoidable: a JavaScript Map iterates in insertion order (ascending
 * addresses here), while Go randomises where a map iteration starts. The scan therefore stops
 * at the lowest free address, and its cost is the position of that address in the map.
 */

import { formatIpv4 } from "../src/index.js";

/** Map-scan allocator over `start..end` (unsigned 32-bit addresses). */
export class MapScanPeer {
  readonly #allocated = new Map<string, boolean>();
  readonly #ipByOwner = new Map<string, string>();

  constructor(start: number, end: number) {
    for (let address = start; address <= end; address++) {
      this.#allocated.set(formatIpv4(address), false);
    }
  }

  /** First free address in map order, or undefined when the range is full. O(range). */
  allocate(owner: string): string | undefined {
    for (const [ip, allocated] of this.#allocated) {
      if (allocated) continue;
      this.#allocated.set(ip, true);
      this.#ipByOwner.set(owner, ip);
      return ip;
    }
    return undefined;
  }

  /** Frees the owner's address; false when it holds none. */
  release(owner: string): boolean {
    const ip = this.#ipByOwner.get(owner);
    if (ip === undefined) return false;
    this.#allocated.set(ip, false);
    this.#ipByOwner.delete(owner);
    return true;
  }

  /** Allocated addresses, counted by a full scan. O(range). */
  used(): number {
    let used = 0;
    for (const allocated of this.#allocated.values()) if (allocated) used++;
    return used;
  }

  /** Free addresses, counted by a full scan. O(range). */
  available(): number {
    return this.#allocated.size - this.used();
  }
}
