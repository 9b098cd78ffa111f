/**
 * The agent's grant to read its own pool, against an in-memory API: what it contains, when it
 * is written, and that a grant checked once costs no calls until it is due for a recheck. The
 * real RBAC authorizer's verdict on it is in rbac.test.ts.
 */
import type { V1Role, V1RoleBinding } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import type { IpPool } from "../../src/api/types.js";
import {
  ACCESS_RECHECK_MS,
  AgentAccess,
  agentRole,
  agentRoleBinding,
} from "../../src/controller/agent-access.js";
import type { KubeClient } from "../../src/controller/kube-client.js";
import { silentLogger } from "../../src/logger.js";
import { FakeClock } from "./fake-clock.js";

const ROLES = "/apis/rbac.authorization.k8s.io/v1/namespaces/vms/roles";
const BINDINGS = "/apis/rbac.authorization.k8s.io/v1/namespaces/vms/rolebindings";
const AGENT = { namespace: "harvester-system", serviceAccountName: "vm-dhcp-agent" };

function ipPool(name = "net-a", uid = "uid-1"): IpPool {
  return {
    apiVersion: "network.harvesterhci.io/v1alpha1",
    kind: "IPPool",
    metadata: { name, namespace: "vms", uid },
    spec: { networkName: "vms/net-a" },
  } as IpPool;
}

/** Objects by path, and every call made, as `VERB path`. */
class FakeApi {
  readonly objects = new Map<string, object>();
  readonly calls: string[] = [];
  #version = 0;

  readonly kube = {
    get: async (path: string) => {
      this.calls.push(`GET ${path}`);
      return structuredClone(this.objects.get(path));
    },
    create: async (path: string, body: { metadata: { name: string } }) => {
      this.calls.push(`POST ${path}`);
      return this.#store(`${path}/${body.metadata.name}`, body);
    },
    replace: async (path: string, body: object) => {
      this.calls.push(`PUT ${path}`);
      return this.#store(path, body);
    },
    delete: async (path: string) => {
      this.calls.push(`DELETE ${path}`);
      return this.objects.delete(path);
    },
  } as unknown as KubeClient;

  #store(path: string, body: object) {
    const stored = structuredClone(body) as { metadata: { resourceVersion?: string } };
    stored.metadata.resourceVersion = String(++this.#version);
    this.objects.set(path, stored);
    return stored;
  }
}

function setup() {
  const api = new FakeApi();
  const clock = new FakeClock();
  const access = new AgentAccess({ kube: api.kube, clock, agent: AGENT });
  return { api, clock, access };
}

describe("agentRole", () => {
  it("allows get, list and watch of the one pool, by name, in the pool's namespace", () => {
    const role = agentRole(ipPool());
    expect(role.metadata).toMatchObject({ name: "vm-dhcp-agent-net-a", namespace: "vms" });
    expect(role.rules).toEqual([
      {
        apiGroups: ["network.harvesterhci.io"],
        resources: ["ippools"],
        resourceNames: ["net-a"],
        verbs: ["get", "list", "watch"],
      },
    ]);
  });

  it("is owned by the pool, so the garbage collector removes it with the pool", () => {
    expect(agentRole(ipPool()).metadata?.ownerReferences).toEqual([
      {
        apiVersion: "network.harvesterhci.io/v1alpha1",
        kind: "IPPool",
        name: "net-a",
        uid: "uid-1",
      },
    ]);
  });
});

describe("agentRoleBinding", () => {
  it("binds the Role to the agent pods' service account", () => {
    const binding = agentRoleBinding(ipPool(), AGENT);
    expect(binding.roleRef).toEqual({
      apiGroup: "rbac.authorization.k8s.io",
      kind: "Role",
      name: "vm-dhcp-agent-net-a",
    });
    expect(binding.subjects).toEqual([
      { kind: "ServiceAccount", name: "vm-dhcp-agent", namespace: "harvester-system" },
    ]);
  });

  it("names the namespace's default account when the pods name none", () => {
    const binding = agentRoleBinding(ipPool(), { ...AGENT, serviceAccountName: "" });
    expect(binding.subjects?.[0]?.name).toBe("default");
  });
});

