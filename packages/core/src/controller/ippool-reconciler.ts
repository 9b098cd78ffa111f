import { type ConditionUpdate, getCondition, setCondition } from "../api/conditions.js";
import type { IpPool, IpPoolConditionType, IpPoolStatus } from "../api/types.js";
import type { Logger } from "../logger.js";
import { AgentAccess } from "./agent-access.js";
import { AgentManager, type AgentOutcome } from "./agent-manager.js";
import { BY_NETWORK, BY_POOL, type ReconcileDeps } from "./context.js";
import type { ControllerEventReason } from "./events.js";
import type { PoolMetricLabels } from "./metrics.js";
import {
  keyOf,
  LABEL_IPPOOL_NAME,
  LABEL_IPPOOL_NAMESPACE,
  MAX_NAME_LENGTH,
  poolNetworkKey,
  splitKey,
} from "./names.js";
import { OrphanSweeper } from "./orphan-sweeper.js";
import type { PoolAllocator } from "./pool-allocator.js";
import { linkedPoolKey } from "./pool-lookup.js";
import type { ReconcileContext, ReconcileResult, Reconciler } from "./reconcile-loop.js";
import { NAD, type NetworkAttachmentDefinition, resourcePath } from "./resources.js";

type PoolCondition = ConditionUpdate<IpPoolConditionType>;

/** Outcome of linking a pool to its NetworkAttachmentDefinition. */
type Link =
  | { ok: true; nad: NetworkAttachmentDefinition }
  | { ok: false; reason: ControllerEventReason; message: string };

/** Condition reasons that are worth a Warning event when they first appear. */
const WARNING_REASONS = new Set([
  "NetworkNotFound",
  "NetworkInUse",
  "NoClusterNetwork",
  "PoolNameTooLong",
]);

/**
 * IPPool reconciler (SPEC section 3): links the NetworkAttachmentDefinition, builds the IPAM
 * from the pool's status, keeps one agent pod, and keeps `used`, `available`, `agentPodRef`
 * and the conditions current; on pause or deletion it removes the agent and the caches and
 * keeps the data. The agent may read its pool while the pool is linked and not paused (see
 * {@link AgentAccess}), also under `--no-agent`, for agents run by other means. Every status
 * change goes through the pool's allocator, the only writer of the pool status, so it rides on
 * the same writes as the allocations.
 */
export class IpPoolReconciler implements Reconciler {
  readonly name = "ippool";
  readonly #deps: ReconcileDeps;
  readonly #agents: AgentManager;
  readonly #access: AgentAccess;
  readonly #orphans: OrphanSweeper;
  readonly #metricLabels = new Map<string, Record<PoolMetricLabels, string>>();

  constructor(deps: ReconcileDeps) {
    this.#deps = deps;
    this.#agents = new AgentManager(deps);
    const { kube, clock, settings } = deps;
    this.#access = new AgentAccess({ kube, clock, agent: settings.agent });
    this.#orphans = new OrphanSweeper(deps);
  }

  async reconcile(key: string, { logger }: ReconcileContext): Promise<ReconcileResult | undefined> {
    const pool = this.#deps.caches.pools.get(key);
    if (!pool || pool.metadata.deletionTimestamp) {
      await this.#cleanup(key, logger);
      return undefined;
    }
    if (pool.spec.paused) {
      await this.#pause(pool, logger);
      return undefined;
    }
    const link = await this.#link(pool, logger);
    const allocator = this.#deps.allocators.get(pool);
    const wasReady = allocator.state === "ready";
    const state = await allocator.ready();
    if (!wasReady && state === "ready") this.#wakeDependents(pool);

    const agent = await this.#agent(pool, link, logger);
    const orphanCheckMs = await this.#orphans.sweep(pool, allocator, logger);
    const updates = conditionsOf(allocator, link, agent);
    this.#reportTransitions(pool, updates);
    const time = this.#now();
    await allocator.updateStatus((status) => applyStatus(status, updates, agent, time));
    this.#updateMetrics(pool, allocator);
    const delays = [agent.requeueAfterMs, orphanCheckMs].filter((ms) => ms !== undefined);
    return delays.length > 0 ? { requeueAfterMs: Math.min(...delays) } : undefined;
  }

