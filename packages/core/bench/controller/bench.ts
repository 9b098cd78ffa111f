/**
 * Controller benchmark on a real kube-apiserver + etcd (the test cluster, started here):
 *
 * 1. Burst: N VirtualMachines created at once on one pool; time until every vmnetcfg is
 *    Allocated, and API writes per VM by resource. Run with the allocator's coalescing on and,
 *    as the comparison in the same run, off (one pool status write per request).
 * 2. Growth: rounds of VMs into one pool until it holds N; time and writes per VM per round,
 *    to show that the cost per VM does not grow with the pool.
 * 3. Latency: from a VM's creation to its lease being in an agent's store (the agent in
 *    dry-run, watching the pool as the agent identity), median and p99, for VMs created one at
 *    a time and for the burst.
 *
 * Figures are printed, never asserted: the machines are shared and noisy.
 *
 *   node --import tsx packages/core/bench/controller/bench.ts [--vms 1000] [--rounds 5]
 */
import { KubeConfig } from "@kubernetes/client-node";
import { Registry } from "prom-client";
import { Agent } from "../../src/agent/agent.js";
import type { IpPool, VmNetCfg } from "../../src/api/types.js";
import { Controller } from "../../src/controller/controller.js";
import { type ApiCall, KubeClient } from "../../src/controller/kube-client.js";
import { silentLogger } from "../../src/logger.js";
import { ensureBinaries } from "../../test/cluster/binaries.js";
import { SYSTEM_NAMESPACE } from "../../test/cluster/identities.js";
import { kubectlAs, mustKubectl } from "../../test/cluster/kubectl.js";
import { startTestCluster, type TestCluster } from "../../test/cluster/test-cluster.js";
import {
  allocatedEntries,
  controllerNamespace,
  controllerOptions,
  GROUP_VERSION,
  kubeConfigAs,
  nad,
  paths,
  virtualMachine,
} from "../../test/controller/harness.js";

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const VMS = flag("vms", 1_000);
const ROUNDS = flag("rounds", 5);
const SEQUENTIAL_SAMPLES = flag("samples", 50);
/** Creations in flight at once: "at once" as fast as one client can go. */
const CREATE_CONCURRENCY = 64;

/**
 * A /20 of RFC 2544's benchmarking range, to which nothing is sent: 4,081 addresses in its
 * range, room for the default 1,000 VMs and for `--vms` up to about 4,000.
 */
function benchPool(ns: string): IpPool {
  return {
    apiVersion: GROUP_VERSION,
    kind: "IPPool",
    metadata: { name: "bench", namespace: ns },
    spec: {
      networkName: `${ns}/net`,
      ipv4Config: {
        cidr: "198.18.0.0/20",
        serverIP: "198.18.0.2",
        router: "198.18.0.1",
        pool: { start: "198.18.0.10", end: "198.18.15.250" },
      },
    },
  };
}

const hex = (byte: number) => byte.toString(16).padStart(2, "0");
const macOf = (i: number) => `52:54:00:be:${hex((i >> 8) & 0xff)}:${hex(i & 0xff)}`;

class WriteCounter {
  readonly byResource = new Map<string, number>();
  total = 0;
  /** Writes refused with 409 (counted in `total` too): the price of optimistic concurrency. */
  conflicts = 0;
  record(call: ApiCall): void {
    if (call.verb === "GET") return;
    if (call.code === 409) this.conflicts++;
    const key = `${call.verb} ${call.resource}`;
    this.byResource.set(key, (this.byResource.get(key) ?? 0) + 1);
    this.total++;
  }
  reset(): void {
    this.byResource.clear();
    this.total = 0;
    this.conflicts = 0;
  }
}

interface Setup {
  ns: string;
  controller: Controller;
  agent: Agent;
  writes: WriteCounter;
  admin: KubeClient;
}

