/**
 * Restart safety with real processes: a controller SIGKILLed in the middle of allocating 300
 * vmnetcfgs, then started again, ends with every vmnetcfg Allocated, no address with two
 * owners and no allocation lost; and with two controllers under leader election, killing the
 * leader hands over within the lease duration without any address given twice.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IpPool, VmNetCfg } from "../../src/api/types.js";
import type { KubeClient } from "../../src/controller/kube-client.js";
import { describeWithCluster } from "../cluster/use-cluster.js";
import { type ControllerProcess, kill, logTail, spawnController } from "./controller-process.js";
import {
  allocatedEntries,
  clientAs,
  controllerNamespace,
  eventually,
  GROUP_VERSION,
  nad,
  paths,
  vmNetCfg,
} from "./harness.js";

/** Two /24 pools: 300 NICs do not fit in one of the documentation ranges. */
const NETWORKS = [
  { nad: "net-a", pool: "pool-a", cidr: "198.51.100.0/24", prefix: "198.51.100" },
  { nad: "net-b", pool: "pool-b", cidr: "203.0.113.0/24", prefix: "203.0.113" },
];

function bigPool(ns: string, n: (typeof NETWORKS)[number]): IpPool {
  return {
    apiVersion: GROUP_VERSION,
    kind: "IPPool",
    metadata: { name: n.pool, namespace: ns },
    spec: {
      networkName: `${ns}/${n.nad}`,
      ipv4Config: {
        cidr: n.cidr,
        serverIP: `${n.prefix}.2`,
        router: `${n.prefix}.1`,
        pool: { start: `${n.prefix}.3`, end: `${n.prefix}.254` },
      },
    },
  };
}

const hex = (byte: number) => byte.toString(16).padStart(2, "0");
const macOf = (i: number) => `52:54:00:0c:${hex((i >> 8) & 0xff)}:${hex(i & 0xff)}`;

