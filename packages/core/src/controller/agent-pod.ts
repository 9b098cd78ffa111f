import { createHash } from "node:crypto";
import type {
  V1Container,
  V1Pod,
  V1PodSpec,
  V1ResourceRequirements,
  V1Toleration,
} from "@kubernetes/client-node";
import { parseCidr } from "@vm-dhcp/ipam";
import type { IpPool } from "../api/types.js";
import { DEFAULT_HTTP_PORT } from "../http/server.js";
import {
  AGENT_LABEL_VALUE,
  ANNOTATION_AGENT_SPEC_HASH,
  ANNOTATION_MULTUS_NETWORKS,
  API_GROUP_PREFIX,
  LABEL_IPPOOL_NAME,
  LABEL_IPPOOL_NAMESPACE,
  LABEL_VM_DHCP_CONTROLLER,
  poolNetworkKey,
  splitKey,
} from "./names.js";

/** Image of the init step that puts the server address on the VM network interface. */
export const DEFAULT_INIT_IMAGE = "busybox";
/** The unprivileged user of the vm-dhcp image (see the Dockerfile), which runs the agent. */
export const AGENT_USER_ID = 65532;
/** Interface of the VM network inside the agent pod (SPEC section 3). */
export const AGENT_NIC = "eth1";
/** Name of the agent container's HTTP port (8080: `/metrics`, `/healthz`, `/readyz`). */
export const AGENT_METRICS_PORT_NAME = "metrics";

/** How agent pods are made; the same for every pool. */
export interface AgentPodSettings {
  /** Namespace of the agent pods (the controller's). */
  namespace: string;
  image: string;
  serviceAccountName: string;
  /** Agents run with `--dry-run`: everything but the DHCP socket. */
  noDhcp: boolean;
  initImage: string;
  /** Secrets of the agent namespace the kubelet pulls both images with (a private registry). */
  imagePullSecrets?: readonly string[] | undefined;
  /** Requests and limits of the agent container; the init step gets the same. */
  resources?: V1ResourceRequirements | undefined;
  tolerations?: readonly V1Toleration[] | undefined;
  /**
   * Node labels an agent's node must also carry: the node affinity to the pool's cluster
   * network stays, and both must match.
   */
  nodeSelector?: Readonly<Record<string, string>> | undefined;
  priorityClassName?: string | undefined;
}

/**
 * The agent pod of `pool`, exactly as SPEC section 3 describes it: Multus attaches the
 * NetworkAttachmentDefinition as `eth1`; node affinity to nodes labelled
 * `network.harvesterhci.io/<clusterNetwork>=true`; an init step that flushes `eth1` and puts
 * `serverIP/prefix` on it; liveness `/healthz` and readiness `/readyz` on port 8080; the agent
 * label and the two ippool labels. The pull secrets, resources, tolerations, node selector and
 * priority class of `settings` go on every agent pod; a node selector narrows the nodes the
 * affinity allows. The annotation {@link ANNOTATION_AGENT_SPEC_HASH} holds a hash of
 * everything else, so a pod made for an older spec is recognised.
 *
 * The container gets only arguments: the image's entry point is the `vm-dhcp` binary.
 */
export function agentPod(
  pool: IpPool,
  clusterNetwork: string,
  settings: AgentPodSettings,
  name: string,
  image = settings.image,
): V1Pod {
  const nad = splitKey(poolNetworkKey(pool) ?? "");
  const networks = [{ namespace: nad.namespace, name: nad.name, interface: AGENT_NIC }];
  const pod: V1Pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: settings.namespace,
      labels: {
        [LABEL_VM_DHCP_CONTROLLER]: AGENT_LABEL_VALUE,
        [LABEL_IPPOOL_NAMESPACE]: pool.metadata.namespace ?? "",
        [LABEL_IPPOOL_NAME]: pool.metadata.name ?? "",
      },
      annotations: { [ANNOTATION_MULTUS_NETWORKS]: JSON.stringify(networks) },
    },
    spec: {
      affinity: nodeAffinity(clusterNetwork),
      ...placement(settings),
      serviceAccountName: settings.serviceAccountName,
      // RuntimeDefault filters system calls for both containers; the sysctl lets the
      // unprivileged agent bind UDP port 67 in the pod's own network namespace.
      securityContext: {
        seccompProfile: { type: "RuntimeDefault" },
        sysctls: [{ name: "net.ipv4.ip_unprivileged_port_start", value: "67" }],
      },
      initContainers: [addressSetter(pool, settings)],
      containers: [agentContainer(pool, settings, name, image)],
    },
  };
  pod.metadata!.annotations![ANNOTATION_AGENT_SPEC_HASH] = specHash(pod);
  return pod;
}

/**
 * The init step. Only it is privileged: changing eth1's address needs root and NET_ADMIN.
 * `ip` writes nothing to disk, so its root file system is read-only too.
 */
