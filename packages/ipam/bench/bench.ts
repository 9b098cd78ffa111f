/**
 * Benchmark of Ipv4Pool against MapScanPeer (a reimplementation of the Go original's map-scan
 * design, see map-scan-peer.ts), side by side in one run.
 *
 * Run from the repository root:
 *   pnpm --filter @vm-dhcp/ipam bench
 *   node --expose-gc --import tsx packages/ipam/bench/bench.ts [--peer-slash8]
 *
 * Workload ("cycle"): release the owner of a random live allocation, then allocate for a new
 * owner; LIVE_ALLOCATIONS stay allocated throughout. Ipv4Pool runs CYCLES cycles on every size;
 * the peer runs PEER_CYCLES (its scan makes each cycle orders of magnitude slower). Each churn
 * runs RUNS times on a freshly built state and the median speed is reported. The /8 peer
 * is skipped unless --peer-slash8 is given: its 16,777,214 Map entries sit 2 below V8's Map
 * limit of 2^24 and take tens of seconds and more than a GiB to build.
 *
 * The /8 section prints the pool's retained heap empty and after a churn, against the 4 MiB
 * budget; the last section times dynamic allocation when few addresses are free, the case where
 * the cursor has to pass long stretches of allocated addresses.
 */

import { AddressBitmap } from "../src/address-bitmap.js";
import { formatIpv4, Ipv4Pool, parseCidr } from "../src/index.js";
import { MapScanPeer } from "./map-scan-peer.js";
import {
  canCollectGarbage,
  count,
  formatBytes,
  liveBytes,
  measureBuild,
  owners,
  printTable,
  randomSource,
  timeMs,
} from "./measure.js";

const LIVE_ALLOCATIONS = 32_768;
const CYCLES = 1_000_000;
const PEER_CYCLES = 10_000;
/** Churn runs per allocator and size; the median speed is reported. */
const RUNS = 3;
const MAX_POOL_BYTES_SLASH8 = 4 * 2 ** 20;
/** Free addresses left in the nearly full /16 of the sparse-search section. */
const SPARSE_FREE = 64;
const SPARSE_CYCLES = 100_000;
const SEED = 20_240_601;

interface Size {
  readonly label: string;
  readonly cidr: string;
  readonly runPeer: boolean;
}

interface Allocator {
  allocate(owner: string): void;
  release(owner: string): void;
}

interface ChurnFigures {
  readonly cycles: number;
  readonly cyclesPerSecond: number;
  readonly retainedBytes: number;
}

const peerSlash8 = process.argv.includes("--peer-slash8");
const SIZES: readonly Size[] = [
  { label: "/16", cidr: "10.0.0.0/16", runPeer: true },
  { label: "/12", cidr: "10.0.0.0/12", runPeer: true },
  { label: "/8", cidr: "10.0.0.0/8", runPeer: peerSlash8 },
];
const OWNERS = owners(LIVE_ALLOCATIONS + 1);

function rangeOf(cidr: string): { start: number; end: number } {
  const block = parseCidr(cidr);
  return { start: block.firstUsable, end: block.lastUsable };
}

function buildPool(cidr: string): Ipv4Pool {
  const { start, end } = rangeOf(cidr);
  return Ipv4Pool.create({ cidr, start: formatIpv4(start), end: formatIpv4(end) });
}

function buildPeer(cidr: string): MapScanPeer {
  const { start, end } = rangeOf(cidr);
  return new MapScanPeer(start, end);
}

function poolAllocator(pool: Ipv4Pool): Allocator {
  return {
    allocate(owner) {
      const result = pool.allocate(owner);
      if (!result.ok) throw result.error;
    },
    release(owner) {
      if (!pool.release(owner).ok) throw new Error(`release of ${owner} refused`);
    },
  };
}

function peerAllocator(peer: MapScanPeer): Allocator {
  return {
    allocate(owner) {
      if (peer.allocate(owner) === undefined) throw new Error("peer exhausted");
    },
    release(owner) {
      if (!peer.release(owner)) throw new Error(`peer release of ${owner} refused`);
    },
  };
}

/**
 * Allocates for all owners but the last (LIVE_ALLOCATIONS by default), then times `cycles`
 * release+allocate cycles; the last owner is the first newcomer.
 */
function churn(allocator: Allocator, cycles: number, ownerList = OWNERS): number {
  const live = ownerList.slice(0, -1);
  let spare = ownerList.at(-1)!;
  for (const owner of live) allocator.allocate(owner);
  const random = randomSource(SEED);
  const ms = timeMs(() => {
    for (let i = 0; i < cycles; i++) {
      const slot = random(live.length);
      const victim = live[slot]!;
      allocator.release(victim);
      allocator.allocate(spare);
      live[slot] = spare;
      spare = victim;
    }
  });
  return (cycles / ms) * 1000;
}

/**
 * Builds with `build` and churns, `runs` times on a fresh state each; reports the median speed
 * and the bytes the last state retained after its churn.
 */
