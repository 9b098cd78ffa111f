/**
 * DHCP load benchmark: perfdhcp (Kea's load generator) against `vm-dhcp agent`, Kea, dnsmasq
 * and the npm `dhcp` package's server, in one run, on the same namespaces and with the same
 * fixed MAC -> IP reservations (1,000 and 10,000). Prints figures and ratios; never fails on a
 * time (shared machines are noisy). Needs root; installs its Debian packages when missing.
 *
 *   node --import tsx packages/core/bench/agent/bench-agent.ts [--sizes=1000,10000]
 *     [--servers=vm-dhcp-agent,kea,dnsmasq,npm-dhcp] [--agent-node-flags=--trace-gc]
 *
 * Setup: a server namespace (198.18.127.253 on `srv0`) and a perfdhcp namespace
 * (198.18.127.254), one veth between them, all in 198.18.0.0/17 (RFC 2544's benchmarking
 * range: a /24 cannot hold 10,000 reservations). perfdhcp acts as a relay (giaddr
 * 198.18.127.254, port 67), so the agent, Kea and dnsmasq are measured on the relayed path.
 * The npm `dhcp` server cannot answer a relay: it sends every reply to its broadcast setting
 * on port 68, so it is pointed at perfdhcp, which then listens on 68 (same traffic, one port
 * apart). The server runs on CPU 0, perfdhcp on CPU 1. The agent is the real CLI process, fed
 * by a real kube-apiserver (the test cluster).
 */
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { AgentProcess } from "../../test/agent/agent-process.js";
import { TestPool } from "../../test/agent/vm-network.js";
import { ensureBinaries, REPO_ROOT } from "../../test/cluster/binaries.js";
import { kubectlAs, mustKubectl } from "../../test/cluster/kubectl.js";
import type { LoggedProcess } from "../../test/cluster/process.js";
import { startTestCluster, type TestCluster } from "../../test/cluster/test-cluster.js";
import { Lab, run, which } from "../../test/netns/netns.js";
import { poll } from "../../test/netns/poll.js";
import { startDnsmasq, startKea, startNpmDhcp } from "./peers.js";
import { type PerfResult, perfdhcp } from "./perfdhcp.js";
import { cpuSeconds, rssKib, udpReceiveBufferErrors } from "./proc.js";
import { type Reservation, reservations } from "./reservations.js";

const SERVER = "198.18.127.253";
/** The image's bundler: the agent runs as shipped, not under a TypeScript loader. */
const BUNDLER = join(REPO_ROOT, "esbuild.config.mjs");
const RELAY = "198.18.127.254";
const SERVER_CPU = "0";
const PERF_CPU = "1";
/** Offered rates (exchanges/s) tried in turn until drops reach 1 %. */
const RATES = [1_000, 2_000, 3_000, 4_000, 6_000, 8_000, 12_000, 16_000, 24_000];
const STEP_SECONDS = 4;
/** The rate of the latency run, low enough for every server to answer everything. */
const LATENCY_RATE = 1_000;
const MAX_DROP_PERCENT = 1;
const AGENT = "vm-dhcp-agent";

/** A server under test, started for one reservation set. */
interface Served {
  name: string;
  pid: number;
  /** perfdhcp's local port for this server (see PerfOptions.localPort). */
  perfdhcpPort?: number;
  stop(): Promise<void>;
}

/** What one server achieved for one reservation set. */
interface Figures {
  server: string;
  size: number;
  /** Highest offered rate with < 1 % drops, and what perfdhcp measured there. */
  bestRate: number;
  bestExchanges: number;
  /** CPU seconds per 1,000 exchanges at the latency rate. */
  cpuMsPerExchange: number;
  /** Resident memory once answering (after a 50/s probe), and after the runs. */
  idleRssMib: number;
  rssMib: number;
  latency: PerfResult["latency"];
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    process.stdout.write("agent benchmark SKIPPED: needs root for network namespaces\n");
    return;
  }
  const sizes = listArg("sizes", "1000,10000").map(Number);
  const servers = listArg("servers", `${AGENT},kea,dnsmasq,npm-dhcp`);
  await ensureDebianPackages();
  const found = await ensureBinaries();
  if (!found.ok) throw new Error(`no test cluster binaries: ${found.reason}`);
  const cluster = await startTestCluster({ binaries: found.binaries });
  const lab = await Lab.create("vd-agent-bench");
  try {
    const [srv, perf] = [await lab.namespace("srv"), await lab.namespace("perf")];
    await lab.veth(
      { ns: srv, name: "srv0", address: `${SERVER}/17` },
      {
        ns: perf,
        name: "perf0",
        address: `${RELAY}/17`,
      },
    );
    const results: Figures[] = [];
    for (const size of sizes) {
      const set = reservations(size);
      const macFile = join(lab.dir, `macs-${size}`);
      await writeFile(macFile, `${set.map((entry) => entry.mac).join("\n")}\n`);
      const starters = serverStarters(lab, cluster, srv, set);
      const chosen = Object.entries(starters).filter(([name]) => servers.includes(name));
      for (const [name, start] of chosen) {
        const served = await start();
        try {
          results.push(await measure(lab, perf, srv, macFile, served, size, name));
        } finally {
          await served.stop();
        }
      }
    }
    printReport(results);
  } finally {
    await lab.close({ keepDir: process.env.VM_DHCP_KEEP_LAB === "1" });
    await cluster.stop();
  }
}

