import type { IpPool } from "../api/types.js";
import type { Logger } from "../logger.js";
import type { Clock } from "./clock.js";
import type { ControllerMetrics } from "./metrics.js";
import { keyOf } from "./names.js";
import {
  PoolAllocator,
  type PoolCommit,
  type PoolStatusApi,
  poolDefinition,
} from "./pool-allocator.js";

export interface AllocatorRegistryOptions {
  api: PoolStatusApi;
  canWrite: () => boolean;
  metrics: ControllerMetrics;
  logger: Logger;
  clock: Clock;
  maxBatchSize?: number;
  onCommitted: (commit: PoolCommit) => void;
}

interface Entry {
  allocator: PoolAllocator;
  /** What the allocator was built for; a change of any of these rebuilds it. */
  identity: string;
}

/**
 * One {@link PoolAllocator} per IPPool, made on first use by whichever reconciler needs it,
 * and rebuilt when the pool is recreated (new UID), paused or resumed, or its definition
 * changes.
 */
export class AllocatorRegistry {
  readonly #options: AllocatorRegistryOptions;
  readonly #entries = new Map<string, Entry>();

  constructor(options: AllocatorRegistryOptions) {
    this.#options = options;
  }

  /** The allocator of `pool`, made or rebuilt as needed. */
  get(pool: IpPool): PoolAllocator {
    const key = keyOf(pool);
    const identity = JSON.stringify([pool.metadata.uid, !!pool.spec.paused, poolDefinition(pool)]);
    const entry = this.#entries.get(key);
    if (entry && entry.identity === identity && entry.allocator.state !== "deleted") {
      return entry.allocator;
    }
    entry?.allocator.close();
    const allocator = new PoolAllocator({
      pool,
      api: this.#options.api,
      canWrite: this.#options.canWrite,
      metrics: this.#options.metrics,
      logger: this.#options.logger,
      clock: this.#options.clock,
      ...(this.#options.maxBatchSize ? { maxBatchSize: this.#options.maxBatchSize } : {}),
      onCommitted: this.#options.onCommitted,
      paused: !!pool.spec.paused,
    });
    this.#entries.set(key, { allocator, identity });
    return allocator;
  }

  /** The allocator under `key`, if one was made. */
  find(key: string): PoolAllocator | undefined {
    return this.#entries.get(key)?.allocator;
  }

  /** Closes and forgets the allocator of a pool that is gone or paused. */
  drop(key: string): void {
    this.#entries.get(key)?.allocator.close();
    this.#entries.delete(key);
  }

  closeAll(): void {
    for (const key of [...this.#entries.keys()]) this.drop(key);
  }

  keys(): string[] {
    return [...this.#entries.keys()];
  }
}