  /**
   * The agent of a linked pool; a pool that cannot link reports why on `Registered`, with
   * `--no-agent` too, and keeps no agent.
   */
  async #agent(pool: IpPool, link: Link, logger: Logger): Promise<AgentOutcome> {
    if (!link.ok) {
      await this.#access.revoke(keyOf(pool), logger);
      return this.#agents.unlinked(pool, link.reason, link.message, logger);
    }
    await this.#access.grant(pool, logger);
    if (this.#deps.settings.noAgent) {
      const message = "the controller runs with --no-agent";
      return {
        registered: { type: "Registered", status: "True", reason: "AgentDisabled", message },
        agentReady: { type: "AgentReady", status: "True", reason: "AgentDisabled", message },
      };
    }
    return this.#agents.reconcile(pool, link.nad, logger);
  }

  /** Labels the pool's NAD with the pool, unless another pool serves it already. */
  async #link(pool: IpPool, logger: Logger): Promise<Link> {
    const networkKey = poolNetworkKey(pool) ?? "";
    const nad = this.#deps.caches.nads.get(networkKey);
    if (!nad) {
      const message = `NetworkAttachmentDefinition ${networkKey} does not exist`;
      return { ok: false, reason: "NetworkNotFound", message };
    }
    const key = keyOf(pool);
    if ((pool.metadata.name ?? "").length > MAX_NAME_LENGTH) {
      // The link is a label, and label values hold at most 63 characters.
      const message = `IPPool names longer than ${MAX_NAME_LENGTH} characters cannot label a NAD`;
      return { ok: false, reason: "PoolNameTooLong", message };
    }
    const linked = linkedPoolKey(nad);
    if (linked === key) return { ok: true, nad };
    const other = linked ? this.#deps.caches.pools.get(linked) : undefined;
    if (other && !other.metadata.deletionTimestamp && poolNetworkKey(other) === networkKey) {
      const message = `network ${networkKey} is served by IPPool ${linked}`;
      return { ok: false, reason: "NetworkInUse", message };
    }
    const { namespace, name } = splitKey(key);
    await this.#labelNad(nad, { [LABEL_IPPOOL_NAMESPACE]: namespace, [LABEL_IPPOOL_NAME]: name });
    logger.info("network linked to the pool", { network: networkKey });
    return { ok: true, nad };
  }

  /**
   * Sets or clears the ippool labels of a NAD, only if it is still the version the decision
   * was made on: of two pools that race for one NAD, the second is refused with 409 and
   * decides again once its cache shows the winner.
   */
  async #labelNad(
    nad: NetworkAttachmentDefinition,
    labels: Record<string, string | null>,
  ): Promise<void> {
    const { namespace, name, resourceVersion } = nad.metadata;
    const path = resourcePath(NAD, namespace, name);
    await this.#deps.kube.mergePatch(path, { metadata: { labels, resourceVersion } });
  }

  async #pause(pool: IpPool, logger: Logger): Promise<void> {
    const key = keyOf(pool);
    if ((await this.#agents.removeAgents(key, logger)) > 0) {
      this.#deps.events.emit(pool, "Normal", "AgentRemoved", "the pool is paused");
    }
    await this.#access.revoke(key, logger);
    this.#forgetMetrics(key);
    const message = "spec.paused is true";
    const updates: PoolCondition[] = [
      { type: "Stopped", status: "True", reason: "Paused", message },
      { type: "CacheReady", status: "False", reason: "Paused", message },
      { type: "Registered", status: "False", reason: "Paused", message },
      { type: "AgentReady", status: "False", reason: "Paused", message },
    ];
    const time = this.#now();
    await this.#deps.allocators.get(pool).updateStatus((status) => {
      delete status.agentPodRef;
      status.conditions = updates.reduce(
        (list, u) => setCondition(list, u, time),
        status.conditions,
      );
    });
    this.#wakeDependents(pool);
  }

  /** The pool is gone: its agents, caches, metrics and NAD labels go too. */
  async #cleanup(key: string, logger: Logger): Promise<void> {
    this.#deps.allocators.drop(key);
    await this.#agents.removeAgents(key, logger);
    await this.#access.revoke(key, logger);
    for (const nad of this.#deps.caches.nads.byIndex(BY_POOL, key)) {
      await this.#labelNad(nad, { [LABEL_IPPOOL_NAMESPACE]: null, [LABEL_IPPOOL_NAME]: null });
    }
    this.#forgetMetrics(key);
    const last = this.#deps.tombstones.pools.get(key);
    this.#deps.tombstones.pools.delete(key);
    if (last) this.#wakeDependents(last);
  }

  /** Requeues what depends on the pool's state: vmnetcfgs and VMs of its network. */
  #wakeDependents(pool: IpPool): void {
    const networkKey = poolNetworkKey(pool);
    if (!networkKey) return;
    const { caches, enqueue } = this.#deps;
    for (const config of caches.vmnetcfgs.byIndex(BY_NETWORK, networkKey)) {
      enqueue.vmnetcfg(keyOf(config));
    }
    for (const vm of caches.vms.byIndex(BY_NETWORK, networkKey)) enqueue.vm(keyOf(vm));
  }

  /** Warning events for conditions that have just turned bad (once per transition). */
  #reportTransitions(pool: IpPool, updates: PoolCondition[]): void {
    for (const update of updates) {
      if (update.status !== "False" || !update.reason) continue;
      const current = getCondition(pool.status?.conditions, update.type);
      if (current?.status === "False" && current.reason === update.reason) continue;
      if (WARNING_REASONS.has(update.reason) || update.type === "CacheReady") {
        const reason = (
          update.type === "CacheReady" ? "InvalidStatus" : update.reason
        ) as ControllerEventReason;
        this.#deps.events.emit(pool, "Warning", reason, update.message ?? "");
      }
    }
  }

  #updateMetrics(pool: IpPool, allocator: PoolAllocator): void {
    const ipam = allocator.pool;
    if (!ipam) return;
    const labels = poolLabels(pool);
    this.#deps.metrics.ippoolUsed.set(labels, ipam.used);
    this.#deps.metrics.ippoolAvailable.set(labels, ipam.available);
    this.#metricLabels.set(keyOf(pool), labels);
  }

  #forgetMetrics(key: string): void {
    const labels = this.#metricLabels.get(key);
    if (!labels) return;
    this.#deps.metrics.ippoolUsed.remove(labels);
    this.#deps.metrics.ippoolAvailable.remove(labels);
    this.#metricLabels.delete(key);
  }

  #now(): Date {
    return new Date(this.#deps.clock.now());
  }
}

