import type { IpPool } from "../api/types.js";
import type { ObjectStore } from "./informer.js";
import { LABEL_IPPOOL_NAME, LABEL_IPPOOL_NAMESPACE, objectKey, poolNetworkKey } from "./names.js";
import type { NetworkAttachmentDefinition } from "./resources.js";

/** Why a network has no usable pool. */
export type NoPoolReason = "NetworkNotFound" | "NoPool";

/** The pool serving a network, or why there is none. */
export type PoolLookup =
  | { ok: true; pool: IpPool; poolKey: string; nad: NetworkAttachmentDefinition }
  | { ok: false; reason: NoPoolReason; message: string };

/**
 * The pool of a network, found the only way that holds when pools have any name and live in
 * any namespace: the NetworkAttachmentDefinition's `ippool-namespace`/`ippool-name` labels,
 * which the IPPool reconciler writes. A label pointing at a pool that no longer exists or
 * serves another network counts as no pool.
 */
export function poolForNetwork(
  networkKey: string,
  nads: ObjectStore<NetworkAttachmentDefinition>,
  pools: ObjectStore<IpPool>,
): PoolLookup {
  const nad = nads.get(networkKey);
  if (!nad) {
    const message = `NetworkAttachmentDefinition ${networkKey} does not exist`;
    return { ok: false, reason: "NetworkNotFound", message };
  }
  const poolKey = linkedPoolKey(nad);
  const pool = poolKey ? pools.get(poolKey) : undefined;
  if (!poolKey || !pool || pool.metadata.deletionTimestamp) {
    return { ok: false, reason: "NoPool", message: `network ${networkKey} has no IPPool` };
  }
  if (poolNetworkKey(pool) !== networkKey) {
    const message = `network ${networkKey} names IPPool ${poolKey}, which serves another network`;
    return { ok: false, reason: "NoPool", message };
  }
  return { ok: true, pool, poolKey, nad };
}

/** The `namespace/name` of the pool a NetworkAttachmentDefinition's labels name, if any. */
export function linkedPoolKey(nad: NetworkAttachmentDefinition): string | undefined {
  const labels = nad.metadata.labels ?? {};
  const namespace = labels[LABEL_IPPOOL_NAMESPACE];
  const name = labels[LABEL_IPPOOL_NAME];
  return namespace && name ? objectKey(namespace, name) : undefined;
}
