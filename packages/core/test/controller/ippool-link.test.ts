/**
 * The IPPool reconciler's link to its NetworkAttachmentDefinition, without an API server: the
 * caches are plain maps that can lag behind the fake server, as informers do.
 */
import type { V1Pod } from "@kubernetes/client-node";
import { ApiException } from "@kubernetes/client-node";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { isConflict } from "../../src/api/errors.js";
import type { IpPool, VmNetCfg } from "../../src/api/types.js";
import { AllocatorRegistry } from "../../src/controller/allocator-registry.js";
import { systemClock } from "../../src/controller/clock.js";
import {
  BY_NETWORK,
  BY_POOL,
  type ControllerCaches,
  nadPools,
  poolNetworks,
  type ReconcileDeps,
} from "../../src/controller/context.js";
import type { EventRecorder } from "../../src/controller/events.js";
import type { IndexFunction, ObjectStore } from "../../src/controller/informer.js";
import { IpPoolReconciler } from "../../src/controller/ippool-reconciler.js";
import type { KubeClient } from "../../src/controller/kube-client.js";
import { createControllerMetrics } from "../../src/controller/metrics.js";
import { keyOf } from "../../src/controller/names.js";
import type {
  NetworkAttachmentDefinition,
  VirtualMachine,
} from "../../src/controller/resources.js";
import { silentLogger } from "../../src/logger.js";
import { nad, pool } from "./harness.js";