function measureChurn<T>(
  build: () => T,
  wrap: (state: T) => Allocator,
  cycles: number,
  runs = RUNS,
): ChurnFigures {
  const figures = Array.from({ length: runs }, () => churnOnce(build, wrap, cycles));
  const speeds = figures.map((f) => f.cyclesPerSecond);
  return { cycles, cyclesPerSecond: median(speeds), retainedBytes: figures.at(-1)!.retainedBytes };
}

/** One churn in its own frame, so that no earlier state is still referenced when measuring. */
function churnOnce<T>(build: () => T, wrap: (state: T) => Allocator, cycles: number) {
  const before = liveBytes();
  const state = build();
  const cyclesPerSecond = churn(wrap(state), cycles);
  const retainedBytes = liveBytes() - before;
  keepAlive(state);
  keepAlive(undefined);
  return { cyclesPerSecond, retainedBytes };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

let sink: unknown;
function keepAlive(value: unknown): void {
  sink = value;
}

function warmUp(): void {
  const small = "10.0.0.0/24";
  for (let i = 0; i < 20; i++) {
    const pool = poolAllocator(buildPool(small));
    const peer = peerAllocator(buildPeer(small));
    for (const allocator of [pool, peer]) {
      for (const owner of OWNERS.slice(0, 200)) allocator.allocate(owner);
      for (const owner of OWNERS.slice(0, 200)) allocator.release(owner);
    }
  }
}

function reportBuilds(): void {
  console.log("\n## Build (empty pool over the whole usable range)\n");
  const rows: string[][] = [];
  let peerBytesPerAddress = 0;
  let peerMsPerAddress = 0;
  for (const size of SIZES) {
    const { start, end } = rangeOf(size.cidr);
    const addresses = end - start + 1;
    // Small states are built many times over and averaged, to rise above heap noise.
    const copies = Math.max(1, Math.min(64, Math.floor(2 ** 22 / addresses)));
    const ours = measureBuild(() => buildPool(size.cidr), copies);
    const peer = size.runPeer ? measureBuild(() => buildPeer(size.cidr)) : undefined;
    if (peer !== undefined) {
      peerBytesPerAddress = peer.bytes / addresses;
      peerMsPerAddress = peer.ms / addresses;
    }
    const peerCells =
      peer === undefined
        ? [
            `not run (~${((peerMsPerAddress * addresses) / 1000).toFixed(0)} s est.)`,
            `not run (~${formatBytes(peerBytesPerAddress * addresses)} est.)`,
            "-",
          ]
        : [
            `${peer.ms.toFixed(1)} ms`,
            formatBytes(peer.bytes),
            `${(peer.bytes / ours.bytes).toFixed(0)}x`,
          ];
    rows.push([
      size.label,
      count(addresses),
      `${ours.ms.toFixed(2)} ms`,
      formatBytes(ours.bytes),
      ...peerCells,
    ]);
  }
  printTable(
    [
      "size",
      "addresses",
      "Ipv4Pool build",
      "Ipv4Pool heap",
      "peer build",
      "peer heap",
      "heap ratio",
    ],
    rows,
  );
  if (!peerSlash8) {
    console.log(
      "\n/8 peer: skipped, not practical. Its 16,777,214 Map entries sit 2 below V8's Map limit" +
        " of 2^24 = 16,777,216\n(one more address throws 'Map maximum size exceeded'). The" +
        " estimates above extrapolate the /12 peer\nof this run linearly and tend to be low." +
        " Pass --peer-slash8 to measure it (about 30 s and 1.3 GiB).",
    );
  }
}

function reportSlash8(): void {
  console.log("\n## Ipv4Pool /8 (10.0.0.0/8, 16,777,214 addresses) against the 4 MiB budget\n");
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 5; i++) {
    const built = measureBuild(() => buildPool("10.0.0.0/8"));
    times.push(built.ms);
    bytes = Math.max(bytes, built.bytes);
  }
  times.sort((a, b) => a - b);
  console.log(`build time: median ${times[2]!.toFixed(2)} ms, worst ${times[4]!.toFixed(2)} ms`);
  console.log(`empty:      ${retainedLine(bytes)}`);
  reportSlash8Used();
}

/** Retained heap of a /8 pool after the churn workload, split into bitmap and owner maps. */
function reportSlash8Used(): void {
  const before = liveBytes();
  const pool = buildPool("10.0.0.0/8");
  churn(poolAllocator(pool), CYCLES);
  const bytes = liveBytes() - before;
  const bitmap = pool.typedArrayBytes;
  const perAllocation = (bytes - bitmap) / pool.used;
  console.log(
    `after ${count(CYCLES)} release+allocate cycles, ${count(pool.used)} live allocations:`,
  );
  console.log(`used:       ${retainedLine(bytes)}`);
  console.log(`  bitmap:   ${count(bitmap)} bytes = ${formatBytes(bitmap)} (typedArrayBytes)`);
  console.log(
    `  the rest: ${formatBytes(bytes - bitmap)}, ${perAllocation.toFixed(0)} bytes per live` +
      " allocation (owner -> offset and offset -> owner maps; owner strings are the caller's)",
  );
  const fits = Math.floor((MAX_POOL_BYTES_SLASH8 - bitmap) / perAllocation);
  console.log(`  at that rate 4 MiB holds the bitmap and ${count(fits)} allocations`);
  keepAlive(pool);
  keepAlive(undefined);
}