async function setUp(cluster: TestCluster, prefix: string, maxBatchSize?: number): Promise<Setup> {
  const admin = new KubeClient(kubeConfigAs(cluster, "admin"), { maxSockets: 64 });
  const ns = await controllerNamespace(cluster, prefix);
  await admin.create(paths.nads(ns), nad(ns, "net"));
  await admin.create(paths.pools(ns), benchPool(ns));
  const writes = new WriteCounter();
  const controller = new Controller({
    ...controllerOptions(cluster, ns, {
      // The agent runs here as the test cluster's agent identity: a service account of
      // harvester-system, which is where the controller's grant to read the pool must point.
      namespace: SYSTEM_NAMESPACE,
      noAgent: true,
      http: undefined,
      logger: silentLogger,
      onApiCall: (call) => writes.record(call),
    }),
    ...(maxBatchSize ? { maxBatchSize } : {}),
  });
  await controller.start();
  const agentConfig = new KubeConfig();
  agentConfig.loadFromFile(cluster.kubeconfigs.agent);
  const agent = new Agent({
    poolRef: { namespace: ns, name: "bench" },
    kubeConfig: agentConfig,
    nic: "eth1",
    dryRun: true,
    logger: silentLogger,
    registry: new Registry(),
  });
  await agent.start();
  await waitFor(async () => {
    const pool = await admin.get<IpPool>(paths.pools(ns, "bench"));
    return pool?.status?.conditions?.some((c) => c.type === "CacheReady" && c.status === "True");
  });
  writes.reset();
  return { ns, controller, agent, writes, admin };
}

async function tearDown(setup: Setup): Promise<void> {
  await setup.agent.stop();
  await setup.controller.stop();
  setup.admin.close();
}

/** Creates VMs `from..to-1`, noting in `created` when each one's creation was sent. */
async function createVms(
  setup: Setup,
  from: number,
  to: number,
  created = new Map<string, number>(),
): Promise<Map<string, number>> {
  let next = from;
  const worker = async () => {
    for (let i = next++; i < to; i = next++) {
      const vm = virtualMachine(setup.ns, `vm-${i}`, [
        { name: "nic1", network: "net", mac: macOf(i) },
      ]);
      created.set(macOf(i), performance.now());
      await setup.admin.create(paths.vms(setup.ns), vm);
    }
  };
  await Promise.all(Array.from({ length: CREATE_CONCURRENCY }, worker));
  return created;
}

/**
 * Polls the agent's store until it holds a lease for each of `macs`; resolves with the time
 * from each VM's creation (as noted in `created`, possibly still being filled) to its lease.
 */
function leaseLatencies(setup: Setup, macs: string[], created: Map<string, number>) {
  return new Promise<number[]>((resolve) => {
    const latencies: number[] = [];
    const waiting = new Set(macs);
    const poll = () => {
      const now = performance.now();
      for (const mac of waiting) {
        const since = created.get(mac);
        if (since === undefined || !setup.agent.lease(mac)) continue;
        latencies.push(now - since);
        waiting.delete(mac);
      }
      if (waiting.size === 0) resolve(latencies);
      else setTimeout(poll, 5);
    };
    poll();
  });
}

async function allAllocated(setup: Setup, count: number): Promise<void> {
  await waitFor(async () => {
    const list = await setup.admin.list<VmNetCfg>(paths.vmnetcfgs(setup.ns));
    return list.items.filter((c) => allocatedEntries(c)).length >= count;
  }, 250);
}

async function waitFor(check: () => Promise<boolean | undefined>, everyMs = 100): Promise<void> {
  const deadline = Date.now() + 10 * 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("benchmark step did not finish in 10 minutes");
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

interface BurstResult {
  seconds: number;
  writesPerVm: number;
  conflictsPerVm: number;
  byResource: Map<string, number>;
  latencies: number[];
}

async function burst(cluster: TestCluster, label: string, maxBatchSize?: number) {
  const setup = await setUp(cluster, `bench-${label}`, maxBatchSize);
  const started = performance.now();
  const created = new Map<string, number>();
  const macs = Array.from({ length: VMS }, (_, i) => macOf(i));
  // The store is watched while the VMs are still being created.
  const [latencies] = await Promise.all([
    leaseLatencies(setup, macs, created),
    createVms(setup, 0, VMS, created),
  ]);
  await allAllocated(setup, VMS);
  const seconds = (performance.now() - started) / 1000;
  const result: BurstResult = {
    seconds,
    writesPerVm: setup.writes.total / VMS,
    conflictsPerVm: setup.writes.conflicts / VMS,
    byResource: new Map(setup.writes.byResource),
    latencies,
  };
  await tearDown(setup);
  return result;
}

async function growth(cluster: TestCluster): Promise<string[][]> {
  const setup = await setUp(cluster, "bench-grow");
  const perRound = Math.ceil(VMS / ROUNDS);
  const rows: string[][] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const from = round * perRound;
    const to = Math.min(VMS, from + perRound);
    setup.writes.reset();
    const started = performance.now();
    await createVms(setup, from, to);
    await allAllocated(setup, to);
    const seconds = (performance.now() - started) / 1000;
    const pool = await setup.admin.get<IpPool>(paths.pools(setup.ns, "bench"));
    rows.push([
      `${from}->${to}`,
      String(pool?.status?.ipv4?.used ?? "?"),
      seconds.toFixed(2),
      ((to - from) / seconds).toFixed(0),
      (setup.writes.total / (to - from)).toFixed(2),
      ((setup.writes.byResource.get("PATCH ippools/status") ?? 0) / (to - from)).toFixed(3),
    ]);
  }
  await tearDown(setup);
  return rows;
}

