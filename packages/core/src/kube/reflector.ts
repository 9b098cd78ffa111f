import { type KubeConfig, type KubernetesObject, Watch } from "@kubernetes/client-node";
import { errorText, type Logger } from "../logger.js";

/** Where the reflector stands, for readiness probes and logs. */
export type ReflectorState = "starting" | "synced" | "disconnected" | "stopped";

/** A change seen on the watch. */
export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface ReflectorOptions<T extends KubernetesObject> {
  /** Names the watched set in logs, e.g. "ippool default/net-a". */
  name: string;
  kubeConfig: KubeConfig;
  /** API path of the collection, e.g. `/apis/network.harvesterhci.io/v1alpha1/ippools`. */
  path: string;
  /** Lists the full set; returns the items and the resourceVersion to watch from. */
  list: () => Promise<{ items: T[]; resourceVersion: string }>;
  labelSelector?: string;
  fieldSelector?: string;
  /** Called with the whole set after every (re)list: consumers rebuild from it. */
  onList: (items: T[]) => void;
  /** Called for each change between lists. */
  onEvent: (type: WatchEventType, object: T) => void;
  /** Called on every state change. */
  onState?: (state: ReflectorState) => void;
  logger: Logger;
  /** Waits between retries; injected so tests can make backoff instant and exact. */
  sleep?: (ms: number) => Promise<void>;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Server-side watch timeout; the watch is renewed after it. */
  watchTimeoutSeconds?: number;
}

const DEFAULT_INITIAL_BACKOFF_MS = 200;
const DEFAULT_MAX_BACKOFF_MS = 30_000;
const DEFAULT_WATCH_TIMEOUT_SECONDS = 300;
/** Extra time after the server-side timeout before a silent watch is declared dead. */
const WATCH_GRACE_MS = 30_000;

/**
 * List-then-watch, forever, for one collection. Recovers by itself from everything the API
 * server can do to a watch: a closed stream resumes from the last resourceVersion, an expired
 * one (410 Gone) relists, an unreachable server is retried with capped exponential backoff, and
 * a stream that goes silent beyond its timeout is cut and renewed. Consumers are level-based:
 * every list hands them the whole set.
 */
export class Reflector<T extends KubernetesObject> {
  readonly #options: ReflectorOptions<T>;
  readonly #sleep: (ms: number) => Promise<void>;
  #state: ReflectorState = "starting";
  #stopped = false;
  #abort: (() => void) | undefined;
  #wake: (() => void) | undefined;
  #running: Promise<void> | undefined;

  constructor(options: ReflectorOptions<T>) {
    this.#options = options;
    this.#sleep = options.sleep ?? ((ms) => this.#interruptibleSleep(ms));
  }

  get state(): ReflectorState {
    return this.#state;
  }

  /** Starts the loop; resolves once the first list has been delivered (or the loop stopped). */
  start(): Promise<void> {
    return new Promise((resolve) => {
      const onState = (state: ReflectorState) => {
        if (state === "synced" || state === "stopped") resolve();
      };
      this.#running = this.#run(onState);
    });
  }

  /** Stops watching; resolves when the loop has ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort?.();
    this.#wake?.();
    await this.#running;
  }

  async #run(onFirstSync: (state: ReflectorState) => void): Promise<void> {
    const { logger, name } = this.#options;
    let resourceVersion = "";
    let failures = 0;
    while (!this.#stopped) {
      try {
        if (!resourceVersion) {
          resourceVersion = await this.#relist();
          onFirstSync("synced");
        }
        resourceVersion = await this.#watch(resourceVersion);
        failures = 0;
      } catch (error) {
        if (this.#stopped) break;
        failures++;
        const delayMs = this.#backoffMs(failures);
        this.#setState("disconnected");
        logger.warn("watch failed; retrying", { watch: name, err: errorText(error), delayMs });
        await this.#sleep(delayMs);
      }
    }
    this.#setState("stopped");
    onFirstSync("stopped");
  }

  async #relist(): Promise<string> {
    const { items, resourceVersion } = await this.#options.list();
    this.#options.onList(items);
    this.#setState("synced");
    return resourceVersion;
  }

  /**
   * Watches from `resourceVersion` until the stream ends. Returns the version to resume
   * from, or "" when the server said the version is too old and a relist is needed.
   */
  #watch(resourceVersion: string): Promise<string> {
    const { kubeConfig, path, labelSelector, fieldSelector, onEvent } = this.#options;
    const timeoutSeconds = this.#options.watchTimeoutSeconds ?? DEFAULT_WATCH_TIMEOUT_SECONDS;
    let latest = resourceVersion;
    let gone = false;

    return new Promise<string>((resolve, reject) => {
      let watchdog: NodeJS.Timeout | undefined;
      let controller: AbortController | undefined;
      const armWatchdog = () => {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => controller?.abort(), timeoutSeconds * 1000 + WATCH_GRACE_MS);
      };
      const onLine = (type: string, object: T & { code?: number }) => {
        armWatchdog();
        if (type === "ERROR") {
          if (object.code === 410) gone = true;
          return;
        }
        latest = object.metadata?.resourceVersion ?? latest;
        if (type === "BOOKMARK") return;
        if (type === "ADDED" || type === "MODIFIED" || type === "DELETED") {
          if (this.#state !== "synced") this.#setState("synced");
          onEvent(type, object);
        }
      };
      let ended = false;
      const onDone = (error: unknown) => {
        ended = true;
        clearTimeout(watchdog);
        this.#abort = undefined;
        const code = (error as { statusCode?: number } | null)?.statusCode;
        if (code === 410) resolve("");
        else if (error) reject(error);
        else resolve(gone ? "" : latest);
      };
      const query = {
        resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds,
        ...(labelSelector ? { labelSelector } : {}),
        ...(fieldSelector ? { fieldSelector } : {}),
      };
      armWatchdog();
      new Watch(kubeConfig).watch(path, query, onLine, onDone).then((abort) => {
        if (ended) return;
        // The server accepted the watch: we are current again after an outage.
        this.#setState("synced");
        controller = abort;
        this.#abort = () => abort.abort();
        if (this.#stopped) abort.abort();
      }, onDone);
    });
  }

  #backoffMs(failures: number): number {
    const initial = this.#options.initialBackoffMs ?? DEFAULT_INITIAL_BACKOFF_MS;
    const max = this.#options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
    return Math.min(max, initial * 2 ** Math.min(failures - 1, 20));
  }

  #setState(state: ReflectorState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#options.onState?.(state);
  }

  #interruptibleSleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
