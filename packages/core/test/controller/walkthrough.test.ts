/**
 * The SPEC walk-through against a real API server, with the controller in-process under the
 * controller identity (so its RBAC is real): NAD, IPPool with excluded addresses, a vmnetcfg
 * whose MAC gets an address in range that is never excluded, the server or the router; the
 * pool status, the metrics and the cache dumps.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IpPool, VmNetCfg } from "../../src/api/types.js";
import type { Controller } from "../../src/controller/controller.js";
import type { KubeClient } from "../../src/controller/kube-client.js";
import type { NetworkAttachmentDefinition } from "../../src/controller/resources.js";
import { describeWithCluster } from "../cluster/use-cluster.js";
import {
  allocatedEntries,
  clientAs,
  controllerNamespace,
  controllerOptions,
  eventually,
  httpGet,
  nad,
  paths,
  pool,
  startController,
  vmNetCfg,
} from "./harness.js";

const MAC = "52:54:00:0a:00:01";
const RANGE = { start: "192.0.2.1", end: "192.0.2.20", exclude: ["192.0.2.5", "192.0.2.6"] };
const NEVER = ["192.0.2.1", "192.0.2.2", "192.0.2.5", "192.0.2.6"];

describeWithCluster("controller: the SPEC walk-through", (cluster) => {
  let admin: KubeClient;
  let controller: Controller;
  let ns = "";
  let port = 0;

  beforeAll(async () => {
    admin = clientAs(cluster, "admin");
    ns = await controllerNamespace(cluster, "ctrl-walk");
    await admin.create(paths.nads(ns), nad(ns, "net-a"));
    await admin.create(paths.pools(ns), pool(ns, "pool-a", `${ns}/net-a`, RANGE));
    controller = await startController(controllerOptions(cluster, ns));
    port = controller.httpPort!;
    await admin.create(
      paths.vmnetcfgs(ns),
      vmNetCfg(ns, "vm-a", [{ networkName: "net-a", macAddress: MAC.toUpperCase() }]),
    );
  });

  afterAll(async () => {
    await controller?.stop();
    admin?.close();
  });

  const getPool = () => admin.get<IpPool>(paths.pools(ns, "pool-a"));

  it("links the NAD to its pool with the two ippool labels", async () => {
    const labels = await eventually("NAD labelled", async () => {
      const found = await admin.get<NetworkAttachmentDefinition>(paths.nads(ns, "net-a"));
      const l = found?.metadata.labels ?? {};
      return l["network.harvesterhci.io/ippool-name"] ? l : undefined;
    });
    expect(labels["network.harvesterhci.io/ippool-namespace"]).toBe(ns);
    expect(labels["network.harvesterhci.io/ippool-name"]).toBe("pool-a");
  });

  it("allocates the vmnetcfg's MAC an address in range, never excluded/server/router", async () => {
    const entries = await eventually("vmnetcfg Allocated", async () =>
      allocatedEntries(await admin.get<VmNetCfg>(paths.vmnetcfgs(ns, "vm-a"))),
    );
    expect(entries).toHaveLength(1);
    const [entry] = entries!;
    expect(entry).toMatchObject({ macAddress: MAC, networkName: "net-a", state: "Allocated" });
    const last = Number(entry!.allocatedIPAddress!.split(".")[3]);
    expect(last).toBeGreaterThanOrEqual(1);
    expect(last).toBeLessThanOrEqual(20);
    expect(NEVER).not.toContain(entry!.allocatedIPAddress);
  });

  it("records the allocation, the marks and the counts in the pool status", async () => {
    const status = await eventually("pool counts", async () => {
      const s = (await getPool())?.status;
      return s?.ipv4?.used === 1 ? s : undefined;
    });
    const config = await admin.get<VmNetCfg>(paths.vmnetcfgs(ns, "vm-a"));
    const ip = config!.status!.networkConfigs![0]!.allocatedIPAddress!;
    expect(status.ipv4!.allocated).toEqual({
      "192.0.2.1": "RESERVED",
      "192.0.2.2": "RESERVED",
      "192.0.2.5": "EXCLUDED",
      "192.0.2.6": "EXCLUDED",
      [ip]: MAC,
    });
    // 20 addresses in range, 4 never handed out, 1 in use.
    expect(status.ipv4!.available).toBe(15);
    expect(status.lastUpdate).toBeTruthy();
  });

  it("sets the conditions: cache built, agent registered, not ready until its pod is", async () => {
    const status = await eventually("pool conditions", async () => {
      const s = (await getPool())?.status;
      return s?.conditions?.find((c) => c.type === "Registered")?.status === "True" ? s : undefined;
    });
    const byType = Object.fromEntries(status.conditions!.map((c) => [c.type, c.status]));
    expect(byType).toEqual({
      Stopped: "False",
      CacheReady: "True",
      Registered: "True",
      AgentReady: "False",
    });
    expect(status.agentPodRef).toMatchObject({ namespace: ns, name: `${ns}-pool-a-agent` });
    expect(status.agentPodRef?.uid).toBeTruthy();
    expect(status.agentPodRef?.image).toBe("vm-dhcp:test-1");
  });

  it("exports the pool and vmnetcfg gauges with the SPEC names and labels", async () => {
    const config = await admin.get<VmNetCfg>(paths.vmnetcfgs(ns, "vm-a"));
    const ip = config!.status!.networkConfigs![0]!.allocatedIPAddress!;
    const { status, body } = await httpGet(port, "/metrics");
    expect(status).toBe(200);
    const poolLabels = `ippool="${ns}/pool-a",cidr="192.0.2.0/24",network="${ns}/net-a"`;
    expect(body).toContain(`vmdhcpcontroller_ippool_used{${poolLabels}} 1\n`);
    expect(body).toContain(`vmdhcpcontroller_ippool_available{${poolLabels}} 15\n`);
    const nicLabels = [
      `vmnetcfg="${ns}/vm-a"`,
      `network="net-a"`,
      `mac="${MAC}"`,
      `ip="${ip}"`,
      `status="Allocated"`,
    ].join(",");
    expect(body).toContain(`vmdhcpcontroller_vmnetcfg_status{${nicLabels}} 1\n`);
  });

  it("dumps the IPAM (IP -> true/false) and the MAC cache (MAC -> IP)", async () => {
    const config = await admin.get<VmNetCfg>(paths.vmnetcfgs(ns, "vm-a"));
    const ip = config!.status!.networkConfigs![0]!.allocatedIPAddress!;
    const ipams = await httpGet(port, `/ipams/${ns}/pool-a`);
    expect(ipams.status).toBe(200);
    const ipam = JSON.parse(ipams.body) as Record<string, string>;
    expect(Object.keys(ipam)).toHaveLength(16);
    for (const never of NEVER) expect(ipam).not.toHaveProperty(never);
    expect(ipam[ip]).toBe("true");
    expect(Object.values(ipam).filter((v) => v === "false")).toHaveLength(15);

    const caches = await httpGet(port, `/caches/${ns}/pool-a`);
    expect(JSON.parse(caches.body)).toEqual({ [MAC]: ip });
    expect((await httpGet(port, `/caches/${ns}/no-such-pool`)).status).toBe(404);
  });

  it("answers /healthz and /readyz with the caches' and leadership state", async () => {
    expect((await httpGet(port, "/healthz")).status).toBe(200);
    const ready = await httpGet(port, "/readyz");
    expect(ready.status).toBe(200);
    const body = JSON.parse(ready.body) as { ready: boolean; checks: Record<string, unknown> };
    expect(body.checks).toMatchObject({ ippools: "synced", leadership: "disabled" });
  });

  it("reports the allocation as an Event on the vmnetcfg", async () => {
    const events = await eventually("AddressAllocated event", async () => {
      const list = await admin.list<{ reason: string; involvedObject: { name: string } }>(
        `/api/v1/namespaces/${ns}/events`,
      );
      const found = list.items.filter((e) => e.reason === "AddressAllocated");
      return found.length > 0 ? found : undefined;
    });
    expect(events[0]!.involvedObject.name).toBe("vm-a");
  });

  it("writes the pool status only on a change: a no-op reconcile writes nothing", async () => {
    const counter = async (name: string, labels: string) => {
      const { body } = await httpGet(port, "/metrics");
      const line = body.split("\n").find((l) => l.startsWith(`${name}{${labels}} `));
      return Number(line?.split(" ")[1] ?? 0);
    };
    const writes = () => counter("vmdhcpcontroller_ippool_status_writes_total", 'result="ok"');
    const reconciles = () =>
      counter("vmdhcpcontroller_reconciles_total", 'controller="ippool",result="success"');
    const before = await writes();
    const passes = await reconciles();
    await admin.mergePatch(paths.pools(ns, "pool-a"), { metadata: { labels: { poke: "1" } } });
    await eventually("pool reconciled again", async () =>
      (await reconciles()) > passes ? true : undefined,
    );
    expect(await writes()).toBe(before);
    // Link, cache, agent, one allocation: a handful of writes, not one per watch event.
    expect(before).toBeLessThan(10);
  });

  describe("deletion", () => {
    it("releases the vmnetcfg's address from the pool", async () => {
      await admin.delete(paths.vmnetcfgs(ns, "vm-a"));
      const status = await eventually("address released", async () => {
        const s = (await getPool())?.status;
        return s?.ipv4?.used === 0 ? s : undefined;
      });
      expect(Object.values(status.ipv4!.allocated!)).not.toContain(MAC);
      expect(status.ipv4!.available).toBe(16);
    });
  });
});
