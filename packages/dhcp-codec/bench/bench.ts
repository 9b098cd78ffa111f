/**
 * Decode and encode throughput and allocation, this codec next to the npm `dhcp` package's
 * parser and formatter (`lib/protocol.js`), on the same DISCOVER, REQUEST and ACK packets,
 * in the same process.
 *
 *   pnpm exec tsx packages/dhcp-codec/bench/bench.ts [--seconds S]
 *
 * Throughput: each case runs in rounds of about S/3 seconds (default S = 0.9); the best
 * round counts, since on a shared machine noise only ever slows a round down.
 *
 * Allocation: the script re-runs itself with `--expose-gc` and a fixed 64 MiB semi-space so
 * a loop of 2,000 calls allocates without a collection in between. Around that loop it
 * forces a full GC, then reads `process.memoryUsage()`; the growth of `heapUsed` plus
 * `arrayBuffers` (Buffer backing stores live outside the V8 heap) divided by the calls is
 * the bytes allocated per message, garbage included. A `gc` performance observer checks
 * that no collection ran inside the loop (such a loop is measured again). The median of 5
 * clean loops is shown.
 */
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { PerformanceObserver } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { isDeepStrictEqual } from "node:util";
import { ACK, DISCOVER, REQUEST } from "../fuzz/seeds.js";
import { type DhcpMessage, decode, encode } from "../src/index.js";

const ALLOCATION_CALLS = 2000;
const ALLOCATION_LOOPS = 5;
const RESPAWN_MARK = "VM_DHCP_BENCH_CHILD";

/** The `dhcp` package's wire functions; its server wraps these around a UDP socket. */
interface DhcpProtocol {
  parse(buffer: Buffer): Record<string, unknown>;
  format(data: Record<string, unknown>): { _data: Buffer; _w: number };
}

const require = createRequire(import.meta.url);
const protocol = require("dhcp/lib/protocol.js") as DhcpProtocol;
const dhcpVersion = (require("dhcp/package.json") as { version: string }).version;

type Gc = () => void;
let sink: unknown;

interface Case {
  name: string;
  ours: () => unknown;
  theirs: () => unknown;
}

interface Result {
  name: string;
  oursRate: number;
  theirsRate: number;
  oursBytes: number;
  theirsBytes: number;
}

/** Both libraries' encoders output as bytes, to check they carry the same content. */
function theirFormat(parsed: Record<string, unknown>): Buffer {
  const sb = protocol.format(parsed);
  return sb._data.subarray(0, sb._w);
}

function casesFor(name: string, message: DhcpMessage): { cases: Case[]; note: string } {
  const packet = encode(message);
  const ourMessage = decode(packet);
  const theirMessage = protocol.parse(packet);
  const theirBytes = theirFormat(theirMessage);
  const same = isDeepStrictEqual(decode(theirBytes).options, ourMessage.options);
  const sizes = `${packet.length} B from this codec, ${theirBytes.length} B from dhcp`;
  const note = `${name}: ${sizes}; same options both ways: ${same ? "yes" : "NO"}`;
  return {
    note,
    cases: [
      { name: `${name} decode`, ours: () => decode(packet), theirs: () => protocol.parse(packet) },
      {
        name: `${name} encode`,
        ours: () => encode(ourMessage),
        theirs: () => theirFormat(theirMessage),
      },
    ],
  };
}

/** Calls per second of `fn`, best of three rounds of about `seconds / 3` each. */
function rate(fn: () => unknown, seconds: number): number {
  let batch = 1000;
  let best = 0;
  for (let round = 0; round < 3; round++) {
    let calls = 0;
    const started = process.hrtime.bigint();
    let elapsed = 0;
    while (elapsed < seconds / 3) {
      for (let i = 0; i < batch; i++) sink = fn();
      calls += batch;
      elapsed = Number(process.hrtime.bigint() - started) / 1e9;
    }
    best = Math.max(best, calls / elapsed);
    batch = Math.max(1000, Math.round(best / 100));
  }
  return best;
}

/** Collections seen by the `gc` performance observer, which reports asynchronously. */
let collections = 0;

/** Bytes allocated per call of `fn`, as the file comment describes; NaN without a GC hook. */
async function bytesPerCall(fn: () => unknown, gc: Gc | undefined): Promise<number> {
  if (!gc) return Number.NaN;
  const samples: number[] = [];
  for (
    let attempt = 0;
    samples.length < ALLOCATION_LOOPS && attempt < 4 * ALLOCATION_LOOPS;
    attempt++
  ) {
    gc();
    await sleep(1);
    const seen = collections;
    const before = process.memoryUsage();
    for (let i = 0; i < ALLOCATION_CALLS; i++) sink = fn();
    const after = process.memoryUsage();
    await sleep(1);
    if (collections !== seen) continue;
    const grown = after.heapUsed - before.heapUsed + (after.arrayBuffers - before.arrayBuffers);
    samples.push(grown / ALLOCATION_CALLS);
  }
  return samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)] ?? Number.NaN;
}

