import { type Clock, systemClock } from "./clock.js";

export interface WorkQueueOptions {
  clock?: Clock;
  /** Delay before the first retry of a failing key; doubles with each further failure. */
  baseDelayMs?: number;
  /** Longest delay between retries of a failing key. */
  maxDelayMs?: number;
}

/** First retry of a failing key. */
export const DEFAULT_BASE_DELAY_MS = 50;
/** Retry delay cap: a key that keeps failing is still retried at least this often. */
export const DEFAULT_MAX_DELAY_MS = 60_000;

/**
 * A queue of keys for reconcilers, with the guarantees controllers rely on:
 *
 * - **Dedup**: a key waiting in the queue is there once, however often it was added.
 * - **One worker per key**: a key being processed is not handed out again until `done`; if it
 *   was added meanwhile, it goes back in the queue at `done`, so no change is missed.
 * - **Per-key backoff**: `addRateLimited` delays a key `baseDelayMs * 2^(failures-1)`, capped at
 *   `maxDelayMs`, until `forget` resets it after a success.
 * - **Delays**: `addAfter` adds a key later; of several pending delays the earliest wins.
 *
 * @example
 * const queue = new WorkQueue();
 * queue.add("default/net-a");
 * const key = await queue.get(); // "default/net-a"
 * try { await reconcile(key); queue.forget(key); } catch { queue.addRateLimited(key); }
 * finally { queue.done(key); }
 */
export class WorkQueue {
  readonly #clock: Clock;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  #items: string[] = [];
  #head = 0;
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #delayed = new Map<string, { dueAt: number; handle: unknown }>();
  readonly #waiters: ((key: string | undefined) => void)[] = [];
  #shutDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#baseDelayMs = options.baseDelayMs ?? DEFAULT_BASE_DELAY_MS;
    this.#maxDelayMs = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  }

  /** Keys waiting to be handed out (not counting delayed or in-progress ones). */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Keys being processed now. */
  get processing(): number {
    return this.#processing.size;
  }

  get isShutDown(): boolean {
    return this.#shutDown;
  }

  /** Queues `key` unless it is queued already. */
  add(key: string): void {
    if (this.#shutDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    if (this.#processing.has(key)) return;
    const waiter = this.#waiters.shift();
    if (waiter) {
      this.#dirty.delete(key);
      this.#processing.add(key);
      waiter(key);
    } else {
      this.#items.push(key);
    }
  }

  /** Queues `key` after `delayMs`; an earlier pending delay of the same key is kept. */
  addAfter(key: string, delayMs: number): void {
    if (this.#shutDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const dueAt = this.#clock.now() + delayMs;
    const pending = this.#delayed.get(key);
    if (pending && pending.dueAt <= dueAt) return;
    if (pending) this.#clock.clearTimeout(pending.handle);
    const handle = this.#clock.setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, delayMs);
    this.#delayed.set(key, { dueAt, handle });
  }

  /** Queues `key` after its backoff delay and counts one more failure; returns the delay. */
  addRateLimited(key: string): number {
    const failures = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, failures);
    const delayMs = Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** Math.min(failures - 1, 30));
    this.addAfter(key, delayMs);
    return delayMs;
  }

  /** Forgets the failures of `key`: its next `addRateLimited` waits `baseDelayMs` again. */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** Failures counted for `key` since its last `forget`. */
  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** The next key, marked in progress; undefined once the queue is shut down. */
  get(): Promise<string | undefined> {
    if (this.#shutDown) return Promise.resolve(undefined);
    const key = this.#take();
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Marks `key` processed; if it was added meanwhile, queues it again. */
  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.delete(key)) this.add(key);
  }

  /** Stops handing out keys; pending `get` calls resolve with undefined. */
  shutDown(): void {
    this.#shutDown = true;
    for (const { handle } of this.#delayed.values()) this.#clock.clearTimeout(handle);
    this.#delayed.clear();
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
    this.#items = [];
    this.#head = 0;
  }

  #take(): string | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const key = this.#items[this.#head++]!;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    this.#dirty.delete(key);
    this.#processing.add(key);
    return key;
  }
}