async function sequentialLatency(cluster: TestCluster): Promise<number[]> {
  const setup = await setUp(cluster, "bench-seq");
  const latencies: number[] = [];
  for (let i = 0; i < SEQUENTIAL_SAMPLES; i++) {
    const created = new Map<string, number>();
    const [latency] = await Promise.all([
      leaseLatencies(setup, [macOf(i)], created),
      createVms(setup, i, i + 1, created),
    ]);
    latencies.push(...latency);
  }
  await tearDown(setup);
  return latencies;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join("  ");
  process.stdout.write(`${line(header)}\n${rows.map(line).join("\n")}\n`);
}

function printBurst(coalesced: BurstResult, single: BurstResult): void {
  process.stdout.write(`\n## ${VMS} VMs at once on one pool\n`);
  const resources = [...new Set([...coalesced.byResource.keys(), ...single.byResource.keys()])];
  const rows = [
    ["seconds to all Allocated", coalesced.seconds.toFixed(2), single.seconds.toFixed(2)],
    ["API writes per VM", coalesced.writesPerVm.toFixed(2), single.writesPerVm.toFixed(2)],
    [
      "  of which 409 Conflict",
      coalesced.conflictsPerVm.toFixed(3),
      single.conflictsPerVm.toFixed(3),
    ],
    ...resources
      .sort()
      .map((r) => [
        `  ${r} per VM`,
        ((coalesced.byResource.get(r) ?? 0) / VMS).toFixed(3),
        ((single.byResource.get(r) ?? 0) / VMS).toFixed(3),
      ]),
    [
      "lease latency median ms",
      ms(percentile(coalesced.latencies, 50)),
      ms(percentile(single.latencies, 50)),
    ],
    [
      "lease latency p99 ms",
      ms(percentile(coalesced.latencies, 99)),
      ms(percentile(single.latencies, 99)),
    ],
  ];
  printTable(["", "coalesced", "one write per request"], rows);
  const ratio = single.seconds / coalesced.seconds;
  process.stdout.write(`time ratio (one write per request / coalesced): ${ratio.toFixed(2)}\n`);
}

const ms = (value: number) => value.toFixed(0);

async function main(): Promise<void> {
  const found = await ensureBinaries();
  if (!found.ok) {
    process.stdout.write(`controller bench skipped: ${found.reason}\n`);
    return;
  }
  const cluster = await startTestCluster({ binaries: found.binaries, log: () => {} });
  try {
    await mustKubectl(kubectlAs(cluster, "admin"), ["get", "ns", "harvester-system"]);
    const coalesced = await burst(cluster, "burst");
    const single = await burst(cluster, "single", 1);
    printBurst(coalesced, single);

    process.stdout.write(`\n## Growth: ${VMS} VMs into one pool in ${ROUNDS} rounds\n`);
    printTable(
      ["VMs", "pool used", "seconds", "VMs/s", "writes/VM", "pool writes/VM"],
      await growth(cluster),
    );

    const latencies = await sequentialLatency(cluster);
    process.stdout.write(`\n## VM created -> lease in the agent's store, one VM at a time\n`);
    printTable(
      ["samples", "median ms", "p99 ms", "max ms"],
      [
        [
          String(latencies.length),
          ms(percentile(latencies, 50)),
          ms(percentile(latencies, 99)),
          ms(Math.max(...latencies)),
        ],
      ],
    );
  } finally {
    await cluster.stop();
  }
}

await main();