async function measure(testCase: Case, seconds: number, gc: Gc | undefined): Promise<Result> {
  for (let i = 0; i < 20_000; i++) sink = [testCase.ours(), testCase.theirs()];
  return {
    name: testCase.name,
    oursRate: rate(testCase.ours, seconds),
    theirsRate: rate(testCase.theirs, seconds),
    oursBytes: await bytesPerCall(testCase.ours, gc),
    theirsBytes: await bytesPerCall(testCase.theirs, gc),
  };
}

function printTable(results: Result[]): void {
  const header = ["case", "this msg/s", "dhcp msg/s", "speed ratio", "this B/msg", "dhcp B/msg"];
  const rows = results.map((r) => [
    r.name,
    Math.round(r.oursRate).toLocaleString("en-US"),
    Math.round(r.theirsRate).toLocaleString("en-US"),
    `${(r.oursRate / r.theirsRate).toFixed(2)}x`,
    Number.isNaN(r.oursBytes) ? "n/a" : Math.round(r.oursBytes).toLocaleString("en-US"),
    Number.isNaN(r.theirsBytes) ? "n/a" : Math.round(r.theirsBytes).toLocaleString("en-US"),
  ]);
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)),
  );
  const pad = (cell: string, i: number) =>
    i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0);
  const line = (cells: string[]) => `| ${cells.map(pad).join(" | ")} |`;
  const rule = (width: number, i: number) =>
    i === 0 ? "-".repeat(width + 2) : `${"-".repeat(width + 1)}:`;
  console.log(line(header));
  console.log(`|${widths.map(rule).join("|")}|`);
  for (const row of rows) console.log(line(row));
}

/** Re-runs this script with a GC hook and a large young generation; true if it did. */
function respawnWithGc(): boolean {
  if (typeof globalThis.gc === "function" || process.env[RESPAWN_MARK]) return false;
  const flags = ["--expose-gc", "--min-semi-space-size=64", "--max-semi-space-size=64"];
  const child = spawnSync(
    process.execPath,
    [...process.execArgv, ...flags, ...process.argv.slice(1)],
    {
      stdio: "inherit",
      env: { ...process.env, [RESPAWN_MARK]: "1" },
    },
  );
  process.exitCode = child.status ?? 1;
  return true;
}

async function main(): Promise<void> {
  if (respawnWithGc()) return;
  const observer = new PerformanceObserver((list) => {
    collections += list.getEntries().length;
  });
  observer.observe({ entryTypes: ["gc"] });
  const secondsFlag = process.argv.indexOf("--seconds");
  const seconds = secondsFlag > 0 ? Number(process.argv[secondsFlag + 1]) : 0.9;
  const gc = typeof globalThis.gc === "function" ? (globalThis.gc as Gc) : undefined;

  const packets = [
    casesFor("DISCOVER", DISCOVER),
    casesFor("REQUEST", REQUEST),
    casesFor("ACK", ACK),
  ];
  console.log(
    `DHCPv4 codec benchmark: @vm-dhcp/dhcp-codec vs dhcp ${dhcpVersion} (lib/protocol.js)`,
  );
  const allocation = gc ? "measured" : "not measured (no GC hook)";
  console.log(
    `node ${process.version}, ${seconds} s per case and library, allocation ${allocation}`,
  );
  for (const { note } of packets) console.log(`  ${note}`);
  console.log("");

  const results: Result[] = [];
  for (const testCase of packets.flatMap(({ cases }) => cases)) {
    results.push(await measure(testCase, seconds, gc));
  }
  observer.disconnect();
  printTable(results);
  const calls = ALLOCATION_CALLS.toLocaleString("en-US");
  console.log(
    "\nspeed ratio: this codec's messages/s over dhcp's (best of 3 rounds each).\n" +
      `B/msg: growth of heapUsed + arrayBuffers over ${calls} calls with no GC inside,\n` +
      `median of ${ALLOCATION_LOOPS} loops; returned objects and garbage both count.\n` +
      "dhcp's format allocates a 1,500-byte buffer per message; this codec the exact packet.",
  );
  if (sink === Symbol.for("never")) console.log(sink);
}

await main();
