import type { V1Pod } from "@kubernetes/client-node";
import type { IpPool, VmNetCfg } from "../api/types.js";
import type { AgentPodSettings } from "./agent-pod.js";
import type { AllocatorRegistry } from "./allocator-registry.js";
import type { Clock } from "./clock.js";
import type { EventRecorder } from "./events.js";
import type { IndexFunction, ObjectStore } from "./informer.js";
import type { KubeClient } from "./kube-client.js";
import type { ControllerMetrics } from "./metrics.js";
import {
  LABEL_IPPOOL_NAME,
  LABEL_IPPOOL_NAMESPACE,
  networkKey,
  normalizeMac,
  objectKey,
  poolNetworkKey,
} from "./names.js";
import { linkedPoolKey } from "./pool-lookup.js";
import type { NetworkAttachmentDefinition, VirtualMachine } from "./resources.js";

/** Index of objects by the network (`namespace/name` of a NAD) they name. */
export const BY_NETWORK = "network";
/** Index of vmnetcfgs by the MACs they name (spec and status). */
export const BY_MAC = "mac";
/** Index of NADs and agent pods by the pool their labels name. */
export const BY_POOL = "pool";

/** The informer caches the reconcilers read. */
export interface ControllerCaches {
  pools: ObjectStore<IpPool>;
  vmnetcfgs: ObjectStore<VmNetCfg>;
  vms: ObjectStore<VirtualMachine>;
  nads: ObjectStore<NetworkAttachmentDefinition>;
  /** Agent pods of the controller's namespace. */
  pods: ObjectStore<V1Pod>;
}

/** Tunables of the reconcilers. */
export interface ReconcileSettings {
  agent: AgentPodSettings;
  noAgent: boolean;
  /** An address recorded for a MAC no vmnetcfg names is released after this long. */
  orphanGraceMs: number;
  /** A terminating agent pod is replaced this long after its deletion deadline. */
  stuckAgentGraceMs: number;
}

/** Everything a reconciler acts through, for one leadership term. */
export interface ReconcileDeps {
  kube: KubeClient;
  caches: ControllerCaches;
  allocators: AllocatorRegistry;
  events: EventRecorder;
  metrics: ControllerMetrics;
  clock: Clock;
  settings: ReconcileSettings;
  enqueue: { pool(key: string): void; vmnetcfg(key: string): void; vm(key: string): void };
  /** vmnetcfgs waiting for an address of a pool to become free. */
  waiting: Map<string, Set<string>>;
  /** Last versions of deleted objects, so their addresses can be released. */
  tombstones: { pools: Map<string, IpPool>; vmnetcfgs: Map<string, VmNetCfg> };
  /** A fresh list of every vmnetcfg in scope, read from the API rather than the cache. */
  listVmNetCfgs(): Promise<VmNetCfg[]>;
}

/** Network keys a vmnetcfg names, in spec and status. */
export const vmNetCfgNetworks: IndexFunction<VmNetCfg> = (config) => {
  const namespace = config.metadata.namespace ?? "default";
  const names = [
    ...(config.spec?.networkConfigs ?? []).map((nc) => nc.networkName),
    ...(config.status?.networkConfigs ?? []).map((nc) => nc.networkName),
  ];
  return unique(names.filter(Boolean).map((name) => networkKey(name, namespace)));
};

/** MACs a vmnetcfg names, in spec and status, normalised. */
export const vmNetCfgMacs: IndexFunction<VmNetCfg> = (config) => {
  const macs = [
    ...(config.spec?.networkConfigs ?? []).map((nc) => nc.macAddress),
    ...(config.status?.networkConfigs ?? []).map((nc) => nc.macAddress),
  ];
  return unique(macs.map((mac) => normalizeMac(mac) ?? mac).filter(Boolean));
};

/** The network of a pool. */
export const poolNetworks: IndexFunction<IpPool> = (pool) => {
  const key = poolNetworkKey(pool);
  return key ? [key] : [];
};

/** Network keys of a VM's Multus networks. */
export const vmNetworks: IndexFunction<VirtualMachine> = (vm) => {
  const namespace = vm.metadata.namespace ?? "default";
  const networks = vm.spec?.template?.spec?.networks ?? [];
  return unique(
    networks.flatMap((n) =>
      n.multus?.networkName ? [networkKey(n.multus.networkName, namespace)] : [],
    ),
  );
};

/** The pool a NAD's labels name. */
export const nadPools: IndexFunction<NetworkAttachmentDefinition> = (nad) => {
  const key = linkedPoolKey(nad);
  return key ? [key] : [];
};

/** The pool an agent pod serves, from its labels. */
export const podPools: IndexFunction<V1Pod> = (pod) => {
  const key = agentPoolKey(pod);
  return key ? [key] : [];
};

/** `namespace/name` of the pool of an agent pod, from its labels. */
export function agentPoolKey(pod: V1Pod): string | undefined {
  const labels = pod.metadata?.labels ?? {};
  const namespace = labels[LABEL_IPPOOL_NAMESPACE];
  const name = labels[LABEL_IPPOOL_NAME];
  return namespace && name ? objectKey(namespace, name) : undefined;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
