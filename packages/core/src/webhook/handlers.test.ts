import { parseCidr } from "@vm-dhcp/ipam";
import { describe, expect, it } from "vitest";
import type { IpPool, VmNetCfg } from "../api/types.js";
import type { AdmissionOperation, AdmissionRequest } from "./admission-review.js";
import type { ClusterState, NetworkAttachmentDefinition } from "./cluster-state.js";
import { mutateIpPool, validateIpPool, validateVmNetCfg } from "./handlers.js";
import type { ObjectRef } from "./network-ref.js";

/** A ClusterState over fixed objects; a kind given as "unreadable" throws when read. */
function fakeState(objects: {
  nads?: string[];
  pools?: IpPool[];
  vmNetCfgs?: VmNetCfg[] | "unreadable";
}): ClusterState {
  return {
    networkAttachmentDefinition: async (ref: ObjectRef) =>
      objects.nads?.includes(`${ref.namespace}/${ref.name}`)
        ? ({
            metadata: { namespace: ref.namespace, name: ref.name },
          } as NetworkAttachmentDefinition)
        : undefined,
    ipPools: async () => objects.pools ?? [],
    vmNetCfgs: async () => {
      if (objects.vmNetCfgs === "unreadable") throw new Error("vmnetcfgs were read");
      return objects.vmNetCfgs ?? [];
    },
    clusterNetworks: () => [
      { kind: "service", cidr: parseCidr("10.53.0.0/16"), source: "flag --service-cidr" },
      { kind: "cluster", cidr: parseCidr("10.52.0.0/16"), source: "flag --cluster-cidr" },
    ],
  };
}

function pool(ipv4Config: Partial<IpPool["spec"]["ipv4Config"]> = {}): IpPool {
  return {
    metadata: { namespace: "vms", name: "pool-a" },
    spec: {
      networkName: "vms/net-a",
      ipv4Config: {
        cidr: "192.0.2.0/24",
        serverIP: "192.0.2.2",
        pool: { start: "192.0.2.10", end: "192.0.2.20" },
        ...ipv4Config,
      },
    },
  };
}

function vmNetCfg(name: string, nics: VmNetCfg["spec"]["networkConfigs"]): VmNetCfg {
  return { metadata: { namespace: "vms", name }, spec: { vmName: name, networkConfigs: nics } };
}

function request<T>(
  operation: AdmissionOperation,
  object: T | null,
  oldObject: T | null = null,
): AdmissionRequest<T> {
  return { uid: "u1", operation, namespace: "vms", name: "x", object, oldObject };
}

describe("mutateIpPool", () => {
  it("defaults serverIP past an address a vmnetcfg's status holds on the network", async () => {
    const holder = vmNetCfg("vm-a", []);
    holder.status = {
      networkConfigs: [
        {
          networkName: "net-a",
          macAddress: "52:54:00:00:00:01",
          allocatedIPAddress: "192.0.2.1",
          state: "Allocated",
        },
      ],
    };
    const created = pool({ serverIP: undefined as unknown as string });
    const verdict = await mutateIpPool(
      request("CREATE", created),
      fakeState({ vmNetCfgs: [holder] }),
    );
    expect(verdict.allowed && verdict.patch).toContainEqual({
      op: "add",
      path: "/spec/ipv4Config/serverIP",
      value: "192.0.2.2",
    });
  });
});