/** A cache: objects by key, with the indexes the reconciler reads. */
class MapStore<T extends { metadata: { namespace?: string; name?: string } }>
  implements ObjectStore<T>
{
  readonly synced = true;
  readonly #objects = new Map<string, T>();
  readonly #indexers: Record<string, IndexFunction<T>>;

  constructor(indexers: Record<string, IndexFunction<T>> = {}, objects: T[] = []) {
    this.#indexers = indexers;
    for (const object of objects) this.put(object);
  }

  put(object: T): void {
    this.#objects.set(keyOf(object), structuredClone(object));
  }

  get(key: string): T | undefined {
    return this.#objects.get(key);
  }

  list(): T[] {
    return [...this.#objects.values()];
  }

  byIndex(index: string, value: string): T[] {
    const indexer = this.#indexers[index];
    return indexer ? this.list().filter((object) => indexer(object).includes(value)) : [];
  }
}

/** What the API server holds: NADs with optimistic concurrency, pools' status. */
class FakeServer {
  readonly nads = new Map<string, NetworkAttachmentDefinition>();
  readonly pools = new Map<string, IpPool>();
  #version = 100;

  add<T extends NetworkAttachmentDefinition | IpPool>(map: Map<string, T>, object: T): T {
    const stored = structuredClone(object);
    stored.metadata.resourceVersion = String(++this.#version);
    stored.metadata.uid ??= `uid-${keyOf(object)}`;
    map.set(keyOf(object), stored);
    return structuredClone(stored);
  }

  /** A NAD merge patch: labels only, refused with 409 when its resourceVersion is stale. */
  patchNad(key: string, body: { metadata: NetworkAttachmentDefinition["metadata"] }) {
    const current = this.nads.get(key)!;
    const expected = body.metadata.resourceVersion;
    if (expected !== undefined && expected !== current.metadata.resourceVersion) {
      throw new ApiException(409, "the object has been modified", {}, {});
    }
    const labels = { ...current.metadata.labels, ...body.metadata.labels };
    for (const [name, value] of Object.entries(labels)) if (value === null) delete labels[name];
    return this.add(this.nads, { ...current, metadata: { ...current.metadata, labels } });
  }

  /** A pool status merge patch (shallow per status field, as the allocator writes it). */
  patchPoolStatus(key: string, patch: { status: Record<string, unknown> }): IpPool {
    const current = this.pools.get(key)!;
    const status = { ...current.status, ...patch.status } as IpPool["status"];
    return this.add(this.pools, { ...current, status });
  }
}

function setup() {
  const server = new FakeServer();
  const network = nad("ns", "net");
  const pools = ["pool-1", "pool-2"].map((name) =>
    server.add(
      server.pools,
      pool("ns", name, "ns/net", { start: "192.0.2.10", end: "192.0.2.20" }),
    ),
  );
  const caches: ControllerCaches = {
    pools: new MapStore<IpPool>({ [BY_NETWORK]: poolNetworks }, pools),
    nads: new MapStore<NetworkAttachmentDefinition>({ [BY_POOL]: nadPools }, [
      server.add(server.nads, network),
    ]),
    vmnetcfgs: new MapStore<VmNetCfg>(),
    vms: new MapStore<VirtualMachine>(),
    pods: new MapStore<V1Pod & { metadata: object }>(),
  };
  const kube = {
    mergePatch: async (path: string, body: { metadata: NetworkAttachmentDefinition["metadata"] }) =>
      server.patchNad(`ns/${path.split("/").at(-1)}`, body),
    // The agent's grant (agent-access.test.ts covers it): no Role yet, then made.
    get: async () => undefined,
    create: async (_path: string, body: unknown) => body,
    delete: async () => false,
  } as unknown as KubeClient;
  const metrics = createControllerMetrics(new Registry());
  const events: string[] = [];
  const deps: ReconcileDeps = {
    kube,
    caches,
    allocators: new AllocatorRegistry({
      api: {
        get: async (namespace, name) => structuredClone(server.pools.get(`${namespace}/${name}`)),
        patchStatus: async (namespace, name, patch) =>
          server.patchPoolStatus(
            `${namespace}/${name}`,
            patch as { status: Record<string, unknown> },
          ),
      },
      canWrite: () => true,
      metrics,
      logger: silentLogger,
      clock: systemClock,
      onCommitted: () => {},
    }),
    events: {
      emit: (subject: IpPool, _type: string, reason: string) =>
        events.push(`${subject.metadata.name} ${reason}`),
    } as unknown as EventRecorder,
    metrics,
    clock: systemClock,
    settings: {
      agent: {} as ReconcileDeps["settings"]["agent"],
      noAgent: true,
      orphanGraceMs: 60_000,
      stuckAgentGraceMs: 1_000,
    },
    enqueue: { pool: () => {}, vmnetcfg: () => {}, vm: () => {} },
    waiting: new Map(),
    tombstones: { pools: new Map(), vmnetcfgs: new Map() },
    listVmNetCfgs: async () => [],
  };
  const reconciler = new IpPoolReconciler(deps);
  const reconcile = (name: string) =>
    reconciler.reconcile(`ns/${name}`, { reconcileId: "test", logger: silentLogger });
  const registered = (name: string) =>
    server.pools.get(`ns/${name}`)?.status?.conditions?.find((c) => c.type === "Registered");
  return { server, caches, reconcile, registered, events };
}

describe("IpPoolReconciler: linking the NAD", () => {
  it("lets only one of two pools that race for a NAD label it", async () => {
    const { server, caches, reconcile, registered, events } = setup();

    await reconcile("pool-1");
    const labelled = server.nads.get("ns/net")!;
    expect(labelled.metadata.labels?.["network.harvesterhci.io/ippool-name"]).toBe("pool-1");
    expect(registered("pool-1")?.status).toBe("True");

    // pool-2 decides on a cache that has not seen pool-1's label yet: its patch carries the
    // version it decided on and is refused, rather than taking the NAD from pool-1.
    const refused = await reconcile("pool-2").catch((error: unknown) => error);
    expect(isConflict(refused)).toBe(true);
    expect(
      server.nads.get("ns/net")!.metadata.labels?.["network.harvesterhci.io/ippool-name"],
    ).toBe("pool-1");

    // Retried once the cache shows the winner, it reports the network as taken.
    (caches.nads as MapStore<NetworkAttachmentDefinition>).put(server.nads.get("ns/net")!);
    await reconcile("pool-2");
    expect(registered("pool-2")).toMatchObject({ status: "False", reason: "NetworkInUse" });
    expect(events).toContain("pool-2 NetworkInUse");
  });

  it("reports a network that cannot be linked on Registered, with --no-agent too", async () => {
    const { caches, reconcile, registered } = setup();
    caches.nads = new MapStore<NetworkAttachmentDefinition>({ [BY_POOL]: nadPools });
    await reconcile("pool-1");
    expect(registered("pool-1")).toMatchObject({ status: "False", reason: "NetworkNotFound" });
  });

  it("reports a paused pool as not registered", async () => {
    const { server, caches, reconcile, registered } = setup();
    await reconcile("pool-1");
    const paused = structuredClone(server.pools.get("ns/pool-1")!);
    paused.spec.paused = true;
    (caches.pools as MapStore<IpPool>).put(server.add(server.pools, paused));
    await reconcile("pool-1");
    expect(registered("pool-1")).toMatchObject({ status: "False", reason: "Paused" });
  });
});
