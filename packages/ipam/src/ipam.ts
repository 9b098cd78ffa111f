import { fail, IpamError, type IpamResult } from "./errors.js";
import { type Allocation, Ipv4Pool } from "./ipv4-pool.js";
import type { Ipv4PoolConfig } from "./pool-config.js";
import type { AllocatedStatus, CacheDump, IpamDump } from "./status.js";

/**
 * Named pools behind one object, as the controller keeps them: one {@link Ipv4Pool} per
 * network, keyed by a string such as `"namespace/name"`. Per-pool mutations return an
 * {@link IpamResult} whose error is `UNKNOWN_POOL` when the key has no pool.
 *
 * @example
 * const ipam = new Ipam();
 * ipam.create("default/net-a", { cidr: "10.0.0.0/24", start: "10.0.0.10", end: "10.0.0.99" });
 * const result = ipam.allocate("default/net-a", "52:54:00:00:00:01");
 */
export class Ipam {
  readonly #pools = new Map<string, Ipv4Pool>();

  /** Number of pools. */
  get size(): number {
    return this.#pools.size;
  }

  /**
   * Builds a new pool under `key`, restoring `allocated` (a `status.ipv4.allocated` map) if
   * given.
   *
   * @throws {IpamError} `POOL_EXISTS` if the key is taken; `INVALID_POOL` (also for an empty
   *   key, field `key`); `INVALID_SNAPSHOT` as {@link Ipv4Pool.restore}.
   */
  create(key: string, definition: Ipv4PoolConfig, allocated?: AllocatedStatus): Ipv4Pool {
    checkKey(key);
    if (this.#pools.has(key)) {
      throw new IpamError("POOL_EXISTS", `pool ${key} exists already`, {
        field: "key",
        value: key,
      });
    }
    return this.replace(key, definition, allocated);
  }

  /**
   * Builds a pool and puts it under `key`, replacing any previous one. Atomic: when building
   * throws, the previous pool stays in place untouched.
   *
   * @throws {IpamError} as {@link Ipam.create}, except `POOL_EXISTS`.
   */
  replace(key: string, definition: Ipv4PoolConfig, allocated?: AllocatedStatus): Ipv4Pool {
    checkKey(key);
    const pool =
      allocated === undefined
        ? Ipv4Pool.create(definition)
        : Ipv4Pool.restore(definition, allocated);
    this.#pools.set(key, pool);
    return pool;
  }

  /** Removes the pool under `key`; false when there was none. */
  delete(key: string): boolean {
    return this.#pools.delete(key);
  }

  /** True when a pool exists under `key`. */
  has(key: string): boolean {
    return this.#pools.has(key);
  }

  /** The pool under `key`, or undefined. */
  get(key: string): Ipv4Pool | undefined {
    return this.#pools.get(key);
  }

  /**
   * The pool under `key`.
   *
   * @throws {IpamError} `UNKNOWN_POOL` when there is none.
   */
  pool(key: string): Ipv4Pool {
    const pool = this.#pools.get(key);
    if (pool === undefined) throw unknownPool(key);
    return pool;
  }

  /** Keys of all pools, in creation order. */
  keys(): IterableIterator<string> {
    return this.#pools.keys();
  }

  /** {@link Ipv4Pool.allocate} on the pool under `key`. */
  allocate(key: string, owner: string, wanted?: string): IpamResult<Allocation> {
    const pool = this.#pools.get(key);
    return pool === undefined ? fail(unknownPool(key)) : pool.allocate(owner, wanted);
  }

  /** {@link Ipv4Pool.release} on the pool under `key`. */
  release(key: string, owner: string): IpamResult<Allocation> {
    const pool = this.#pools.get(key);
    return pool === undefined ? fail(unknownPool(key)) : pool.release(owner);
  }

  /** {@link Ipv4Pool.releaseAddress} on the pool under `key`. */
  releaseAddress(key: string, ip: string): IpamResult<Allocation> {
    const pool = this.#pools.get(key);
    return pool === undefined ? fail(unknownPool(key)) : pool.releaseAddress(ip);
  }

  /**
   * The `/ipams/<ns>/<name>` dump of the pool under `key`.
   *
   * @throws {IpamError} `UNKNOWN_POOL`.
   */
  dumpIpam(key: string): IpamDump {
    return this.pool(key).dumpIpam();
  }

  /**
   * The `/caches/<ns>/<name>` dump of the pool under `key`.
   *
   * @throws {IpamError} `UNKNOWN_POOL`.
   */
  dumpCache(key: string): CacheDump {
    return this.pool(key).dumpCache();
  }
}

function checkKey(key: string): void {
  if (typeof key !== "string" || key === "") {
    throw new IpamError("INVALID_POOL", `invalid pool key ${JSON.stringify(key)}`, {
      field: "key",
      value: String(key),
    });
  }
}

function unknownPool(key: string): IpamError {
  return new IpamError("UNKNOWN_POOL", `no pool ${key}`, { field: "key", value: key });
}
