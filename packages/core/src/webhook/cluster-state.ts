import {
  CoreV1Api,
  type KubeConfig,
  type V1Node,
  type V1ObjectMeta,
} from "@kubernetes/client-node";
import type { Ipv4Cidr } from "@vm-dhcp/ipam";
import { ResourceClient } from "../api/client.js";
import {
  IP_POOL,
  type IpPool,
  type ResourceKind,
  VM_NET_CFG,
  type VmNetCfg,
} from "../api/types.js";
import { Reflector, type ReflectorState } from "../kube/reflector.js";
import type { Logger } from "../logger.js";
import {
  type ClusterNetwork,
  type ClusterNetworkKind,
  RKE2_NODE_ARGS_ANNOTATION,
  resolveClusterNetworks,
} from "./cluster-networks.js";
import type { ObjectRef } from "./network-ref.js";

/** A Multus NetworkAttachmentDefinition: only its metadata matters here. */
export interface NetworkAttachmentDefinition {
  apiVersion?: string;
  kind?: string;
  metadata: V1ObjectMeta;
  spec?: { config?: string };
}

/** Where Multus NetworkAttachmentDefinitions live in the API. */
export const NETWORK_ATTACHMENT_DEFINITION: ResourceKind = {
  group: "k8s.cni.cncf.io",
  version: "v1",
  kind: "NetworkAttachmentDefinition",
  plural: "network-attachment-definitions",
};

/**
 * What admission decisions read besides the request: the other objects, read fresh from the
 * API server for each request (a cache could let a just-created pool or vmnetcfg slip past),
 * and the cluster networks, kept current by a watch on the nodes.
 */
export interface ClusterState {
  networkAttachmentDefinition(ref: ObjectRef): Promise<NetworkAttachmentDefinition | undefined>;
  ipPools(): Promise<IpPool[]>;
  vmNetCfgs(): Promise<VmNetCfg[]>;
  clusterNetworks(): ClusterNetwork[];
}

/** {@link ClusterState} over the Kubernetes API. */
export class KubeClusterState implements ClusterState {
  readonly #nads: ResourceClient<NetworkAttachmentDefinition>;
  readonly #pools: ResourceClient<IpPool>;
  readonly #vmNetCfgs: ResourceClient<VmNetCfg>;
  readonly #nodes: NodeNetworks;

  constructor(kubeConfig: KubeConfig, nodes: NodeNetworks) {
    this.#nads = new ResourceClient(kubeConfig, NETWORK_ATTACHMENT_DEFINITION);
    this.#pools = new ResourceClient(kubeConfig, IP_POOL);
    this.#vmNetCfgs = new ResourceClient(kubeConfig, VM_NET_CFG);
    this.#nodes = nodes;
  }

  networkAttachmentDefinition(ref: ObjectRef) {
    return this.#nads.get(ref.namespace, ref.name);
  }

  async ipPools() {
    return (await this.#pools.list()).items;
  }

  async vmNetCfgs() {
    return (await this.#vmNetCfgs.list()).items;
  }

  clusterNetworks() {
    return this.#nodes.networks();
  }
}

/** What {@link NodeNetworks} needs. */
export interface NodeNetworksOptions {
  kubeConfig: KubeConfig;
  /** Blocks used for a kind no node annotation names (`--service-cidr`, `--cluster-cidr`). */
  fallback: Readonly<Record<ClusterNetworkKind, Ipv4Cidr>>;
  logger: Logger;
}

/**
 * The service and cluster CIDRs, from a watch on the nodes' `rke2.io/node-args` annotation
 * with the flags as fallback. Keeps only each node's annotation, not the node.
 */
export class NodeNetworks {
  readonly #fallback: NodeNetworksOptions["fallback"];
  readonly #annotations = new Map<string, string | undefined>();
  readonly #reflector: Reflector<V1Node>;

  constructor(options: NodeNetworksOptions) {
    this.#fallback = options.fallback;
    const api = options.kubeConfig.makeApiClient(CoreV1Api);
    this.#reflector = new Reflector<V1Node>({
      name: "nodes",
      kubeConfig: options.kubeConfig,
      path: "/api/v1/nodes",
      list: async () => {
        const list = await api.listNode();
        return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? "" };
      },
      onList: (nodes) => {
        this.#annotations.clear();
        for (const node of nodes) this.#record(node);
      },
      onEvent: (type, node) => {
        if (type === "DELETED") this.#annotations.delete(node.metadata?.name ?? "");
        else this.#record(node);
      },
      logger: options.logger,
    });
  }

  /** Starts the watch; resolves after the first list. */
  start(): Promise<void> {
    return this.#reflector.start();
  }

  stop(): Promise<void> {
    return this.#reflector.stop();
  }

  get state(): ReflectorState {
    return this.#reflector.state;
  }

  /** The current service and cluster networks. */
  networks(): ClusterNetwork[] {
    const nodes = [...this.#annotations].map(([node, annotation]) => ({ node, annotation }));
    return resolveClusterNetworks(nodes, this.#fallback);
  }

  #record(node: V1Node): void {
    const name = node.metadata?.name;
    if (name) this.#annotations.set(name, node.metadata?.annotations?.[RKE2_NODE_ARGS_ANNOTATION]);
  }
}