function serverStarters(lab: Lab, cluster: TestCluster, ns: string, set: Reservation[]) {
  const options = { lab, ns, cpus: SERVER_CPU, server: SERVER, relay: RELAY, reservations: set };
  return {
    [AGENT]: () => startAgent(lab, cluster, ns, set),
    kea: () => startKea(options),
    dnsmasq: () => startDnsmasq(options),
    "npm-dhcp": () => startNpmDhcp(options),
  };
}

async function startAgent(
  lab: Lab,
  cluster: TestCluster,
  ns: string,
  set: Reservation[],
): Promise<Served> {
  const admin = kubectlAs(cluster, "admin");
  const namespace = `agent-bench-${set.length}-${randomBytes(2).toString("hex")}`;
  await mustKubectl(admin, ["create", "namespace", namespace]);
  const pool = new TestPool(admin, namespace, "bench");
  await pool.apply({
    cidr: "198.18.0.0/17",
    serverIP: SERVER,
    pool: { start: "198.18.0.2", end: "198.18.127.252" },
    router: "198.18.0.1",
    dns: ["198.18.0.53"],
    leaseTime: 3600,
  });
  await pool.allocate(Object.fromEntries(set.map((entry) => [entry.ip, entry.mac])));
  const bundle = join(lab.dir, "vm-dhcp.mjs");
  const built = await run(process.execPath, [BUNDLER, `--outfile=${bundle}`, "--quiet"]);
  if (built.code !== 0) throw new Error(`bundling the CLI failed: ${built.stderr}`);
  const agent = await AgentProcess.start({
    bundle,
    nodeFlags: listArg("agent-node-flags", "").filter(Boolean),
    lab,
    cluster,
    ns,
    nic: "srv0",
    poolRef: pool.ref,
    debug: false,
    cpus: SERVER_CPU,
  });
  await poll("every lease in the agent", 30_000, async () => {
    return Object.keys(await agent.leases()).length === set.length;
  });
  const proc: LoggedProcess = agent.proc;
  return { name: AGENT, pid: proc.child.pid!, stop: () => agent.close() };
}

async function measure(
  lab: Lab,
  ns: string,
  serverNs: string,
  macFile: string,
  served: Served,
  size: number,
  name: string,
): Promise<Figures> {
  const base = {
    ...{ lab, ns, macFile, server: SERVER, relay: RELAY, cpus: PERF_CPU },
    ...(served.perfdhcpPort ? { localPort: served.perfdhcpPort } : {}),
  };
  await poll(`${name} answering`, 30_000, async () => {
    const probe = await perfdhcp({ ...base, rate: 50, seconds: 1 });
    return probe.acks > 0;
  });
  const idleRssMib = (await rssKib(served.pid)) / 1024;
  let bestRate = 0;
  let bestExchanges = 0;
  for (const rate of RATES) {
    const overflows = await overflowCounter(lab, [serverNs, ns]);
    const result = await perfdhcp({ ...base, rate, seconds: STEP_SECONDS });
    const [atServer, atPerf] = await overflows();
    process.stdout.write(
      `  ${name} ${size}: offered ${rate}/s -> ${result.exchangesPerSecond.toFixed(0)}/s, ` +
        `drops ${result.dropPercent.toFixed(2)} %, ` +
        `socket overflows: server ${atServer}, perfdhcp ${atPerf}\n`,
    );
    if (result.dropPercent >= MAX_DROP_PERCENT) break;
    bestRate = rate;
    bestExchanges = result.exchangesPerSecond;
  }
  const cpuBefore = await cpuSeconds(served.pid);
  const latency = await perfdhcp({
    ...base,
    rate: LATENCY_RATE,
    seconds: STEP_SECONDS,
    timers: true,
  });
  const cpuUsed = (await cpuSeconds(served.pid)) - cpuBefore;
  return {
    server: name,
    size,
    bestRate,
    bestExchanges,
    cpuMsPerExchange: (cpuUsed * 1000) / Math.max(1, latency.acks),
    idleRssMib,
    rssMib: (await rssKib(served.pid)) / 1024,
    latency: latency.latency,
  };
}

