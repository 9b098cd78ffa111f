/**
 * Shared pieces of the controller integration suites: API clients per identity, a namespace
 * that is both the served namespace and the controller's own (agent pods, Lease), manifests,
 * and polling.
 */
import { KubeConfig } from "@kubernetes/client-node";
import { Registry } from "prom-client";
import type { IpPool, VmNetCfg } from "../../src/api/types.js";
import { Controller, type ControllerOptions } from "../../src/controller/controller.js";
import { KubeClient } from "../../src/controller/kube-client.js";
import {
  IP_POOL,
  NAD,
  type NetworkAttachmentDefinition,
  resourcePath,
  VIRTUAL_MACHINE,
  type VirtualMachine,
  VM_NET_CFG,
} from "../../src/controller/resources.js";
import type { LogFields, Logger } from "../../src/logger.js";
import { SYSTEM_NAMESPACE } from "../cluster/identities.js";
import { type Kubectl, kubectlAs, mustKubectl } from "../cluster/kubectl.js";
import type { TestClusterInfo } from "../cluster/test-cluster.js";
import { createNamespace } from "../cluster/use-cluster.js";

export const GROUP_VERSION = "network.harvesterhci.io/v1alpha1";
export const CLUSTER_NETWORK = "vd-ctrl";

/** An API client as one identity of the test cluster. */
export function clientAs(cluster: TestClusterInfo, identity: "admin" | "controller"): KubeClient {
  const config = new KubeConfig();
  config.loadFromFile(cluster.kubeconfigs[identity]);
  return new KubeClient(config);
}

export function kubeConfigAs(cluster: TestClusterInfo, identity: "admin" | "controller") {
  const config = new KubeConfig();
  config.loadFromFile(cluster.kubeconfigs[identity]);
  return config;
}

/**
 * A fresh namespace for one test file, in which the controller identity also gets the rules
 * of its namespaced Role (agent pods, Lease), copied from the base RBAC in harvester-system:
 * each suite's controller uses it as its own namespace, so suites never share agent pods.
 */
export async function controllerNamespace(cluster: TestClusterInfo, prefix: string) {
  const admin: Kubectl = kubectlAs(cluster, "admin");
  const ns = await createNamespace(admin, prefix);
  const role = JSON.parse(
    await mustKubectl(admin, [
      "get",
      "role",
      "vm-dhcp-controller",
      "-n",
      SYSTEM_NAMESPACE,
      "-o",
      "json",
    ]),
  ) as { rules: unknown[] };
  const objects = [
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "vm-dhcp-controller", namespace: ns },
      rules: role.rules,
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "vm-dhcp-controller", namespace: ns },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "vm-dhcp-controller" },
      subjects: [
        { kind: "ServiceAccount", name: "vm-dhcp-controller", namespace: SYSTEM_NAMESPACE },
      ],
    },
  ];
  const list = { apiVersion: "v1", kind: "List", items: objects };
  await mustKubectl(admin, ["apply", "-f", "-"], JSON.stringify(list));
  return ns;
}

/** A logger that keeps warnings and errors, to show them when a test fails. */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  // CTRL_TEST_LOG=1 prints every line, for debugging a suite.
  const print = process.env.CTRL_TEST_LOG === "1";
  const keep = (level: string) => (message: string, fields?: LogFields) => {
    const line = `${level} ${message} ${JSON.stringify(fields ?? {})}`;
    if (print) process.stderr.write(`${line}\n`);
    lines.push(line);
    if (lines.length > 500) lines.shift();
  };
  return {
    lines,
    error: keep("error"),
    warn: keep("warn"),
    info: keep("info"),
    debug: print ? keep("debug") : () => {},
  };
}

