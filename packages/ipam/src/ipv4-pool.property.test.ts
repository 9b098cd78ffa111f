import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { IpamResult } from "./errors.js";
import { formatIpv4, parseIpv4 } from "./ipv4.js";
import { type Allocation, Ipv4Pool } from "./ipv4-pool.js";
import type { Ipv4PoolConfig } from "./pool-config.js";

/** A small random pool: prefix /26../32 so that exhaustion and reuse happen often. */
interface Scenario {
  readonly definition: Ipv4PoolConfig;
  readonly network: number;
  readonly blockSize: number;
  readonly commands: readonly Command[];
}

type Command =
  | { readonly kind: "allocate"; readonly owner: number; readonly wanted?: number }
  | { readonly kind: "release"; readonly owner: number }
  | { readonly kind: "releaseAddress"; readonly offset: number };

type Outcome =
  | { ok: true; ip: string; inRange: boolean; unchanged: boolean }
  | { ok: false; code: string };

const NETWORKS = [parseIpv4("10.0.0.0"), parseIpv4("192.168.7.0")]; // below and above 2^31

const owner = (n: number) => `52:54:00:00:00:${n.toString(16).padStart(2, "0")}`;

function definitionArb(): fc.Arbitrary<Omit<Scenario, "commands">> {
  return fc
    .tuple(fc.integer({ min: 26, max: 32 }), fc.constantFrom(...NETWORKS))
    .chain(([prefix, network]) => {
      const blockSize = 2 ** (32 - prefix);
      const first = prefix <= 30 ? 1 : 0;
      const last = prefix <= 30 ? blockSize - 2 : blockSize - 1;
      const host = fc.integer({ min: first, max: last });
      const ip = (offset: number) => formatIpv4(network + offset);
      const marks = fc.array(fc.nat(blockSize - 1), { maxLength: 4 });
      return fc.tuple(host, host, marks, marks).map(([a, b, exclude, reserved]) => ({
        network,
        blockSize,
        definition: {
          cidr: `${formatIpv4(network)}/${prefix}`,
          start: ip(Math.min(a, b)),
          end: ip(Math.max(a, b)),
          exclude: exclude.map(ip),
          reserved: reserved.map(ip),
        },
      }));
    });
}

function commandArb(blockSize: number): fc.Arbitrary<Command> {
  const ownerArb = fc.nat(9);
  const offsetArb = fc.integer({ min: -1, max: blockSize }); // one address past each edge
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({ kind: fc.constant("allocate" as const), owner: ownerArb }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant("allocate" as const),
        owner: ownerArb,
        wanted: offsetArb,
      }),
    },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant("release" as const), owner: ownerArb }) },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant("releaseAddress" as const), offset: offsetArb }),
    },
  );
}

const scenarioArb: fc.Arbitrary<Scenario> = definitionArb().chain((base) =>
  fc
    .array(commandArb(base.blockSize), { maxLength: 60 })
    .map((commands) => ({ ...base, commands })),
);

/**
 * The documented behaviour written the naive way (linear scans over the range): dynamic
 * allocation takes the first free address at or after a cursor, wrapping round at the end, and
 * moves the cursor just past it; requests anywhere in the CIDR's hosts leave the cursor alone.
 */
class ModelPool {
  readonly owners = new Map<number, string>();
  readonly byOwner = new Map<string, number>();
  readonly marks = new Set<number>();
  readonly first: number;
  readonly last: number;
  readonly start: number;
  readonly end: number;
  /** Range index (0 = start) where the next dynamic search begins. */
  cursor = 0;

  constructor(scenario: Scenario) {
    const { definition, network, blockSize } = scenario;
    const edges = blockSize >= 4 ? 1 : 0;
    this.first = network + edges;
    this.last = network + blockSize - 1 - edges;
    this.start = parseIpv4(definition.start);
    this.end = parseIpv4(definition.end);
    for (const ip of [...(definition.exclude ?? []), ...(definition.reserved ?? [])]) {
      this.marks.add(parseIpv4(ip));
    }
  }

  get length(): number {
    return this.end - this.start + 1;
  }

