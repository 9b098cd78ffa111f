import { IpamError, IpamInvariantError, Ipv4Pool, type Ipv4PoolConfig } from "@vm-dhcp/ipam";
import { isConflict, isNotFound } from "../api/errors.js";
import type { IpPool, IpPoolStatus } from "../api/types.js";
import type { Logger } from "../logger.js";
import { type Clock, systemClock } from "./clock.js";
import type { ControllerMetrics } from "./metrics.js";
import { keyOf, normalizeMac } from "./names.js";
import {
  type AllocatedChanges,
  allocatedDiff,
  type StatusChanges,
  statusPatch,
} from "./pool-status-patch.js";

/** Reads and writes of one pool, as the allocator needs them. */
export interface PoolStatusApi {
  /** A fresh read (from etcd, not from a cache); undefined when the pool is gone. */
  get(namespace: string, name: string): Promise<IpPool | undefined>;
  /** A JSON merge patch of the status subresource. */
  patchStatus(namespace: string, name: string, patch: object): Promise<IpPool>;
}

/**
 * How strictly `wanted` is meant: `static` (a spec `ipAddress`: that address or nothing),
 * `remembered` (the address a NIC had before: that one if still free, else any), `any`.
 */
export type AllocationMode = "static" | "remembered" | "any";

export interface AllocationRequest {
  /** Owner, normalised (lower case, colons). */
  mac: string;
  wanted?: string;
  mode: AllocationMode;
}

/**
 * The outcome of a request, known only once the pool status records it. `changed` is false
 * when the MAC held the address already. A refused static move keeps the `held` address.
 */
export type AllocationOutcome =
  | { ok: true; ip: string; changed: boolean; replaced?: string }
  | { ok: false; error: IpamError; held?: string };

/** The address a release freed, if the MAC held one (and it was the expected one). */
export interface ReleaseOutcome {
  released?: string;
}

/** Why a pool cannot take requests now. */
export type PoolUnavailableReason = "Paused" | "InvalidStatus" | "Deleted" | "Closed" | "NotLeader";

/** Life of an allocator: `ready` once its IPAM is built from the pool status. */
export type PoolAllocatorState = "loading" | "ready" | "paused" | "invalid" | "deleted" | "closed";

/** A request refused because of the pool's state rather than the address space. */
export class PoolUnavailableError extends Error {
  override readonly name = "PoolUnavailableError";
  constructor(
    readonly poolKey: string,
    readonly reason: PoolUnavailableReason,
    detail: string,
  ) {
    super(`pool ${poolKey}: ${detail}`);
  }
}

/** The allocations and releases one successful status write made durable. */
export interface PoolCommit {
  poolKey: string;
  allocated: { mac: string; ip: string }[];
  released: { mac: string; ip: string }[];
}

export interface PoolAllocatorOptions {
  /** The pool as last seen: namespace, name and spec. */
  pool: IpPool;
  api: PoolStatusApi;
  /** Checked before every write: false once this process is no longer the leader. */
  canWrite: () => boolean;
  metrics: ControllerMetrics;
  logger: Logger;
  clock?: Clock;
  /** Most requests carried by one status write; 1 turns coalescing off (for comparisons). */
  maxBatchSize?: number;
  onCommitted?: (commit: PoolCommit) => void;
  /**
   * A paused pool (`spec.paused`): no IPAM is built, allocations and releases are refused,
   * and only status fields are written.
   */
  paused?: boolean;
}

/** Requests carried by one write at most, by default. */
export const DEFAULT_MAX_BATCH_SIZE = 256;
/** Attempts of one batch when the pool keeps changing under it (409 Conflict). */
const MAX_ATTEMPTS = 5;
/** Versions of our own writes remembered, to tell them from others' in watch events. */
const OWN_VERSIONS_KEPT = 64;

type Intent =
  | {
      kind: "allocate";
      request: AllocationRequest;
      settle: (outcome: AllocationOutcome) => void;
      fail: (error: unknown) => void;
    }
  | {
      kind: "release";
      mac: string;
      expectIp?: string;
      settle: (outcome: ReleaseOutcome) => void;
      fail: (error: unknown) => void;
    }
  | {
      kind: "status";
      mutate: (status: IpPoolStatus) => void;
      settle: (outcome: undefined) => void;
      fail: (error: unknown) => void;
    };

