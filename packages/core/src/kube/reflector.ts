import { type KubeConfig, type KubernetesObject, Watch } from "@kubernetes/client-node";
import { errorText, type Logger } from "../logger.js";

/** Where the reflector stands, for readiness probes and logs. */
export type ReflectorState = "starting" | "synced" | "disconnected" | "stopped";

/** A change seen on the watch. */
export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

/**
 * Opens one watch request, with the contract of client-node's `Watch.watch`: each line of the
 * stream goes to `onLine`, the end of the stream or the failure of the request (an error with
 * its HTTP `statusCode`) to `onDone`, and the promise yields the handle that cancels it.
 */
export type WatchFunction = (
  path: string,
  query: Record<string, string | number | boolean>,
  onLine: (type: string, object: unknown) => void,
  onDone: (error: unknown) => void,
) => Promise<{ abort(): void }>;

/** The timers the stall watchdog runs on; the controller's `Clock` satisfies it. */
export interface ReflectorTimers {
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface ReflectorOptions<T extends KubernetesObject> {
  /** Names the watched set in logs, e.g. "ippool default/net-a". */
  name: string;
  kubeConfig: KubeConfig;
  /** API path of the collection, e.g. `/apis/network.harvesterhci.io/v1alpha1/ippools`. */
  path: string;
  /** Lists the full set; returns the items and the resourceVersion to watch from. */
  list: () => Promise<{ items: T[]; resourceVersion: string }>;
  /** Opens a watch request; client-node's `Watch` on `kubeConfig` unless a test fakes it. */
  watch?: WatchFunction;
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
  /** Runs the stall watchdog; the process timers unless a test fakes them. */
  timers?: ReflectorTimers;
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
/** HTTP status of a resourceVersion the server no longer keeps history for. */
const STATUS_GONE = 410;

const processTimers: ReflectorTimers = {
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * List-then-watch, forever, for one collection. Recovers by itself from everything the API
 * server can do to a watch: a closed stream resumes from the last resourceVersion, an expired
 * one (410 Gone) relists, an unreachable server or a failing watch is retried with capped
 * exponential backoff, and a stream that goes silent beyond its timeout is cut and renewed.
 * Consumers are level-based: every list hands them the whole set.
 */
export class Reflector<T extends KubernetesObject> {
  readonly #options: ReflectorOptions<T>;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #openWatch: WatchFunction;
  readonly #timers: ReflectorTimers;
  #state: ReflectorState = "starting";
  /** The version the next watch starts from: the last one seen; empty when a list is due. */
  #resourceVersion = "";
  #stopped = false;
  #abort: (() => void) | undefined;
  #wake: (() => void) | undefined;
  #running: Promise<void> | undefined;

  constructor(options: ReflectorOptions<T>) {
    this.#options = options;
    this.#sleep = options.sleep ?? ((ms) => this.#interruptibleSleep(ms));
    this.#openWatch =
      options.watch ??
      ((path, query, onLine, onDone) =>
        new Watch(options.kubeConfig).watch(path, query, onLine, onDone));
    this.#timers = options.timers ?? processTimers;
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
    let failures = 0;
    while (!this.#stopped) {
      try {
        if (!this.#resourceVersion) {
          this.#resourceVersion = await this.#relist();
          onFirstSync("synced");
        }
        await this.#watch();
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
   * Watches from the last seen version until the stream ends, advancing that version with
   * every event so that a retry resumes after the events already delivered. When the server
   * says the version is too old (410 Gone, as an ERROR event or as the answer to the request),
   * clears it so that the next round relists. Rejects on any other failure.
   */
  #watch(): Promise<void> {
    const timeoutSeconds = this.#options.watchTimeoutSeconds ?? DEFAULT_WATCH_TIMEOUT_SECONDS;
    const silenceMs = timeoutSeconds * 1000 + WATCH_GRACE_MS;

    return new Promise<void>((resolve, reject) => {
      let ended = false;
      let request: { abort(): void } | undefined;
      let watchdog: unknown;
      const finish = (error: unknown) => {
        if (ended) return;
        ended = true;
        this.#timers.clearTimeout(watchdog);
        this.#abort = undefined;
        request?.abort();
        const gone = statusCodeOf(error) === STATUS_GONE;
        if (gone) this.#resourceVersion = "";
        if (error && !gone) reject(error);
        else resolve();
      };
      const armWatchdog = () => {
        this.#timers.clearTimeout(watchdog);
        const stalled = () => finish(new Error("watch went silent beyond its timeout"));
        watchdog = this.#timers.setTimeout(stalled, silenceMs);
      };
      const onLine = (type: string, object: unknown) => {
        if (ended) return;
        armWatchdog();
        if (type === "ERROR") finish(statusError(object));
        else this.#deliver(type, object as T);
      };

      this.#abort = () => finish(null);
      if (this.#stopped) return finish(null);
      armWatchdog();
      const query = this.#query(timeoutSeconds);
      this.#openWatch(this.#options.path, query, onLine, finish).then((handle) => {
        request = handle;
        if (ended) return handle.abort();
        // The server accepted the watch: we are current again after an outage.
        this.#setState("synced");
      }, finish);
    });
  }

  /** Records the version of one watch line and hands a change to the consumer. */
  #deliver(type: string, object: T): void {
    this.#resourceVersion = object.metadata?.resourceVersion ?? this.#resourceVersion;
    if (type === "ADDED" || type === "MODIFIED" || type === "DELETED") {
      this.#setState("synced");
      this.#options.onEvent(type, object);
    }
  }

  #query(timeoutSeconds: number): Record<string, string | number | boolean> {
    const { labelSelector, fieldSelector } = this.#options;
    return {
      resourceVersion: this.#resourceVersion,
      allowWatchBookmarks: true,
      timeoutSeconds,
      ...(labelSelector ? { labelSelector } : {}),
      ...(fieldSelector ? { fieldSelector } : {}),
    };
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

/** The HTTP status a failed watch carries: client-node's `statusCode`, or a Status's `code`. */
function statusCodeOf(error: unknown): number | undefined {
  return (error as { statusCode?: number } | null)?.statusCode;
}

/** Turns the Status object of an ERROR watch event into an error carrying its code. */
function statusError(object: unknown): Error {
  const status = (object ?? {}) as { code?: number; reason?: string; message?: string };
  const error = new Error(status.message ?? status.reason ?? "the watch reported an error");
  return Object.assign(error, { statusCode: status.code });
}
