/**
 * Mutation fuzzer for `decode`: feeds mutated real and built-in packets and checks that
 * decode returns or throws DhcpDecodeError, never anything else, and that whatever decodes
 * re-encodes (or is refused with DhcpEncodeError) and decodes back to the same message.
 *
 *   pnpm exec tsx packages/dhcp-codec/fuzz/fuzz.ts [--iterations N] [--seed S]
 *
 * Deterministic for a given seed and seed-packet set; the seed is printed so a run can be
 * replayed. Exits 1 on any crash or round-trip mismatch.
 */
import { isDeepStrictEqual } from "node:util";
import {
  DhcpDecodeError,
  DhcpEncodeError,
  type DhcpMessage,
  decode,
  encode,
} from "../src/index.js";
import { applyMutation, lengthByteOffsets, type Mutation } from "./mutations.js";
import { builtInSeeds, FIXTURE_DIR, loadFixtureSeeds, type Seed } from "./seeds.js";

const DEFAULT_ITERATIONS = 1_000_000;
/** Decodes before timing starts (at most a tenth of the run), so JIT warm-up is not timed. */
const WARM_UP_ITERATIONS = 10_000;
/** Failing inputs printed in full; the rest are only counted. */
const MAX_REPORTED_FAILURES = 10;
/** Bytes that tend to sit on boundaries: Pad, End, label limits, pointer tags, lengths. */
const INTERESTING = [0, 1, 2, 3, 4, 0x3f, 0x40, 0x7f, 0x80, 0xbf, 0xc0, 0xfe, 0xff];

interface Failure {
  kind: "crash" | "round-trip mismatch";
  detail: string;
  input: Uint8Array;
  seed: string;
  mutations: Mutation[];
}

interface Stats {
  decoded: number;
  rejected: Map<string, number>;
  encodeRefused: Map<string, number>;
  failures: Failure[];
  failureCount: number;
  slowestMicros: number;
  slowestInput: Uint8Array;
  inputBytes: number;
}

/** xorshift32: small, fast, and the same sequence on every platform for a given seed. */
function createRandom(seed: number) {
  let state = seed >>> 0 || 0x9e3779b9;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
  return {
    next,
    below: (limit: number) => next() % Math.max(limit, 1),
    chance: (percent: number) => next() % 100 < percent,
  };
}
type Random = ReturnType<typeof createRandom>;

function parseArgs(argv: string[]): { iterations: number; seed: number } {
  const value = (flag: string) => {
    const index = argv.indexOf(flag);
    return index >= 0 ? argv[index + 1] : undefined;
  };
  const iterations = Number(value("--iterations") ?? DEFAULT_ITERATIONS);
  const seed = Number(value("--seed") ?? (Date.now() ^ (process.pid << 16)) >>> 0);
  if (!Number.isInteger(iterations) || iterations < 1 || !Number.isInteger(seed)) {
    throw new Error("usage: fuzz.ts [--iterations N] [--seed S] (positive integers)");
  }
  return { iterations, seed: seed >>> 0 };
}

/** Offset of the options field, where most mutations aim (RFC 2131 §2). */
const OPTIONS_OFFSET = 240;
/** `sname` and `file` together, which option 52 can turn into option space. */
const SNAME_OFFSET = 44;

/**
 * A position to mutate: mostly in the options field, sometimes in sname/file, sometimes
 * anywhere. Uniform positions would mostly break the header and cookie, which the decoder
 * rejects at once, so little of the option parsing would be reached.
 */
function position(random: Random, packet: Uint8Array): number {
  const roll = random.below(100);
  if (roll < 70 && packet.length > OPTIONS_OFFSET) {
    return OPTIONS_OFFSET + random.below(packet.length - OPTIONS_OFFSET + 1);
  }
  if (roll < 85) return SNAME_OFFSET + random.below(OPTIONS_OFFSET - SNAME_OFFSET);
  return random.below(packet.length + 1);
}

/** Where to insert or delete: shifting the header would only ever hit the cookie check. */
function structuralPosition(random: Random, packet: Uint8Array): number {
  if (random.chance(90) && packet.length > OPTIONS_OFFSET) {
    return OPTIONS_OFFSET + random.below(packet.length - OPTIONS_OFFSET + 1);
  }
  return random.below(packet.length + 1);
}

function randomMutation(random: Random, packet: Uint8Array): Mutation {
  const at = position(random, packet);
  const shiftAt = structuralPosition(random, packet);
  switch (random.below(8)) {
    case 0:
    case 1:
      return { kind: "flip", at, bit: random.below(8) };
    case 2:
      return { kind: "set", at, value: INTERESTING[random.below(INTERESTING.length)] ?? 0 };
    case 3:
      return { kind: "truncate", at: shiftAt };
    case 4: {
      const bytes = Uint8Array.from({ length: 1 + random.below(6) }, () => random.below(256));
      return { kind: "insert", at: shiftAt, bytes };
    }
    case 5:
      return { kind: "delete", at: shiftAt, count: 1 + random.below(8) };
    case 6:
      return { kind: "duplicate", at: shiftAt, count: 1 + random.below(40) };
    default: {
      const option = random.below(lengthByteOffsets(packet).length);
      const value = random.chance(50) ? random.below(256) : random.below(3) + 254;
      return { kind: "length", option, value };
    }
  }
}

/** Checks one input; returns the failure, if any. */
function check(
  input: Uint8Array,
  stats: Stats,
  timed: boolean,
): Omit<Failure, "seed" | "mutations"> | undefined {
  let message: DhcpMessage;
  const started = process.hrtime.bigint();
  try {
    message = decode(input);
  } catch (error) {
    recordSlowest(stats, started, input, timed);
    if (!(error instanceof DhcpDecodeError)) {
      return { kind: "crash", detail: describe(error), input };
    }
    stats.rejected.set(error.code, (stats.rejected.get(error.code) ?? 0) + 1);
    return undefined;
  }
  recordSlowest(stats, started, input, timed);
  stats.decoded++;
  return checkRoundTrip(message, input, stats);
}