/** One batch applied to the allocator's state, ready to be written. */
interface AppliedBatch {
  changes: StatusChanges;
  commit: PoolCommit;
  settle: () => void;
}

/**
 * The allocation state of one IPPool and the only writer of its status.
 *
 * The IPAM is built from a fresh read of `status.ipv4.allocated`: the API is the truth. Every
 * request (allocate, release, status field change) is queued; queued requests are applied
 * together and written in one JSON merge patch that carries the resourceVersion they were
 * computed from. A request's promise settles only after the API server has stored the write,
 * so a caller never records an address the pool does not record. Requests that arrive while a
 * write is in flight ride on the next one: the number of writes per VM falls as load rises.
 *
 * When the write is refused with 409 (another writer, a deposed leader, a user's edit), the
 * pool is read again, the IPAM rebuilt from it, and the same requests applied anew; any other
 * failure rejects the batch and the state is rebuilt before the next one.
 */
export class PoolAllocator {
  readonly key: string;
  readonly definition: Ipv4PoolConfig;
  readonly #namespace: string;
  readonly #name: string;
  readonly #options: PoolAllocatorOptions;
  readonly #clock: Clock;
  readonly #maxBatchSize: number;
  #base: IpPool | undefined;
  #ipam: Ipv4Pool | undefined;
  #state: PoolAllocatorState = "loading";
  #loadError: IpamError | undefined;
  #stale = true;
  /** Versions seen on the watch that were not ours when seen. */
  readonly #unexplained = new Set<string>();
  #fix: AllocatedChanges = new Map();
  #pending: Intent[] = [];
  #draining = false;
  readonly #ownVersions: string[] = [];

  constructor(options: PoolAllocatorOptions) {
    this.key = keyOf(options.pool);
    this.#namespace = options.pool.metadata.namespace ?? "";
    this.#name = options.pool.metadata.name ?? "";
    this.definition = poolDefinition(options.pool);
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#maxBatchSize = Math.max(1, options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE);
  }

  /** `ready` once built from the status; `invalid` when the status cannot be honoured. */
  get state(): PoolAllocatorState {
    return this.#state;
  }

  /** Why the status could not be restored (`invalid`). */
  get loadError(): IpamError | undefined {
    return this.#loadError;
  }

  /** The committed allocation state, for reads and dumps; undefined until loaded. */
  get pool(): Ipv4Pool | undefined {
    return this.#ipam;
  }

  /**
   * Loads the pool if needed and writes any correction its status needs; resolves to the
   * state reached, which the caller cannot know beforehand.
   */
  async ready(): Promise<PoolAllocatorState> {
    await this.updateStatus(() => {});
    return this.#state;
  }

  allocate(request: AllocationRequest): Promise<AllocationOutcome> {
    return new Promise((settle, fail) =>
      this.#enqueue({ kind: "allocate", request, settle, fail }),
    );
  }

  /** Releases the address of `mac`; with `expectIp`, only if that is the address it holds. */
  release(mac: string, expectIp?: string): Promise<ReleaseOutcome> {
    return new Promise((settle, fail) =>
      this.#enqueue({ kind: "release", mac, ...(expectIp ? { expectIp } : {}), settle, fail }),
    );
  }