/** The labels of a pool's gauges (SPEC section 6). */
export function poolLabels(pool: IpPool): Record<PoolMetricLabels, string> {
  return {
    ippool: keyOf(pool),
    cidr: pool.spec.ipv4Config?.cidr ?? "",
    network: pool.spec.networkName,
  };
}

function conditionsOf(allocator: PoolAllocator, link: Link, agent: AgentOutcome): PoolCondition[] {
  return [
    { type: "Stopped", status: "False", reason: "Running", message: "" },
    cacheCondition(allocator, link),
    agent.registered,
    agent.agentReady,
  ];
}

/** Applies the conditions and the agent reference to a status under construction. */
function applyStatus(
  status: IpPoolStatus,
  updates: PoolCondition[],
  agent: AgentOutcome,
  time: Date,
): void {
  status.conditions = updates.reduce((list, u) => setCondition(list, u, time), status.conditions);
  if (agent.podRef) status.agentPodRef = agent.podRef;
  else delete status.agentPodRef;
}

function cacheCondition(allocator: PoolAllocator, link: Link): PoolCondition {
  if (allocator.state === "ready") {
    const message = link.ok ? "" : `allocations wait: ${link.message}`;
    return { type: "CacheReady", status: "True", reason: "CacheBuilt", message };
  }
  const message = allocator.loadError?.message ?? `the allocation cache is ${allocator.state}`;
  return { type: "CacheReady", status: "False", reason: "InvalidStatus", message };
}
