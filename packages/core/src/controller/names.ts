import { createHash } from "node:crypto";
import { API_GROUP } from "../api/types.js";

/** `network.harvesterhci.io/`: prefix of the node labels naming reachable cluster networks. */
export const API_GROUP_PREFIX = `${API_GROUP}/`;
/** Label on agent pods: `agent`. */
export const LABEL_VM_DHCP_CONTROLLER = `${API_GROUP}/vm-dhcp-controller`;
/** Label on a NetworkAttachmentDefinition and on agent pods: namespace of the IPPool. */
export const LABEL_IPPOOL_NAMESPACE = `${API_GROUP}/ippool-namespace`;
/** Label on a NetworkAttachmentDefinition and on agent pods: name of the IPPool. */
export const LABEL_IPPOOL_NAME = `${API_GROUP}/ippool-name`;
/** Label on a NetworkAttachmentDefinition naming its physical (cluster) network. */
export const LABEL_CLUSTER_NETWORK = `${API_GROUP}/clusternetwork`;
/**
 * Annotation on an IPPool that keeps its agent pod on the image it runs now. Its presence is
 * what counts, as upstream: any value holds upgrades, `"false"` and `""` included; removing
 * the annotation lets the agent be replaced.
 */
export const ANNOTATION_HOLD_AGENT_UPGRADE = `${API_GROUP}/hold-ippool-agent-upgrade`;
/** Annotation on agent pods: hash of the pod spec the controller wanted when it made them. */
export const ANNOTATION_AGENT_SPEC_HASH = `${API_GROUP}/agent-spec-hash`;
/** Multus annotation listing the secondary networks of a pod. */
export const ANNOTATION_MULTUS_NETWORKS = "k8s.v1.cni.cncf.io/networks";
/** Annotation on a VirtualMachine: JSON map NIC name -> MAC (Harvester writes it). */
export const ANNOTATION_MAC_ADDRESS = "harvesterhci.io/mac-address";
/** Prefix of the per-NIC static address annotation on a VirtualMachine. */
export const ANNOTATION_STATIC_IP_PREFIX = "static-ip.harvesterhci.io/";
/** Label on a vmnetcfg naming its VirtualMachine. */
export const LABEL_VM_NAME = "harvesterhci.io/vmName";
/** Value of {@link LABEL_VM_DHCP_CONTROLLER} on agent pods. */
export const AGENT_LABEL_VALUE = "agent";

/** Longest Kubernetes object name that is also a DNS label (pods, services). */
export const MAX_NAME_LENGTH = 63;
/** Hex digits of the hash that stands in for the cut part of a long name. */
const NAME_HASH_DIGITS = 6;

/** `namespace/name`, the key of namespaced objects in caches and queues. */
export function objectKey(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? ""}/${name ?? ""}`;
}

/** The key of an object from its metadata. */
export function keyOf(object: { metadata?: { namespace?: string; name?: string } }): string {
  return objectKey(object.metadata?.namespace, object.metadata?.name);
}

/** Splits a `namespace/name` key; a key without a slash has an empty namespace. */
export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf("/");
  if (slash < 0) return { namespace: "", name: key };
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/**
 * The `namespace/name` key of a Multus network reference. A bare name lives in
 * `defaultNamespace`: `default` for an IPPool's `spec.networkName`, the object's own namespace
 * for a VM or a vmnetcfg (SPEC section 2).
 */
export function networkKey(networkName: string, defaultNamespace: string): string {
  const slash = networkName.indexOf("/");
  return slash < 0 ? `${defaultNamespace}/${networkName}` : networkName;
}

/** The key of the NetworkAttachmentDefinition an IPPool serves. */
export function poolNetworkKey(pool: { spec?: { networkName?: string } }): string | undefined {
  const name = pool.spec?.networkName;
  return name ? networkKey(name, "default") : undefined;
}

const MAC_PATTERN = /^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/;

/**
 * A MAC address in the form the pools and the agent use (lower case, colons), or undefined
 * when `text` is not a 48-bit MAC written with `:` or `-` separators.
 */
export function normalizeMac(text: string | undefined): string | undefined {
  if (typeof text !== "string") return undefined;
  const lower = text.trim().toLowerCase();
  return MAC_PATTERN.test(lower) ? lower.replaceAll("-", ":") : undefined;
}

/**
 * A name of at most 63 characters made of `prefix` and `suffix`: `<prefix>-<suffix>` when it
 * fits, else the prefix cut short and followed by six hex digits of its SHA-256, so that two
 * long prefixes that share their beginning still get different names.
 */
export function shortName(prefix: string, suffix: string): string {
  const full = `${prefix}-${suffix}`;
  if (full.length <= MAX_NAME_LENGTH) return full;
  const hash = createHash("sha256").update(prefix).digest("hex").slice(0, NAME_HASH_DIGITS);
  const room = MAX_NAME_LENGTH - suffix.length - NAME_HASH_DIGITS - 2;
  const cut = prefix.slice(0, room).replace(/[-.]+$/, "");
  return `${cut}-${hash}-${suffix}`;
}

/**
 * Name of the agent pod of a pool: `<pool-ns>-<pool-name>-agent`, shortened by
 * {@link shortName} when longer than 63 characters. A replacement made while an earlier pod
 * still holds the name (stuck terminating) gets `generation` >= 1: `...-agent-<generation>`.
 */
export function agentPodName(poolNamespace: string, poolName: string, generation = 0): string {
  const suffix = generation > 0 ? `agent-${generation}` : "agent";
  return shortName(`${poolNamespace}-${poolName}`, suffix);
}
