import { AddressBitmap } from "./address-bitmap.js";
import { fail, IpamError, IpamInvariantError, type IpamResult, succeed } from "./errors.js";
import { cidrContains, formatCidr, formatIpv4, type Ipv4Cidr, parseIpv4 } from "./ipv4.js";
import {
  EXCLUDED_MARK,
  type Ipv4PoolConfig,
  type PoolMark,
  RESERVED_MARK,
  type ResolvedPoolConfig,
  resolvePoolConfig,
} from "./pool-config.js";
import {
  type AllocatedStatus,
  buildAllocatedStatus,
  buildCacheDump,
  buildIpamDump,
  type CacheDump,
  type IpamDump,
  invalidSnapshot,
  parseAllocatedStatus,
} from "./status.js";

/** An address held by an owner, as returned by allocate and release. */
export interface Allocation {
  /** The address, dotted quad. */
  readonly ip: string;
  /** Who holds (or held) it, usually a MAC address. */
  readonly owner: string;
  /** False for a fixed address outside `start..end`, which only a request can obtain. */
  readonly inRange: boolean;
  /** True when allocate found the owner already holding this address and changed nothing. */
  readonly unchanged: boolean;
}

/**
 * The allocation state of one IPv4 pool: which owner (usually a MAC) holds which address.
 *
 * Reuse policy, next after the last allocation: dynamic allocation hands out the first free
 * address at or after a cursor, wrapping round from `end` to `start`, and moves the cursor just
 * past it. An address handed out dynamically and then released is therefore reached again
 * only when the cursor has gone round the whole range, after every other address that is free
 * as the cursor passes it, so a deleted VM's address goes to a new VM as late as possible
 * (stale ARP caches and DNS records). Requested addresses may be any host address of the CIDR
 * that is neither excluded nor reserved, also outside `start..end`; they do not move the
 * cursor, and addresses outside the range are never handed out dynamically.
 *
 * Counters cover the dynamic range only: `used + available === size`, where `size` is the
 * range minus its excluded and reserved addresses. Fixed addresses outside the range are
 * counted in {@link Ipv4Pool.usedOutsideRange}.
 *
 * Cost: release, requested allocation and lookups are O(1). Dynamic allocation searches a
 * bitmap of free addresses from the cursor, 32 addresses per word compare, so it costs one
 * compare per 32 addresses the cursor passes: a lap of the range costs range/32 compares shared
 * by the allocations made during that lap. That is O(1) amortised while a fair share of the
 * range is free; with only a handful of free addresses left an allocation costs up to range/32
 * compares (524,288 for a /8). Memory: the bitmap, range/8 bytes (2 MiB for a /8) whatever
 * the state, plus two map entries per allocation.
 *
 * @example
 * const pool = Ipv4Pool.create({ cidr: "10.0.0.0/24", start: "10.0.0.10", end: "10.0.0.20" });
 * const result = pool.allocate("52:54:00:00:00:01");
 * if (result.ok) console.log(result.value.ip); // "10.0.0.10"
 */
export class Ipv4Pool {
  /** The pool definition this state was built from (a frozen copy). */
  readonly definition: Readonly<Ipv4PoolConfig>;
  /** The pool's network. */
  readonly cidr: Ipv4Cidr;
  /** First address of the dynamic range (unsigned 32-bit). */
  readonly start: number;
  /** Last address of the dynamic range (unsigned 32-bit). */
  readonly end: number;
  /** Addresses of the dynamic range that may be handed out (range minus marked ones). */
  readonly size: number;

  readonly #config: ResolvedPoolConfig;
  readonly #ownerByOffset = new Map<number, string>();
  readonly #offsetByOwner = new Map<string, number>();
  /** Free range indices: inside `start..end`, neither marked nor allocated. */
  readonly #free: AddressBitmap;
  /** Range index where the next dynamic search starts; `#free.size` means "wrap to 0". */
  #cursor = 0;
  #used = 0;

