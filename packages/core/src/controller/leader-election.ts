import type { V1ObjectMeta } from "@kubernetes/client-node";
import { isConflict } from "../api/errors.js";
import { errorText, type Logger } from "../logger.js";
import { type Clock, sleep, systemClock } from "./clock.js";
import type { KubeClient } from "./kube-client.js";
import { apiVersionOf, LEASE, resourcePath } from "./resources.js";

/** Timing of leader election; the defaults are client-go's. */
export interface LeaderElectionTiming {
  /** How long a lease is valid after its last renewal, as the other candidates see it. */
  leaseDurationMs: number;
  /** The leader steps down when it has not renewed for this long; below the lease duration. */
  renewDeadlineMs: number;
  /** Pause between attempts to acquire or renew. */
  retryPeriodMs: number;
}

export const DEFAULT_LEADER_ELECTION_TIMING: LeaderElectionTiming = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

export interface LeaderElectorOptions extends LeaderElectionTiming {
  kube: KubeClient;
  /** Namespace and name of the coordination.k8s.io Lease. */
  namespace: string;
  name: string;
  /** This candidate's identity, unique among candidates. */
  identity: string;
  clock?: Clock;
  logger: Logger;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: V1ObjectMeta;
  spec?: LeaseSpec;
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease, after client-go's algorithm. A candidate
 * takes the lease when it is free, released, or has not been renewed for its duration
 * (measured on the candidate's own clock from when it last saw the lease change, so clocks of
 * different nodes need not agree). Every write carries the lease's resourceVersion, so two
 * candidates can never both win the same round.
 *
 * The leader renews every `retryPeriodMs`. It stops being the leader the moment
 * `renewDeadlineMs` has passed since its last successful renewal started, by a timer, not at
 * its next attempt; since `renewDeadlineMs < leaseDurationMs`, it has stopped before anyone
 * else can take over. A renewal counts from when its attempt started, not from when its
 * answer arrived: the lease others see was written in between, so a slow answer must not
 * stretch the leader's term past theirs. {@link LeaderElector.isLeader} answers from the
 * clock, so callers can gate each write on it.
 */
export class LeaderElector {
  readonly #options: LeaderElectorOptions;
  readonly #clock: Clock;
  readonly #path: string;
  #leading = false;
  #renewedAt = 0;
  #deadline: unknown;
  #observed: { record: string; at: number } | undefined;
  #stopped = false;
  #running: Promise<void> | undefined;
  #lastContactAt = 0;

  constructor(options: LeaderElectorOptions) {
    if (options.renewDeadlineMs >= options.leaseDurationMs) {
      throw new Error("leader election: the renew deadline must be shorter than the lease");
    }
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#path = resourcePath(LEASE, options.namespace, options.name);
  }

  /** True while this candidate holds a lease it renewed less than `renewDeadlineMs` ago. */
  isLeader(): boolean {
    return this.#leading && this.#clock.now() - this.#renewedAt < this.#options.renewDeadlineMs;
  }

  /** The holder seen at the last attempt. */
  holder: string | undefined;

  /** When an attempt last reached the API server (clock ms); 0 before the first. */
  get lastContactAt(): number {
    return this.#lastContactAt;
  }

  start(): void {
    this.#running ??= this.#loop();
  }

  /** Stops campaigning; a leader releases the lease so another candidate takes over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
    if (this.#leading) {
      this.#stepDown("stopped");
      await this.#release().catch((error: unknown) => {
        this.#options.logger.warn("could not release the leader lease", {
          lease: this.#options.name,
          err: errorText(error),
        });
      });
    }
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      let renewed = false;
      const startedAt = this.#clock.now();
      try {
        renewed = await this.#tryAcquireOrRenew(startedAt);
        this.#lastContactAt = this.#clock.now();
      } catch (error) {
        this.#options.logger.debug("leader lease attempt failed", { err: errorText(error) });
      }
      if (this.#stopped) return;
      if (renewed) this.#renewed(startedAt);
      else if (this.#leading && this.holder !== this.#options.identity) {
        this.#stepDown("another candidate holds the lease");
      }
      await sleep(this.#clock, this.#options.retryPeriodMs);
    }
  }

  /** The lease was written by the attempt that started at `startedAt` (clock ms). */
  #renewed(startedAt: number): void {
    const leftMs = startedAt + this.#options.renewDeadlineMs - this.#clock.now();
    if (leftMs <= 0) {
      this.#stepDown("renewal answered after the renew deadline");
      return;
    }
    this.#renewedAt = startedAt;
    this.#clock.clearTimeout(this.#deadline);
    this.#deadline = this.#clock.setTimeout(() => this.#stepDown("renew deadline passed"), leftMs);
    if (this.#leading) return;
    this.#leading = true;
    this.#options.logger.info("became the leader", { lease: this.#options.name });
    this.#options.onStartedLeading();
  }

  #stepDown(why: string): void {
    this.#clock.clearTimeout(this.#deadline);
    if (!this.#leading) return;
    this.#leading = false;
    this.#options.logger.warn("stopped being the leader", { lease: this.#options.name, why });
    this.#options.onStoppedLeading();
  }

  /** One round, started at `now` (clock ms): true when this candidate holds the lease after it. */
  async #tryAcquireOrRenew(now: number): Promise<boolean> {
    const { kube, identity } = this.#options;
    const lease = await kube.get<Lease>(this.#path);
    if (!lease) return this.#create(now);

    const spec = lease.spec ?? {};
    this.holder = spec.holderIdentity || undefined;
    const record = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.leaseTransitions]);
    if (this.#observed?.record !== record) this.#observed = { record, at: now };
    const durationMs = (spec.leaseDurationSeconds ?? 0) * 1000;
    const valid = this.#observed.at + durationMs > now;
    if (this.holder && this.holder !== identity && valid) return false;

    const mine = this.holder === identity;
    const next: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: this.#leaseSeconds(),
      acquireTime: mine && spec.acquireTime ? spec.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
    };
    try {
      await kube.replace(this.#path, { ...lease, spec: next });
    } catch (error) {
      if (isConflict(error)) return false;
      throw error;
    }
    this.holder = identity;
    return true;
  }

  async #create(now: number): Promise<boolean> {
    const { kube, namespace, name, identity } = this.#options;
    const lease: Lease = {
      apiVersion: apiVersionOf(LEASE),
      kind: LEASE.kind,
      metadata: { name, namespace },
      spec: {
        holderIdentity: identity,
        leaseDurationSeconds: this.#leaseSeconds(),
        acquireTime: microTime(now),
        renewTime: microTime(now),
        leaseTransitions: 0,
      },
    };
    try {
      await kube.create(resourcePath(LEASE, namespace), lease);
    } catch (error) {
      if (isConflict(error)) return false;
      throw error;
    }
    this.holder = identity;
    return true;
  }

  async #release(): Promise<void> {
    const lease = await this.#options.kube.get<Lease>(this.#path);
    if (!lease || lease.spec?.holderIdentity !== this.#options.identity) return;
    const now = microTime(this.#clock.now());
    const spec = { ...lease.spec, holderIdentity: "", leaseDurationSeconds: 1, renewTime: now };
    await this.#options.kube.replace(this.#path, { ...lease, spec });
  }

  #leaseSeconds(): number {
    return Math.max(1, Math.ceil(this.#options.leaseDurationMs / 1000));
  }
}

/** RFC 3339 with microseconds, the wire form of a Kubernetes MicroTime. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}
