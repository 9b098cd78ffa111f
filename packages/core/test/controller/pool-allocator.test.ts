import { ApiException } from "@kubernetes/client-node";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import type { IpPool } from "../../src/api/types.js";
import { createControllerMetrics } from "../../src/controller/metrics.js";
import {
  PoolAllocator,
  type PoolStatusApi,
  PoolUnavailableError,
} from "../../src/controller/pool-allocator.js";
import { silentLogger } from "../../src/logger.js";

/** An IPPool held as the API server would: status merge patches with a version check. */
class PoolServer implements PoolStatusApi {
  pool: IpPool;
  writes = 0;
  /** Answers the next patches with these HTTP codes instead of applying them. */
  failNext: number[] = [];
  #version = 1;

  constructor() {
    this.pool = {
      apiVersion: "network.harvesterhci.io/v1alpha1",
      kind: "IPPool",
      metadata: { namespace: "ns", name: "pool", uid: "u1", resourceVersion: "1" },
      spec: {
        networkName: "ns/net",
        ipv4Config: {
          cidr: "192.0.2.0/24",
          serverIP: "192.0.2.2",
          router: "192.0.2.1",
          pool: { start: "192.0.2.1", end: "192.0.2.200", exclude: ["192.0.2.10"] },
        },
      },
    };
  }

  async get(): Promise<IpPool> {
    return structuredClone(this.pool);
  }

  async patchStatus(_ns: string, _name: string, patch: object): Promise<IpPool> {
    const code = this.failNext.shift();
    if (code) throw new ApiException(code, "refused", {}, {});
    const { metadata, status } = patch as {
      metadata?: { resourceVersion?: string };
      status: object;
    };
    if (
      metadata?.resourceVersion &&
      metadata.resourceVersion !== this.pool.metadata.resourceVersion
    ) {
      throw new ApiException(409, "conflict", {}, {});
    }
    this.writes++;
    this.pool.status = mergePatch(this.pool.status ?? {}, status) as IpPool["status"];
    this.pool.metadata.resourceVersion = String(++this.#version);
    return structuredClone(this.pool);
  }

  /** Someone else records an allocation. */
  externalAllocation(ip: string, mac: string): void {
    const allocated = { ...(this.pool.status?.ipv4?.allocated ?? {}), [ip]: mac };
    this.pool.status = { ...this.pool.status, ipv4: { ...this.pool.status?.ipv4, allocated } };
    this.pool.metadata.resourceVersion = String(++this.#version);
  }
}

function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    typeof target === "object" && target !== null && !Array.isArray(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

function allocator(server: PoolServer, canWrite = () => true) {
  return new PoolAllocator({
    pool: server.pool,
    api: server,
    canWrite,
    metrics: createControllerMetrics(new Registry()),
    logger: silentLogger,
  });
}

const mac = (i: number) => `52:54:00:00:01:${i.toString(16).padStart(2, "0")}`;

describe("PoolAllocator", () => {
  it("coalesces requests made together into one status write", async () => {
    const server = new PoolServer();
    const pool = allocator(server);
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, (_, i) => pool.allocate({ mac: mac(i), mode: "any" })),
    );
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(server.writes).toBe(1);
    const ips = outcomes.map((o) => (o.ok ? o.ip : ""));
    expect(new Set(ips).size).toBe(50);
    expect(ips).not.toContain("192.0.2.1");
    expect(ips).not.toContain("192.0.2.2");
    expect(ips).not.toContain("192.0.2.10");
    expect(server.pool.status?.ipv4).toMatchObject({ used: 50, available: 197 - 50 });
  });

  it("writes nothing for an allocation the status already records", async () => {
    const server = new PoolServer();
    const pool = allocator(server);
    const first = await pool.allocate({ mac: mac(1), mode: "any" });
    const again = await pool.allocate({ mac: mac(1), mode: "any" });
    expect(again).toEqual({ ok: true, ip: first.ok ? first.ip : "", changed: false });
    expect(server.writes).toBe(1);
  });

  it("rereads the pool after a 409 and never hands out what another writer recorded", async () => {
    const server = new PoolServer();
    const pool = allocator(server);
    await pool.allocate({ mac: mac(1), mode: "any" });
    server.externalAllocation("192.0.2.4", "52:54:00:ff:ff:ff");
    const outcome = await pool.allocate({ mac: mac(2), wanted: "192.0.2.4", mode: "static" });
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.error.code).toBe("ALREADY_ALLOCATED");
    const next = await pool.allocate({ mac: mac(3), mode: "any" });
    expect(next.ok && next.ip).not.toBe("192.0.2.4");
  });

  it("settles a request only once the write is stored: a failed write rejects it", async () => {
    const server = new PoolServer();
    const pool = allocator(server);
    server.failNext = [500];
    await expect(pool.allocate({ mac: mac(1), mode: "any" })).rejects.toThrow(/refused/);
    expect(server.pool.status?.ipv4?.allocated).toBeUndefined();
    const retry = await pool.allocate({ mac: mac(1), mode: "any" });
    expect(retry.ok).toBe(true);
  });

  it("refuses every request once its process may not write (a deposed leader)", async () => {
    const server = new PoolServer();
    let leader = true;
    const pool = allocator(server, () => leader);
    await pool.allocate({ mac: mac(1), mode: "any" });
    leader = false;
    const refused = pool.allocate({ mac: mac(2), mode: "any" });
    await expect(refused).rejects.toBeInstanceOf(PoolUnavailableError);
    await expect(refused).rejects.toMatchObject({ reason: "NotLeader" });
    expect(server.writes).toBe(1);
  });

  it("releases before it allocates in one write; the freed address goes out last", async () => {
    const server = new PoolServer();
    const pool = allocator(server);
    const held = await pool.allocate({ mac: mac(1), mode: "any" });
    const [released, next] = await Promise.all([
      pool.release(mac(1)),
      pool.allocate({ mac: mac(2), mode: "any" }),
    ]);
    expect(released.released).toBe(held.ok ? held.ip : "");
    expect(next.ok && next.ip).not.toBe(released.released);
    expect(Object.values(server.pool.status!.ipv4!.allocated!)).not.toContain(mac(1));
  });

  it("keeps a MAC on its address when a static move is refused", async () => {
    const server = new PoolServer();
    const pool = allocator(server);
    const a = await pool.allocate({ mac: mac(1), mode: "any" });
    const b = await pool.allocate({ mac: mac(2), mode: "any" });
    const moved = await pool.allocate({ mac: mac(1), wanted: b.ok ? b.ip : "", mode: "static" });
    expect(moved.ok).toBe(false);
    if (!moved.ok) expect(moved.held).toBe(a.ok ? a.ip : "");
  });
});
