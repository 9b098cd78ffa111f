import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import {
  Reflector,
  type ReflectorState,
  type WatchEventType,
  type WatchFunction,
} from "../kube/reflector.js";
import type { Logger } from "../logger.js";
import type { KubeClient } from "./kube-client.js";
import { keyOf } from "./names.js";

/** What happened to one cached object. */
export type InformerEventType = "added" | "updated" | "deleted";

export interface InformerEvent<T> {
  type: InformerEventType;
  key: string;
  /** The object now; for `deleted`, the last version seen. */
  object: T;
  /** The version before an update. */
  previous?: T;
}

/** Computes the index values of an object (e.g. the networks a vmnetcfg names). */
export type IndexFunction<T> = (object: T) => readonly string[];

/** Read access to a cache of one kind, as reconcilers use it. */
export interface ObjectStore<T> {
  get(key: string): T | undefined;
  list(): T[];
  /** Objects whose index `index` yields `value`. */
  byIndex(index: string, value: string): T[];
  /** True once the first list has been delivered. */
  readonly synced: boolean;
}

export interface InformerOptions<T> {
  /** Names the cache in logs, e.g. `ippools`. */
  name: string;
  kubeConfig: KubeConfig;
  /** Lists the collection; only `list` is used. */
  kube: Pick<KubeClient, "list">;
  /** Opens watch requests; client-node's `Watch` unless a test fakes it. */
  watch?: WatchFunction;
  /** Collection path to list and watch. */
  path: string;
  labelSelector?: string;
  indexers?: Record<string, IndexFunction<T>>;
  logger: Logger;
  /** Reflector tuning, for tests. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * A cache of one collection kept current by a {@link Reflector}, with secondary indexes and
 * change events. After every (re)list, the new set is compared with the cached one, so
 * objects deleted while the watch was down are reported as `deleted`, never silently kept.
 */
export class Informer<T extends KubernetesObject> implements ObjectStore<T> {
  readonly #store = new Map<string, T>();
  readonly #indexers: [string, IndexFunction<T>][];
  readonly #indexes = new Map<string, Map<string, Set<string>>>();
  readonly #handlers: ((event: InformerEvent<T>) => void)[] = [];
  readonly #reflector: Reflector<T>;
  #synced = false;

  constructor(options: InformerOptions<T>) {
    this.#indexers = Object.entries(options.indexers ?? {});
    for (const [name] of this.#indexers) this.#indexes.set(name, new Map());
    const { kube, path, labelSelector } = options;
    this.#reflector = new Reflector<T>({
      name: options.name,
      kubeConfig: options.kubeConfig,
      path,
      ...(labelSelector ? { labelSelector } : {}),
      list: () => kube.list<T>(path, { labelSelector }),
      ...(options.watch ? { watch: options.watch } : {}),
      onList: (items) => this.#replace(items),
      onEvent: (type, object) => this.#apply(type, object),
      logger: options.logger,
      ...(options.initialBackoffMs ? { initialBackoffMs: options.initialBackoffMs } : {}),
      ...(options.maxBackoffMs ? { maxBackoffMs: options.maxBackoffMs } : {}),
    });
  }

  get synced(): boolean {
    return this.#synced;
  }

  get state(): ReflectorState {
    return this.#reflector.state;
  }

  /** Subscribes to changes; handlers run synchronously, after the cache is updated. */
  on(handler: (event: InformerEvent<T>) => void): void {
    this.#handlers.push(handler);
  }

  /** Starts list-and-watch; resolves after the first list. */
  async start(): Promise<void> {
    await this.#reflector.start();
  }

  stop(): Promise<void> {
    return this.#reflector.stop();
  }

  get(key: string): T | undefined {
    return this.#store.get(key);
  }

  list(): T[] {
    return [...this.#store.values()];
  }

  keys(): string[] {
    return [...this.#store.keys()];
  }

  byIndex(index: string, value: string): T[] {
    const keys = this.#indexes.get(index)?.get(value);
    if (!keys) return [];
    return [...keys].map((key) => this.#store.get(key)!).filter(Boolean);
  }

  #replace(items: T[]): void {
    const next = new Map(items.map((item) => [keyOf(item), item] as const));
    const events: InformerEvent<T>[] = [];
    for (const [key, object] of this.#store) {
      if (!next.has(key)) events.push({ type: "deleted", key, object });
    }
    for (const [key, object] of next) {
      const previous = this.#store.get(key);
      if (!previous) events.push({ type: "added", key, object });
      else if (versionOf(previous) !== versionOf(object)) {
        events.push({ type: "updated", key, object, previous });
      }
    }
    for (const event of events) this.#commit(event);
    this.#synced = true;
    for (const event of events) this.#emit(event);
  }

  #apply(type: WatchEventType, object: T): void {
    const key = keyOf(object);
    const previous = this.#store.get(key);
    let event: InformerEvent<T>;
    if (type === "DELETED") {
      if (!previous) return;
      event = { type: "deleted", key, object };
    } else if (previous) {
      if (versionOf(previous) === versionOf(object)) return;
      event = { type: "updated", key, object, previous };
    } else {
      event = { type: "added", key, object };
    }
    this.#commit(event);
    this.#emit(event);
  }

  /** Applies one event to the store and the indexes. */
  #commit(event: InformerEvent<T>): void {
    const previous = this.#store.get(event.key);
    if (previous) this.#unindex(event.key, previous);
    if (event.type === "deleted") {
      this.#store.delete(event.key);
      return;
    }
    this.#store.set(event.key, event.object);
    this.#index(event.key, event.object);
  }

  #index(key: string, object: T): void {
    for (const [name, indexer] of this.#indexers) {
      const index = this.#indexes.get(name)!;
      for (const value of indexer(object)) {
        const keys = index.get(value) ?? new Set<string>();
        index.set(value, keys);
        keys.add(key);
      }
    }
  }

  #unindex(key: string, object: T): void {
    for (const [name, indexer] of this.#indexers) {
      const index = this.#indexes.get(name)!;
      for (const value of indexer(object)) {
        const keys = index.get(value);
        keys?.delete(key);
        if (keys?.size === 0) index.delete(value);
      }
    }
  }

  #emit(event: InformerEvent<T>): void {
    for (const handler of this.#handlers) handler(event);
  }
}

function versionOf(object: KubernetesObject): string | undefined {
  return object.metadata?.resourceVersion;
}

/** Several informers of one kind (one per namespace) seen as one cache. */
export class InformerGroup<T extends KubernetesObject> implements ObjectStore<T> {
  readonly members: readonly Informer<T>[];

  constructor(members: readonly Informer<T>[]) {
    this.members = members;
  }

  get synced(): boolean {
    return this.members.every((member) => member.synced);
  }

  /** The worst state of the members: `disconnected` if any is. */
  get state(): ReflectorState {
    const states = this.members.map((member) => member.state);
    for (const state of ["stopped", "disconnected", "starting"] as const) {
      if (states.includes(state)) return state;
    }
    return "synced";
  }

  on(handler: (event: InformerEvent<T>) => void): void {
    for (const member of this.members) member.on(handler);
  }

  async start(): Promise<void> {
    await Promise.all(this.members.map((member) => member.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((member) => member.stop()));
  }

  get(key: string): T | undefined {
    for (const member of this.members) {
      const object = member.get(key);
      if (object) return object;
    }
    return undefined;
  }

  list(): T[] {
    return this.members.flatMap((member) => member.list());
  }

  keys(): string[] {
    return this.members.flatMap((member) => member.keys());
  }

  byIndex(index: string, value: string): T[] {
    return this.members.flatMap((member) => member.byIndex(index, value));
  }
}
