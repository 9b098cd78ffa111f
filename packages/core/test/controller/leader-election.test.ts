import { ApiException } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import type { KubeClient } from "../../src/controller/kube-client.js";
import { LeaderElector } from "../../src/controller/leader-election.js";
import { silentLogger } from "../../src/logger.js";
import { FakeClock } from "./fake-clock.js";

interface Lease {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: { holderIdentity?: string };
}

/** One Lease with the API server's optimistic concurrency; each candidate can be cut off. */
class LeaseServer {
  lease: Lease | undefined;
  #version = 0;

  client(link: { up: boolean }): KubeClient {
    const reachable = () => {
      if (!link.up) throw new Error("connection refused");
    };
    return {
      get: async () => {
        reachable();
        return this.lease && structuredClone(this.lease);
      },
      create: async (_path: string, body: Lease) => {
        reachable();
        if (this.lease) throw new ApiException(409, "exists", {}, {});
        this.lease = this.#stamp(body);
        return this.lease;
      },
      replace: async (_path: string, body: Lease) => {
        reachable();
        if (body.metadata.resourceVersion !== this.lease?.metadata.resourceVersion) {
          throw new ApiException(409, "conflict", {}, {});
        }
        this.lease = this.#stamp(body);
        return this.lease;
      },
    } as unknown as KubeClient;
  }

  #stamp(body: Lease): Lease {
    return {
      ...structuredClone(body),
      metadata: { ...body.metadata, resourceVersion: String(++this.#version) },
    };
  }
}

const TIMING = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 };

function candidate(server: LeaseServer, clock: FakeClock, identity: string) {
  const link = { up: true };
  const log: string[] = [];
  const elector = new LeaderElector({
    ...TIMING,
    kube: server.client(link),
    namespace: "ns",
    name: "vm-dhcp-controller",
    identity,
    clock,
    logger: silentLogger,
    onStartedLeading: () => log.push(`start@${clock.now()}`),
    onStoppedLeading: () => log.push(`stop@${clock.now()}`),
  });
  return { elector, link, log };
}

describe("LeaderElector", () => {
  it("refuses a renew deadline that is not below the lease duration", () => {
    const server = new LeaseServer();
    expect(
      () =>
        new LeaderElector({
          ...TIMING,
          renewDeadlineMs: 3_000,
          kube: server.client({ up: true }),
          namespace: "ns",
          name: "l",
          identity: "a",
          logger: silentLogger,
          onStartedLeading: () => {},
          onStoppedLeading: () => {},
        }),
    ).toThrow(/renew deadline/);
  });

  it("one candidate leads; the other waits while the lease is renewed", async () => {
    const clock = new FakeClock();
    const server = new LeaseServer();
    const a = candidate(server, clock, "a");
    const b = candidate(server, clock, "b");
    a.elector.start();
    await clock.advance(10);
    b.elector.start();
    await clock.advance(10_000);
    expect(a.elector.isLeader()).toBe(true);
    expect(b.elector.isLeader()).toBe(false);
    expect(b.elector.holder).toBe("a");
    expect(server.lease?.spec?.holderIdentity).toBe("a");
    expect(b.log).toEqual([]);
  });

  it("a cut-off leader stops at its renew deadline, before the standby can take over", async () => {
    const clock = new FakeClock();
    const server = new LeaseServer();
    const a = candidate(server, clock, "a");
    const b = candidate(server, clock, "b");
    a.elector.start();
    await clock.advance(10);
    b.elector.start();
    await clock.advance(2_000);
    a.link.up = false;
    const cutAt = clock.now();
    let both = 0;
    for (let t = 0; t < 6_000; t += 50) {
      await clock.advance(50);
      if (a.elector.isLeader() && b.elector.isLeader()) both++;
    }
    expect(both).toBe(0);
    const stoppedAt = Number(a.log.at(-1)!.split("@")[1]);
    const startedAt = Number(b.log[0]!.split("@")[1]);
    // a renewed at most one retry period before the cut, so it stops within the deadline.
    expect(stoppedAt - cutAt).toBeLessThanOrEqual(TIMING.renewDeadlineMs);
    expect(startedAt).toBeGreaterThan(stoppedAt);
    expect(startedAt - cutAt).toBeLessThanOrEqual(
      TIMING.leaseDurationMs + 2 * TIMING.retryPeriodMs,
    );
    expect(server.lease?.spec?.holderIdentity).toBe("b");
  });

  it("a leader that stops releases the lease, so the standby need not wait it out", async () => {
    const clock = new FakeClock();
    const server = new LeaseServer();
    const a = candidate(server, clock, "a");
    const b = candidate(server, clock, "b");
    a.elector.start();
    await clock.advance(10);
    b.elector.start();
    await clock.advance(1_000);
    const stopping = a.elector.stop();
    await clock.advance(TIMING.retryPeriodMs);
    await stopping;
    const releasedAt = clock.now();
    expect(a.elector.isLeader()).toBe(false);
    await clock.advance(2 * TIMING.retryPeriodMs);
    expect(b.elector.isLeader()).toBe(true);
    expect(Number(b.log[0]!.split("@")[1]) - releasedAt).toBeLessThanOrEqual(
      2 * TIMING.retryPeriodMs,
    );
  });
});
