/**
 * The controller through outages, in-process against the real API server: the API server
 * unreachable for a while (a TCP proxy between them is cut, which a restart looks like from
 * the client), a vmnetcfg deleted while no controller ran, and a leader deposed by another
 * holder of its Lease, which must stop writing at once and take over again later.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IpPool, VmNetCfg } from "../../src/api/types.js";
import type { Controller } from "../../src/controller/controller.js";
import type { KubeClient } from "../../src/controller/kube-client.js";
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

/** A TCP relay to the API server that can be cut and restored. */
class Relay {
  readonly #target: URL;
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  port = 0;

  constructor(target: string) {
    this.#target = new URL(target);
  }

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(Number(this.#target.port), this.#target.hostname);
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on("close", () => this.#sockets.delete(socket));
        socket.on("error", () => socket.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  /** Drops every connection and refuses new ones, as a stopped API server does. */
  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}

describeWithCluster("controller: outages", (cluster) => {
  let admin: KubeClient;
  let ns = "";
  let relay: Relay;
  let relayed: KubeConfig;

  beforeAll(async () => {
    admin = clientAs(cluster, "admin");
    ns = await controllerNamespace(cluster, "ctrl-outage");
    await admin.create(paths.nads(ns), nad(ns, "net-a"));
    await admin.create(
      paths.pools(ns),
      pool(ns, "pool-a", `${ns}/net-a`, { start: "192.0.2.10", end: "192.0.2.99" }),
    );
    relay = new Relay(cluster.server);
    await relay.open();
    const config = JSON.parse(readFileSync(cluster.kubeconfigs.controller, "utf8"));
    config.clusters[0].cluster.server = `https://127.0.0.1:${relay.port}`;
    const file = join(cluster.dir, `kubeconfig-controller-relay-${ns}.yaml`);
    writeFileSync(file, JSON.stringify(config), { mode: 0o600 });
    relayed = new KubeConfig();
    relayed.loadFromFile(file);
  });

  afterAll(async () => {
    await relay?.cut();
    admin?.close();
  });

  const create = (name: string, mac: string) =>
    admin.create(
      paths.vmnetcfgs(ns),
      vmNetCfg(ns, name, [{ networkName: "net-a", macAddress: mac }]),
    );
  const allocated = (name: string) =>
    eventually(
      `${name} Allocated`,
      async () => allocatedEntries(await admin.get<VmNetCfg>(paths.vmnetcfgs(ns, name))),
      20_000,
    );
  const owners = async () =>
    Object.values(
      (await admin.get<IpPool>(paths.pools(ns, "pool-a")))?.status?.ipv4?.allocated ?? {},
    );

  describe("the API server unreachable for a while", () => {
    let controller: Controller;
    afterAll(async () => controller?.stop());

    it("is reported by /readyz, and everything that happened meanwhile is caught up", async () => {
      controller = await startController(controllerOptions(cluster, ns, { kubeConfig: relayed }));
      await create("before", "52:54:00:0d:00:01");
      await create("doomed", "52:54:00:0d:00:02");
      await allocated("before");
      await allocated("doomed");

      await relay.cut();
      await eventually("not ready while cut off", async () => {
        const { status } = await httpGet(controller.httpPort!, "/readyz");
        return status === 503 ? true : undefined;
      });
      await create("during", "52:54:00:0d:00:03");
      await admin.delete(paths.vmnetcfgs(ns, "doomed"));
      await relay.open();

      await allocated("during");
      await eventually("doomed's address released", async () =>
        (await owners()).includes("52:54:00:0d:00:02") ? undefined : true,
      );
      await eventually("ready again", async () => {
        const { status } = await httpGet(controller.httpPort!, "/readyz");
        return status === 200 ? true : undefined;
      });
    });
  });

  describe("a vmnetcfg deleted while no controller ran", () => {
    it("has its address released once the orphan grace period has passed", async () => {
      const first = await startController(controllerOptions(cluster, ns));
      await create("gone-while-down", "52:54:00:0d:00:04");
      await allocated("gone-while-down");
      await first.stop();
      await admin.delete(paths.vmnetcfgs(ns, "gone-while-down"));
      const second = await startController(
        controllerOptions(cluster, ns, { orphanGraceMs: 1_000 }),
      );
      try {
        await eventually("orphan released", async () =>
          (await owners()).includes("52:54:00:0d:00:04") ? undefined : true,
        );
        expect(await owners()).toContain("52:54:00:0d:00:01");
      } finally {
        await second.stop();
      }
    });
  });

  describe("a leader deposed by another holder of its Lease", () => {
    it("stops writing at once, stands by, and leads again when the lease is free", async () => {
      const leasePath = `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/vm-dhcp-controller`;
      const controller = await startController(
        controllerOptions(cluster, ns, {
          leaderElection: {
            identity: "in-process",
            leaseDurationMs: 2_000,
            renewDeadlineMs: 1_500,
            retryPeriodMs: 200,
          },
        }),
      );
      try {
        await eventually("leading", () => (controller.isLeader() ? true : undefined));
        // The controller renews every 200 ms: retry the takeover until no renewal races it.
        await eventually("lease taken by the intruder", async () => {
          const lease = (await admin.get<{ spec: Record<string, unknown> }>(leasePath))!;
          const renewTime = new Date().toISOString().replace("Z", "000Z");
          const spec = { ...lease.spec, holderIdentity: "intruder", renewTime };
          await admin.replace(leasePath, { ...lease, spec });
          return true;
        });
        await eventually("deposed", () => (controller.isLeader() ? undefined : true), 5_000);

        await create("while-deposed", "52:54:00:0d:00:05");
        const { body } = await httpGet(controller.httpPort!, "/readyz");
        expect(JSON.parse(body).checks).toMatchObject({
          leadership: "standby",
          leaseHolder: "intruder",
        });
        expect((await httpGet(controller.httpPort!, `/caches/${ns}/pool-a`)).status).toBe(404);
        // A standby reports no pool figures: they would go stale while another replica leads.
        const metrics = (await httpGet(controller.httpPort!, "/metrics")).body;
        expect(metrics).not.toMatch(/^vmdhcpcontroller_ippool_used\{/m);
        expect(metrics).toMatch(/^vmdhcpcontroller_leader 0$/m);
        // The intruder holds a 2 s lease it never renews: until this controller takes over
        // again, nothing of the new vmnetcfg may be written.
        const writtenWhileDeposed: string[] = [];
        await eventually(
          "leading again",
          async () => {
            const config = await admin.get<VmNetCfg>(paths.vmnetcfgs(ns, "while-deposed"));
            const pooled = (await owners()).includes("52:54:00:0d:00:05");
            if (controller.isLeader()) return true;
            if (config?.status) writtenWhileDeposed.push("vmnetcfg status");
            if (pooled) writtenWhileDeposed.push("pool allocation");
            return undefined;
          },
          10_000,
        );
        expect(writtenWhileDeposed).toEqual([]);
        await allocated("while-deposed");
        expect(controller.isLeader()).toBe(true);
      } finally {
        await controller.stop();
      }
    });
  });
});