describe("AgentAccess", () => {
  it("creates the Role and the RoleBinding when they are missing", async () => {
    const { api, access } = setup();
    await access.grant(ipPool(), silentLogger);
    expect(api.calls.filter((call) => call.startsWith("POST"))).toEqual([
      `POST ${ROLES}`,
      `POST ${BINDINGS}`,
    ]);
    expect(api.objects.get(`${ROLES}/vm-dhcp-agent-net-a`)).toMatchObject(agentRole(ipPool()));
  });

  it("makes no call for a grant checked within the recheck time, rechecks after it", async () => {
    const { api, clock, access } = setup();
    await access.grant(ipPool(), silentLogger);
    const made = api.calls.length;
    await clock.advance(ACCESS_RECHECK_MS - 1);
    await access.grant(ipPool(), silentLogger);
    expect(api.calls.length).toBe(made);
    await clock.advance(1);
    await access.grant(ipPool(), silentLogger);
    // Read again, found right, nothing written.
    expect(api.calls.slice(made)).toEqual([
      `GET ${ROLES}/vm-dhcp-agent-net-a`,
      `GET ${BINDINGS}/vm-dhcp-agent-net-a`,
    ]);
  });

  it("checks again at once for a pool recreated under the same name (a new uid)", async () => {
    const { api, access } = setup();
    await access.grant(ipPool("net-a", "uid-1"), silentLogger);
    await access.grant(ipPool("net-a", "uid-2"), silentLogger);
    const role = api.objects.get(`${ROLES}/vm-dhcp-agent-net-a`) as V1Role;
    expect(role.metadata?.ownerReferences?.[0]?.uid).toBe("uid-2");
    expect(api.calls).toContain(`PUT ${ROLES}/vm-dhcp-agent-net-a`);
  });

  it("puts right a Role edited by hand, its resourceVersion as the precondition", async () => {
    const { api, access } = setup();
    const path = `${ROLES}/vm-dhcp-agent-net-a`;
    const edited = { ...agentRole(ipPool()), metadata: { ...agentRole(ipPool()).metadata } };
    edited.rules = [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }];
    api.objects.set(path, { ...edited, metadata: { ...edited.metadata, resourceVersion: "7" } });
    await access.grant(ipPool(), silentLogger);
    expect((api.objects.get(path) as V1Role).rules).toEqual(agentRole(ipPool()).rules);
    expect(api.calls).toContain(`PUT ${path}`);
  });

  it("accepts a Role the API server returns with its fields in another order", async () => {
    const { api, access } = setup();
    const path = `${ROLES}/vm-dhcp-agent-net-a`;
    const role = agentRole(ipPool());
    const rule = role.rules![0]!;
    const reordered = {
      verbs: rule.verbs,
      resourceNames: rule.resourceNames,
      resources: rule.resources,
      apiGroups: rule.apiGroups,
    };
    api.objects.set(path, { ...role, rules: [reordered] });
    await access.grant(ipPool(), silentLogger);
    expect(api.calls).not.toContain(`PUT ${path}`);
  });

  it("makes anew a RoleBinding whose roleRef points elsewhere (it cannot change)", async () => {
    const { api, access } = setup();
    const path = `${BINDINGS}/vm-dhcp-agent-net-a`;
    const binding: V1RoleBinding = agentRoleBinding(ipPool(), AGENT);
    api.objects.set(path, { ...binding, roleRef: { ...binding.roleRef, name: "admin" } });
    await access.grant(ipPool(), silentLogger);
    expect(api.calls).toEqual(expect.arrayContaining([`DELETE ${path}`, `POST ${BINDINGS}`]));
    expect((api.objects.get(path) as V1RoleBinding).roleRef.name).toBe("vm-dhcp-agent-net-a");
  });

  it("revokes both objects once; a second revoke makes no call; a new grant works", async () => {
    const { api, access } = setup();
    await access.grant(ipPool(), silentLogger);
    await access.revoke("vms/net-a", silentLogger);
    expect(api.objects.size).toBe(0);
    const calls = api.calls.length;
    await access.revoke("vms/net-a", silentLogger);
    expect(api.calls.length).toBe(calls);
    await access.grant(ipPool(), silentLogger);
    expect(api.objects.size).toBe(2);
  });
});
