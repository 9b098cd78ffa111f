/**
 * TypeScript shapes of the `network.harvesterhci.io/v1alpha1` resources. Field names are part
 * of the API contract with users (they mirror the upstream Harvester project) and must not
 * change; the CRD schemas in `deploy/crds/` are the authority these types follow.
 */
import type { V1ObjectMeta } from "@kubernetes/client-node";

/** API group of every resource this project defines. */
export const API_GROUP = "network.harvesterhci.io";
/** The one served version. */
export const API_VERSION = "v1alpha1";
/** `apiVersion` as written in manifests. */
export const GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;

/** Condition status values, as in every Kubernetes condition. */
export type ConditionStatus = "True" | "False" | "Unknown";

/** A status condition. Both kinds use this shape (upstream's, with `lastUpdateTime`). */
export interface Condition<Type extends string = string> {
  type: Type;
  status: ConditionStatus;
  reason?: string;
  message?: string;
  /** RFC 3339; changes whenever reason or message change. */
  lastUpdateTime?: string;
  /** RFC 3339; changes only when `status` changes. */
  lastTransitionTime?: string;
}

/** Marks that stand in place of a MAC in `status.ipv4.allocated`. */
export const ALLOCATED_EXCLUDED = "EXCLUDED";
export const ALLOCATED_RESERVED = "RESERVED";

export interface IpPoolRange {
  start: string;
  end: string;
  exclude?: string[];
}

export interface Ipv4Config {
  cidr: string;
  serverIP: string;
  pool: IpPoolRange;
  router?: string;
  dns?: string[];
  domainName?: string;
  domainSearch?: string[];
  ntp?: string[];
  /** Seconds; absent means a very long lease. */
  leaseTime?: number;
}

export interface IpPoolSpec {
  /** `namespace/name` of a NetworkAttachmentDefinition; a bare name means `default`. */
  networkName: string;
  paused?: boolean;
  ipv4Config: Ipv4Config;
}

export type IpPoolConditionType = "Registered" | "CacheReady" | "AgentReady" | "Stopped";

export interface PodReference {
  namespace?: string;
  name?: string;
  image?: string;
  uid?: string;
}

export interface IpPoolStatus {
  lastUpdate?: string;
  ipv4?: {
    /** IP -> MAC, or the marks `EXCLUDED` / `RESERVED`. */
    allocated?: Record<string, string>;
    used?: number;
    available?: number;
  };
  agentPodRef?: PodReference;
  conditions?: Condition<IpPoolConditionType>[];
}

/** An `IPPool`: the address pool of one VM network. */
export interface IpPool {
  apiVersion?: string;
  kind?: string;
  metadata: V1ObjectMeta;
  spec: IpPoolSpec;
  status?: IpPoolStatus;
}

export interface NetworkConfig {
  networkName: string;
  macAddress: string;
  /** The address this MAC must get (a static lease). */
  ipAddress?: string;
}

export interface VmNetCfgSpec {
  vmName: string;
  networkConfigs?: NetworkConfig[];
  paused?: boolean;
}

export type NetworkConfigState = "Allocated" | "Pending" | "Stale";

export interface NetworkConfigStatus {
  allocatedIPAddress?: string;
  macAddress: string;
  networkName: string;
  state: NetworkConfigState;
}

export type VmNetCfgConditionType = "Allocated" | "Disabled" | "InSynced";

export interface VmNetCfgStatus {
  networkConfigs?: NetworkConfigStatus[];
  conditions?: Condition<VmNetCfgConditionType>[];
}

/** A `VirtualMachineNetworkConfig` (vmnetcfg): one VM's NICs and their addresses. */
export interface VmNetCfg {
  apiVersion?: string;
  kind?: string;
  metadata: V1ObjectMeta;
  spec: VmNetCfgSpec;
  status?: VmNetCfgStatus;
}

/** Where a kind lives in the API, for the generic client. */
export interface ResourceKind {
  group: string;
  version: string;
  kind: string;
  plural: string;
}

export const IP_POOL: ResourceKind = {
  group: API_GROUP,
  version: API_VERSION,
  kind: "IPPool",
  plural: "ippools",
};

export const VM_NET_CFG: ResourceKind = {
  group: API_GROUP,
  version: API_VERSION,
  kind: "VirtualMachineNetworkConfig",
  plural: "virtualmachinenetworkconfigs",
};
