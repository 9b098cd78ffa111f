import type { IpPool, VmNetCfg } from "../api/types.js";
import type { Logger } from "../logger.js";
import { BY_MAC, type ReconcileDeps, vmNetCfgMacs } from "./context.js";
import { keyOf } from "./names.js";
import type { PoolAllocator } from "./pool-allocator.js";

/**
 * Releases addresses recorded in a pool for a MAC that no vmnetcfg names any more.
 *
 * Such an orphan appears when a vmnetcfg is deleted while no controller runs (nothing saw the
 * deletion), or when someone edits the pool status by hand. The policy is deliberate and
 * conservative, because releasing an address still in use is worse than keeping a free one:
 *
 * - a MAC counts as claimed if any vmnetcfg in scope names it, on any network, in its spec or
 *   status (a MAC that moved between networks keeps its old address until its vmnetcfg's own
 *   stale handling releases it);
 * - only after the cache of vmnetcfgs has synced;
 * - only after the MAC has stayed unclaimed for `orphanGraceMs`, so a vmnetcfg that was just
 *   created, or that another controller just allocated for, has time to reach the cache;
 * - and only if a fresh list of vmnetcfgs from the API confirms it, so a lagging cache can
 *   never cause a release.
 */
export class OrphanSweeper {
  readonly #deps: ReconcileDeps;
  /** pool key -> MAC -> when it was first seen unclaimed. */
  readonly #seen = new Map<string, Map<string, number>>();

  constructor(deps: ReconcileDeps) {
    this.#deps = deps;
  }

  /** One pass over a pool; returns when to look again, if an orphan is waiting out its grace. */
  async sweep(pool: IpPool, allocator: PoolAllocator, logger: Logger): Promise<number | undefined> {
    const ipam = allocator.pool;
    const { caches, clock, settings } = this.#deps;
    if (!ipam || !caches.vmnetcfgs.synced) return undefined;

    const key = keyOf(pool);
    const now = clock.now();
    const seen = this.#seen.get(key) ?? new Map<string, number>();
    const orphans = new Map<string, number>();
    for (const [, mac] of ipam.entries()) {
      if (caches.vmnetcfgs.byIndex(BY_MAC, mac).length > 0) continue;
      orphans.set(mac, seen.get(mac) ?? now);
    }
    this.#seen.set(key, orphans);
    if (orphans.size === 0) return undefined;

    const due = [...orphans].filter(([, since]) => now - since >= settings.orphanGraceMs);
    if (due.length > 0)
      await this.#release(
        pool,
        allocator,
        due.map(([mac]) => mac),
        logger,
      );
    const waits = [...orphans.values()].map((since) => since + settings.orphanGraceMs - now);
    const pending = waits.filter((ms) => ms > 0);
    return pending.length > 0 ? Math.min(...pending) : undefined;
  }

  async #release(
    pool: IpPool,
    allocator: PoolAllocator,
    macs: string[],
    logger: Logger,
  ): Promise<void> {
    const claimed = new Set(claimedMacs(await this.#deps.listVmNetCfgs()));
    const key = keyOf(pool);
    const unclaimed = macs.filter((mac) => !claimed.has(mac));
    for (const mac of macs) this.#seen.get(key)?.delete(mac);
    const outcomes = await Promise.all(unclaimed.map((mac) => allocator.release(mac)));
    unclaimed.forEach((mac, i) => {
      const released = outcomes[i]?.released;
      if (!released) return;
      const why = "no VirtualMachineNetworkConfig names this MAC";
      const message = `released ${released} of ${mac}: ${why}`;
      this.#deps.events.emit(pool, "Normal", "OrphanReleased", message);
      logger.info("orphaned address released", { pool: key, mac, ip: released });
    });
  }
}

function claimedMacs(configs: VmNetCfg[]): string[] {
  return configs.flatMap((config) => vmNetCfgMacs(config));
}
