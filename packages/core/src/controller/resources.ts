import type { V1ObjectMeta } from "@kubernetes/client-node";
import { IP_POOL, type ResourceKind, VM_NET_CFG } from "../api/types.js";

/** A Multus NetworkAttachmentDefinition: only metadata matters to the controller. */
export interface NetworkAttachmentDefinition {
  apiVersion?: string;
  kind?: string;
  metadata: V1ObjectMeta;
  spec?: { config?: string };
}

/** The parts of a KubeVirt VirtualMachine the controller reads. */
export interface VirtualMachine {
  apiVersion?: string;
  kind?: string;
  metadata: V1ObjectMeta;
  spec?: {
    template?: {
      spec?: {
        domain?: { devices?: { interfaces?: VmInterface[] } };
        networks?: VmNetwork[];
      };
    };
  };
}

/** `spec.template.spec.domain.devices.interfaces[]` of a VirtualMachine. */
export interface VmInterface {
  name: string;
  macAddress?: string;
}

/** `spec.template.spec.networks[]` of a VirtualMachine. */
export interface VmNetwork {
  name: string;
  multus?: { networkName?: string };
  pod?: object;
}

export const NAD: ResourceKind = {
  group: "k8s.cni.cncf.io",
  version: "v1",
  kind: "NetworkAttachmentDefinition",
  plural: "network-attachment-definitions",
};

export const VIRTUAL_MACHINE: ResourceKind = {
  group: "kubevirt.io",
  version: "v1",
  kind: "VirtualMachine",
  plural: "virtualmachines",
};

export const POD: ResourceKind = { group: "", version: "v1", kind: "Pod", plural: "pods" };
export const NODE: ResourceKind = { group: "", version: "v1", kind: "Node", plural: "nodes" };
export const EVENT: ResourceKind = { group: "", version: "v1", kind: "Event", plural: "events" };
export const LEASE: ResourceKind = {
  group: "coordination.k8s.io",
  version: "v1",
  kind: "Lease",
  plural: "leases",
};

export const ROLE: ResourceKind = {
  group: "rbac.authorization.k8s.io",
  version: "v1",
  kind: "Role",
  plural: "roles",
};
export const ROLE_BINDING: ResourceKind = {
  group: "rbac.authorization.k8s.io",
  version: "v1",
  kind: "RoleBinding",
  plural: "rolebindings",
};

export { IP_POOL, VM_NET_CFG };

/**
 * The API path of a collection (no `name`), an object, or one of its subresources. Without
 * `namespace` the collection spans all namespaces (or the kind is cluster-scoped).
 */
export function resourcePath(
  kind: ResourceKind,
  namespace?: string,
  name?: string,
  subresource?: string,
): string {
  const base = kind.group === "" ? `/api/${kind.version}` : `/apis/${kind.group}/${kind.version}`;
  const scope = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  const object = name ? `/${encodeURIComponent(name)}` : "";
  const sub = name && subresource ? `/${subresource}` : "";
  return `${base}${scope}/${kind.plural}${object}${sub}`;
}

/** `apiVersion` of a kind as written in objects. */
export function apiVersionOf(kind: ResourceKind): string {
  return kind.group === "" ? kind.version : `${kind.group}/${kind.version}`;
}
