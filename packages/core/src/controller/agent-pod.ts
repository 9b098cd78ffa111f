import { createHash } from "node:crypto";
import type { V1Pod } from "@kubernetes/client-node";
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

/** How agent pods are made; the same for every pool. */
export interface AgentPodSettings {
  /** Namespace of the agent pods (the controller's). */
  namespace: string;
  image: string;
  serviceAccountName: string;
  /** Agents run with `--dry-run`: everything but the DHCP socket. */
  noDhcp: boolean;
  initImage: string;
}

/**
 * The agent pod of `pool`, exactly as SPEC section 3 describes it: Multus attaches the
 * NetworkAttachmentDefinition as `eth1`; node affinity to nodes labelled
 * `network.harvesterhci.io/<clusterNetwork>=true`; an init step that flushes `eth1` and puts
 * `serverIP/prefix` on it; liveness `/healthz` and readiness `/readyz` on port 8080; the agent
 * label and the two ippool labels. The annotation {@link ANNOTATION_AGENT_SPEC_HASH} holds a
 * hash of everything else, so a pod made for an older spec is recognised.
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
  const poolRef = `${pool.metadata.namespace}/${pool.metadata.name}`;
  const nad = splitKey(poolNetworkKey(pool) ?? "");
  const networks = [{ namespace: nad.namespace, name: nad.name, interface: AGENT_NIC }];
  // Only the init step is privileged: changing eth1's address needs root and NET_ADMIN. The
  // agent itself needs nothing but UDP port 67, which the pod's network-namespaced sysctl opens
  // to unprivileged users, so it runs as the image's user with every capability dropped.
  const addressSetter = { runAsUser: 0, runAsGroup: 0, capabilities: { add: ["NET_ADMIN"] } };
  const unprivileged = {
    runAsUser: AGENT_USER_ID,
    runAsGroup: AGENT_USER_ID,
    runAsNonRoot: true,
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
  };
  const probe = (path: string) => ({ httpGet: { path, port: DEFAULT_HTTP_PORT } });
  const args = ["agent", "--ippool-ref", poolRef, ...(settings.noDhcp ? ["--dry-run"] : [])];
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
      serviceAccountName: settings.serviceAccountName,
      securityContext: { sysctls: [{ name: "net.ipv4.ip_unprivileged_port_start", value: "67" }] },
      initContainers: [
        {
          name: "ip-setter",
          image: settings.initImage,
          command: ["/bin/sh", "-c", addressScript(pool)],
          securityContext: addressSetter,
        },
      ],
      containers: [
        {
          name: "agent",
          image,
          args,
          env: [{ name: "AGENT_NAME", value: name }],
          securityContext: unprivileged,
          livenessProbe: probe("/healthz"),
          readinessProbe: probe("/readyz"),
        },
      ],
    },
  };
  pod.metadata!.annotations![ANNOTATION_AGENT_SPEC_HASH] = specHash(pod);
  return pod;
}

/**
 * Hash of what makes an agent pod: labels, the Multus annotation and the spec, without the
 * pod's own name (a replacement may have another name and still be current).
 */
export function specHash(pod: V1Pod): string {
  const { [ANNOTATION_AGENT_SPEC_HASH]: _hash, ...annotations } = pod.metadata?.annotations ?? {};
  const containers = pod.spec?.containers.map((container) => ({ ...container, env: undefined }));
  const subject = { labels: pod.metadata?.labels, annotations, spec: { ...pod.spec, containers } };
  return createHash("sha256").update(JSON.stringify(subject)).digest("hex").slice(0, 16);
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