/** Counts UDP receive-buffer overflows in each namespace from now on. */
async function overflowCounter(lab: Lab, namespaces: string[]): Promise<() => Promise<number[]>> {
  const count = () => Promise.all(namespaces.map((ns) => udpReceiveBufferErrors(lab, ns)));
  const before = await count();
  return async () => (await count()).map((value, i) => value - before[i]!);
}

function printReport(results: Figures[]): void {
  const ms = (value: number) => value.toFixed(3);
  const header = ["server", "leases", "max rate <1%", "exch/s there", "cpu us/exch"];
  header.push("rss idle MiB", "rss after");
  header.push("DO p50 ms", "DO p99", "RA p50 ms", "RA p90", "RA p99", "RA max");
  const rows = results.map((r) => {
    const { discoverOffer: offer, requestAck: ack } = r.latency;
    return [
      r.server,
      String(r.size),
      String(r.bestRate),
      r.bestExchanges.toFixed(0),
      (r.cpuMsPerExchange * 1000).toFixed(1),
      r.idleRssMib.toFixed(1),
      r.rssMib.toFixed(1),
      ...[offer.p50, offer.p99, ack.p50, ack.p90, ack.p99, ack.max].map(ms),
    ];
  });
  const note =
    `cpu and latency at a fixed ${LATENCY_RATE} exchanges/s; ` +
    "DO = DISCOVER-OFFER, RA = REQUEST-ACK";
  process.stdout.write(`\n${table([header, ...rows])}\n(${note})\n\nratios (agent / peer):\n`);
  const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : "n/a");
  for (const agent of results.filter((r) => r.server === AGENT)) {
    for (const peer of results.filter((r) => r.size === agent.size && r !== agent)) {
      const [a, b] = [agent.latency.requestAck, peer.latency.requestAck];
      const parts = [
        `max rate ${ratio(agent.bestExchanges, peer.bestExchanges)}`,
        `cpu/exchange ${ratio(agent.cpuMsPerExchange, peer.cpuMsPerExchange)}`,
        `RA p50 ${ratio(a.p50, b.p50)}`,
        `RA p99 ${ratio(a.p99, b.p99)}`,
        `rss ${ratio(agent.rssMib, peer.rssMib)}`,
      ];
      process.stdout.write(`  ${agent.size} leases vs ${peer.server}: ${parts.join(", ")}\n`);
    }
  }
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => cell.padStart(widths[i]!)).join("  ")).join("\n");
}

/** `--<name>=a,b,c` from the command line, or the default list. */
function listArg(name: string, fallback: string): string[] {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  return (arg?.slice(name.length + 3) ?? fallback).split(",");
}

/** Installs perfdhcp, Kea and dnsmasq from Debian when they are missing. */
async function ensureDebianPackages(): Promise<void> {
  const wanted = {
    perfdhcp: "kea-admin",
    "kea-dhcp4": "kea-dhcp4-server",
    dnsmasq: "dnsmasq-base",
  };
  const missing = Object.entries(wanted).filter(([binary]) => !which(binary));
  if (missing.length === 0) return;
  const packages = missing.map(([, pkg]) => pkg);
  process.stdout.write(`installing ${packages.join(" ")}\n`);
  const install = ["install", "-y", "--no-install-recommends", ...packages];
  let result = await run("apt-get", install, 600_000);
  if (result.code !== 0) {
    await run("apt-get", ["update"], 600_000);
    result = await run("apt-get", install, 600_000);
  }
  if (result.code !== 0) throw new Error(`apt-get ${install.join(" ")} failed: ${result.stderr}`);
  await mkdir("/run/kea", { recursive: true });
}

await main();
