import type { IpamError } from "@vm-dhcp/ipam";
import { getCondition } from "../api/conditions.js";
import type { IpPool, NetworkConfigStatus, VmNetCfg } from "../api/types.js";
import type { Logger } from "../logger.js";
import { BY_MAC, type ReconcileDeps } from "./context.js";
import { keyOf, networkKey, normalizeMac } from "./names.js";
import {
  type AllocationOutcome,
  type AllocationRequest,
  type PoolAllocator,
  PoolUnavailableError,
} from "./pool-allocator.js";
import { type PoolLookup, poolForNetwork } from "./pool-lookup.js";
import { sameJson } from "./pool-status-patch.js";
import type { ReconcileContext, ReconcileResult, Reconciler } from "./reconcile-loop.js";
import { resourcePath, VM_NET_CFG } from "./resources.js";
import { VmNetCfgMetrics } from "./vmnetcfg-metrics.js";
import {
  leavingEntries,
  type NicProblem,
  type NicResult,
  nicId,
  releasingConditions,
  rememberedAddress,
  rememberedResults,
  settledConditions,
  statusEntries,
  type WantedNic,
  wantedNics,
} from "./vmnetcfg-plan.js";

/**
 * VirtualMachineNetworkConfig reconciler (SPEC section 3). In this order, so that a crash
 * between any two steps leaves nothing the pools do not record:
 *
 * 1. NICs that left the spec (or all, when paused) are first marked `Stale` (paused: `Pending`
 *    with the address remembered) in the vmnetcfg status;
 * 2. their addresses are released from the pools; a `Pending` entry whose pool still records
 *    its address (a release that failed or never ran after step 1) is released again;
 * 3. every NIC of the spec gets its address: the static `ipAddress`, else the one its status
 *    remembers, else the next free one. The allocator answers only once the pool status
 *    records the address;
 * 4. the vmnetcfg status records the outcome, with a condition message naming each NIC's
 *    problem (no pool, exhausted, static address taken and by whom).
 *
 * A deleted vmnetcfg's addresses are released from its last known version.
 */
export class VmNetCfgReconciler implements Reconciler {
  readonly name = "vmnetcfg";
  readonly #deps: ReconcileDeps;
  readonly #metrics: VmNetCfgMetrics;
  /**
   * Last status written per key and the cached version it was computed from: reconciling the
   * same version again (our own write not in the cache yet) must not write it a second time.
   */
  readonly #written = new Map<string, { basedOn: string | undefined; status: string }>();

  constructor(deps: ReconcileDeps) {
    this.#deps = deps;
    this.#metrics = new VmNetCfgMetrics(deps.metrics);
  }

