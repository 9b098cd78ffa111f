import { ApiException } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { type Clock, sleep } from "../../src/controller/clock.js";
import type { KubeClient } from "../../src/controller/kube-client.js";
import { LeaderElector } from "../../src/controller/leader-election.js";
import { silentLogger } from "../../src/logger.js";
import { FakeClock } from "./fake-clock.js";

interface Lease {
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: { holderIdentity?: string };
}

/**
 * A candidate's connection: `up` false refuses every call; `answerDelayMs` delays every answer
 * (after the server has acted); `onWrite` runs when the server stores a write of it.
 */
interface Link {
  up: boolean;
  answerDelayMs: number;
  onWrite?: () => void;
}

/** One Lease with the API server's optimistic concurrency; each candidate can be cut off. */
class LeaseServer {
  lease: Lease | undefined;
  #version = 0;

  client(link: Link, clock: Clock): KubeClient {
    const reachable = () => {
      if (!link.up) throw new Error("connection refused");
    };
    const answer = async <T>(value: T): Promise<T> => {
      if (link.answerDelayMs > 0) await sleep(clock, link.answerDelayMs);
      return value;
    };
    return {
      get: async () => {
        reachable();
        return answer(this.lease && structuredClone(this.lease));
      },
      create: async (_path: string, body: Lease) => {
        reachable();
        if (this.lease) throw new ApiException(409, "exists", {}, {});
        return answer(this.#store(body, link));
      },
      replace: async (_path: string, body: Lease) => {
        reachable();
        if (body.metadata.resourceVersion !== this.lease?.metadata.resourceVersion) {
          throw new ApiException(409, "conflict", {}, {});
        }
        return answer(this.#store(body, link));
      },
    } as unknown as KubeClient;
  }

  #store(body: Lease, link: Link): Lease {
    this.lease = this.#stamp(body);
    link.onWrite?.();
    return this.lease;
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
  const link: Link = { up: true, answerDelayMs: 0 };
  const log: string[] = [];
  const elector = new LeaderElector({
    ...TIMING,
    kube: server.client(link, clock),
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
          kube: server.client({ up: true, answerDelayMs: 0 }, new FakeClock()),
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

  it("counts a renewal from its start, so a slow answer does not stretch the term", async () => {
    const clock = new FakeClock();
    const server = new LeaseServer();
    const a = candidate(server, clock, "a");
    a.elector.start();
    await clock.advance(1_000);
    expect(a.elector.isLeader()).toBe(true);

    // The next renewal is stored, then the link goes down while its answer takes 600 ms.
    a.link.answerDelayMs = 600;
    let storedAt = 0;
    a.link.onWrite = () => {
      storedAt = clock.now();
      a.link.up = false;
    };
    await clock.advance(4_000);
    expect(storedAt).toBeGreaterThan(0);
    const stoppedAt = Number(a.log.at(-1)!.split("@")[1]);
    // Others count the lease from when they see that write; a must stop within the renew
    // deadline of it, not of the late answer (that would be 600 ms later).
    expect(a.log).toHaveLength(2);
    expect(stoppedAt - storedAt).toBeLessThanOrEqual(TIMING.renewDeadlineMs);
  });

  it("does not lead on a renewal answered after the renew deadline", async () => {
    const clock = new FakeClock();
    const server = new LeaseServer();
    const a = candidate(server, clock, "a");
    // Each attempt (a read, then a write) takes 2 x 1,100 ms, beyond the 2,000 ms deadline.
    a.link.answerDelayMs = 1_100;
    a.elector.start();
    let led = 0;
    for (let t = 0; t < 10_000; t += 50) {
      await clock.advance(50);
      if (a.elector.isLeader()) led++;
    }
    expect(server.lease?.spec?.holderIdentity).toBe("a");
    expect(led).toBe(0);
    expect(a.log).toEqual([]);
  });
});
