/**
 * The typed client (src/api/client.ts) and the reflector (src/kube/reflector.ts) against the
 * real API server: every call the roles rely on, optimistic concurrency included.
 */
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ResourceClient } from "../src/api/client.js";
import { isConflict } from "../src/api/errors.js";
import { IP_POOL, type IpPool } from "../src/api/types.js";
import { Reflector, type WatchEventType } from "../src/kube/reflector.js";
import { silentLogger } from "../src/logger.js";
import { kubectlAs } from "./cluster/kubectl.js";
import { createNamespace, describeWithCluster } from "./cluster/use-cluster.js";
import { exampleIpPool } from "./fixtures/examples.js";

/** Polls `check` until it returns true, or fails after `timeoutMs`. */
async function eventually(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function newPool(ns: string, name: string): IpPool {
  const manifest = exampleIpPool(name);
  return { ...manifest, metadata: { name, namespace: ns } } as unknown as IpPool;
}

describeWithCluster("typed client and reflector", (cluster) => {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(cluster.kubeconfigs.admin);
  const pools = new ResourceClient<IpPool>(kubeConfig, IP_POOL);
  let ns = "";

  beforeAll(async () => {
    ns = await createNamespace(kubectlAs(cluster, "admin"), "client");
  });

  describe("ResourceClient", () => {
    it("creates, gets, lists, updates and deletes a pool", async () => {
      const created = await pools.create(newPool(ns, "crud"));
      expect(created.metadata.resourceVersion).toBeTruthy();
      expect((await pools.get(ns, "crud"))?.spec.networkName).toBe("default/net-48");
      expect((await pools.list(ns)).items.map((p) => p.metadata.name)).toContain("crud");

      created.spec.ipv4Config.dns = ["192.0.2.53"];
      const updated = await pools.update(created);
      expect(updated.spec.ipv4Config.dns).toEqual(["192.0.2.53"]);

      expect(await pools.delete(ns, "crud")).toBe(true);
      expect(await pools.delete(ns, "crud")).toBe(false);
      expect(await pools.get(ns, "crud")).toBeUndefined();
    });

    it("writes the status subresource only, and merge-patches it", async () => {
      const created = await pools.create(newPool(ns, "status"));
      const withStatus = await pools.updateStatus({
        ...created,
        status: { ipv4: { allocated: { "192.168.48.10": "52:54:00:00:00:01" } } },
      } as IpPool);
      expect(withStatus.status?.ipv4?.allocated).toEqual({
        "192.168.48.10": "52:54:00:00:00:01",
      });
      const patched = await pools.patchStatus(ns, "status", {
        status: { ipv4: { allocated: { "192.168.48.11": "52:54:00:00:00:02" } } },
      });
      expect(Object.keys(patched.status?.ipv4?.allocated ?? {}).sort()).toEqual([
        "192.168.48.10",
        "192.168.48.11",
      ]);
    });

    it("refuses a write carrying a stale resourceVersion with 409", async () => {
      const first = await pools.create(newPool(ns, "stale"));
      await pools.update({ ...first, spec: { ...first.spec, paused: true } });
      const error = await pools.update(first).catch((e: unknown) => e);
      expect(isConflict(error)).toBe(true);
    });

    it("re-reads and re-applies on conflict, so concurrent writers lose nothing", async () => {
      await pools.create(newPool(ns, "race"));
      const writers = Array.from({ length: 5 }, (_, i) =>
        pools.updateStatusWithRetry(ns, "race", (pool) => {
          const allocated = { ...pool.status?.ipv4?.allocated };
          allocated[`192.168.48.${20 + i}`] = `52:54:00:00:01:0${i}`;
          pool.status = { ...pool.status, ipv4: { ...pool.status?.ipv4, allocated } };
          return pool;
        }),
      );
      await Promise.all(writers);
      const stored = await pools.get(ns, "race");
      expect(Object.keys(stored?.status?.ipv4?.allocated ?? {})).toHaveLength(5);
    });
  });

  describe("Reflector", () => {
    const seen: { type: WatchEventType | "LIST"; name: string }[] = [];
    let reflector: Reflector<IpPool> | undefined;
    let watchNs = "";

    beforeAll(async () => {
      watchNs = await createNamespace(kubectlAs(cluster, "admin"), "watch");
      await pools.create(newPool(watchNs, "before"));
      reflector = new Reflector<IpPool>({
        name: "test pools",
        kubeConfig,
        path: pools.path(watchNs),
        list: () => pools.list(watchNs),
        onList: (items) => {
          for (const pool of items) seen.push({ type: "LIST", name: pool.metadata.name ?? "" });
        },
        onEvent: (type, pool) => seen.push({ type, name: pool.metadata.name ?? "" }),
        logger: silentLogger,
      });
      await reflector.start();
    });

    afterAll(async () => {
      await reflector?.stop();
    });

    it("delivers the full set first, then every change in order", async () => {
      expect(reflector?.state).toBe("synced");
      expect(seen).toEqual([{ type: "LIST", name: "before" }]);

      const created = await pools.create(newPool(watchNs, "after"));
      await pools.update({ ...created, spec: { ...created.spec, paused: true } });
      await pools.delete(watchNs, "after");
      await eventually(() => seen.some((e) => e.type === "DELETED"));
      expect(seen.slice(1)).toEqual([
        { type: "ADDED", name: "after" },
        { type: "MODIFIED", name: "after" },
        { type: "DELETED", name: "after" },
      ]);
    });

    it("reports stopped and ends its loop on stop", async () => {
      await reflector?.stop();
      expect(reflector?.state).toBe("stopped");
    });
  });
});