  async reconcile(key: string, { logger }: ReconcileContext): Promise<ReconcileResult | undefined> {
    const config = this.#deps.caches.vmnetcfgs.get(key);
    if (!config || config.metadata.deletionTimestamp) {
      await this.#releaseDeleted(key, config, logger);
      return undefined;
    }
    const { nics, invalid } = wantedNics(config);
    const paused = !!config.spec.paused;
    const leaving = leavingEntries(config, nics, (entry) => this.#poolHolds(config, entry));
    let current = config;
    if (leaving.some((entry) => entry.state === "Allocated")) {
      current = await this.#markLeaving(config, leaving, paused);
    }
    await this.#release(config, leaving, logger);
    const results = paused
      ? rememberedResults(config, nics)
      : await Promise.all(nics.map((nic) => this.#allocate(config, nic, logger)));
    results.push(...invalid);
    await this.#writeStatus(current, results, paused);
    this.#metrics.set(key, results);
    return undefined;
  }

  /** Step 1: the leaving entries no longer claim their addresses in the vmnetcfg status. */
  async #markLeaving(
    config: VmNetCfg,
    leaving: NetworkConfigStatus[],
    paused: boolean,
  ): Promise<VmNetCfg> {
    const state = paused ? "Pending" : "Stale";
    const networkConfigs = (config.status?.networkConfigs ?? []).map((entry) =>
      leaving.includes(entry) ? { ...entry, state } : entry,
    );
    const conditions = releasingConditions(config.status?.conditions, paused, this.#now());
    return this.#patchStatus(config, { networkConfigs, conditions });
  }

  /** Step 2: releases leaving addresses, unless another vmnetcfg names the same NIC. */
  async #release(config: VmNetCfg, leaving: NetworkConfigStatus[], logger: Logger) {
    const key = keyOf(config);
    const namespace = config.metadata.namespace ?? "default";
    await Promise.all(
      leaving.map(async (entry) => {
        const network = networkKey(entry.networkName, namespace);
        const mac = normalizeMac(entry.macAddress) ?? entry.macAddress;
        if (this.#claimedElsewhere(network, mac, key)) return;
        const released = await this.#releaseFrom(network, mac, entry.allocatedIPAddress);
        if (!released) return;
        const message = `released ${released.ip} of ${mac} on ${entry.networkName}`;
        this.#deps.events.emit(config, "Normal", "AddressReleased", message);
        logger.info("address released", { mac, ip: released.ip, network });
      }),
    );
  }

  /** Releases `mac` from the pool of `network`; the address freed and its pool, if any. */
  async #releaseFrom(network: string, mac: string, ip?: string): Promise<Released | undefined> {
    const lookup = this.#lookup(network);
    if (!lookup.ok) return undefined;
    try {
      const { released } = await this.#deps.allocators.get(lookup.pool).release(mac, ip);
      return released ? { ip: released, pool: lookup.pool } : undefined;
    } catch (error) {
      // A paused pool keeps its data. Once it resumes, a paused vmnetcfg's `Pending` entries
      // are released again (the pool wakes its vmnetcfgs); other addresses (deleted vmnetcfgs,
      // NICs gone from a spec) go when the orphan sweep finds them.
      if (error instanceof PoolUnavailableError && error.reason === "Paused") return undefined;
      throw error;
    }
  }

  /** Step 3 for one NIC. */
  async #allocate(config: VmNetCfg, nic: WantedNic, logger: Logger): Promise<NicResult> {
    const lookup = this.#lookup(nic.networkKey);
    if (!lookup.ok) return pending(nic, { reason: lookup.reason, message: lookup.message });
    if (lookup.pool.spec.paused) {
      // A paused pool keeps its MAC -> IP map, so the status keeps showing the address too.
      const problem: NicProblem = {
        reason: "PoolPaused",
        message: `IPPool ${lookup.poolKey} is paused`,
      };
      const ip = rememberedAddress(config, nic);
      return { ...pending(nic, problem), ...(ip ? { ip } : {}) };
    }
    const allocator = this.#deps.allocators.get(lookup.pool);
    const remembered = rememberedAddress(config, nic);
    const request: AllocationRequest = nic.wanted
      ? { mac: nic.mac, wanted: nic.wanted, mode: "static" }
      : remembered
        ? { mac: nic.mac, wanted: remembered, mode: "remembered" }
        : { mac: nic.mac, mode: "any" };
    let outcome: AllocationOutcome;
    try {
      outcome = await allocator.allocate(request);
    } catch (error) {
      if (!(error instanceof PoolUnavailableError) || error.reason !== "InvalidStatus") throw error;
      return pending(nic, { reason: "PoolUnavailable", message: error.message });
    }
    if (outcome.ok) {
      if (outcome.changed) this.#reportAllocated(config, nic, outcome.ip, outcome.replaced, logger);
      return { networkName: nic.networkName, mac: nic.mac, ip: outcome.ip, state: "Allocated" };
    }
    const problem = this.#refusal(outcome.error, nic, lookup.poolKey, allocator);
    this.#wait(lookup.poolKey, keyOf(config));
    this.#reportRefusal(config, lookup, problem);
    if (outcome.held) {
      const { networkName, mac } = nic;
      return { networkName, mac, ip: outcome.held, state: "Allocated", problem };
    }
    return pending(nic, problem);
  }

  #refusal(
    error: IpamError,
    nic: WantedNic,
    poolKey: string,
    allocator: PoolAllocator,
  ): NicProblem {
    if (error.code === "EXHAUSTED") {
      const size = allocator.pool?.size ?? 0;
      const message = `IPPool ${poolKey} has no free address (all ${size} in use)`;
      return { reason: "PoolExhausted", message };
    }
    if (error.code === "ALREADY_ALLOCATED" && error.owner) {
      const holders = this.#deps.caches.vmnetcfgs
        .byIndex(BY_MAC, error.owner)
        .map((holder) => `vmnetcfg ${keyOf(holder)}`);
      const by = holders.length > 0 ? ` (${holders.join(", ")})` : "";
      const message = `static address ${nic.wanted} is taken by ${error.owner}${by}`;
      return { reason: "StaticAddressConflict", message };
    }
    const message = `static address ${nic.wanted} cannot be used: ${error.message}`;
    return { reason: "StaticAddressInvalid", message };
  }

