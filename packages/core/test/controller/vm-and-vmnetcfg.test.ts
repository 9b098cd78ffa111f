/**
 * VirtualMachine -> vmnetcfg -> addresses, against a real API server with the controller
 * in-process under the controller identity: spec and annotation MACs, owner reference and
 * label, NIC changes (stale release before the new allocation), pause and resume, static
 * addresses and their conflicts, pool exhaustion, and releases on deletion.
 */
import { Watch } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IpPool, VmNetCfg } from "../../src/api/types.js";
import type { Controller } from "../../src/controller/controller.js";
import type { KubeClient } from "../../src/controller/kube-client.js";
import type {
  NetworkAttachmentDefinition,
  VirtualMachine,
} from "../../src/controller/resources.js";
import { kubectlAs } from "../cluster/kubectl.js";
import { createNamespace, describeWithCluster } from "../cluster/use-cluster.js";
import {
  allocatedEntries,
  clientAs,
  controllerNamespace,
  controllerOptions,
  eventually,
  kubeConfigAs,
  nad,
  paths,
  pool,
  startController,
  virtualMachine,
  vmNetCfg,
} from "./harness.js";

interface EventItem {
  reason: string;
  type: string;
  message: string;
  involvedObject: { name: string; kind: string };
}

describeWithCluster("controller: VMs, vmnetcfgs and their addresses", (cluster) => {
  let admin: KubeClient;
  let controller: Controller;
  let ns = "";
  /** A second namespace holding a NAD whose pool lives in `ns` under an unrelated name. */
  let other = "";

  beforeAll(async () => {
    admin = clientAs(cluster, "admin");
    ns = await controllerNamespace(cluster, "ctrl-vm");
    other = await createNamespace(kubectlAs(cluster, "admin"), "ctrl-vm-nad");
    await admin.create(paths.nads(ns), nad(ns, "net-a"));
    await admin.create(paths.nads(ns), nad(ns, "net-small"));
    await admin.create(paths.nads(ns), nad(ns, "net-nopool"));
    await admin.create(paths.nads(other), nad(other, "net-far"));
    await admin.create(
      paths.pools(ns),
      pool(ns, "pool-a", `${ns}/net-a`, { start: "192.0.2.10", end: "192.0.2.60" }),
    );
    await admin.create(
      paths.pools(ns),
      pool(ns, "tiny", `${ns}/net-small`, { start: "192.0.2.100", end: "192.0.2.101" }),
    );
    await admin.create(
      paths.pools(ns),
      pool(ns, "unrelated-name", `${other}/net-far`, { start: "192.0.2.200", end: "192.0.2.210" }),
    );
    controller = await startController(
      controllerOptions(cluster, ns, { namespaces: [ns, other], noAgent: true }),
    );
  });

  afterAll(async () => {
    await controller?.stop();
    admin?.close();
  });

  const getConfig = (name: string, namespace = ns) =>
    admin.get<VmNetCfg>(paths.vmnetcfgs(namespace, name));
  const getPool = (name: string) => admin.get<IpPool>(paths.pools(ns, name));
  const allocated = (name: string, namespace = ns) =>
    eventually(`${namespace}/${name} Allocated`, async () =>
      allocatedEntries(await getConfig(name, namespace)),
    );
  const poolOwners = async (name: string) =>
    Object.values((await getPool(name))?.status?.ipv4?.allocated ?? {});
  const events = async (namespace = ns) =>
    (await admin.list<EventItem>(`/api/v1/namespaces/${namespace}/events`)).items;
  const conditionOf = async (name: string) =>
    (await getConfig(name))?.status?.conditions?.find((c) => c.type === "Allocated");

  describe("VirtualMachine -> vmnetcfg", () => {
    it("takes spec MACs of Multus NICs, skips the pod network, sets owner and label", async () => {
      const vm = await admin.create<VirtualMachine>(
        paths.vms(ns),
        virtualMachine(ns, "vm-spec", [
          { name: "default", mac: "52:54:00:00:00:99" },
          { name: "nic1", network: "net-a", mac: "52:54:00:01:00:01" },
        ]),
      );
      const entries = await allocated("vm-spec");
      expect(entries).toEqual([
        expect.objectContaining({ macAddress: "52:54:00:01:00:01", state: "Allocated" }),
      ]);
      const config = (await getConfig("vm-spec"))!;
      expect(config.spec.vmName).toBe("vm-spec");
      expect(config.spec.networkConfigs).toEqual([
        { networkName: `${ns}/net-a`, macAddress: "52:54:00:01:00:01" },
      ]);
      expect(config.metadata.labels?.["harvesterhci.io/vmName"]).toBe("vm-spec");
      expect(config.metadata.ownerReferences).toEqual([
        expect.objectContaining({
          apiVersion: "kubevirt.io/v1",
          kind: "VirtualMachine",
          name: "vm-spec",
          uid: vm.metadata.uid,
        }),
      ]);
    });

    it("takes a MAC only present in the harvesterhci.io/mac-address annotation", async () => {
      const annotation = JSON.stringify({ nic1: "52:54:00:01:00:02", nic2: "52:54:00:0f:0f:0f" });
      await admin.create(
        paths.vms(ns),
        virtualMachine(
          ns,
          "vm-annotated",
          [
            { name: "nic1", network: "net-a" },
            // A spec MAC wins over the annotation.
            { name: "nic2", network: "net-a", mac: "52:54:00:01:00:03" },
          ],
          { "harvesterhci.io/mac-address": annotation },
        ),
      );
      const entries = await allocated("vm-annotated");
      expect(entries!.map((e) => e.macAddress)).toEqual(["52:54:00:01:00:02", "52:54:00:01:00:03"]);
    });

    it("finds a pool by the NAD's labels, whatever its name and namespace", async () => {
      await admin.create(
        paths.vms(other),
        virtualMachine(other, "vm-far", [
          { name: "nic1", network: "net-far", mac: "52:54:00:01:00:04" },
        ]),
      );
      const [entry] = (await allocated("vm-far", other))!;
      expect(entry!.allocatedIPAddress).toMatch(/^192\.0\.2\.2(0\d|10)$/);
      expect(await poolOwners("unrelated-name")).toContain("52:54:00:01:00:04");
    });

    it("reports a malformed annotation and still serves the VM's other NICs", async () => {
      await admin.create(
        paths.vms(ns),
        virtualMachine(
          ns,
          "vm-bad-annotation",
          [
            { name: "nic1", network: "net-a" },
            { name: "nic2", network: "net-a", mac: "52:54:00:01:00:05" },
          ],
          { "harvesterhci.io/mac-address": "{not json" },
        ),
      );
      const entries = await allocated("vm-bad-annotation");
      expect(entries!.map((e) => e.macAddress)).toEqual(["52:54:00:01:00:05"]);
      const warning = await eventually("InvalidAnnotation event", async () =>
        (await events()).find(
          (e) => e.reason === "InvalidAnnotation" && e.involvedObject.name === "vm-bad-annotation",
        ),
      );
      expect(warning.type).toBe("Warning");
      expect(warning.message).toContain("harvesterhci.io/mac-address");
    });

    it("leaves out NICs of networks without a pool; no managed NIC, no vmnetcfg", async () => {
      await admin.create(
        paths.vms(ns),
        virtualMachine(ns, "vm-mixed", [
          { name: "nic1", network: "net-nopool", mac: "52:54:00:01:00:06" },
          { name: "nic2", network: "net-a", mac: "52:54:00:01:00:07" },
        ]),
      );
      await admin.create(
        paths.vms(ns),
        virtualMachine(ns, "vm-unmanaged", [
          { name: "nic1", network: "net-nopool", mac: "52:54:00:01:00:08" },
        ]),
      );
      const entries = await allocated("vm-mixed");
      expect(entries!.map((e) => e.macAddress)).toEqual(["52:54:00:01:00:07"]);
      // vm-mixed was queued after vm-unmanaged's creation, so its vmnetcfg would exist by now.
      expect(await getConfig("vm-unmanaged")).toBeUndefined();
    });

    it("gives a VM created before its network's pool a vmnetcfg once the pool comes", async () => {
      await admin.create(paths.nads(ns), nad(ns, "net-late"));
      await admin.create(
        paths.vms(ns),
        virtualMachine(ns, "vm-early", [
          { name: "nic1", network: "net-late", mac: "52:54:00:01:00:0a" },
        ]),
      );
      await admin.create(
        paths.pools(ns),
        pool(ns, "late", `${ns}/net-late`, { start: "192.0.2.150", end: "192.0.2.160" }),
      );
      const [entry] = (await allocated("vm-early"))!;
      expect(entry!.allocatedIPAddress).toBe("192.0.2.150");
    });

    it("copies static-ip.harvesterhci.io/<nic> into the NIC's ipAddress", async () => {
      await admin.create(
        paths.vms(ns),
        virtualMachine(
          ns,
          "vm-static",
          [{ name: "nic1", network: "net-a", mac: "52:54:00:01:00:09" }],
          {
            "static-ip.harvesterhci.io/nic1": "192.0.2.55",
          },
        ),
      );
      const [entry] = (await allocated("vm-static"))!;
      expect(entry!.allocatedIPAddress).toBe("192.0.2.55");
      expect((await getConfig("vm-static"))!.spec.networkConfigs![0]!.ipAddress).toBe("192.0.2.55");
    });
  });

  describe("a NIC change", () => {
    it("marks the old MAC Stale and releases it before allocating the new one", async () => {
      const [before] = (await allocated("vm-spec"))!;
      const seen: { state: string; mac: string }[][] = [];
      const ownersSeen: string[][] = [];
      const watch = new Watch(kubeConfigAs(cluster, "admin"));
      const stopConfigs = await watch.watch(
        paths.vmnetcfgs(ns),
        { fieldSelector: "metadata.name=vm-spec" },
        (_type, obj: VmNetCfg) => {
          const entries = obj.status?.networkConfigs ?? [];
          seen.push(entries.map((e) => ({ state: e.state, mac: e.macAddress })));
        },
        () => {},
      );
      const stopPools = await watch.watch(
        paths.pools(ns),
        { fieldSelector: "metadata.name=pool-a" },
        (_type, obj: IpPool) => ownersSeen.push(Object.values(obj.status?.ipv4?.allocated ?? {})),
        () => {},
      );
      try {
        const vm = (await admin.get<VirtualMachine>(paths.vms(ns, "vm-spec")))!;
        vm.spec!.template!.spec!.domain!.devices!.interfaces![1]!.macAddress = "52:54:00:01:00:10";
        await admin.replace(paths.vms(ns, "vm-spec"), vm);
        const [after] = (await eventually("new MAC allocated", async () => {
          const entries = allocatedEntries(await getConfig("vm-spec"));
          return entries?.[0]?.macAddress === "52:54:00:01:00:10" ? entries : undefined;
        }))!;
        expect(after!.allocatedIPAddress).not.toBe(before!.allocatedIPAddress);
        await eventually("pool watch caught up", () =>
          ownersSeen.some((o) => o.includes("52:54:00:01:00:10")) ? true : undefined,
        );
      } finally {
        stopConfigs.abort();
        stopPools.abort();
      }
      expect(
        seen.some((e) => e.some((x) => x.mac === before!.macAddress && x.state === "Stale")),
      ).toBe(true);
      // No pool version ever held both MACs: the old one went before the new one came.
      const both = ownersSeen.filter(
        (o) => o.includes(before!.macAddress) && o.includes("52:54:00:01:00:10"),
      );
      expect(both).toEqual([]);
      expect(await poolOwners("pool-a")).not.toContain(before!.macAddress);
    });
  });

  describe("hand-written vmnetcfgs", () => {
    it("pause releases the address, resume gets the same one back", async () => {
      const mac = "52:54:00:02:00:01";
      await admin.create(
        paths.vmnetcfgs(ns),
        vmNetCfg(ns, "paused", [{ networkName: "net-a", macAddress: mac }]),
      );
      const [first] = (await allocated("paused"))!;
      await admin.mergePatch(paths.vmnetcfgs(ns, "paused"), { spec: { paused: true } });
      const paused = await eventually("paused and released", async () => {
        const config = await getConfig("paused");
        const disabled = config?.status?.conditions?.find((c) => c.type === "Disabled");
        const owners = await poolOwners("pool-a");
        return disabled?.status === "True" && !owners.includes(mac) ? config : undefined;
      });
      expect(paused.status!.networkConfigs).toEqual([
        expect.objectContaining({
          state: "Pending",
          allocatedIPAddress: first!.allocatedIPAddress,
        }),
      ]);
      // Another MAC in between: the next free address is not the remembered one.
      await admin.create(
        paths.vmnetcfgs(ns),
        vmNetCfg(ns, "between", [{ networkName: "net-a", macAddress: "52:54:00:02:00:02" }]),
      );
      await allocated("between");
      await admin.mergePatch(paths.vmnetcfgs(ns, "paused"), { spec: { paused: false } });
      const [resumed] = (await allocated("paused"))!;
      expect(resumed!.allocatedIPAddress).toBe(first!.allocatedIPAddress);
    });

    it("finishes a pause whose release never ran (a crash after the Pending mark)", async () => {
      const mac = "52:54:00:02:00:03";
      await admin.create(
        paths.vmnetcfgs(ns),
        vmNetCfg(ns, "crashed", [{ networkName: "net-a", macAddress: mac }]),
      );
      const [held] = (await allocated("crashed"))!;
      await controller.stop();
      // What the controller writes first on a pause, had it died right after.
      await admin.mergePatch(paths.vmnetcfgs(ns, "crashed"), { spec: { paused: true } });
      await admin.mergePatch(`${paths.vmnetcfgs(ns, "crashed")}/status`, {
        status: { networkConfigs: [{ ...held!, state: "Pending" }] },
      });
      expect(await poolOwners("pool-a")).toContain(mac);
      controller = await startController(
        controllerOptions(cluster, ns, { namespaces: [ns, other], noAgent: true }),
      );
      await eventually("address released after the restart", async () =>
        (await poolOwners("pool-a")).includes(mac) ? undefined : true,
      );
      const config = await eventually("status settled", async () => {
        const found = await getConfig("crashed");
        const disabled = found?.status?.conditions?.find((c) => c.type === "Disabled");
        return disabled?.status === "True" ? found : undefined;
      });
      expect(config.status!.networkConfigs).toEqual([
        expect.objectContaining({ state: "Pending", allocatedIPAddress: held!.allocatedIPAddress }),
      ]);
    });

    it("honours a static address and reports a conflicting one with its holder", async () => {
      await admin.create(
        paths.vmnetcfgs(ns),
        vmNetCfg(ns, "static-1", [
          { networkName: "net-a", macAddress: "52:54:00:03:00:01", ipAddress: "192.0.2.44" },
        ]),
      );
      const [entry] = (await allocated("static-1"))!;
      expect(entry!.allocatedIPAddress).toBe("192.0.2.44");
      await admin.create(
        paths.vmnetcfgs(ns),
        vmNetCfg(ns, "static-2", [
          { networkName: "net-a", macAddress: "52:54:00:03:00:02", ipAddress: "192.0.2.44" },
        ]),
      );
      const condition = await eventually("conflict reported", async () => {
        const c = await conditionOf("static-2");
        return c?.reason === "StaticAddressConflict" ? c : undefined;
      });
      expect(condition.status).toBe("False");
      expect(condition.message).toContain("192.0.2.44");
      expect(condition.message).toContain("52:54:00:03:00:01");
      expect(condition.message).toContain(`vmnetcfg ${ns}/static-1`);
      expect((await getConfig("static-2"))!.status!.networkConfigs).toEqual([
        expect.objectContaining({ macAddress: "52:54:00:03:00:02", state: "Pending" }),
      ]);
    });

    it("moves a NIC to a static address given later, and frees the old one", async () => {
      const [before] = (await allocated("between"))!;
      const config = (await getConfig("between"))!;
      config.spec.networkConfigs![0]!.ipAddress = "192.0.2.50";
      await admin.replace(paths.vmnetcfgs(ns, "between"), config);
      const [after] = (await eventually("moved to the static address", async () => {
        const entries = allocatedEntries(await getConfig("between"));
        return entries?.[0]?.allocatedIPAddress === "192.0.2.50" ? entries : undefined;
      }))!;
      expect(after!.macAddress).toBe("52:54:00:02:00:02");
      const allocatedMap = (await getPool("pool-a"))!.status!.ipv4!.allocated!;
      expect(allocatedMap["192.0.2.50"]).toBe("52:54:00:02:00:02");
      expect(allocatedMap[before!.allocatedIPAddress!]).toBeUndefined();
    });

    it("reports an exhausted pool, and allocates once an address is released", async () => {
      for (const i of [1, 2, 3]) {
        await admin.create(
          paths.vmnetcfgs(ns),
          vmNetCfg(ns, `small-${i}`, [
            { networkName: "net-small", macAddress: `52:54:00:04:00:0${i}` },
          ]),
        );
        if (i < 3) await allocated(`small-${i}`);
      }
      const condition = await eventually("exhaustion reported", async () => {
        const c = await conditionOf("small-3");
        return c?.reason === "PoolExhausted" ? c : undefined;
      });
      expect(condition.message).toContain(`IPPool ${ns}/tiny has no free address`);
      const warning = await eventually("PoolExhausted event on the pool", async () =>
        (await events()).find(
          (e) => e.reason === "PoolExhausted" && e.involvedObject.kind === "IPPool",
        ),
      );
      expect(warning.type).toBe("Warning");
      expect((await getPool("tiny"))!.status!.ipv4).toMatchObject({ used: 2, available: 0 });

      await admin.delete(paths.vmnetcfgs(ns, "small-1"));
      const [entry] = (await allocated("small-3"))!;
      expect(entry!.macAddress).toBe("52:54:00:04:00:03");
    });
  });

  describe("a paused pool", () => {
    it("keeps its NICs Pending with the address it keeps, then gives that back", async () => {
      const [before] = (await allocated("vm-early"))!;
      await admin.mergePatch(paths.pools(ns, "late"), { spec: { paused: true } });
      const paused = await eventually("PoolPaused reported", async () => {
        const found = await getConfig("vm-early");
        const c = found?.status?.conditions?.find((x) => x.type === "Allocated");
        return c?.reason === "PoolPaused" ? found : undefined;
      });
      expect(paused.status!.networkConfigs).toEqual([
        expect.objectContaining({
          state: "Pending",
          allocatedIPAddress: before!.allocatedIPAddress,
        }),
      ]);
      expect(await poolOwners("late")).toContain(before!.macAddress);
      await admin.mergePatch(paths.pools(ns, "late"), { spec: { paused: false } });
      const [after] = (await allocated("vm-early"))!;
      expect(after!.allocatedIPAddress).toBe(before!.allocatedIPAddress);
    });
  });

  describe("deletions", () => {
    it("a deleted VM's vmnetcfg goes (no garbage collector here), its address too", async () => {
      await allocated("vm-annotated");
      await admin.delete(paths.vms(ns, "vm-annotated"));
      await eventually("vmnetcfg deleted", async () =>
        (await getConfig("vm-annotated")) === undefined ? true : undefined,
      );
      await eventually("addresses released", async () => {
        const owners = await poolOwners("pool-a");
        return owners.includes("52:54:00:01:00:02") || owners.includes("52:54:00:01:00:03")
          ? undefined
          : true;
      });
      // The vmnetcfg is gone: the release is reported on the pool.
      const released = await eventually("AddressReleased on the pool", async () =>
        (await events()).find(
          (e) =>
            e.reason === "AddressReleased" &&
            e.involvedObject.kind === "IPPool" &&
            e.message.includes("52:54:00:01:00:02"),
        ),
      );
      expect(released.involvedObject.name).toBe("pool-a");
      expect(released.message).toContain(`vmnetcfg ${ns}/vm-annotated was deleted`);
    });

    it("a deleted pool unlinks its NAD; a VM with no managed NIC has no vmnetcfg", async () => {
      await admin.delete(paths.pools(ns, "unrelated-name"));
      await eventually("NAD unlinked", async () => {
        const found = await admin.get<NetworkAttachmentDefinition>(paths.nads(other, "net-far"));
        return found && !found.metadata.labels?.["network.harvesterhci.io/ippool-name"]
          ? true
          : undefined;
      });
      await eventually("vmnetcfg of vm-far deleted", async () =>
        (await getConfig("vm-far", other)) === undefined ? true : undefined,
      );
    });
  });
});
