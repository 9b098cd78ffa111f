import type { KubeConfig } from "@kubernetes/client-node";
import type { IpPool, VmNetCfg } from "../api/types.js";
import type { Logger } from "../logger.js";
import { AllocatorRegistry } from "./allocator-registry.js";
import type { Clock } from "./clock.js";
import type { ReconcileDeps, ReconcileSettings } from "./context.js";
import { agentPoolKey } from "./context.js";
import type { ControllerInformers } from "./controller-informers.js";
import { EventRecorder } from "./events.js";
import { IpPoolReconciler, poolLabels } from "./ippool-reconciler.js";
import { type ApiCall, KubeClient } from "./kube-client.js";
import type { ControllerMetrics } from "./metrics.js";
import type { PoolCommit, PoolStatusApi } from "./pool-allocator.js";
import { ReconcileLoop, type Reconciler } from "./reconcile-loop.js";
import { IP_POOL, resourcePath, VM_NET_CFG } from "./resources.js";
import { VmReconciler } from "./vm-reconciler.js";
import { VmNetCfgReconciler } from "./vmnetcfg-reconciler.js";
import { WorkQueue } from "./work-queue.js";

/** Workers per reconciler. */
export interface ControllerWorkers {
  ippool: number;
  vmnetcfg: number;
  vm: number;
}

/** Last versions of deleted objects, kept across terms so a new leader still releases them. */
export interface Tombstones {
  pools: Map<string, IpPool>;
  vmnetcfgs: Map<string, VmNetCfg>;
}

export interface LeadershipTermOptions {
  kubeConfig: KubeConfig;
  caches: ControllerInformers;
  tombstones: Tombstones;
  settings: ReconcileSettings;
  workers: ControllerWorkers;
  /** The leader check of the process; the term adds its own end to it. */
  isLeader: () => boolean;
  metrics: ControllerMetrics;
  logger: Logger;
  clock: Clock;
  /** `source.component` of Events. */
  component: string;
  /** This process, in Events. */
  instance: string;
  maxBatchSize?: number | undefined;
  resyncMs: number;
  onApiCall: (call: ApiCall) => void;
}

type QueueName = "ippool" | "vmnetcfg" | "vm";

/**
 * Everything the controller does while it is the leader, made fresh for each term: a client
 * whose writes are refused once the term ends, the pool allocators, the work queues and
 * reconcile loops. Nothing survives a term but the caches and the tombstones, so a controller
 * that loses and regains leadership starts from what the API says, not from what it thought.
 */
export class LeadershipTerm {
  readonly allocators: AllocatorRegistry;
  readonly queues: Record<QueueName, WorkQueue>;
  readonly #options: LeadershipTermOptions;
  readonly #kube: KubeClient;
  readonly #loops: ReconcileLoop[];
  readonly #deps: ReconcileDeps;
  #active = true;
  #resync: unknown;

  constructor(options: LeadershipTermOptions) {
    this.#options = options;
    const canWrite = () => this.#active && options.isLeader();
    this.#kube = new KubeClient(options.kubeConfig, { canWrite, onCall: options.onApiCall });
    this.queues = {
      ippool: new WorkQueue({ clock: options.clock }),
      vmnetcfg: new WorkQueue({ clock: options.clock }),
      vm: new WorkQueue({ clock: options.clock }),
    };
    this.allocators = new AllocatorRegistry({
      api: poolStatusApi(this.#kube),
      canWrite,
      metrics: options.metrics,
      logger: options.logger,
      clock: options.clock,
      ...(options.maxBatchSize ? { maxBatchSize: options.maxBatchSize } : {}),
      onCommitted: (commit) => this.#committed(commit),
    });
    this.#deps = this.#makeDeps(canWrite);
    this.#loops = [
      this.#loop(new IpPoolReconciler(this.#deps), "ippool"),
      this.#loop(new VmNetCfgReconciler(this.#deps), "vmnetcfg"),
      this.#loop(new VmReconciler(this.#deps), "vm"),
    ];
  }

  /** False once the term has ended: nothing of it may write any more. */
  get active(): boolean {
    return this.#active;
  }