  #reportAllocated(
    config: VmNetCfg,
    nic: WantedNic,
    ip: string,
    replaced: string | undefined,
    logger: Logger,
  ): void {
    const moved = replaced ? ` (was ${replaced})` : "";
    const message = `allocated ${ip} to ${nic.mac} on ${nic.networkName}${moved}`;
    this.#deps.events.emit(config, "Normal", "AddressAllocated", message);
    logger.info("address allocated", { mac: nic.mac, ip, network: nic.networkKey });
  }

  /** Events for a refusal, once: not again while the condition already says it. */
  #reportRefusal(config: VmNetCfg, lookup: PoolLookup & { ok: true }, problem: NicProblem) {
    const said = getCondition(config.status?.conditions, "Allocated")?.message ?? "";
    if (said.includes(problem.message)) return;
    if (problem.reason === "PoolExhausted") {
      this.#deps.events.emit(config, "Warning", "PoolExhausted", problem.message);
      this.#deps.events.emit(lookup.pool, "Warning", "PoolExhausted", problem.message);
    } else if (problem.reason === "StaticAddressConflict") {
      this.#deps.events.emit(config, "Warning", "StaticAddressConflict", problem.message);
    }
  }

  /** Step 4: records the results, unless the status says exactly that already. */
  async #writeStatus(config: VmNetCfg, results: NicResult[], paused: boolean): Promise<void> {
    const conditions = settledConditions(config.status?.conditions, results, paused, this.#now());
    const networkConfigs = statusEntries(results);
    const unchanged =
      conditions === config.status?.conditions &&
      sameJson(networkConfigs, config.status?.networkConfigs ?? []);
    if (unchanged) return;
    const basedOn = config.metadata.resourceVersion;
    const status = JSON.stringify({ networkConfigs, conditions: stripTimes(conditions) });
    const last = this.#written.get(keyOf(config));
    if (last && last.basedOn === basedOn && last.status === status) return;
    await this.#patchStatus(config, { networkConfigs, conditions });
    this.#written.set(keyOf(config), { basedOn, status });
  }

  /**
   * A status merge patch that holds only if `config` is still the current version: a status
   * computed from a spec that has changed since (the VM reconciler's NIC update) is refused
   * with 409 and computed again, never written.
   */
  async #patchStatus(config: VmNetCfg, status: object): Promise<VmNetCfg> {
    const { namespace, name, resourceVersion } = config.metadata;
    const path = resourcePath(VM_NET_CFG, namespace, name, "status");
    return this.#deps.kube.mergePatch<VmNetCfg>(path, { metadata: { resourceVersion }, status });
  }

  /** Releases everything a deleted vmnetcfg held, from its last known version. */
  async #releaseDeleted(key: string, live: VmNetCfg | undefined, logger: Logger) {
    const last = live ?? this.#deps.tombstones.vmnetcfgs.get(key);
    this.#metrics.delete(key);
    this.#written.delete(key);
    if (!last) return;
    const namespace = last.metadata.namespace ?? "default";
    const held = [
      ...(last.status?.networkConfigs ?? []).filter((e) => e.state !== "Pending"),
      ...(last.spec?.networkConfigs ?? []).map((e) => ({ ...e, allocatedIPAddress: undefined })),
    ];
    const done = new Set<string>();
    for (const entry of held) {
      const id = nicId(entry.networkName, entry.macAddress, namespace);
      if (done.has(id)) continue;
      done.add(id);
      const network = networkKey(entry.networkName, namespace);
      const mac = normalizeMac(entry.macAddress) ?? entry.macAddress;
      if (this.#claimedElsewhere(network, mac, key)) continue;
      const released = await this.#releaseFrom(network, mac, entry.allocatedIPAddress);
      if (!released) continue;
      // The vmnetcfg is gone, so the event goes on the pool the address returned to.
      const message =
        `released ${released.ip} of ${mac} on ${entry.networkName}: ` +
        `vmnetcfg ${key} was deleted`;
      this.#deps.events.emit(released.pool, "Normal", "AddressReleased", message);
      logger.info("address released", { mac, ip: released.ip, network });
    }
    if (!live) this.#deps.tombstones.vmnetcfgs.delete(key);
  }

  /** True when a vmnetcfg other than `key` names the NIC (network, MAC). */
  #claimedElsewhere(network: string, mac: string, key: string): boolean {
    return this.#deps.caches.vmnetcfgs.byIndex(BY_MAC, mac).some((other) => {
      if (keyOf(other) === key) return false;
      const namespace = other.metadata.namespace ?? "default";
      const entries = [
        ...(other.spec?.networkConfigs ?? []),
        ...(other.status?.networkConfigs ?? []),
      ];
      return entries.some(
        (e) => nicId(e.networkName, e.macAddress, namespace) === `${network} ${mac}`,
      );
    });
  }

  /**
   * Whether the pool of `entry`'s network records its MAC as holding its address: from the
   * allocator when it has loaded the pool (it sees its own writes first), else from the cache.
   */
  #poolHolds(config: VmNetCfg, entry: NetworkConfigStatus): boolean {
    const namespace = config.metadata.namespace ?? "default";
    const lookup = this.#lookup(networkKey(entry.networkName, namespace));
    const ip = entry.allocatedIPAddress;
    if (!lookup.ok || !ip) return false;
    const mac = normalizeMac(entry.macAddress) ?? entry.macAddress;
    const ipam = this.#deps.allocators.find(lookup.poolKey)?.pool;
    if (ipam) return ipam.addressOf(mac) === ip;
    const owner = lookup.pool.status?.ipv4?.allocated?.[ip];
    return !!owner && (normalizeMac(owner) ?? owner) === mac;
  }

  #lookup(network: string): PoolLookup {
    return poolForNetwork(network, this.#deps.caches.nads, this.#deps.caches.pools);
  }

  #wait(poolKey: string, key: string): void {
    const keys = this.#deps.waiting.get(poolKey) ?? new Set<string>();
    this.#deps.waiting.set(poolKey, keys);
    keys.add(key);
  }

  #now(): Date {
    return new Date(this.#deps.clock.now());
  }
}

/** An address released, and the pool it returned to. */
interface Released {
  ip: string;
  pool: IpPool;
}

function pending(nic: WantedNic, problem: NicProblem): NicResult {
  return { networkName: nic.networkName, mac: nic.mac, state: "Pending", problem };
}

function stripTimes(
  conditions: { type: string; status: string; reason?: string; message?: string }[],
) {
  return conditions.map(({ type, status, reason, message }) => ({ type, status, reason, message }));
}
