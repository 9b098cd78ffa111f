import type { KubeConfig } from "@kubernetes/client-node";
import type { CacheDump, IpamDump } from "@vm-dhcp/ipam";
import type { Registry } from "prom-client";
import { type HttpServer, type Readiness, startHttpServer } from "../http/server.js";
import { errorText, type Logger } from "../logger.js";
import type { AgentPodSettings } from "./agent-pod.js";
import { type Clock, systemClock } from "./clock.js";
import { cacheDumpRoutes } from "./controller-http.js";
import { ControllerInformers } from "./controller-informers.js";
import { routeEvents } from "./controller-routing.js";
import { type ControllerWorkers, LeadershipTerm, type Tombstones } from "./controller-term.js";
import { type ApiCall, KubeClient } from "./kube-client.js";
import {
  DEFAULT_LEADER_ELECTION_TIMING,
  type LeaderElectionTiming,
  LeaderElector,
} from "./leader-election.js";
import { type ControllerMetrics, createControllerMetrics } from "./metrics.js";
import { objectKey } from "./names.js";

/** Leader election settings; the timing defaults are client-go's. */
export interface LeaderElectionOptions extends Partial<LeaderElectionTiming> {
  /** This candidate, unique among the controller's replicas (e.g. the pod name). */
  identity: string;
  /** Name of the Lease in the controller's namespace; the controller's name by default. */
  leaseName?: string;
}

export interface ControllerOptions {
  kubeConfig: KubeConfig;
  /** `--name`: the Lease's name, and the component of the controller's Events. */
  name: string;
  /** `--namespace`: where the agent pods and the Lease live (the controller's own). */
  namespace: string;
  /** How agent pods are made (`--image`, `--service-account-name`, `--no-dhcp`). */
  agent: Omit<AgentPodSettings, "namespace">;
  /** `--no-agent`: no agent pods are made; pools report their agent as disabled. */
  noAgent?: boolean;
  /**
   * Namespaces of the pools, vmnetcfgs, VMs and NADs served; all when undefined. Several
   * controllers with disjoint namespaces can share a cluster (and a test API server).
   */
  namespaces?: readonly string[] | undefined;
  /** Campaigns for a coordination.k8s.io Lease; false (`--no-leader-election`) leads at once. */
  leaderElection: LeaderElectionOptions | false;
  /** Serves `/healthz`, `/readyz`, `/metrics` (and the cache dumps) when given. */
  http?: { port: number; host?: string; enableCacheDumpApi?: boolean } | undefined;
  workers?: Partial<ControllerWorkers>;
  /** Every object is reconciled again this often, besides on its changes; 0 turns it off. */
  resyncMs?: number;
  /** An address recorded for a MAC no vmnetcfg names is released after this long. */
  orphanGraceMs?: number;
  /** A terminating agent pod on a live node is replaced this long after its deadline. */
  stuckAgentGraceMs?: number;
  /** Most allocations carried by one pool status write. */
  maxBatchSize?: number;
  /** Reflector backoff after a watch error, for tests. */
  watchBackoffMs?: { initial: number; max: number };
  logger: Logger;
  registry: Registry;
  clock?: Clock;
  /** Called after every API call but watches (benchmarks count writes with it). */
  onApiCall?: (call: ApiCall) => void;
}

export const DEFAULT_WORKERS: ControllerWorkers = { ippool: 4, vmnetcfg: 16, vm: 8 };
export const DEFAULT_RESYNC_MS = 5 * 60_000;
export const DEFAULT_ORPHAN_GRACE_MS = 60_000;
export const DEFAULT_STUCK_AGENT_GRACE_MS = 60_000;
/** Image of the agent pods' init step when none is given. */
export { DEFAULT_INIT_IMAGE } from "./agent-pod.js";

/**
 * The `controller` role (SPEC section 3): caches of IPPools, vmnetcfgs, VirtualMachines, NADs
 * and agent pods; a work queue and reconcile loop per kind; leader election on a Lease; and
 * the HTTP endpoints. The caches run on every replica, so a standby takes over with warm
 * caches; the reconcilers run only in a {@link LeadershipTerm}, which ends the moment the
 * lease is lost.
 *
 * @example
 * const controller = new Controller({
 *   kubeConfig, name: "vm-dhcp-controller", namespace: "harvester-system",
 *   agent: { image: "vm-dhcp:1.0", serviceAccountName: "vm-dhcp-agent", noDhcp: false,
 *     initImage: "busybox" },
 *   leaderElection: { identity: os.hostname() },
 *   http: { port: 8080, enableCacheDumpApi: true },
 *   logger, registry: new Registry(),
 * });
 * await controller.start();
 */