function checkRoundTrip(message: DhcpMessage, input: Uint8Array, stats: Stats) {
  let again: Uint8Array;
  try {
    again = encode(message, { maxMessageSize: 65535 });
  } catch (error) {
    if (!(error instanceof DhcpEncodeError)) {
      return { kind: "crash" as const, detail: `encode: ${describe(error)}`, input };
    }
    stats.encodeRefused.set(error.code, (stats.encodeRefused.get(error.code) ?? 0) + 1);
    return undefined;
  }
  try {
    if (isDeepStrictEqual(decode(again), message)) return undefined;
    return {
      kind: "round-trip mismatch" as const,
      detail: "decode(encode(m)) differs from m",
      input,
    };
  } catch (error) {
    return { kind: "crash" as const, detail: `decode of re-encoded: ${describe(error)}`, input };
  }
}

function recordSlowest(stats: Stats, started: bigint, input: Uint8Array, timed: boolean) {
  if (!timed) return;
  const micros = Number(process.hrtime.bigint() - started) / 1000;
  if (micros > stats.slowestMicros) {
    stats.slowestMicros = micros;
    stats.slowestInput = input;
  }
}

/**
 * Times `input` again, many times, to tell a slow input from a pause (GC, JIT) that hit
 * one decode during the run.
 */
function medianDecodeMicros(input: Uint8Array): number {
  const samples: number[] = [];
  for (let i = 0; i < 1001; i++) {
    const started = process.hrtime.bigint();
    try {
      decode(input);
    } catch {
      // Rejected inputs are timed the same way as accepted ones.
    }
    samples.push(Number(process.hrtime.bigint() - started) / 1000);
  }
  return samples.sort((a, b) => a - b)[500] ?? 0;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function run(seeds: Seed[], iterations: number, seed: number): Stats {
  const random = createRandom(seed);
  const warmUp = Math.min(WARM_UP_ITERATIONS, Math.floor(iterations / 10));
  const stats: Stats = {
    decoded: 0,
    rejected: new Map(),
    encodeRefused: new Map(),
    failures: [],
    failureCount: 0,
    slowestMicros: 0,
    slowestInput: new Uint8Array(0),
    inputBytes: 0,
  };
  for (let i = 0; i < iterations; i++) {
    const origin = seeds[random.below(seeds.length)] as Seed;
    const mutations: Mutation[] = [];
    let input = origin.bytes;
    for (let n = 1 + random.below(4); n > 0; n--) {
      const mutation = randomMutation(random, input);
      mutations.push(mutation);
      input = applyMutation(input, mutation);
    }
    stats.inputBytes += input.length;
    const failure = check(input, stats, i >= warmUp);
    if (failure === undefined) continue;
    stats.failureCount++;
    if (stats.failures.length < MAX_REPORTED_FAILURES) {
      stats.failures.push({ ...failure, seed: origin.name, mutations });
    }
  }
  return stats;
}

function report(stats: Stats, iterations: number, seconds: number): void {
  const rejected = [...stats.rejected.values()].reduce((sum, n) => sum + n, 0);
  const line = (label: string, value: string | number) =>
    console.log(`${label.padEnd(28)} ${value}`);
  line("inputs decoded", iterations.toLocaleString("en-US"));
  line(
    "elapsed",
    `${seconds.toFixed(1)} s (${Math.round(iterations / seconds).toLocaleString("en-US")}/s)`,
  );
  line("mean input length", `${(stats.inputBytes / iterations).toFixed(0)} bytes`);
  line("accepted", stats.decoded.toLocaleString("en-US"));
  line("rejected (DhcpDecodeError)", rejected.toLocaleString("en-US"));
  for (const [code, count] of [...stats.rejected].sort((a, b) => b[1] - a[1])) {
    line(`  ${code}`, count.toLocaleString("en-US"));
  }
  for (const [code, count] of stats.encodeRefused) line(`re-encode refused ${code}`, count);
  const slowest = stats.slowestInput;
  line("slowest decode", `${stats.slowestMicros.toFixed(1)} µs for ${slowest.length} bytes`);
  line("  same input re-timed", `${medianDecodeMicros(slowest).toFixed(2)} µs (median of 1,001)`);
  line("crashes and mismatches", stats.failureCount);
  for (const failure of stats.failures) {
    console.log(`\n${failure.kind} from ${failure.seed}: ${failure.detail}`);
    const replacer = (_key: string, value: unknown) =>
      value instanceof Uint8Array ? [...value] : value;
    console.log(`mutations: ${JSON.stringify(failure.mutations, replacer)}`);
    console.log(
      `input (${failure.input.length} bytes): ${Buffer.from(failure.input).toString("hex")}`,
    );
  }
}

function main(): void {
  const { iterations, seed } = parseArgs(process.argv.slice(2));
  const fixtures = loadFixtureSeeds();
  const seeds = [...fixtures, ...builtInSeeds()];
  console.log(`seed ${seed} (replay with --seed ${seed} --iterations ${iterations})`);
  const builtIn = seeds.length - fixtures.length;
  console.log(`seed packets: ${fixtures.length} captured from ${FIXTURE_DIR}, ${builtIn} built-in`);
  console.log(`  ${seeds.map((s) => s.name).join(", ")}\n`);

  const started = process.hrtime.bigint();
  const stats = run(seeds, iterations, seed);
  report(stats, iterations, Number(process.hrtime.bigint() - started) / 1e9);
  process.exitCode = stats.failureCount > 0 ? 1 : 0;
}

main();