  allocate(who: string, wanted?: number): Outcome {
    const held = this.byOwner.get(who);
    if (wanted === undefined) {
      if (held !== undefined) return this.#granted(held, true);
      const address = this.freeInOrder()[0];
      if (address === undefined) return { ok: false, code: "EXHAUSTED" };
      this.cursor = (address - this.start + 1) % this.length;
      return this.#assign(who, address);
    }
    if (wanted < this.first || wanted > this.last) return { ok: false, code: "OUT_OF_RANGE" };
    if (this.marks.has(wanted)) return { ok: false, code: "MARKED" };
    if (held === wanted) return this.#granted(held, true);
    if (held !== undefined) return { ok: false, code: "OWNER_HAS_ADDRESS" };
    if (this.owners.has(wanted)) return { ok: false, code: "ALREADY_ALLOCATED" };
    return this.#assign(who, wanted);
  }

  release(who: string): Outcome {
    const address = this.byOwner.get(who);
    if (address === undefined) return { ok: false, code: "NOT_ALLOCATED" };
    this.owners.delete(address);
    this.byOwner.delete(who);
    return this.#granted(address, false);
  }

  /** Free addresses of the range in the order dynamic allocation would hand them out. */
  freeInOrder(): number[] {
    const free: number[] = [];
    for (let step = 0; step < this.length; step++) {
      const address = this.start + ((this.cursor + step) % this.length);
      if (!this.marks.has(address) && !this.owners.has(address)) free.push(address);
    }
    return free;
  }

  /** Where restore puts the cursor: just after the highest allocation inside the range. */
  cursorAfterHighest(): number {
    const inRange = [...this.owners.keys()].filter((a) => a >= this.start && a <= this.end);
    return inRange.length === 0 ? 0 : (Math.max(...inRange) - this.start + 1) % this.length;
  }

  #assign(who: string, address: number): Outcome {
    this.owners.set(address, who);
    this.byOwner.set(who, address);
    return this.#granted(address, false);
  }

  #granted(address: number, unchanged: boolean): Outcome {
    const inRange = address >= this.start && address <= this.end;
    return { ok: true, ip: formatIpv4(address), inRange, unchanged };
  }
}

function outcome(result: IpamResult<Allocation>): Outcome {
  if (!result.ok) {
    const { code } = result.error;
    return { ok: false, code: code === "EXCLUDED" || code === "RESERVED" ? "MARKED" : code };
  }
  const { ip, inRange, unchanged } = result.value;
  return { ok: true, ip, inRange, unchanged };
}

/**
 * Replays the commands on a pool and on the model. With `compare`, every outcome must match
 * the model's; without, the model only tracks the state, so a property stands on its own.
 */
function run(
  scenario: Scenario,
  options: { compare?: boolean; check?: (pool: Ipv4Pool, model: ModelPool) => void } = {},
) {
  const pool = Ipv4Pool.create(scenario.definition);
  const model = new ModelPool(scenario);
  for (const command of scenario.commands) {
    const [actual, expected] = step(pool, model, scenario.network, command);
    if (options.compare) expect(actual).toEqual(expected);
    options.check?.(pool, model);
  }
  return { pool, model };
}

function step(pool: Ipv4Pool, model: ModelPool, network: number, command: Command) {
  if (command.kind === "allocate") {
    const who = owner(command.owner);
    const wanted = command.wanted === undefined ? undefined : network + command.wanted;
    const text = wanted === undefined ? undefined : formatIpv4(wanted);
    return [outcome(pool.allocate(who, text)), model.allocate(who, wanted)];
  }
  if (command.kind === "release") {
    return [outcome(pool.release(owner(command.owner))), model.release(owner(command.owner))];
  }
  const address = network + command.offset;
  const holder = model.owners.get(address);
  const actual = outcome(pool.releaseAddress(formatIpv4(address)));
  return [actual, holder === undefined ? actual : model.release(holder)];
}

/** Every host address of the block plus one past each edge. */
function addressesAround(scenario: Scenario): number[] {
  return Array.from({ length: scenario.blockSize + 2 }, (_, i) => scenario.network - 1 + i);
}

function drain(pool: Ipv4Pool): string[] {
  const handed: string[] = [];
  for (let i = 0; ; i++) {
    const result = pool.allocate(`drain-${i}`);
    if (!result.ok) return handed;
    handed.push(result.value.ip);
  }
}

