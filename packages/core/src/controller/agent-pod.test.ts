import { describe, expect, it } from "vitest";
import type { IpPool } from "../api/types.js";
import { type AgentPodSettings, agentPod, specHash } from "./agent-pod.js";
import { ANNOTATION_AGENT_SPEC_HASH } from "./names.js";

const POOL: IpPool = {
  metadata: { namespace: "default", name: "net-48" },
  spec: {
    networkName: "default/net-48",
    ipv4Config: {
      cidr: "192.168.48.0/24",
      serverIP: "192.168.48.77",
      pool: { start: "192.168.48.81", end: "192.168.48.90" },
    },
  },
};

const BASE: AgentPodSettings = {
  namespace: "harvester-system",
  image: "registry.example/vm-dhcp:0.1.0",
  serviceAccountName: "vm-dhcp-agent",
  noDhcp: false,
  initImage: "registry.example/vm-dhcp:0.1.0",
};

const build = (settings: Partial<AgentPodSettings> = {}, name = "default-net-48-agent") =>
  agentPod(POOL, "mgmt", { ...BASE, ...settings }, name);
const hashOf = (settings: Partial<AgentPodSettings> = {}) =>
  build(settings).metadata?.annotations?.[ANNOTATION_AGENT_SPEC_HASH];

describe("agentPod", () => {
  it("hardens the agent: read-only root, no capabilities, RuntimeDefault seccomp", () => {
    const spec = build().spec!;
    expect(spec.securityContext?.seccompProfile).toEqual({ type: "RuntimeDefault" });
    expect(spec.containers[0]!.securityContext).toEqual({
      runAsUser: 65532,
      runAsGroup: 65532,
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(spec.initContainers![0]!.securityContext?.readOnlyRootFilesystem).toBe(true);
  });

  it("names the agent's HTTP port metrics (8080), the port the chart's PodMonitor scrapes", () => {
    expect(build().spec!.containers[0]!.ports).toEqual([
      { name: "metrics", containerPort: 8080, protocol: "TCP" },
    ]);
  });

  it("leaves out every placement setting that is not given", () => {
    const spec = build({ imagePullSecrets: [], tolerations: [], nodeSelector: {} }).spec!;
    for (const field of ["imagePullSecrets", "tolerations", "nodeSelector", "priorityClassName"]) {
      expect(spec, field).not.toHaveProperty(field);
    }
    expect(spec.containers[0]).not.toHaveProperty("resources");
    expect(spec.initContainers![0]).not.toHaveProperty("resources");
  });

  it("puts the pull secrets, tolerations, priority class and resources on the pod", () => {
    const resources = { requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "256Mi" } };
    const toleration = { key: "dedicated", operator: "Equal", value: "dhcp", effect: "NoSchedule" };
    const spec = build({
      imagePullSecrets: ["regcred", "mirror"],
      resources,
      tolerations: [toleration],
      priorityClassName: "system-cluster-critical",
    }).spec!;
    expect(spec.imagePullSecrets).toEqual([{ name: "regcred" }, { name: "mirror" }]);
    expect(spec.tolerations).toEqual([toleration]);
    expect(spec.priorityClassName).toBe("system-cluster-critical");
    // The init step gets the same: a namespace quota that demands limits admits the pod.
    expect(spec.containers[0]!.resources).toEqual(resources);
    expect(spec.initContainers![0]!.resources).toEqual(resources);
  });

  it("adds a node selector to the cluster network affinity rather than replacing it", () => {
    const spec = build({ nodeSelector: { "topology.kubernetes.io/zone": "a" } }).spec!;
    expect(spec.nodeSelector).toEqual({ "topology.kubernetes.io/zone": "a" });
    expect(spec.affinity).toEqual(build().spec!.affinity);
    const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    expect(terms?.nodeSelectorTerms[0]?.matchExpressions).toEqual([
      { key: "network.harvesterhci.io/mgmt", operator: "In", values: ["true"] },
    ]);
  });
});

describe("specHash", () => {
  const settings: Partial<AgentPodSettings> = {
    imagePullSecrets: ["regcred"],
    resources: { requests: { cpu: "10m", memory: "64Mi" } },
    tolerations: [{ key: "dedicated", operator: "Exists" }],
    nodeSelector: { zone: "a", rack: "r1" },
  };

  it.each([
    { why: "the same settings, built again (every reconcile)", other: settings },
    {
      why: "the same settings read from JSON in another key order",
      other: {
        nodeSelector: { rack: "r1", zone: "a" },
        tolerations: [{ operator: "Exists", key: "dedicated" }],
        resources: { requests: { memory: "64Mi", cpu: "10m" } },
        imagePullSecrets: ["regcred"],
      },
    },
    { why: "empty settings, which are left out", other: { ...settings, priorityClassName: "" } },
  ])("is stable for $why: no replacement", ({ other }) => {
    expect(hashOf(other)).toBe(hashOf(settings));
  });

  it("does not depend on the pod's name, nor on its env", () => {
    const pod = build(settings, "default-net-48-agent-1");
    expect(specHash(pod)).toBe(hashOf(settings));
  });

  it.each([
    { why: "another pull secret", change: { imagePullSecrets: ["regcred", "mirror"] } },
    { why: "other resources", change: { resources: { requests: { cpu: "20m" } } } },
    { why: "no tolerations", change: { tolerations: [] } },
    { why: "another node selector", change: { nodeSelector: { zone: "b" } } },
    { why: "a priority class", change: { priorityClassName: "high" } },
  ])("changes for $why: the agent is replaced once", ({ change }) => {
    expect(hashOf({ ...settings, ...change })).not.toBe(hashOf(settings));
  });
});