  /** Changes status fields other than `ipv4` (conditions, agentPodRef) in the next write. */
  updateStatus(mutate: (status: IpPoolStatus) => void): Promise<void> {
    return new Promise((settle, fail) => this.#enqueue({ kind: "status", mutate, settle, fail }));
  }

  /**
   * Tells the allocator about a version of the pool seen on the watch. A version it did not
   * write itself means someone else changed the pool: the state is read again before the next
   * request is answered.
   */
  observe(pool: IpPool): void {
    const version = pool.metadata.resourceVersion;
    if (!version || version === this.#base?.metadata.resourceVersion) return;
    if (this.#ownVersions.includes(version)) return;
    // The watch may deliver our own write before its response arrives: judge at the next
    // write, when every write of ours so far is known. Reloading for our own write would
    // lose the release order the reuse policy keeps, and cost a read.
    this.#unexplained.add(version);
  }

  /** Refuses every queued and future request. */
  close(): void {
    this.#state = "closed";
    this.#ipam = undefined;
    const error = new PoolUnavailableError(this.key, "Closed", "no longer served");
    for (const intent of this.#pending.splice(0)) intent.fail(error);
  }

  #enqueue(intent: Intent): void {
    if (this.#state === "closed" || this.#state === "deleted") {
      intent.fail(new PoolUnavailableError(this.key, "Closed", `is ${this.#state}`));
      return;
    }
    this.#pending.push(intent);
    if (this.#draining) return;
    this.#draining = true;
    this.#clock.setTimeout(() => void this.#drain(), 0);
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.length > 0 && this.#state !== "closed") {
        await this.#flush(this.#pending.splice(0, this.#maxBatchSize));
      }
    } finally {
      this.#draining = false;
    }
  }

  async #flush(batch: Intent[]): Promise<void> {
    for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
      try {
        if (await this.#attempt(batch)) return;
      } catch (error) {
        for (const intent of batch) intent.fail(error);
        return;
      }
    }
    const error = new Error(`pool ${this.key} changed under ${MAX_ATTEMPTS} writes in a row`);
    for (const intent of batch) intent.fail(error);
  }

  /** One write of `batch`; false when it met a conflict and should be tried again. */
  async #attempt(batch: Intent[]): Promise<boolean> {
    if (!this.#options.canWrite()) {
      throw new PoolUnavailableError(this.key, "NotLeader", "this controller is not the leader");
    }
    this.#settleObserved();
    if (this.#stale || !this.#base) await this.#load();
    const applied = this.#apply(batch);
    const patch = statusPatch(this.#base!, applied.changes, new Date(this.#clock.now()));
    if (patch && !(await this.#write(patch, batch.length))) return false;
    this.#fix.clear();
    applied.settle();
    if (patch) this.#options.onCommitted?.(applied.commit);
    return true;
  }

  async #write(patch: object, requests: number): Promise<boolean> {
    const { metrics } = this.#options;
    try {
      this.#base = await this.#options.api.patchStatus(this.#namespace, this.#name, patch);
    } catch (error) {
      this.#stale = true;
      if (isConflict(error)) {
        metrics.poolStatusWrites.inc({ result: "conflict" });
        return false;
      }
      metrics.poolStatusWrites.inc({ result: "error" });
      if (isNotFound(error)) this.#state = "deleted";
      throw error;
    }
    metrics.poolStatusWrites.inc({ result: "ok" });
    metrics.poolWriteBatchSize.observe(requests);
    this.#remember(this.#base.metadata.resourceVersion);
    return true;
  }

  async #load(): Promise<void> {
    const fresh = await this.#options.api.get(this.#namespace, this.#name);
    if (!fresh) {
      this.#state = "deleted";
      throw new PoolUnavailableError(this.key, "Deleted", "does not exist");
    }
    this.#base = fresh;
    this.#stale = false;
    if (this.#options.paused) {
      this.#state = "paused";
      return;
    }
    const recorded = normalizedOwners(fresh.status?.ipv4?.allocated);
    try {
      this.#ipam = Ipv4Pool.restore(this.definition, recorded);
      this.#state = "ready";
      this.#loadError = undefined;
      this.#fix = allocatedDiff(fresh.status?.ipv4?.allocated, this.#ipam.snapshot());
    } catch (error) {
      if (!(error instanceof IpamError)) throw error;
      this.#ipam = undefined;
      this.#state = "invalid";
      this.#loadError = error;
      this.#fix = new Map();
      this.#options.logger.error("pool status cannot be restored", {
        pool: this.key,
        err: error.message,
      });
    }
  }