  private constructor(definition: Ipv4PoolConfig, config: ResolvedPoolConfig) {
    this.definition = freezeDefinition(definition);
    this.#config = config;
    this.cidr = config.cidr;
    this.start = config.start;
    this.end = config.end;
    this.#free = new AddressBitmap(config.end - config.start + 1, true);
    let marked = 0;
    for (const address of config.marks.keys()) {
      if (!this.#inRange(address)) continue;
      this.#free.delete(address - config.start);
      marked++;
    }
    this.size = this.#free.size - marked;
  }

  /**
   * Builds an empty pool.
   *
   * @throws {IpamError} `INVALID_POOL` naming the field and value at fault.
   */
  static create(definition: Ipv4PoolConfig): Ipv4Pool {
    return new Ipv4Pool(definition, resolvePoolConfig(definition));
  }

  /**
   * Builds a pool holding the allocations of an IPPool's `status.ipv4.allocated`. Marks in the
   * map are ignored: the pool derives them from its definition. All-or-nothing: if any entry
   * cannot be honoured (malformed IP or owner, outside the CIDR, excluded, reserved, or a second
   * IP for one owner) nothing is built, so no allocation is ever silently lost.
   *
   * The cursor is not part of the map. The restored cursor stands just after the highest
   * allocated address inside the range (at `start` when there is none), where it stands in the
   * original whenever that address was its last dynamic allocation. Free addresses below it,
   * which may have been released just before the snapshot, are thus handed out last.
   *
   * @throws {IpamError} `INVALID_POOL`, or `INVALID_SNAPSHOT` listing every refused entry.
   */
  static restore(definition: Ipv4PoolConfig, allocated: AllocatedStatus | undefined): Ipv4Pool {
    const pool = Ipv4Pool.create(definition);
    const { entries, rejected } = parseAllocatedStatus(allocated);
    for (const { ip, owner } of entries) {
      const result = pool.allocate(owner, ip);
      if (!result.ok) rejected.push({ ip, value: owner, error: result.error });
    }
    if (rejected.length > 0) throw invalidSnapshot(rejected);
    pool.#cursor = pool.#highestUsedIndex() + 1;
    return pool;
  }

  /** Allocated addresses inside the dynamic range. */
  get used(): number {
    return this.#used;
  }

  /** Free addresses inside the dynamic range: `size - used`. */
  get available(): number {
    return this.size - this.#used;
  }

  /** Allocated fixed addresses outside the dynamic range (not part of `used`). */
  get usedOutsideRange(): number {
    return this.#ownerByOffset.size - this.#used;
  }

  /**
   * Gives `owner` an address: `wanted` if given (a static lease, or the address remembered
   * across a pause), else the next free one by the reuse policy of {@link Ipv4Pool}.
   *
   * Idempotent: if the owner already holds an address, that address is returned with
   * `unchanged: true` when `wanted` is absent or equal to it. A different `wanted` is refused
   * with `OWNER_HAS_ADDRESS` (the held address in `value`) rather than moving the owner, because
   * the caller has recorded the held address elsewhere and must release it deliberately.
   *
   * Refusals: `INVALID_OWNER`, `INVALID_ADDRESS` (field `wanted`), `OUT_OF_RANGE` (outside the
   * CIDR, or its network or broadcast address), `EXCLUDED`, `RESERVED`, `OWNER_HAS_ADDRESS`,
   * `ALREADY_ALLOCATED` (current holder in `owner`), `EXHAUSTED`.
   */
  allocate(owner: string, wanted?: string): IpamResult<Allocation> {
    const ownerError = checkOwner(owner);
    if (ownerError !== undefined) return fail(ownerError);
    return wanted === undefined ? this.#allocateNext(owner) : this.#allocateWanted(owner, wanted);
  }

  /**
   * Frees the address of `owner`. An address inside the range becomes free for dynamic
   * allocation again, which reaches it when the cursor next passes it: after every other free
   * address if it was handed out dynamically (see {@link Ipv4Pool}).
   * Refusals: `INVALID_OWNER`, `NOT_ALLOCATED`.
   */
  release(owner: string): IpamResult<Allocation> {
    const ownerError = checkOwner(owner);
    if (ownerError !== undefined) return fail(ownerError);
    const offset = this.#offsetByOwner.get(owner);
    if (offset === undefined) {
      return fail(new IpamError("NOT_ALLOCATED", `${owner} holds no address`, { owner }));
    }
    return succeed(this.#unassign(offset, owner));
  }

  /**
   * Frees `ip`, whoever holds it. Refusals: `INVALID_ADDRESS`, `OUT_OF_RANGE` (outside the
   * CIDR), `NOT_ALLOCATED`.
   */
  releaseAddress(ip: string): IpamResult<Allocation> {
    const address = parseField(ip, "ip");
    if (address instanceof IpamError) return fail(address);
    if (!cidrContains(this.cidr, address)) return fail(this.#outOfRange(ip, "ip", "outside"));
    const offset = address - this.cidr.network;
    const owner = this.#ownerByOffset.get(offset);
    if (owner === undefined) {
      return fail(new IpamError("NOT_ALLOCATED", `${ip} is not allocated`, { value: ip }));
    }
    return succeed(this.#unassign(offset, owner));
  }

  /**
   * True when `ip` is held by an owner (marks do not count).
   *
   * @throws {IpamError} `INVALID_ADDRESS` when `ip` is malformed.
   */
  isAllocated(ip: string): boolean {
    return this.ownerOf(ip) !== undefined;
  }

  /**
   * The owner holding `ip`, or undefined when it is free or outside the pool.
   *
   * @throws {IpamError} `INVALID_ADDRESS` when `ip` is malformed.
   */
  ownerOf(ip: string): string | undefined {
    const address = parseIpv4(ip);
    if (!cidrContains(this.cidr, address)) return undefined;
    return this.#ownerByOffset.get(address - this.cidr.network);
  }

  /** The address held by `owner`, or undefined. */
  addressOf(owner: string): string | undefined {
    const offset = this.#offsetByOwner.get(owner);
    return offset === undefined ? undefined : formatIpv4(this.cidr.network + offset);
  }

  /**
   * The mark of `ip` (`EXCLUDED` or `RESERVED`), or undefined.
   *
   * @throws {IpamError} `INVALID_ADDRESS` when `ip` is malformed.
   */
  markOf(ip: string): PoolMark | undefined {
    return this.#config.marks.get(parseIpv4(ip));
  }

  /** Current allocations as `[ip, owner]` pairs, in the order they were made. */
  *entries(): IterableIterator<[ip: string, owner: string]> {
    for (const [offset, owner] of this.#ownerByOffset) {
      yield [formatIpv4(this.cidr.network + offset), owner];
    }
  }

  /** The state in the shape of `status.ipv4.allocated`, ascending by address. */
  snapshot(): Record<string, string> {
    return buildAllocatedStatus(this.#config, this.#ownerByOffset);
  }

  /** The `/ipams/<ns>/<name>` dump (O(range size), see {@link IpamDump}). */
  dumpIpam(): IpamDump {
    return buildIpamDump(this.#config, this.#ownerByOffset);
  }

  /** The `/caches/<ns>/<name>` dump: owner -> IP. */
  dumpCache(): CacheDump {
    return buildCacheDump(this.#config, this.#ownerByOffset);
  }

  /**
   * Bytes held in typed arrays: the bitmap of free addresses, range/8 bytes rounded up to whole
   * 32-bit words, the same in every state. The two owner maps are not counted.
   */
  get typedArrayBytes(): number {
    return this.#free.byteLength;
  }

  #allocateNext(owner: string): IpamResult<Allocation> {
    const held = this.#offsetByOwner.get(owner);
    if (held !== undefined) return succeed(this.#allocation(held, owner, true));
    const index = this.#takeFreeIndex();
    if (index < 0) {
      const range = `${formatIpv4(this.start)}-${formatIpv4(this.end)}`;
      return fail(new IpamError("EXHAUSTED", `no free address left in ${range}`));
    }
    const offset = this.start - this.cidr.network + index;
    this.#assign(offset, owner);
    return succeed(this.#allocation(offset, owner, false));
  }

  #allocateWanted(owner: string, wanted: string): IpamResult<Allocation> {
    const address = parseField(wanted, "wanted");
    if (address instanceof IpamError) return fail(address);
    const refusal = this.#refusal(address, wanted);
    if (refusal !== undefined) return fail(refusal);

    const offset = address - this.cidr.network;
    const conflict = this.#conflict(owner, offset, wanted);
    if (conflict === "unchanged") return succeed(this.#allocation(offset, owner, true));
    if (conflict !== undefined) return fail(conflict);

    if (this.#inRange(address)) this.#free.delete(address - this.start);
    this.#assign(offset, owner);
    return succeed(this.#allocation(offset, owner, false));
  }

  /** Why `address` can never be given to anyone, if so. */
  #refusal(address: number, wanted: string): IpamError | undefined {
    const { cidr } = this;
    if (!cidrContains(cidr, address)) return this.#outOfRange(wanted, "wanted", "outside");
    if (address < cidr.firstUsable || address > cidr.lastUsable) {
      const which =
        address === cidr.network ? "the network address of" : "the broadcast address of";
      return this.#outOfRange(wanted, "wanted", which);
    }
    const mark = this.#config.marks.get(address);
    if (mark === undefined) return undefined;
    const reason = mark === EXCLUDED_MARK ? "is excluded" : "is reserved for the server or router";
    return new IpamError(mark, `${wanted} ${reason}`, { field: "wanted", value: wanted });
  }

  /** Whether the owner or the address is taken already. */
  #conflict(owner: string, offset: number, wanted: string): IpamError | "unchanged" | undefined {
    const held = this.#offsetByOwner.get(owner);
    if (held === offset) return "unchanged";
    if (held !== undefined) {
      const heldIp = formatIpv4(this.cidr.network + held);
      return new IpamError("OWNER_HAS_ADDRESS", `${owner} already holds ${heldIp}, not ${wanted}`, {
        field: "wanted",
        value: heldIp,
        owner,
      });
    }
    const current = this.#ownerByOffset.get(offset);
    if (current === undefined) return undefined;
    return new IpamError("ALREADY_ALLOCATED", `${wanted} is allocated to ${current}`, {
      field: "wanted",
      value: wanted,
      owner: current,
    });
  }

  /**
   * The first free range index at or after the cursor, wrapping round to 0, removed from the
   * free set with the cursor moved just past it; or -1 when the range is full. The count check
   * comes first, so the wrapped search always finds an index before the cursor.
   */
  #takeFreeIndex(): number {
    if (this.#used === this.size) return -1;
    let index = this.#free.nextAtOrAfter(this.#cursor);
    if (index < 0) index = this.#free.nextAtOrAfter(0);
    if (index < 0 || this.#ownerByOffset.has(this.start - this.cidr.network + index)) {
      const where = `${formatCidr(this.cidr)} (used ${this.#used} of ${this.size})`;
      throw new IpamInvariantError(`free index search found ${index} in ${where}`);
    }
    this.#free.delete(index);
    this.#cursor = index + 1;
    return index;
  }

  /** Range index of the highest allocation inside `start..end`, or -1. O(allocations). */
  #highestUsedIndex(): number {
    let highest = -1;
    for (const offset of this.#ownerByOffset.keys()) {
      const address = this.cidr.network + offset;
      if (this.#inRange(address)) highest = Math.max(highest, address - this.start);
    }
    return highest;
  }

  #assign(offset: number, owner: string): void {
    this.#ownerByOffset.set(offset, owner);
    this.#offsetByOwner.set(owner, offset);
    if (this.#inRange(this.cidr.network + offset)) this.#used++;
  }

  #unassign(offset: number, owner: string): Allocation {
    this.#ownerByOffset.delete(offset);
    this.#offsetByOwner.delete(owner);
    const address = this.cidr.network + offset;
    if (this.#inRange(address)) {
      this.#used--;
      this.#free.add(address - this.start);
    }
    return this.#allocation(offset, owner, false);
  }

  #allocation(offset: number, owner: string, unchanged: boolean): Allocation {
    const address = this.cidr.network + offset;
    return { ip: formatIpv4(address), owner, inRange: this.#inRange(address), unchanged };
  }

  #inRange(address: number): boolean {
    return address >= this.start && address <= this.end;
  }

  #outOfRange(ip: string, field: string, where: string): IpamError {
    return new IpamError("OUT_OF_RANGE", `${ip} is ${where} ${formatCidr(this.cidr)}`, {
      field,
      value: ip,
    });
  }
}

/** The owner problem, if any: owners are non-empty strings other than the status marks. */
function checkOwner(owner: string): IpamError | undefined {
  if (
    typeof owner === "string" &&
    owner !== "" &&
    owner !== EXCLUDED_MARK &&
    owner !== RESERVED_MARK
  ) {
    return undefined;
  }
  return new IpamError("INVALID_OWNER", `invalid owner ${JSON.stringify(owner)}`, {
    value: String(owner),
  });
}

/** The address, or the `INVALID_ADDRESS` error naming the field. */
function parseField(text: string, field: string): number | IpamError {
  try {
    return parseIpv4(text);
  } catch (cause) {
    const message = (cause as Error).message;
    return new IpamError("INVALID_ADDRESS", message, { field, value: String(text), cause });
  }
}

function freezeDefinition(definition: Ipv4PoolConfig): Readonly<Ipv4PoolConfig> {
  const copy: Ipv4PoolConfig = {
    cidr: definition.cidr,
    start: definition.start,
    end: definition.end,
    exclude: Object.freeze([...(definition.exclude ?? [])]),
    reserved: Object.freeze([...(definition.reserved ?? [])]),
  };
  return Object.freeze(copy);
}
