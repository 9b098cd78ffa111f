/**
 * The base RBAC of the vm-dhcp identities (fixtures/rbac/base-rbac.yaml), and the agent's
 * grant to read its own pool, against a real RBAC authorizer: `kubectl auth can-i` and real
 * requests as each identity.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { grantAgentRead } from "./cluster/agent-grant.js";
import { IDENTITIES, SYSTEM_NAMESPACE } from "./cluster/identities.js";
import { type Kubectl, kubectlAs, mustKubectl } from "./cluster/kubectl.js";
import { createNamespace, describeWithCluster } from "./cluster/use-cluster.js";
import { exampleIpPool } from "./fixtures/examples.js";

const POOLS = "ippools.network.harvesterhci.io";

describeWithCluster("RBAC of the vm-dhcp identities", (cluster) => {
  const admin: Kubectl = kubectlAs(cluster, "admin");
  const agent: Kubectl = kubectlAs(cluster, "agent");
  const controller: Kubectl = kubectlAs(cluster, "controller");
  let ns = "";
  const pool = exampleIpPool("agent-pool");
  const other = exampleIpPool("other-pool");

  beforeAll(async () => {
    ns = await createNamespace(admin, "rbac");
    for (const manifest of [pool, other]) {
      await mustKubectl(
        admin,
        ["apply", "--server-side", "-n", ns, "-f", "-"],
        JSON.stringify(manifest),
      );
    }
    // What the controller does for a pool it serves; other-pool gets no grant.
    await grantAgentRead(admin, ns, pool.metadata.name);
    await mustKubectl(admin, ["create", "secret", "generic", "db", "-n", ns, "--from-literal=k=v"]);
  });

  /** `kubectl auth can-i` as `who`: "yes" or "no". */
  async function canI(who: Kubectl, args: readonly string[]): Promise<string> {
    const result = await who(["auth", "can-i", ...args]);
    return result.stdout.trim();
  }

  describe("agent", () => {
    it("authenticates as its service account", async () => {
      const out = await mustKubectl(agent, [
        "auth",
        "whoami",
        "-o",
        "jsonpath={.status.userInfo.username}",
      ]);
      expect(out).toBe(IDENTITIES.agent.user);
    });

    const own = `${POOLS}/agent-pool`;
    it.each([
      { verb: "get", resource: own, allowed: "yes", why: "reads its own pool" },
      { verb: "list", resource: own, allowed: "yes", why: "lists it by name to start its watch" },
      { verb: "watch", resource: own, allowed: "yes", why: "follows option changes" },
      {
        verb: "get",
        resource: `${POOLS}/other-pool`,
        allowed: "no",
        why: "another pool's MACs are not its business",
      },
      { verb: "list", resource: POOLS, allowed: "no", why: "no listing of every pool" },
      { verb: "watch", resource: POOLS, allowed: "no", why: "no watching of every pool" },
      { verb: "create", resource: POOLS, allowed: "no", why: "pools are the operator's" },
      { verb: "update", resource: own, allowed: "no", why: "only the controller writes" },
      { verb: "patch", resource: own, allowed: "no", why: "only the controller writes" },
      { verb: "delete", resource: own, allowed: "no", why: "pools are the operator's" },
      {
        verb: "update",
        resource: `${own} --subresource=status`,
        allowed: "no",
        why: "status is the controller's",
      },
      { verb: "get", resource: "secrets", allowed: "no", why: "no secrets in a data-plane pod" },
      {
        verb: "list",
        resource: "virtualmachinenetworkconfigs.network.harvesterhci.io",
        allowed: "no",
        why: "leases come from the pool",
      },
      { verb: "list", resource: "pods", allowed: "no", why: "nothing else" },
      {
        verb: "create",
        resource: "roles.rbac.authorization.k8s.io",
        allowed: "no",
        why: "grants nothing",
      },
    ])("can-i $verb $resource: $allowed ($why)", async ({ verb, resource, allowed }) => {
      expect(await canI(agent, [verb, ...resource.split(" "), "-n", ns])).toBe(allowed);
    });

    it("gets, lists and watches its own pool for real, by name", async () => {
      const got = await mustKubectl(agent, [
        "get",
        "ippool",
        pool.metadata.name,
        "-n",
        ns,
        "-o",
        "name",
      ]);
      expect(got.trim()).toBe(`ippool.network.harvesterhci.io/${pool.metadata.name}`);
      const byName = `metadata.name=${pool.metadata.name}`;
      const listed = await mustKubectl(agent, [
        ...["get", "ippools", "-n", ns, `--field-selector=${byName}`, "-o", "name"],
      ]);
      expect(listed.trim()).toBe(`ippool.network.harvesterhci.io/${pool.metadata.name}`);
      const pools = `/apis/network.harvesterhci.io/v1alpha1/namespaces/${ns}/ippools`;
      const watchUrl = `${pools}?watch=true&timeoutSeconds=1&fieldSelector=${byName}`;
      const events = await mustKubectl(agent, ["get", "--raw", watchUrl]);
      expect(events).toContain('"type":"ADDED"');
      expect(events).not.toContain("other-pool");
    });

    it.each([
      {
        why: "read another pool",
        args: ["get", "ippool", "other-pool"],
        message: 'cannot get resource "ippools" in API group "network.harvesterhci.io"',
      },
      {
        why: "list every pool of the namespace",
        args: ["get", "ippools"],
        message: 'cannot list resource "ippools" in API group "network.harvesterhci.io"',
      },
      {
        why: "create",
        args: ["create", "-f", "-"],
        stdin: JSON.stringify(exampleIpPool("agent-made")),
        message: 'cannot create resource "ippools" in API group "network.harvesterhci.io"',
      },
      {
        why: "patch",
        args: ["patch", "ippool", "agent-pool", "--type=merge", "-p", '{"spec":{"paused":true}}'],
        message: 'cannot patch resource "ippools" in API group "network.harvesterhci.io"',
      },
      {
        why: "update",
        args: ["replace", "-f", "-"],
        stdin: JSON.stringify(exampleIpPool("agent-pool")),
        message: 'cannot update resource "ippools" in API group "network.harvesterhci.io"',
      },
      {
        why: "patch status",
        args: [
          "patch",
          "ippool",
          "agent-pool",
          "--subresource=status",
          "--type=merge",
          "-p",
          '{"status":{"ipv4":{"used":1}}}',
        ],
        // kubectl reads the subresource before patching it, and is stopped there.
        message: 'cannot get resource "ippools/status" in API group "network.harvesterhci.io"',
      },
      {
        why: "read a secret",
        args: ["get", "secret", "db"],
        message: 'cannot get resource "secrets" in API group ""',
      },
      {
        why: "list secrets",
        args: ["get", "secrets"],
        message: 'cannot list resource "secrets" in API group ""',
      },
    ])("is forbidden to $why", async ({ args, stdin, message }) => {
      const result = await agent([...args, "-n", ns], stdin);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(`Forbidden`);
      expect(result.stderr).toContain(`User "${IDENTITIES.agent.user}" ${message}`);
    });
  });

  describe("controller", () => {
    it.each([
      { args: ["update", POOLS, "--subresource=status", "-n", "default"], allowed: "yes" },
      {
        args: ["create", "virtualmachinenetworkconfigs.network.harvesterhci.io", "-n", "default"],
        allowed: "yes",
      },
      { args: ["watch", "virtualmachines.kubevirt.io", "-A"], allowed: "yes" },
      {
        args: ["patch", "network-attachment-definitions.k8s.cni.cncf.io", "-n", "default"],
        allowed: "yes",
      },
      { args: ["create", "pods", "-n", SYSTEM_NAMESPACE], allowed: "yes" },
      { args: ["create", "pods", "-n", "default"], allowed: "no" },
      { args: ["update", "leases.coordination.k8s.io", "-n", SYSTEM_NAMESPACE], allowed: "yes" },
      { args: ["get", "secrets", "-n", SYSTEM_NAMESPACE], allowed: "no" },
      { args: ["update", "virtualmachines.kubevirt.io", "-n", "default"], allowed: "no" },
    ])("can-i $args: $allowed", async ({ args, allowed }) => {
      expect(await canI(controller, args)).toBe(allowed);
    });
  });
});
