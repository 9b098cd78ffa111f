/**
 * The controller identity's RBAC (fixtures/rbac/base-rbac.yaml) is least privilege: the
 * integration suites show it is enough, this table shows it is no more than that.
 */
import { expect, it } from "vitest";
import { SYSTEM_NAMESPACE } from "../cluster/identities.js";
import { kubectlAs } from "../cluster/kubectl.js";
import { createNamespace, describeWithCluster } from "../cluster/use-cluster.js";

const POOLS = "ippools.network.harvesterhci.io";
const CONFIGS = "virtualmachinenetworkconfigs.network.harvesterhci.io";
const VMS = "virtualmachines.kubevirt.io";
const NADS = "network-attachment-definitions.k8s.cni.cncf.io";
const ROLES = "roles.rbac.authorization.k8s.io";
const BINDINGS = "rolebindings.rbac.authorization.k8s.io";

describeWithCluster("controller identity: least-privilege RBAC", (cluster) => {
  const controller = kubectlAs(cluster, "controller");
  const admin = kubectlAs(cluster, "admin");

  it.each([
    { args: ["watch", POOLS, "-A"], allowed: "yes", why: "caches pools" },
    { args: ["patch", POOLS, "--subresource=status", "-n", "x"], allowed: "yes", why: "allocates" },
    { args: ["patch", POOLS, "-n", "x"], allowed: "no", why: "the spec is the operator's" },
    { args: ["create", POOLS, "-n", "x"], allowed: "no", why: "pools are the operator's" },
    { args: ["delete", POOLS, "-n", "x"], allowed: "no", why: "pools are the operator's" },
    { args: ["create", CONFIGS, "-n", "x"], allowed: "yes", why: "makes a VM's vmnetcfg" },
    { args: ["update", CONFIGS, "-n", "x"], allowed: "yes", why: "follows the VM's NICs" },
    { args: ["delete", CONFIGS, "-n", "x"], allowed: "yes", why: "a VM without managed NICs" },
    {
      args: ["patch", CONFIGS, "--subresource=status", "-n", "x"],
      allowed: "yes",
      why: "records addresses",
    },
    { args: ["watch", VMS, "-A"], allowed: "yes", why: "caches VMs" },
    { args: ["update", VMS, "-n", "x"], allowed: "no", why: "VMs are read only" },
    { args: ["patch", NADS, "-n", "x"], allowed: "yes", why: "links the pool by labels" },
    { args: ["delete", NADS, "-n", "x"], allowed: "no", why: "networks are the operator's" },
    { args: ["get", "nodes"], allowed: "yes", why: "tells a dead node from a slow pod" },
    { args: ["patch", "nodes"], allowed: "no", why: "nodes are read only" },
    { args: ["create", "events", "-n", "x"], allowed: "yes", why: "reports transitions" },
    { args: ["create", "pods", "-n", SYSTEM_NAMESPACE], allowed: "yes", why: "makes agents" },
    { args: ["create", "pods", "-n", "x"], allowed: "no", why: "agents live in its namespace" },
    { args: ["update", "pods", "-n", SYSTEM_NAMESPACE], allowed: "no", why: "agents are replaced" },
    {
      args: ["create", "pods", "--subresource=exec", "-n", SYSTEM_NAMESPACE],
      allowed: "no",
      why: "no exec",
    },
    {
      args: ["update", "leases.coordination.k8s.io", "-n", SYSTEM_NAMESPACE],
      allowed: "yes",
      why: "renews its Lease",
    },
    {
      args: ["update", "leases.coordination.k8s.io", "-n", "x"],
      allowed: "no",
      why: "only its namespace's Lease",
    },
    { args: ["get", "secrets", "-n", SYSTEM_NAMESPACE], allowed: "no", why: "needs no secrets" },
    { args: ["create", ROLES, "-n", "x"], allowed: "yes", why: "grants an agent its pool" },
    { args: ["create", BINDINGS, "-n", "x"], allowed: "yes", why: "binds it to the agent" },
    { args: ["delete", ROLES, "-n", "x"], allowed: "yes", why: "revokes it on pause" },
    { args: ["list", ROLES, "-A"], allowed: "no", why: "reads its grants by name only" },
    { args: ["escalate", ROLES, "-n", "x"], allowed: "no", why: "grants only what it holds" },
    { args: ["bind", ROLES, "-n", "x"], allowed: "no", why: "binds only what it holds" },
    {
      args: ["create", "clusterrolebindings.rbac.authorization.k8s.io"],
      allowed: "no",
      why: "grants are per namespace",
    },
  ])("can-i $args.0 $args.1: $allowed ($why)", async ({ args, allowed }) => {
    const result = await controller(["auth", "can-i", ...args]);
    expect(result.stdout.trim()).toBe(allowed);
  });

  it("cannot grant what it does not hold itself: a Role reading secrets is refused", async () => {
    const ns = await createNamespace(admin, "ctrl-rbac");
    const role = {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "vm-dhcp-agent-sneaky", namespace: ns },
      rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get"] }],
    };
    const result = await controller(["create", "-f", "-"], JSON.stringify(role));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("is attempting to grant RBAC permissions not currently held");
  });
});