  /** Starts the workers and queues every object once. */
  start(): void {
    for (const loop of this.#loops) loop.start();
    this.enqueueAll();
    this.#scheduleResync();
  }

  /**
   * Ends the term at once: writes are refused from now on, queued allocations fail, and the
   * reconciles in progress are waited for (they can no longer write anything).
   */
  async stop(): Promise<void> {
    this.#active = false;
    this.#options.clock.clearTimeout(this.#resync);
    this.allocators.closeAll();
    await Promise.all(this.#loops.map((loop) => loop.stop()));
    await this.#deps.events.flush();
    this.#kube.close();
  }

  /** Queues every object of every cache, and every tombstone (a periodic resync). */
  enqueueAll(): void {
    const { caches, tombstones } = this.#options;
    const poolKeys = new Set([...caches.pools.keys(), ...tombstones.pools.keys()]);
    for (const pod of caches.pods.list()) {
      const key = agentPoolKey(pod);
      if (key && caches.poolKeyInScope(key)) poolKeys.add(key);
    }
    for (const key of poolKeys) this.queues.ippool.add(key);
    for (const key of caches.vmnetcfgs.keys()) this.queues.vmnetcfg.add(key);
    for (const key of tombstones.vmnetcfgs.keys()) this.queues.vmnetcfg.add(key);
    for (const key of caches.vms.keys()) this.queues.vm.add(key);
  }

  /** Tells the pool's allocator about a version seen on the watch. */
  observePool(pool: IpPool, key: string): void {
    this.allocators.find(key)?.observe(pool);
  }

  /** Keys waiting per queue, for the queue depth gauge. */
  depths(): Record<QueueName, number> {
    return {
      ippool: this.queues.ippool.length,
      vmnetcfg: this.queues.vmnetcfg.length,
      vm: this.queues.vm.length,
    };
  }

  #makeDeps(canWrite: () => boolean): ReconcileDeps {
    const { caches, clock, logger, metrics, settings, tombstones } = this.#options;
    const events = new EventRecorder({
      kube: this.#kube,
      component: this.#options.component,
      instance: this.#options.instance,
      canWrite,
      logger,
      clock,
    });
    return {
      kube: this.#kube,
      caches,
      allocators: this.allocators,
      events,
      metrics,
      clock,
      settings,
      enqueue: {
        pool: (key) => this.queues.ippool.add(key),
        vmnetcfg: (key) => this.queues.vmnetcfg.add(key),
        vm: (key) => this.queues.vm.add(key),
      },
      waiting: new Map(),
      tombstones,
      listVmNetCfgs: () => this.#listVmNetCfgs(),
    };
  }

  #loop(reconciler: Reconciler, name: QueueName): ReconcileLoop {
    return new ReconcileLoop({
      queue: this.queues[name],
      reconciler,
      workers: this.#options.workers[name],
      logger: this.#options.logger,
      metrics: this.#options.metrics,
    });
  }

  /** After a pool status write: gauges follow at once, and a release wakes who waited. */
  #committed(commit: PoolCommit): void {
    const { caches, metrics } = this.#options;
    const pool = caches.pools.get(commit.poolKey);
    const ipam = this.allocators.find(commit.poolKey)?.pool;
    if (pool && ipam) {
      const labels = poolLabels(pool);
      metrics.ippoolUsed.set(labels, ipam.used);
      metrics.ippoolAvailable.set(labels, ipam.available);
    }
    if (commit.released.length === 0) return;
    const waiting = this.#deps.waiting.get(commit.poolKey);
    this.#deps.waiting.delete(commit.poolKey);
    for (const key of waiting ?? []) this.queues.vmnetcfg.add(key);
  }

  async #listVmNetCfgs(): Promise<VmNetCfg[]> {
    const namespaces = this.#options.caches.namespaces ?? [undefined];
    const lists = await Promise.all(
      namespaces.map((namespace) => this.#kube.list<VmNetCfg>(resourcePath(VM_NET_CFG, namespace))),
    );
    return lists.flatMap((list) => list.items);
  }

  #scheduleResync(): void {
    const { clock, resyncMs } = this.#options;
    if (resyncMs <= 0) return;
    this.#resync = clock.setTimeout(() => {
      if (!this.#active) return;
      this.enqueueAll();
      this.#scheduleResync();
    }, resyncMs);
  }
}

/** Fresh reads and status merge patches of IPPools, as the allocators make them. */
function poolStatusApi(kube: KubeClient): PoolStatusApi {
  return {
    get: (namespace, name) => kube.get<IpPool>(resourcePath(IP_POOL, namespace, name)),
    patchStatus: (namespace, name, patch) =>
      kube.mergePatch<IpPool>(resourcePath(IP_POOL, namespace, name, "status"), patch),
  };
}