function addressSetter(pool: IpPool, settings: AgentPodSettings): V1Container {
  return {
    name: "ip-setter",
    image: settings.initImage,
    command: ["/bin/sh", "-c", addressScript(pool)],
    ...resourcesOf(settings),
    securityContext: {
      runAsUser: 0,
      runAsGroup: 0,
      readOnlyRootFilesystem: true,
      capabilities: { add: ["NET_ADMIN"] },
    },
  };
}

/**
 * The agent. It needs nothing but UDP port 67, which the pod's sysctl opens to unprivileged
 * users, so it runs as the image's user with every capability dropped. It keeps its leases in
 * memory and logs to stderr, so its root file system is read-only.
 */
function agentContainer(
  pool: IpPool,
  settings: AgentPodSettings,
  name: string,
  image: string,
): V1Container {
  const poolRef = `${pool.metadata.namespace}/${pool.metadata.name}`;
  const probe = (path: string) => ({ httpGet: { path, port: DEFAULT_HTTP_PORT } });
  return {
    name: "agent",
    image,
    args: ["agent", "--ippool-ref", poolRef, ...(settings.noDhcp ? ["--dry-run"] : [])],
    env: [{ name: "AGENT_NAME", value: name }],
    // Named for the chart's PodMonitor, which scrapes /metrics by port name.
    ports: [{ name: AGENT_METRICS_PORT_NAME, containerPort: DEFAULT_HTTP_PORT, protocol: "TCP" }],
    ...resourcesOf(settings),
    securityContext: {
      runAsUser: AGENT_USER_ID,
      runAsGroup: AGENT_USER_ID,
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    },
    livenessProbe: probe("/healthz"),
    readinessProbe: probe("/readyz"),
  };
}

/**
 * The pull secrets, tolerations, node selector and priority class of `settings`. Empty ones
 * are left out, so a pod made without them has the same spec (and hash) as before they
 * existed.
 */
function placement(settings: AgentPodSettings): Partial<V1PodSpec> {
  const spec: Partial<V1PodSpec> = {};
  const { imagePullSecrets, tolerations, nodeSelector, priorityClassName } = settings;
  if (imagePullSecrets?.length) spec.imagePullSecrets = imagePullSecrets.map((n) => ({ name: n }));
  if (tolerations?.length) spec.tolerations = [...tolerations];
  if (nodeSelector && Object.keys(nodeSelector).length > 0) spec.nodeSelector = { ...nodeSelector };
  if (priorityClassName) spec.priorityClassName = priorityClassName;
  return spec;
}

function resourcesOf(settings: AgentPodSettings): Pick<V1Container, "resources"> {
  const { limits, requests } = settings.resources ?? {};
  const given = Object.keys(limits ?? {}).length + Object.keys(requests ?? {}).length > 0;
  return given ? { resources: settings.resources! } : {};
}

/**
 * Hash of what makes an agent pod: labels, the Multus annotation and the spec, without the
 * pod's own name (a replacement may have another name and still be current). Object keys are
 * sorted first, so settings read from JSON in another key order give the same hash.
 *
 * The controller compares the hash it wants with the one it wrote on the pod, never with the
 * pod as the API server returns it (which adds defaults), so a pod is replaced once when the
 * settings change and never again for the same settings.
 */
export function specHash(pod: V1Pod): string {
  const { [ANNOTATION_AGENT_SPEC_HASH]: _hash, ...annotations } = pod.metadata?.annotations ?? {};
  const containers = pod.spec?.containers.map((container) => ({ ...container, env: undefined }));
  const subject = { labels: pod.metadata?.labels, annotations, spec: { ...pod.spec, containers } };
  const text = JSON.stringify(sortedKeys(subject));
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/** `value` with the keys of every object in it sorted, for a JSON text independent of order. */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== "object") return value;
  const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([key, item]) => [key, sortedKeys(item)]));
}

function nodeAffinity(clusterNetwork: string) {
  const key = `${API_GROUP_PREFIX}${clusterNetwork}`;
  return {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key, operator: "In", values: ["true"] }] }],
      },
    },
  };
}

function addressScript(pool: IpPool): string {
  const { serverIP, cidr } = pool.spec.ipv4Config;
  const prefix = parseCidr(cidr).prefix;
  return [
    "set -ex",
    `ip address flush dev ${AGENT_NIC}`,
    `ip address add ${serverIP}/${prefix} dev ${AGENT_NIC}`,
    "",
  ].join("\n");
}

/** The image of a pod's `agent` container. */
export function agentImageOf(pod: V1Pod): string | undefined {
  return pod.spec?.containers.find((container) => container.name === "agent")?.image;
}

/** True when the pod's Ready condition is True. */
export function isPodReady(pod: V1Pod): boolean {
  return !!pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
}
