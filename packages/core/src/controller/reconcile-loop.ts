import { randomBytes } from "node:crypto";
import { errorText, type Logger } from "../logger.js";
import type { ControllerMetrics } from "./metrics.js";
import type { WorkQueue } from "./work-queue.js";

/** What a reconcile asks for besides success: to run again after a while. */
export interface ReconcileResult {
  requeueAfterMs?: number;
}

/** Per-call context: a logger whose lines carry the key and a reconcile ID. */
export interface ReconcileContext {
  reconcileId: string;
  logger: Logger;
}

/**
 * A level-based reconciler: reads the current state of `key`, compares it with what should
 * be, acts, and returns. Throwing means "retry with backoff"; a bad spec is not an error but a
 * status condition.
 */
export interface Reconciler {
  /** Names the reconciler in logs and metrics: `ippool`, `vmnetcfg`, `vm`. */
  readonly name: string;
  reconcile(key: string, context: ReconcileContext): Promise<ReconcileResult | undefined>;
}

export interface ReconcileLoopOptions {
  queue: WorkQueue;
  reconciler: Reconciler;
  workers: number;
  logger: Logger;
  metrics: ControllerMetrics;
}

/** Runs `workers` workers that take keys from a queue and reconcile them. */
export class ReconcileLoop {
  readonly #options: ReconcileLoopOptions;
  #running: Promise<void>[] = [];

  constructor(options: ReconcileLoopOptions) {
    this.#options = options;
  }

  start(): void {
    for (let i = 0; i < this.#options.workers; i++) this.#running.push(this.#work());
  }

  /** Shuts the queue down and waits for the reconciles in progress to end. */
  async stop(): Promise<void> {
    this.#options.queue.shutDown();
    await Promise.all(this.#running);
    this.#running = [];
  }

  async #work(): Promise<void> {
    const { queue } = this.#options;
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await this.#reconcileOnce(key);
      } finally {
        queue.done(key);
      }
    }
  }

  async #reconcileOnce(key: string): Promise<void> {
    const { queue, reconciler, metrics } = this.#options;
    const reconcileId = randomBytes(4).toString("hex");
    const fields = { controller: reconciler.name, key, reconcileId };
    const logger = withFields(this.#options.logger, fields);
    const stopTimer = metrics.reconcileSeconds.startTimer({ controller: reconciler.name });
    try {
      const result = await reconciler.reconcile(key, { reconcileId, logger });
      queue.forget(key);
      if (result?.requeueAfterMs !== undefined) queue.addAfter(key, result.requeueAfterMs);
      metrics.reconciles.inc({ controller: reconciler.name, result: "success" });
    } catch (error) {
      if (queue.isShutDown) return;
      const delayMs = queue.addRateLimited(key);
      metrics.reconciles.inc({ controller: reconciler.name, result: "error" });
      const level = queue.failures(key) > 3 ? "warn" : "debug";
      logger[level]("reconcile failed; retrying", { err: errorText(error), delayMs });
    } finally {
      stopTimer();
    }
  }
}

/** A logger that adds `fields` to every line. */
export function withFields(logger: Logger, fields: Record<string, unknown>): Logger {
  return {
    error: (message, extra) => logger.error(message, { ...fields, ...extra }),
    warn: (message, extra) => logger.warn(message, { ...fields, ...extra }),
    info: (message, extra) => logger.info(message, { ...fields, ...extra }),
    debug: (message, extra) => logger.debug(message, { ...fields, ...extra }),
  };
}