describeWithCluster("controller: restart safety", (cluster) => {
  let admin: KubeClient;
  const running: ControllerProcess[] = [];

  beforeAll(() => {
    admin = clientAs(cluster, "admin");
  });

  afterAll(async () => {
    await Promise.all(running.map((proc) => kill(proc)));
    admin?.close();
  });

  const start = async (ns: string, label: string, extra: string[] = []) => {
    const proc = await spawnController(cluster, ns, label, extra);
    running.push(proc);
    return proc;
  };

  async function setUp(prefix: string, count: number): Promise<string> {
    const ns = await controllerNamespace(cluster, prefix);
    for (const n of NETWORKS) {
      await admin.create(paths.nads(ns), nad(ns, n.nad));
      await admin.create(paths.pools(ns), bigPool(ns, n));
    }
    const configs = Array.from({ length: count }, (_, i) =>
      vmNetCfg(ns, `vm-${i}`, [{ networkName: NETWORKS[i % 2]!.nad, macAddress: macOf(i) }]),
    );
    for (let i = 0; i < configs.length; i += 25) {
      await Promise.all(configs.slice(i, i + 25).map((c) => admin.create(paths.vmnetcfgs(ns), c)));
    }
    return ns;
  }

  /** MAC -> IP over both pools' status, failing on an address recorded twice for one MAC. */
  async function poolOwners(ns: string): Promise<Map<string, string>> {
    const owners = new Map<string, string>();
    for (const n of NETWORKS) {
      const found = await admin.get<IpPool>(paths.pools(ns, n.pool));
      for (const [ip, owner] of Object.entries(found?.status?.ipv4?.allocated ?? {})) {
        if (owner === "RESERVED" || owner === "EXCLUDED") continue;
        expect(owners.has(owner), `${owner} holds two addresses`).toBe(false);
        owners.set(owner, ip);
      }
    }
    return owners;
  }

  async function allConfigs(ns: string): Promise<VmNetCfg[]> {
    return (await admin.list<VmNetCfg>(paths.vmnetcfgs(ns))).items;
  }

  /** Every vmnetcfg Allocated, its address the one the pool records for its MAC. */
  async function expectAllAllocated(ns: string, count: number, proc: ControllerProcess) {
    const configs = await eventually(
      "every vmnetcfg Allocated",
      async () => {
        const list = await allConfigs(ns);
        return list.length === count && list.every((c) => allocatedEntries(c)) ? list : undefined;
      },
      60_000,
    ).catch(async (error: Error) => {
      throw new Error(`${error.message}\n${await logTail(proc)}`);
    });
    const owners = await poolOwners(ns);
    expect(owners.size).toBe(count);
    const ips = new Set<string>();
    for (const config of configs) {
      const [entry] = config.status!.networkConfigs!;
      expect(owners.get(entry!.macAddress)).toBe(entry!.allocatedIPAddress);
      ips.add(entry!.allocatedIPAddress!);
    }
    // Both pools are /24s with distinct prefixes, so equal IP strings mean one address twice.
    expect(ips.size).toBe(count);
    return owners;
  }

  describe("SIGKILL in the middle of allocating 300 vmnetcfgs", () => {
    it("ends with every vmnetcfg Allocated, no address twice, nothing lost", async () => {
      const count = 300;
      const ns = await setUp("ctrl-restart", count);
      const first = await start(ns, "first", ["--no-leader-election"]);
      const atKill = await eventually(
        "some allocations recorded",
        async () => {
          const owners = await poolOwners(ns);
          return owners.size >= 20 ? owners : undefined;
        },
        60_000,
      );
      await kill(first);
      const recorded = await poolOwners(ns);
      const doneBefore = (await allConfigs(ns)).filter((c) => allocatedEntries(c)).length;
      console.log(
        `restart safety: killed after ${atKill.size}+ pool allocations, ${recorded.size} ` +
          `recorded, ${doneBefore}/${count} vmnetcfgs Allocated`,
      );
      expect(doneBefore, "the kill came too late to test anything").toBeLessThan(count);

      const second = await start(ns, "second", ["--no-leader-election"]);
      const owners = await expectAllAllocated(ns, count, second);
      for (const [mac, ip] of recorded) expect(owners.get(mac), `${mac} moved`).toBe(ip);
      await kill(second);
    }, 120_000);
  });

  describe("two controllers under leader election", () => {
    it("the standby takes over within the lease duration; nothing is allocated twice", async () => {
      const count = 100;
      const ns = await setUp("ctrl-elect", count);
      const timing = ["--lease-duration=2", "--renew-deadline=1.5", "--retry-period=0.25"];
      const a = await start(ns, "a", [...timing, "--leader-election-identity=a"]);
      const b = await start(ns, "b", [...timing, "--leader-election-identity=b"]);
      const byName = { a, b } as Record<string, ControllerProcess>;
      const holder = async () =>
        (
          await admin.get<{ spec?: { holderIdentity?: string } }>(
            `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/vm-dhcp-controller`,
          )
        )?.spec?.holderIdentity || undefined;
      const leader = await eventually("a leader", holder, 30_000);
      await eventually(
        "some allocations recorded",
        async () => ((await poolOwners(ns)).size >= 10 ? true : undefined),
        60_000,
      );
      const killedAt = Date.now();
      await kill(byName[leader]!);
      const next = await eventually("the standby leads", async () => {
        const now = await holder();
        return now && now !== leader ? now : undefined;
      });
      const takeoverMs = Date.now() - killedAt;
      console.log(`leader election: ${next} took over ${takeoverMs} ms after ${leader} was killed`);
      // Lease 2 s; the standby measures it from the last renewal it saw, up to one retry
      // period late, and needs one more round to write the lease: 1 s of slack for a busy host.
      expect(takeoverMs).toBeLessThan(2_000 + 2 * 250 + 1_000);

      await expectAllAllocated(ns, count, byName[next]!);
    }, 120_000);
  });
});