  #apply(batch: Intent[]): AppliedBatch {
    const changes: StatusChanges = {
      allocated: new Map(this.#fix),
      status: structuredClone(this.#base?.status ?? {}),
    };
    const commit: PoolCommit = { poolKey: this.key, allocated: [], released: [] };
    const settles: (() => void)[] = [];
    const order = ["release", "status", "allocate"] as const;
    for (const kind of order) {
      for (const intent of batch) {
        if (intent.kind === kind) settles.push(this.#applyOne(intent, changes, commit));
      }
    }
    if (this.#ipam) {
      changes.counts = { used: this.#ipam.used, available: this.#ipam.available };
    }
    return {
      changes,
      commit,
      settle: () => {
        for (const settle of settles) settle();
      },
    };
  }

  /** Applies one request; returns how to settle it once the write is stored. */
  #applyOne(intent: Intent, changes: StatusChanges, commit: PoolCommit): () => void {
    if (intent.kind === "status") {
      try {
        intent.mutate(changes.status);
        return () => intent.settle(undefined);
      } catch (error) {
        return () => intent.fail(error);
      }
    }
    const ipam = this.#ipam;
    if (!ipam) {
      const error =
        this.#state === "paused"
          ? new PoolUnavailableError(this.key, "Paused", "is paused")
          : new PoolUnavailableError(this.key, "InvalidStatus", this.#loadError?.message ?? "");
      return () => intent.fail(error);
    }
    if (intent.kind === "release") {
      const outcome = releaseOne(ipam, intent.mac, intent.expectIp, changes.allocated);
      if (outcome.released) commit.released.push({ mac: intent.mac, ip: outcome.released });
      return () => intent.settle(outcome);
    }
    const outcome = allocateOne(ipam, intent.request, changes.allocated);
    if (outcome.ok && outcome.changed) {
      commit.allocated.push({ mac: intent.request.mac, ip: outcome.ip });
    }
    return () => intent.settle(outcome);
  }

  /** Someone else wrote the pool if a version seen on the watch is still not one of ours. */
  #settleObserved(): void {
    for (const version of this.#unexplained) {
      if (!this.#ownVersions.includes(version)) this.#stale = true;
    }
    this.#unexplained.clear();
  }

  #remember(version: string | undefined): void {
    if (!version) return;
    this.#ownVersions.push(version);
    if (this.#ownVersions.length > OWN_VERSIONS_KEPT) this.#ownVersions.shift();
  }
}

function releaseOne(
  ipam: Ipv4Pool,
  mac: string,
  expectIp: string | undefined,
  allocated: AllocatedChanges,
): ReleaseOutcome {
  const held = ipam.addressOf(mac);
  if (held === undefined || (expectIp !== undefined && expectIp !== held)) return {};
  ipam.release(mac);
  allocated.set(held, null);
  return { released: held };
}

function allocateOne(
  ipam: Ipv4Pool,
  request: AllocationRequest,
  allocated: AllocatedChanges,
): AllocationOutcome {
  const { mac, wanted, mode } = request;
  const held = ipam.addressOf(mac);
  if (held !== undefined) {
    if (mode !== "static" || wanted === undefined || wanted === held) {
      return { ok: true, ip: held, changed: false };
    }
    return moveStatic(ipam, mac, wanted, held, allocated);
  }
  let result = ipam.allocate(mac, wanted);
  if (!result.ok && wanted !== undefined && mode === "remembered") result = ipam.allocate(mac);
  if (!result.ok) return { ok: false, error: result.error };
  allocated.set(result.value.ip, mac);
  return { ok: true, ip: result.value.ip, changed: true };
}

/** Moves `mac` from `held` to `wanted`, or leaves it on `held` if `wanted` is refused. */
function moveStatic(
  ipam: Ipv4Pool,
  mac: string,
  wanted: string,
  held: string,
  allocated: AllocatedChanges,
): AllocationOutcome {
  ipam.release(mac);
  const moved = ipam.allocate(mac, wanted);
  if (moved.ok) {
    allocated.set(held, null);
    allocated.set(moved.value.ip, mac);
    return { ok: true, ip: moved.value.ip, changed: true, replaced: held };
  }
  const back = ipam.allocate(mac, held);
  if (!back.ok) throw new IpamInvariantError(`${held} could not be given back to ${mac}`);
  return { ok: false, error: moved.error, held };
}

/** `status.ipv4.allocated` with MAC owners in lower case, as the allocator keys them. */
function normalizedOwners(
  allocated: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  const owners: Record<string, string> = {};
  for (const [ip, owner] of Object.entries(allocated ?? {})) {
    owners[ip] = normalizeMac(owner) ?? owner;
  }
  return owners;
}

/**
 * The allocator's definition of a pool: the spec's CIDR, range and excluded addresses, with
 * the server and router addresses reserved so they are never handed out.
 */
export function poolDefinition(pool: IpPool): Ipv4PoolConfig {
  const config = pool.spec?.ipv4Config;
  const reserved = [config?.serverIP, config?.router].filter((ip): ip is string => !!ip);
  return {
    cidr: config?.cidr ?? "",
    start: config?.pool?.start ?? "",
    end: config?.pool?.end ?? "",
    exclude: config?.pool?.exclude ?? [],
    reserved,
  };
}
