/**
 * The `controller` role: {@link Controller} composes the caches, reconcilers, leader
 * election and HTTP endpoints; the pieces are exported for tests and tools.
 */
export { type AgentPodSettings, agentImageOf, agentPod, isPodReady } from "./agent-pod.js";
export {
  Controller,
  type ControllerOptions,
  DEFAULT_INIT_IMAGE,
  DEFAULT_ORPHAN_GRACE_MS,
  DEFAULT_RESYNC_MS,
  DEFAULT_STUCK_AGENT_GRACE_MS,
  DEFAULT_WORKERS,
  type LeaderElectionOptions,
} from "./controller.js";
export { type CacheDumpSource, cacheDumpRoutes } from "./controller-http.js";
export type { ControllerWorkers } from "./controller-term.js";
export {
  type ApiCall,
  KubeClient,
  type KubeClientOptions,
  WriteRefusedError,
} from "./kube-client.js";
export {
  DEFAULT_LEADER_ELECTION_TIMING,
  type LeaderElectionTiming,
  LeaderElector,
} from "./leader-election.js";
export {
  AGENT_LABEL_VALUE,
  ANNOTATION_HOLD_AGENT_UPGRADE,
  ANNOTATION_MAC_ADDRESS,
  ANNOTATION_MULTUS_NETWORKS,
  ANNOTATION_STATIC_IP_PREFIX,
  agentPodName,
  LABEL_CLUSTER_NETWORK,
  LABEL_IPPOOL_NAME,
  LABEL_IPPOOL_NAMESPACE,
  LABEL_VM_DHCP_CONTROLLER,
  LABEL_VM_NAME,
} from "./names.js";
export type { NetworkAttachmentDefinition, VirtualMachine } from "./resources.js";
export { LEASE, NAD, POD, resourcePath, VIRTUAL_MACHINE } from "./resources.js";