export class Controller {
  readonly #options: ControllerOptions;
  readonly #clock: Clock;
  readonly #metrics: ControllerMetrics;
  readonly #readClient: KubeClient;
  /** The elector's own client: its writes are the lease, which no gate may refuse. */
  readonly #leaseClient: KubeClient;
  readonly #caches: ControllerInformers;
  readonly #tombstones: Tombstones = { pools: new Map(), vmnetcfgs: new Map() };
  readonly #elector: LeaderElector | undefined;
  #term: LeadershipTerm | undefined;
  #termChange: Promise<void> = Promise.resolve();
  #http: HttpServer | undefined;
  #stopped = false;

  constructor(options: ControllerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#metrics = createControllerMetrics(options.registry, {
      queueDepths: () => this.#term?.depths() ?? {},
    });
    this.#readClient = new KubeClient(options.kubeConfig, { onCall: (c) => this.#onCall(c) });
    this.#leaseClient = new KubeClient(options.kubeConfig, { onCall: (c) => this.#onCall(c) });
    this.#caches = new ControllerInformers({
      kubeConfig: options.kubeConfig,
      kube: this.#readClient,
      namespaces: options.namespaces,
      agentNamespace: options.namespace,
      watchPods: !options.noAgent,
      logger: options.logger,
      initialBackoffMs: options.watchBackoffMs?.initial,
      maxBackoffMs: options.watchBackoffMs?.max,
    });
    routeEvents(this.#caches, this.#tombstones, () => this.#term);
    this.#elector = options.leaderElection ? this.#makeElector(options.leaderElection) : undefined;
  }

  /** The HTTP port, once listening (the one chosen by the system for port 0). */
  get httpPort(): number | undefined {
    return this.#http?.port;
  }

  /** True while this process reconciles (leads, or runs without leader election). */
  isLeader(): boolean {
    return !!this.#term?.active && (this.#elector?.isLeader() ?? true);
  }

  /** Serves HTTP, fills the caches, then campaigns (or, without election, starts leading). */
  async start(): Promise<void> {
    const { http, logger } = this.#options;
    if (http) {
      this.#http = await startHttpServer({
        port: http.port,
        ...(http.host ? { host: http.host } : {}),
        registry: this.#options.registry,
        readiness: () => this.readiness(),
        routes: http.enableCacheDumpApi ? (app) => cacheDumpRoutes(app, this) : undefined,
        logger,
      });
    }
    await this.#caches.start();
    // Stopped while the first lists were still coming: nothing may start now.
    if (this.#stopped) return;
    logger.info("caches synced", { namespaces: this.#caches.namespaces ?? "all" });
    if (this.#elector) this.#elector.start();
    else this.#changeTerm(true);
  }

  /** Stops leading (releasing the lease), watching and serving. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#elector?.stop();
    this.#changeTerm(false);
    await this.#termChange;
    await this.#caches.stop();
    await this.#http?.close();
    this.#readClient.close();
    this.#leaseClient.close();
  }

  /**
   * Ready when every cache is synced and this replica either leads with its reconcilers
   * running or stands by in contact with the lease. A standby counts as ready so that rolling
   * upgrades can proceed; `checks.leadership` says which it is.
   */
  readiness(): Readiness {
    const states = this.#caches.states();
    const leading = this.isLeader();
    const leadership = !this.#elector ? "disabled" : leading ? "leader" : "standby";
    const checks: Record<string, string | boolean | number> = { ...states, leadership };
    if (this.#elector?.holder) checks.leaseHolder = this.#elector.holder;
    const synced = this.#caches.synced && Object.values(states).every((s) => s === "synced");
    const contact = this.#elector ? this.#inContact() : leading;
    return { ready: synced && (leading || contact), checks };
  }

  /** `/ipams/<ns>/<name>`: IP -> "true"/"false"; undefined unless this leader serves the pool. */
  ipamDump(namespace: string, name: string): IpamDump | undefined {
    return this.#allocatorPool(namespace, name)?.dumpIpam();
  }

  /** `/caches/<ns>/<name>`: MAC -> IP; undefined unless this leader serves the pool. */
  cacheDump(namespace: string, name: string): CacheDump | undefined {
    return this.#allocatorPool(namespace, name)?.dumpCache();
  }

  #allocatorPool(namespace: string, name: string) {
    if (!this.isLeader()) return undefined;
    return this.#term?.allocators.find(objectKey(namespace, name))?.pool;
  }

  #makeElector(election: LeaderElectionOptions): LeaderElector {
    const { leaseName, identity } = election;
    return new LeaderElector({
      ...electionTiming(election),
      kube: this.#leaseClient,
      namespace: this.#options.namespace,
      name: leaseName ?? this.#options.name,
      identity,
      clock: this.#clock,
      logger: this.#options.logger,
      onStartedLeading: () => this.#changeTerm(true),
      onStoppedLeading: () => this.#changeTerm(false),
    });
  }

  #inContact(): boolean {
    const elector = this.#elector!;
    const election = this.#options.leaderElection || {};
    const since = this.#clock.now() - elector.lastContactAt;
    return elector.lastContactAt > 0 && since < electionTiming(election).leaseDurationMs;
  }

  /**
   * Starts or ends a term. The current term's writes stop at once (its client refuses them);
   * the change itself is chained, so a term starts only after the previous one has wound down.
   */
  #changeTerm(lead: boolean): void {
    const previous = this.#term;
    if (!lead && !previous) return;
    this.#term = undefined;
    if (previous) {
      this.#metrics.leader.set(0);
      this.#resetPoolMetrics();
    }
    this.#termChange = this.#termChange.then(async () => {
      if (previous) await this.#endTerm(previous);
      if (lead && !this.#stopped && (this.#elector?.isLeader() ?? true)) this.#beginTerm();
    });
  }

  #beginTerm(): void {
    const term = new LeadershipTerm({
      kubeConfig: this.#options.kubeConfig,
      caches: this.#caches,
      tombstones: this.#tombstones,
      settings: this.#settings(),
      workers: { ...DEFAULT_WORKERS, ...this.#options.workers },
      isLeader: () => this.#elector?.isLeader() ?? !this.#stopped,
      metrics: this.#metrics,
      logger: this.#options.logger,
      clock: this.#clock,
      component: this.#options.name,
      instance: this.#options.leaderElection ? this.#options.leaderElection.identity : "single",
      maxBatchSize: this.#options.maxBatchSize,
      resyncMs: this.#options.resyncMs ?? DEFAULT_RESYNC_MS,
      onApiCall: (call) => this.#onCall(call),
    });
    this.#term = term;
    this.#metrics.leader.set(1);
    term.start();
    this.#options.logger.info("reconcilers started");
  }

  async #endTerm(term: LeadershipTerm): Promise<void> {
    try {
      await term.stop();
    } catch (error) {
      this.#options.logger.error("reconcilers did not stop cleanly", { err: errorText(error) });
    }
    // Again: a reconcile that was still running may have set some.
    this.#resetPoolMetrics();
    this.#options.logger.info("reconcilers stopped");
  }

  /** A standby reports no pool figures: they would go stale while another replica leads. */
  #resetPoolMetrics(): void {
    this.#metrics.ippoolUsed.reset();
    this.#metrics.ippoolAvailable.reset();
    this.#metrics.vmnetcfgStatus.reset();
  }

  #settings() {
    const o = this.#options;
    return {
      agent: { ...o.agent, namespace: o.namespace },
      noAgent: !!o.noAgent,
      orphanGraceMs: o.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS,
      stuckAgentGraceMs: o.stuckAgentGraceMs ?? DEFAULT_STUCK_AGENT_GRACE_MS,
    };
  }

  #onCall(call: ApiCall): void {
    this.#metrics.apiCalls.inc({ verb: call.verb, resource: call.resource, code: call.code });
    this.#options.onApiCall?.(call);
  }
}

/** The election timing: the defaults, with the fields `election` sets. */
function electionTiming(election: Partial<LeaderElectionTiming>): LeaderElectionTiming {
  const timing = { ...DEFAULT_LEADER_ELECTION_TIMING };
  for (const field of ["leaseDurationMs", "renewDeadlineMs", "retryPeriodMs"] as const) {
    const value = election[field];
    if (typeof value === "number") timing[field] = value;
  }
  return timing;
}
