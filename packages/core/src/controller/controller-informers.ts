import type { KubeConfig, KubernetesObject, V1Pod } from "@kubernetes/client-node";
import type { IpPool, ResourceKind, VmNetCfg } from "../api/types.js";
import type { ReflectorState } from "../kube/reflector.js";
import type { Logger } from "../logger.js";
import {
  BY_MAC,
  BY_NETWORK,
  BY_POOL,
  type ControllerCaches,
  nadPools,
  podPools,
  poolNetworks,
  vmNetCfgMacs,
  vmNetCfgNetworks,
  vmNetworks,
} from "./context.js";
import { type IndexFunction, Informer, InformerGroup } from "./informer.js";
import type { KubeClient } from "./kube-client.js";
import { AGENT_LABEL_VALUE, LABEL_VM_DHCP_CONTROLLER, splitKey } from "./names.js";
import {
  IP_POOL,
  NAD,
  type NetworkAttachmentDefinition,
  POD,
  resourcePath,
  VIRTUAL_MACHINE,
  type VirtualMachine,
  VM_NET_CFG,
} from "./resources.js";

export interface ControllerInformersOptions {
  kubeConfig: KubeConfig;
  /** A client for lists; never used to write. */
  kube: KubeClient;
  /**
   * Namespaces whose pools, vmnetcfgs, VMs and NADs are watched; every namespace when
   * undefined or empty. A pool outside them is not served, even if an agent pod names it.
   */
  namespaces?: readonly string[] | undefined;
  /** Namespace of the agent pods (the controller's own). */
  agentNamespace: string;
  /** False with `--no-agent`: agent pods are neither watched nor made. */
  watchPods: boolean;
  logger: Logger;
  initialBackoffMs?: number | undefined;
  maxBackoffMs?: number | undefined;
}

/**
 * The controller's five caches, each a list-and-watch of one kind kept current through watch
 * errors, 410 Gone and API server restarts (see {@link Informer}), with the indexes the
 * reconcilers look objects up by.
 */
export class ControllerInformers implements ControllerCaches {
  readonly pools: InformerGroup<IpPool>;
  readonly vmnetcfgs: InformerGroup<VmNetCfg>;
  readonly vms: InformerGroup<VirtualMachine>;
  readonly nads: InformerGroup<NetworkAttachmentDefinition>;
  readonly pods: InformerGroup<V1Pod>;
  readonly #scope: ReadonlySet<string> | undefined;

  constructor(options: ControllerInformersOptions) {
    const namespaces = options.namespaces?.length ? [...new Set(options.namespaces)] : undefined;
    this.#scope = namespaces ? new Set(namespaces) : undefined;
    const group = <T extends KubernetesObject>(
      name: string,
      kind: ResourceKind,
      indexers: Record<string, IndexFunction<T>>,
    ) =>
      new InformerGroup<T>(
        (namespaces ?? [undefined]).map((namespace) =>
          informer<T>(options, name, resourcePath(kind, namespace), indexers),
        ),
      );
    this.pools = group<IpPool>("ippools", IP_POOL, { [BY_NETWORK]: poolNetworks });
    this.vmnetcfgs = group<VmNetCfg>("vmnetcfgs", VM_NET_CFG, {
      [BY_NETWORK]: vmNetCfgNetworks,
      [BY_MAC]: vmNetCfgMacs,
    });
    this.vms = group<VirtualMachine>("virtualmachines", VIRTUAL_MACHINE, {
      [BY_NETWORK]: vmNetworks,
    });
    this.nads = group<NetworkAttachmentDefinition>("nads", NAD, { [BY_POOL]: nadPools });
    const pods = informer<V1Pod>(
      options,
      "agent-pods",
      resourcePath(POD, options.agentNamespace),
      { [BY_POOL]: podPools },
      `${LABEL_VM_DHCP_CONTROLLER}=${AGENT_LABEL_VALUE}`,
    );
    // An empty group is synced and stays empty: nothing to watch without agents.
    this.pods = new InformerGroup<V1Pod>(options.watchPods ? [pods] : []);
  }

  /** True when objects of `namespace` are served by this controller. */
  inScope(namespace: string | undefined): boolean {
    return !this.#scope || this.#scope.has(namespace ?? "");
  }

  /** True when the pool named by `key` (`namespace/name`) is in scope. */
  poolKeyInScope(key: string): boolean {
    return this.inScope(splitKey(key).namespace);
  }

  /** The namespaces watched, or undefined for all. */
  get namespaces(): readonly string[] | undefined {
    return this.#scope ? [...this.#scope] : undefined;
  }

  get synced(): boolean {
    return this.#all().every((cache) => cache.synced);
  }

  /** The watch state of each cache, for `/readyz`. */
  states(): Record<string, ReflectorState> {
    return {
      ippools: this.pools.state,
      vmnetcfgs: this.vmnetcfgs.state,
      virtualmachines: this.vms.state,
      nads: this.nads.state,
      agentPods: this.pods.state,
    };
  }

  /** Starts every watch; resolves when each cache holds its first list. */
  async start(): Promise<void> {
    await Promise.all(this.#all().map((cache) => cache.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.#all().map((cache) => cache.stop()));
  }

  #all(): InformerGroup<KubernetesObject>[] {
    return [
      this.pools,
      this.vmnetcfgs,
      this.vms,
      this.nads,
      this.pods,
    ] as InformerGroup<KubernetesObject>[];
  }
}

function informer<T extends KubernetesObject>(
  options: ControllerInformersOptions,
  name: string,
  path: string,
  indexers: Record<string, IndexFunction<T>>,
  labelSelector?: string,
): Informer<T> {
  return new Informer<T>({
    name,
    kubeConfig: options.kubeConfig,
    kube: options.kube,
    path,
    ...(labelSelector ? { labelSelector } : {}),
    indexers,
    logger: options.logger,
    ...(options.initialBackoffMs ? { initialBackoffMs: options.initialBackoffMs } : {}),
    ...(options.maxBackoffMs ? { maxBackoffMs: options.maxBackoffMs } : {}),
  });
}