describe("Ipv4Pool properties", () => {
  it("agrees step by step with the naive model of the documented policy", () => {
    fc.assert(fc.property(scenarioArb, (scenario) => void run(scenario, { compare: true })));
  });

  it("never gives one address to two owners nor two addresses to one owner", () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const check = (pool: Ipv4Pool) => {
          const owners = [...pool.entries()].map(([, who]) => who);
          expect(new Set(owners).size).toBe(owners.length);
          for (const [ip, who] of pool.entries()) {
            expect(pool.ownerOf(ip)).toBe(who);
            expect(pool.addressOf(who)).toBe(ip);
          }
        };
        run(scenario, { check });
      }),
    );
  });

  it("never hands out an excluded, reserved, network or broadcast address", () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const { pool } = run(scenario);
        const { firstUsable, lastUsable } = pool.cidr;
        const handed = [...[...pool.entries()].map(([ip]) => ip), ...drain(pool)];
        for (const ip of handed) {
          expect(pool.markOf(ip)).toBeUndefined();
          expect(parseIpv4(ip)).toBeGreaterThanOrEqual(firstUsable);
          expect(parseIpv4(ip)).toBeLessThanOrEqual(lastUsable);
        }
      }),
    );
  });

  it("keeps used + available equal to the range minus marked addresses", () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const { start, end, exclude = [], reserved = [] } = scenario.definition;
        const [first, last] = [parseIpv4(start), parseIpv4(end)];
        const isInRange = (ip: string) => parseIpv4(ip) >= first && parseIpv4(ip) <= last;
        const marked = new Set([...exclude, ...reserved].filter(isInRange)).size;
        const check = (pool: Ipv4Pool) => {
          const inRange = [...pool.entries()].filter(([ip]) => isInRange(ip)).length;
          expect(pool.size).toBe(last - first + 1 - marked);
          expect(pool.used + pool.available).toBe(pool.size);
          expect(pool.used).toBe(inRange);
          expect(pool.usedOutsideRange).toBe([...pool.entries()].length - inRange);
        };
        run(scenario, { check });
      }),
    );
  });

  it("hands out the free addresses in the cursor's order, wrapping round once", () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const { pool, model } = run(scenario);
        expect(drain(pool)).toEqual(model.freeInOrder().map(formatIpv4));
      }),
    );
  });

  it("hands a released address out again only after every other free address", () => {
    const allocations = fc.integer({ min: 1, max: 8 });
    fc.assert(
      fc.property(scenarioArb, allocations, fc.nat(), (scenario, k, pick) => {
        const { pool } = run(scenario);
        const handed: string[] = [];
        for (let i = 0; i < k; i++) {
          const result = pool.allocate(`newcomer-${i}`);
          if (result.ok) handed.push(result.value.ip);
        }
        fc.pre(handed.length > 0);
        const released = handed[pick % handed.length]!;
        expect(pool.releaseAddress(released).ok).toBe(true);
        const otherFree = pool.available - 1;
        const after = drain(pool);
        expect(after.length).toBe(otherFree + 1);
        expect(after.indexOf(released)).toBe(otherFree);
      }),
    );
  });
});

describe("Ipv4Pool.restore(snapshot) properties", () => {
  it("answers every lookup like the original", () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const { pool } = run(scenario);
        const restored = Ipv4Pool.restore(scenario.definition, pool.snapshot());
        for (const address of addressesAround(scenario)) {
          const ip = formatIpv4(address);
          expect(restored.ownerOf(ip)).toBe(pool.ownerOf(ip));
        }
        for (let n = 0; n < 10; n++)
          expect(restored.addressOf(owner(n))).toBe(pool.addressOf(owner(n)));
        expect([restored.used, restored.available, restored.usedOutsideRange]).toEqual([
          pool.used,
          pool.available,
          pool.usedOutsideRange,
        ]);
        expect(restored.snapshot()).toEqual(pool.snapshot());
      }),
    );
  });

  it("puts the cursor just after the highest allocation inside the range", () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const { pool, model } = run(scenario);
        const restored = Ipv4Pool.restore(scenario.definition, pool.snapshot());
        model.cursor = model.cursorAfterHighest();
        expect(drain(restored)).toEqual(model.freeInOrder().map(formatIpv4));
      }),
    );
  });

  it("makes the same next allocations when p's cursor is just after its highest allocation", () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const { pool, model } = run(scenario);
        fc.pre(model.cursor === model.cursorAfterHighest());
        const restored = Ipv4Pool.restore(scenario.definition, pool.snapshot());
        expect(drain(restored)).toEqual(drain(pool));
      }),
    );
  });

  it("otherwise hands out the same free addresses in another order", () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const { pool } = run(scenario);
        const restored = Ipv4Pool.restore(scenario.definition, pool.snapshot());
        const byAddress = (a: string, b: string) => parseIpv4(a) - parseIpv4(b);
        expect(drain(restored).sort(byAddress)).toEqual(drain(pool).sort(byAddress));
      }),
    );
  });
});
