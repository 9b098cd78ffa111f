import { randomBytes } from "node:crypto";
import { errorText, type Logger } from "../logger.js";
import { type Clock, systemClock } from "./clock.js";
import type { KubeClient } from "./kube-client.js";
import { EVENT, resourcePath } from "./resources.js";

/** Kubernetes event types. */
export type EventType = "Normal" | "Warning";

/** The transitions the controller reports as Events. */
export type ControllerEventReason =
  | "AgentCreated"
  | "AgentReplaced"
  | "AgentRemoved"
  | "AddressAllocated"
  | "AddressReleased"
  | "PoolExhausted"
  | "StaticAddressConflict"
  | "NetworkNotFound"
  | "NetworkInUse"
  | "NoClusterNetwork"
  | "PoolNameTooLong"
  | "InvalidStatus"
  | "OrphanReleased"
  | "InvalidAnnotation";

/** The object an event is about. */
export interface EventSubject {
  apiVersion?: string;
  kind?: string;
  metadata: { namespace?: string; name?: string; uid?: string; resourceVersion?: string };
}

export interface EventRecorderOptions {
  kube: KubeClient;
  /** `source.component` and `reportingComponent`. */
  component: string;
  /** `reportingInstance`: this process. */
  instance: string;
  /** Checked before every write: only the leader reports. */
  canWrite: () => boolean;
  logger: Logger;
  clock?: Clock;
}

/** An identical event within this window raises the count of the first instead. */
const SERIES_WINDOW_MS = 10 * 60_000;
/** Events waiting to be sent beyond this are dropped (and logged): events are best effort. */
const MAX_PENDING = 2_000;
const SENDERS = 4;

interface Series {
  namespace: string;
  name: string;
  count: number;
  lastAt: number;
}

interface Pending {
  subject: EventSubject;
  type: EventType;
  reason: ControllerEventReason;
  message: string;
}

/**
 * Reports Kubernetes Events without ever blocking a reconcile: `emit` queues, a few senders
 * write in the background. A repeat of the same event on the same object within ten minutes
 * patches the count of the first one, as kubectl's recorder does, instead of adding another.
 */
export class EventRecorder {
  readonly #options: EventRecorderOptions;
  readonly #clock: Clock;
  readonly #series = new Map<string, Series>();
  readonly #pending: Pending[] = [];
  #senders = 0;
  #idle: (() => void)[] = [];

  constructor(options: EventRecorderOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** Queues an event about `subject`. */
  emit(subject: EventSubject, type: EventType, reason: ControllerEventReason, message: string) {
    if (!this.#options.canWrite()) return;
    if (this.#pending.length >= MAX_PENDING) {
      this.#options.logger.warn("event dropped: too many waiting", { reason });
      return;
    }
    this.#pending.push({ subject, type, reason, message });
    if (this.#senders < SENDERS) {
      this.#senders++;
      void this.#send();
    }
  }

  /** Resolves when every queued event has been sent (or has failed). */
  flush(): Promise<void> {
    if (this.#senders === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  async #send(): Promise<void> {
    for (let next = this.#pending.shift(); next; next = this.#pending.shift()) {
      if (!this.#options.canWrite()) continue;
      try {
        await this.#write(next);
      } catch (error) {
        this.#options.logger.debug("event not recorded", {
          reason: next.reason,
          err: errorText(error),
        });
      }
    }
    this.#senders--;
    if (this.#senders === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }

  async #write(event: Pending): Promise<void> {
    const { metadata } = event.subject;
    const seriesKey = [metadata.uid, event.type, event.reason, event.message].join("\u0000");
    const now = this.#clock.now();
    this.#prune(now);
    const series = this.#series.get(seriesKey);
    const namespace = metadata.namespace || "default";
    if (series && now - series.lastAt < SERIES_WINDOW_MS) {
      series.count++;
      series.lastAt = now;
      const path = resourcePath(EVENT, series.namespace, series.name);
      const patch = { count: series.count, lastTimestamp: new Date(now).toISOString() };
      await this.#options.kube.mergePatch(path, patch);
      return;
    }
    const name = `${metadata.name ?? "object"}.${randomBytes(8).toString("hex")}`;
    await this.#options.kube.create(resourcePath(EVENT, namespace), this.#body(event, name, now));
    this.#series.set(seriesKey, { namespace, name, count: 1, lastAt: now });
  }

  #body(event: Pending, name: string, now: number): object {
    const { subject } = event;
    const stamp = new Date(now).toISOString();
    return {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name, namespace: subject.metadata.namespace || "default" },
      involvedObject: {
        apiVersion: subject.apiVersion,
        kind: subject.kind,
        namespace: subject.metadata.namespace,
        name: subject.metadata.name,
        uid: subject.metadata.uid,
        resourceVersion: subject.metadata.resourceVersion,
      },
      type: event.type,
      reason: event.reason,
      message: event.message,
      count: 1,
      firstTimestamp: stamp,
      lastTimestamp: stamp,
      source: { component: this.#options.component },
      reportingComponent: this.#options.component,
      reportingInstance: this.#options.instance,
    };
  }

  #prune(now: number): void {
    if (this.#series.size < 4_096) return;
    for (const [key, series] of this.#series) {
      if (now - series.lastAt >= SERIES_WINDOW_MS) this.#series.delete(key);
    }
  }
}