/** Options of an in-process controller for namespace `ns`, as the controller identity. */
export function controllerOptions(
  cluster: TestClusterInfo,
  ns: string,
  overrides: Partial<ControllerOptions> = {},
): ControllerOptions {
  return {
    kubeConfig: kubeConfigAs(cluster, "controller"),
    name: "vm-dhcp-controller",
    namespace: ns,
    namespaces: [ns],
    agent: {
      image: "vm-dhcp:test-1",
      initImage: "busybox:test",
      serviceAccountName: "vm-dhcp-agent",
      noDhcp: false,
    },
    leaderElection: false,
    http: { port: 0, host: "127.0.0.1", enableCacheDumpApi: true },
    resyncMs: 30_000,
    orphanGraceMs: 2_000,
    stuckAgentGraceMs: 1_000,
    watchBackoffMs: { initial: 50, max: 1_000 },
    logger: recordingLogger(),
    registry: new Registry(),
    ...overrides,
  };
}

/** Starts an in-process controller. */
export async function startController(options: ControllerOptions): Promise<Controller> {
  const controller = new Controller(options);
  await controller.start();
  return controller;
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? `: ${last.message}` : "";
      throw new Error(`${what}: not within ${timeoutMs} ms${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A NetworkAttachmentDefinition on the test cluster network. */
export function nad(ns: string, name: string): NetworkAttachmentDefinition {
  return {
    apiVersion: "k8s.cni.cncf.io/v1",
    kind: "NetworkAttachmentDefinition",
    metadata: {
      name,
      namespace: ns,
      labels: { "network.harvesterhci.io/clusternetwork": CLUSTER_NETWORK },
    },
    spec: { config: JSON.stringify({ cniVersion: "0.3.1", type: "bridge", bridge: "vd-br" }) },
  };
}

/** A pool of `network` (a NAD key) on 192.0.2.0/24: server .2, router .1 (both in range). */
export function pool(
  ns: string,
  name: string,
  network: string,
  range: { start: string; end: string; exclude?: string[] },
): IpPool {
  return {
    apiVersion: GROUP_VERSION,
    kind: "IPPool",
    metadata: { name, namespace: ns },
    spec: {
      networkName: network,
      ipv4Config: {
        cidr: "192.0.2.0/24",
        serverIP: "192.0.2.2",
        router: "192.0.2.1",
        pool: range,
        dns: ["192.0.2.3"],
      },
    },
  };
}

/** A hand-written vmnetcfg. */
export function vmNetCfg(
  ns: string,
  name: string,
  nics: { networkName: string; macAddress: string; ipAddress?: string }[],
): VmNetCfg {
  return {
    apiVersion: GROUP_VERSION,
    kind: "VirtualMachineNetworkConfig",
    metadata: { name, namespace: ns },
    spec: { vmName: name, networkConfigs: nics },
  };
}

/** A KubeVirt VM with Multus NICs (`network` without a namespace means the VM's own). */
export function virtualMachine(
  ns: string,
  name: string,
  nics: { name: string; network?: string; mac?: string }[],
  annotations: Record<string, string> = {},
): VirtualMachine {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachine",
    metadata: { name, namespace: ns, annotations },
    spec: {
      template: {
        spec: {
          domain: {
            devices: {
              interfaces: nics.map((nic) => ({
                name: nic.name,
                ...(nic.mac ? { macAddress: nic.mac } : {}),
              })),
            },
          },
          networks: nics.map((nic) =>
            nic.network
              ? { name: nic.name, multus: { networkName: nic.network } }
              : { name: nic.name, pod: {} },
          ),
        },
      },
    },
  };
}

/** Typed paths of the test objects. */
export const paths = {
  pools: (ns: string, name?: string, sub?: string) => resourcePath(IP_POOL, ns, name, sub),
  vmnetcfgs: (ns: string, name?: string, sub?: string) => resourcePath(VM_NET_CFG, ns, name, sub),
  vms: (ns: string, name?: string) => resourcePath(VIRTUAL_MACHINE, ns, name),
  nads: (ns: string, name?: string) => resourcePath(NAD, ns, name),
};

/** GET on the controller's HTTP port: status and body. */
export async function httpGet(
  port: number,
  path: string,
): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

/** The vmnetcfg's status entries once its `Allocated` condition is True. */
export function allocatedEntries(config: VmNetCfg | undefined) {
  const condition = config?.status?.conditions?.find((c) => c.type === "Allocated");
  return condition?.status === "True" ? config?.status?.networkConfigs : undefined;
}
