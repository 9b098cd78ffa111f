import type { V1Pod } from "@kubernetes/client-node";
import type { IpPool, VmNetCfg } from "../api/types.js";
import { agentPoolKey, BY_NETWORK } from "./context.js";
import type { ControllerInformers } from "./controller-informers.js";
import type { LeadershipTerm, Tombstones } from "./controller-term.js";
import type { InformerEvent } from "./informer.js";
import { keyOf } from "./names.js";
import { linkedPoolKey } from "./pool-lookup.js";
import type { NetworkAttachmentDefinition, VirtualMachine } from "./resources.js";

/**
 * Turns cache changes into work: each change queues the keys whose reconcile reads the
 * changed object. Deleted pools and vmnetcfgs are kept as tombstones whether or not a term
 * runs, so the next leader still releases what they held. Without a term (a standby) only the
 * tombstones are kept: a new term queues everything anyway.
 */
export function routeEvents(
  caches: ControllerInformers,
  tombstones: Tombstones,
  term: () => LeadershipTerm | undefined,
): void {
  caches.pools.on((event) => onPool(event, tombstones, term()));
  caches.vmnetcfgs.on((event) => onVmNetCfg(event, caches, tombstones, term()));
  caches.vms.on((event) => term()?.queues.vm.add(event.key));
  caches.nads.on((event) => onNad(event, caches, term()));
  caches.pods.on((event) => onPod(event, caches, term()));
}

function onPool(event: InformerEvent<IpPool>, tombstones: Tombstones, term?: LeadershipTerm) {
  if (event.type === "deleted") tombstones.pools.set(event.key, event.object);
  else tombstones.pools.delete(event.key);
  if (!term) return;
  if (event.type === "updated") term.observePool(event.object, event.key);
  term.queues.ippool.add(event.key);
}

function onVmNetCfg(
  event: InformerEvent<VmNetCfg>,
  caches: ControllerInformers,
  tombstones: Tombstones,
  term?: LeadershipTerm,
) {
  if (event.type === "deleted") tombstones.vmnetcfgs.set(event.key, event.object);
  if (!term) return;
  term.queues.vmnetcfg.add(event.key);
  // The VM reconciler compares the vmnetcfg with its VM: a vmnetcfg edited or deleted by
  // someone else is put right again.
  const specChanged =
    event.type !== "updated" ||
    JSON.stringify(event.previous?.spec) !== JSON.stringify(event.object.spec) ||
    JSON.stringify(event.previous?.metadata.ownerReferences) !==
      JSON.stringify(event.object.metadata.ownerReferences);
  if (specChanged && caches.vms.get(event.key)) term.queues.vm.add(event.key);
}

/** A NAD's labels link it to its pool: the pool, the VMs and vmnetcfgs on it depend on them. */
function onNad(
  event: InformerEvent<NetworkAttachmentDefinition>,
  caches: ControllerInformers,
  term?: LeadershipTerm,
) {
  if (!term) return;
  const pools = new Set(caches.pools.byIndex(BY_NETWORK, event.key).map((pool) => keyOf(pool)));
  for (const nad of [event.object, event.previous]) {
    const linked = nad ? linkedPoolKey(nad) : undefined;
    if (linked && caches.poolKeyInScope(linked)) pools.add(linked);
  }
  for (const key of pools) term.queues.ippool.add(key);
  for (const vm of caches.vms.byIndex(BY_NETWORK, event.key)) {
    term.queues.vm.add(keyOf(vm as VirtualMachine));
  }
  for (const config of caches.vmnetcfgs.byIndex(BY_NETWORK, event.key)) {
    term.queues.vmnetcfg.add(keyOf(config));
  }
}

function onPod(event: InformerEvent<V1Pod>, caches: ControllerInformers, term?: LeadershipTerm) {
  if (!term) return;
  const keys = new Set<string>();
  for (const pod of [event.object, event.previous]) {
    const key = pod ? agentPoolKey(pod) : undefined;
    // Agent pods of pools this controller does not serve (another controller's scope) are
    // never touched.
    if (key && caches.poolKeyInScope(key)) keys.add(key);
  }
  for (const key of keys) term.queues.ippool.add(key);
}