describe("validateIpPool", () => {
  it.each([
    ["a /24 range: no advice", {}, []],
    [
      "a /16 range would outgrow one etcd object once full",
      {
        cidr: "10.100.0.0/16",
        serverIP: "10.100.0.2",
        pool: { start: "10.100.0.3", end: "10.100.255.254" },
      },
      [
        "spec.ipv4Config.pool 10.100.0.3-10.100.255.254 holds 65532 addresses: the IPPool " +
          "status keeps one entry per allocation, and past about 20000 allocations it may " +
          "exceed etcd's object size limit (1.5 MiB by default) and allocations fail; prefer " +
          "ranges of at most 20000 addresses",
      ],
    ],
  ])("advises on the status size: %s", async (_why, ipv4Config, warnings) => {
    const state = fakeState({ nads: ["vms/net-a"] });
    const verdict = await validateIpPool(request("CREATE", pool(ipv4Config)), state);
    expect(verdict).toEqual({ allowed: true, warnings, patch: [] });
  });

  it("does not read the cluster for an update that leaves the spec alone", async () => {
    const before = pool();
    const after = { ...pool(), metadata: { ...before.metadata, labels: { a: "b" } } };
    const verdict = await validateIpPool(
      request("UPDATE", after, before),
      fakeState({ vmNetCfgs: "unreadable" }),
    );
    expect(verdict).toEqual({ allowed: true, warnings: [], patch: [] });
  });

  it("lets a pool whose network was deleted under it still be paused", async () => {
    const before = pool();
    const after = { ...pool(), spec: { ...before.spec, paused: true } };
    const verdict = await validateIpPool(request("UPDATE", after, before), fakeState({}));
    expect(verdict.allowed).toBe(true);
  });

  it("refuses an update that would leave an allocated address outside the CIDR", async () => {
    // The CRD makes the CIDR immutable; the webhook keeps the leases safe without it too.
    const before = pool();
    before.status = {
      ipv4: { allocated: { "192.0.2.200": "52:54:00:00:00:c8" } },
    } as IpPool["status"];
    const after = pool({ cidr: "192.0.2.0/25" });
    const verdict = await validateIpPool(
      request("UPDATE", after, before),
      fakeState({ nads: ["vms/net-a"] }),
    );
    expect(verdict.allowed ? "" : verdict.message).toBe(
      'IPPool vms/x is invalid: spec.ipv4Config.cidr: "192.0.2.0/25" must keep the addresses ' +
        "VMs hold (status.ipv4.allocated): 192.0.2.200 (52:54:00:00:00:c8) would fall outside it",
    );
  });

  it("refuses excluding an address a vmnetcfg asks for", async () => {
    const asker = vmNetCfg("vm-a", [
      { networkName: "net-a", macAddress: "52:54:00:00:00:01", ipAddress: "192.0.2.12" },
    ]);
    const created = pool({
      pool: { start: "192.0.2.10", end: "192.0.2.20", exclude: ["192.0.2.12"] },
    });
    const verdict = await validateIpPool(
      request("CREATE", created),
      fakeState({ nads: ["vms/net-a"], vmNetCfgs: [asker] }),
    );
    expect(verdict.allowed ? "" : verdict.message).toBe(
      'IPPool vms/x is invalid: spec.ipv4Config.pool.exclude[0]: "192.0.2.12" must not be an ' +
        "address of a VM: VirtualMachineNetworkConfig vms/vm-a asks for it for " +
        "52:54:00:00:00:01 (spec.networkConfigs[0].ipAddress)",
    );
  });

  it("lists at most twenty users on delete and counts the rest", async () => {
    const users = Array.from({ length: 22 }, (_, i) =>
      vmNetCfg(`vm-${String(i).padStart(2, "0")}`, [
        { networkName: "net-a", macAddress: `52:54:00:00:00:${String(i).padStart(2, "0")}` },
      ]),
    );
    const verdict = await validateIpPool(
      request("DELETE", null, pool()),
      fakeState({ vmNetCfgs: users }),
    );
    expect(verdict.allowed).toBe(false);
    const message = verdict.allowed ? "" : verdict.message;
    expect(message).toContain("vms/vm-00, vms/vm-01,");
    expect(message).toContain("vms/vm-19 and 2 more (delete them");
    expect(message).not.toContain("vms/vm-20");
  });

  it("counts a vmnetcfg that still holds an address only in its status as a user", async () => {
    const leaving = vmNetCfg("vm-leaving", []);
    leaving.status = {
      networkConfigs: [
        {
          networkName: "vms/net-a",
          macAddress: "52:54:00:00:00:09",
          allocatedIPAddress: "192.0.2.11",
          state: "Stale",
        },
      ],
    };
    const verdict = await validateIpPool(
      request("DELETE", null, pool()),
      fakeState({ vmNetCfgs: [leaving] }),
    );
    expect(verdict.allowed ? "" : verdict.message).toContain(
      "is used by VirtualMachineNetworkConfig vms/vm-leaving (",
    );
  });
});

describe("validateVmNetCfg", () => {
  const served = pool();
  served.status = {
    ipv4: { allocated: { "192.0.2.15": "52:54:00:00:00:15" } },
  } as IpPool["status"];

  it("does not list vmnetcfgs when no NIC asks for a static address", async () => {
    const config = vmNetCfg("vm-a", [{ networkName: "net-a", macAddress: "52:54:00:00:00:01" }]);
    const verdict = await validateVmNetCfg(
      request("CREATE", config),
      fakeState({ pools: [served], vmNetCfgs: "unreadable" }),
    );
    expect(verdict).toEqual({ allowed: true, warnings: [], patch: [] });
  });

  it("finds the pool through its networkName, whatever the pool is called", async () => {
    const config = vmNetCfg("vm-a", [
      { networkName: "vms/net-a", macAddress: "52:54:00:00:00:01", ipAddress: "192.0.2.15" },
    ]);
    const verdict = await validateVmNetCfg(
      request("CREATE", config),
      fakeState({ pools: [served] }),
    );
    expect(verdict.allowed ? "" : verdict.message).toBe(
      "VirtualMachineNetworkConfig vms/x is invalid: " +
        'spec.networkConfigs[0].ipAddress: "192.0.2.15" ' +
        "must not be held by another MAC: IPPool vms/pool-a status.ipv4.allocated gives it to " +
        "52:54:00:00:00:15",
    );
  });

  it("accepts an update keeping an address its own MAC was given, in any case", async () => {
    const before = vmNetCfg("vm-b", [
      { networkName: "net-a", macAddress: "52:54:00:00:00:15", ipAddress: "192.0.2.15" },
    ]);
    const after = vmNetCfg("vm-b", [
      { networkName: "net-a", macAddress: "52:54:00:00:00:15", ipAddress: "192.0.2.15" },
      { networkName: "net-b", macAddress: "52:54:00:00:00:16" },
    ]);
    const verdict = await validateVmNetCfg(
      request("UPDATE", after, before),
      fakeState({ pools: [served], vmNetCfgs: [before], nads: ["vms/net-b"] }),
    );
    expect(verdict).toEqual({
      allowed: true,
      warnings: [
        "spec.networkConfigs[1] on network vms/net-b is unmanaged: no IPPool has " +
          "spec.networkName vms/net-b",
      ],
      patch: [],
    });
  });
});
