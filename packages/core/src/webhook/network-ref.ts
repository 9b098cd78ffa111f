/**
 * How resources name a VM network: a Multus NetworkAttachmentDefinition (NAD) written as
 * `namespace/name`, or a bare `name` whose namespace depends on who writes it (SPEC section 2:
 * `default` for an IPPool, the object's own namespace for a vmnetcfg or a VM).
 */

/** Label on a NAD naming the namespace of the IPPool that serves it (set by the controller). */
export const NAD_IPPOOL_NAMESPACE_LABEL = "network.harvesterhci.io/ippool-namespace";
/** Label on a NAD naming the IPPool that serves it (set by the controller). */
export const NAD_IPPOOL_NAME_LABEL = "network.harvesterhci.io/ippool-name";
/** Namespace of a bare `spec.networkName` of an IPPool (SPEC section 2). */
export const IPPOOL_DEFAULT_NETWORK_NAMESPACE = "default";

/** A namespaced object reference. */
export interface ObjectRef {
  readonly namespace: string;
  readonly name: string;
}

const DNS_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS_SUBDOMAIN = "[a-z0-9]([-a-z0-9.]*[a-z0-9])?";
const NETWORK_NAME = new RegExp(`^(?:(${DNS_LABEL})/)?(${DNS_SUBDOMAIN})$`);

/**
 * Parses `namespace/name` or `name`; a bare name takes `defaultNamespace`. Returns undefined
 * when the text is neither (upper case, an empty part, more than one slash).
 *
 * @example parseNetworkName("net-a", "vms") // { namespace: "vms", name: "net-a" }
 */
export function parseNetworkName(text: string, defaultNamespace: string): ObjectRef | undefined {
  const match = NETWORK_NAME.exec(text);
  if (!match) return undefined;
  return { namespace: match[1] ?? defaultNamespace, name: match[3]! };
}

/** `namespace/name`. */
export function formatRef(ref: ObjectRef): string {
  return `${ref.namespace}/${ref.name}`;
}

/** True when both name the same object. */
export function sameRef(a: ObjectRef, b: ObjectRef): boolean {
  return a.namespace === b.namespace && a.name === b.name;
}