function retainedLine(bytes: number): string {
  const verdict = bytes <= MAX_POOL_BYTES_SLASH8 ? "within" : "OVER";
  return `${count(bytes)} bytes = ${formatBytes(bytes)} retained (${verdict} the 4 MiB budget)`;
}

function reportChurn(): void {
  console.log(
    `\n## Churn: ${count(LIVE_ALLOCATIONS)} live allocations; one cycle = release a random` +
      ` live owner + allocate for a new owner; median of ${RUNS} runs\n`,
  );
  const rows: string[][] = [];
  for (const size of SIZES) {
    const ours = measureChurn(() => buildPool(size.cidr), poolAllocator, CYCLES);
    // The /8 peer (only with --peer-slash8) runs once: each build takes tens of seconds.
    const peerRuns = size.label === "/8" ? 1 : RUNS;
    const peer = size.runPeer
      ? measureChurn(() => buildPeer(size.cidr), peerAllocator, PEER_CYCLES, peerRuns)
      : undefined;
    rows.push([
      size.label,
      `${count(ours.cycles)}`,
      count(ours.cyclesPerSecond),
      formatBytes(ours.retainedBytes),
      peer === undefined ? "not run" : count(peer.cycles),
      peer === undefined ? "-" : count(peer.cyclesPerSecond),
      peer === undefined ? "-" : formatBytes(peer.retainedBytes),
      peer === undefined ? "-" : `${(ours.cyclesPerSecond / peer.cyclesPerSecond).toFixed(0)}x`,
    ]);
  }
  printTable(
    [
      "size",
      "Ipv4Pool cycles",
      "cycles/s",
      "heap after",
      "peer cycles",
      "peer cycles/s",
      "peer heap after",
      "speed ratio",
    ],
    rows,
  );
  console.log("\n(2 operations per cycle: ops/s = 2 x cycles/s)");
}

function reportCounters(): void {
  console.log("\n## used + available, as the controller reads them on every pool reconcile\n");
  const rows: string[][] = [];
  for (const size of SIZES.filter((s) => s.runPeer && s.label !== "/8")) {
    const pool = buildPool(size.cidr);
    const peer = buildPeer(size.cidr);
    let total = 0;
    const oursMs = timeMs(() => {
      for (let i = 0; i < 1_000_000; i++) total += pool.used + pool.available;
    });
    const peerMs = timeMs(() => {
      for (let i = 0; i < 20; i++) total += peer.used() + peer.available();
    });
    keepAlive(total);
    const oursNs = (oursMs * 1e6) / 1_000_000;
    const peerNs = (peerMs * 1e6) / 20;
    rows.push([size.label, `${oursNs.toFixed(1)} ns`, `${(peerNs / 1000).toFixed(0)} us`]);
  }
  printTable(["size", "Ipv4Pool per call", "peer per call (2 full scans)"], rows);
}

/**
 * Dynamic allocation when few addresses are free: each allocation searches from the cursor past
 * allocated addresses, 32 per word compare, so its cost grows with range / free addresses.
 */
function reportSparseSearch(): void {
  console.log("\n## Dynamic allocation with few free addresses\n");
  const cidr = "10.0.0.0/16";
  const { start, end } = rangeOf(cidr);
  const sparseOwners = owners(end - start + 1 - SPARSE_FREE + 1);
  const pool = buildPool(cidr);
  const cyclesPerSecond = churn(poolAllocator(pool), SPARSE_CYCLES, sparseOwners);
  console.log(
    `/16 with ${SPARSE_FREE} of ${count(end - start + 1)} addresses free: ` +
      `${count(cyclesPerSecond)} release+allocate cycles/s (${count(SPARSE_CYCLES)} cycles)`,
  );

  // The worst case on a /8: one free address, just behind the cursor, so the search runs to
  // the end of the range and again from its start (what Ipv4Pool does when it wraps round).
  const bitmap = new AddressBitmap(2 ** 24 - 2, false);
  bitmap.add(0);
  const laps = 50;
  let found = 0;
  const ms = timeMs(() => {
    for (let i = 0; i < laps; i++) found += bitmap.nextAtOrAfter(1) + bitmap.nextAtOrAfter(0);
  });
  keepAlive(found);
  console.log(
    `/8 with 1 address free, just behind the cursor: ${(ms / laps).toFixed(2)} ms per` +
      " allocation search (a full lap: 524,288 word compares)",
  );
}

function main(): void {
  if (!canCollectGarbage()) {
    console.error(
      "bench needs --expose-gc: node --expose-gc --import tsx packages/ipam/bench/bench.ts",
    );
    process.exitCode = 1;
    return;
  }
  console.log(`# @vm-dhcp/ipam bench (node ${process.version}, ${process.arch})`);
  console.log(
    "peer = MapScanPeer, a reimplementation of the Go original's map-scan design (bench/)",
  );
  warmUp();
  reportBuilds();
  reportSlash8();
  reportChurn();
  reportCounters();
  reportSparseSearch();
  keepAlive(sink);
}

main();
