import { describe, expect, it } from "vitest";
import { IpamError, type IpamResult } from "./errors.js";
import { type Allocation, Ipv4Pool } from "./ipv4-pool.js";
import type { Ipv4PoolConfig } from "./pool-config.js";

/** 10.0.0.0/24, dynamic range .10-.19, .12 excluded, .15 and .1 (outside) reserved. */
const definition: Ipv4PoolConfig = {
  cidr: "10.0.0.0/24",
  start: "10.0.0.10",
  end: "10.0.0.19",
  exclude: ["10.0.0.12", "10.0.0.200"],
  reserved: ["10.0.0.15", "10.0.0.1"],
};

function ipOf(result: IpamResult<Allocation>): string {
  if (!result.ok) throw result.error;
  return result.value.ip;
}

function errorOf(result: IpamResult<Allocation>): IpamError {
  if (result.ok) throw new Error(`expected a refusal, got ${result.value.ip}`);
  return result.error;
}

function fill(pool: Ipv4Pool, count: number, prefix = "m"): string[] {
  return Array.from({ length: count }, (_, i) => ipOf(pool.allocate(`${prefix}${i}`)));
}

describe("Ipv4Pool.create", () => {
  it("counts the range minus excluded and reserved addresses inside it", () => {
    const pool = Ipv4Pool.create(definition);
    expect([pool.size, pool.used, pool.available, pool.usedOutsideRange]).toEqual([8, 0, 8, 0]);
  });

  it("rejects a bad definition with INVALID_POOL naming the field", () => {
    expect(() => Ipv4Pool.create({ ...definition, end: "10.0.0.255" })).toThrow(
      expect.objectContaining({ code: "INVALID_POOL", field: "end", value: "10.0.0.255" }),
    );
  });

  it.each([
    [null, "null", "a missing spec read from JSON"],
    [undefined, "undefined", "no argument from untyped JavaScript"],
    ["10.0.0.0/24", "10.0.0.0/24", "a CIDR string instead of a definition"],
    [[definition.cidr], '["10.0.0.0/24"]', "a list instead of a definition"],
  ])("rejects definition %j as INVALID_POOL, field definition = %j (%s)", (bad, value, _why) => {
    expect(() => Ipv4Pool.create(bad as unknown as Ipv4PoolConfig)).toThrow(
      expect.objectContaining({
        name: "IpamError",
        code: "INVALID_POOL",
        field: "definition",
        value,
      }),
    );
  });

  it("keeps a frozen copy of the definition", () => {
    const pool = Ipv4Pool.create(definition);
    expect(pool.definition).toEqual(definition);
    expect(Object.isFrozen(pool.definition.exclude)).toBe(true);
  });

  it("builds a /8 in well under a second with a 2 MiB bitmap", () => {
    const began = performance.now();
    const pool = Ipv4Pool.create({ cidr: "10.0.0.0/8", start: "10.0.0.1", end: "10.255.255.254" });
    expect(performance.now() - began).toBeLessThan(500);
    expect(pool.typedArrayBytes).toBeLessThanOrEqual(2 * 1024 * 1024 + 1024);
    expect(ipOf(pool.allocate("a"))).toBe("10.0.0.1");
  });

  it("keeps the /8 bitmap the only typed array after 100,000 allocate+release cycles", () => {
    const pool = Ipv4Pool.create({ cidr: "10.0.0.0/8", start: "10.0.0.1", end: "10.255.255.254" });
    const empty = pool.typedArrayBytes;
    for (let i = 0; i < 100_000; i++) {
      ipOf(pool.allocate(`vm${i}`));
      if (i >= 1000) pool.release(`vm${i - 1000}`);
    }
    expect([pool.typedArrayBytes, pool.used]).toEqual([empty, 1000]);
    expect(ipOf(pool.allocate("next"))).toBe("10.1.134.161"); // 10.0.0.1 + 100,000
  });

  it.each([
    [{ cidr: "10.0.0.4/31", start: "10.0.0.4", end: "10.0.0.5" }, ["10.0.0.4", "10.0.0.5"], "/31"],
    [{ cidr: "10.0.0.4/32", start: "10.0.0.4", end: "10.0.0.4" }, ["10.0.0.4"], "/32"],
  ])("hands out every address of %j (%s has no network or broadcast)", (config, expected) => {
    const pool = Ipv4Pool.create(config);
    expect(fill(pool, expected.length)).toEqual(expected);
    expect(errorOf(pool.allocate("extra")).code).toBe("EXHAUSTED");
  });
});

describe("Ipv4Pool.allocate", () => {
  it("hands out never-used addresses lowest first, skipping marked ones", () => {
    const pool = Ipv4Pool.create(definition);
    expect(fill(pool, 8)).toEqual([10, 11, 13, 14, 16, 17, 18, 19].map((n) => `10.0.0.${n}`));
    expect(errorOf(pool.allocate("late")).code).toBe("EXHAUSTED");
  });

  it.each([
    ["10.0.0.12", "EXCLUDED", "excluded inside the range"],
    ["10.0.0.200", "EXCLUDED", "excluded outside the range still blocks a request"],
    ["10.0.0.15", "RESERVED", "server address inside the range"],
    ["10.0.0.1", "RESERVED", "router address outside the range"],
    ["10.0.0.0", "OUT_OF_RANGE", "network address"],
    ["10.0.0.255", "OUT_OF_RANGE", "broadcast address"],
    ["10.0.1.10", "OUT_OF_RANGE", "outside the CIDR"],
    ["10.0.0.010", "INVALID_ADDRESS", "leading zero"],
    ["", "INVALID_ADDRESS", "empty wanted is malformed, not 'absent'"],
  ])("refuses wanted %j with %s (%s)", (wanted, code) => {
    const pool = Ipv4Pool.create(definition);
    const error = errorOf(pool.allocate("a", wanted));
    expect(error.code).toBe(code);
    expect([error.field, error.value]).toEqual(["wanted", wanted]);
    expect(pool.used + pool.usedOutsideRange).toBe(0);
  });

  it.each([
    ["", "empty owner"],
    ["EXCLUDED", "would read as a mark in the status map"],
    ["RESERVED", "would read as a mark in the status map"],
  ])("refuses owner %j (%s)", (owner) => {
    expect(errorOf(Ipv4Pool.create(definition).allocate(owner)).code).toBe("INVALID_OWNER");
  });

  it("grants a fixed address outside the range without counting it in used", () => {
    const pool = Ipv4Pool.create(definition);
    const result = pool.allocate("fixed", "10.0.0.100");
    expect(result).toEqual({
      ok: true,
      value: { ip: "10.0.0.100", owner: "fixed", inRange: false, unchanged: false },
    });
    expect([pool.used, pool.available, pool.usedOutsideRange]).toEqual([0, 8, 1]);
  });

  it("never hands out a fixed address dynamically, even after its release", () => {
    const pool = Ipv4Pool.create(definition);
    ipOf(pool.allocate("fixed", "10.0.0.100"));
    pool.release("fixed");
    expect(fill(pool, 8)).not.toContain("10.0.0.100");
  });

  it("names the current owner when the wanted address is taken", () => {
    const pool = Ipv4Pool.create(definition);
    ipOf(pool.allocate("vm-a", "10.0.0.13"));
    const error = errorOf(pool.allocate("vm-b", "10.0.0.13"));
    expect([error.code, error.owner, error.value]).toEqual([
      "ALREADY_ALLOCATED",
      "vm-a",
      "10.0.0.13",
    ]);
  });

  it.each([
    [undefined, "no wanted address: the held one"],
    ["10.0.0.13", "the held address itself"],
  ])("is idempotent for an owner that already holds an address, wanted %j (%s)", (wanted, _why) => {
    const pool = Ipv4Pool.create(definition);
    ipOf(pool.allocate("vm", "10.0.0.13"));
    expect(pool.allocate("vm", wanted)).toEqual({
      ok: true,
      value: { ip: "10.0.0.13", owner: "vm", inRange: true, unchanged: true },
    });
    expect(pool.used).toBe(1);
  });

  it("refuses to move an owner to another address, naming the one it holds", () => {
    const pool = Ipv4Pool.create(definition);
    ipOf(pool.allocate("vm", "10.0.0.13"));
    const error = errorOf(pool.allocate("vm", "10.0.0.14"));
    expect([error.code, error.owner, error.value]).toEqual([
      "OWNER_HAS_ADDRESS",
      "vm",
      "10.0.0.13",
    ]);
    expect(pool.addressOf("vm")).toBe("10.0.0.13");
  });

  it("lets a request take a never-used address ahead of the dynamic order", () => {
    const pool = Ipv4Pool.create(definition);
    ipOf(pool.allocate("static", "10.0.0.11"));
    expect(fill(pool, 2)).toEqual(["10.0.0.10", "10.0.0.13"]);
  });

  it("answers EXHAUSTED on a full range, then hands out whatever is released", () => {
    const pool = Ipv4Pool.create(definition);
    fill(pool, 8);
    expect(errorOf(pool.allocate("late")).code).toBe("EXHAUSTED");
    pool.release("m3"); // .14, behind the cursor, which wrapped to .10
    expect(ipOf(pool.allocate("late"))).toBe("10.0.0.14");
  });
});

describe("Ipv4Pool reuse policy", () => {
  it("does not hand out a just-released address while never-used ones remain", () => {
    const pool = Ipv4Pool.create(definition);
    ipOf(pool.allocate("vm-a"));
    pool.release("vm-a");
    expect(ipOf(pool.allocate("vm-b"))).toBe("10.0.0.11");
  });

  it("goes on after the last allocation, and reaches released addresses after wrapping", () => {
    const pool = Ipv4Pool.create(definition);
    fill(pool, 5); // .10 .11 .13 .14 .16, the cursor stands after .16
    for (const owner of ["m3", "m1"]) pool.release(owner); // .14, then .11
    expect(fill(pool, 5, "new")).toEqual(["17", "18", "19", "11", "14"].map((n) => `10.0.0.${n}`));
  });

  it("reuses released addresses in the cursor's order, not the order of release", () => {
    const pool = Ipv4Pool.create(definition);
    fill(pool, 8); // the last one was .19, the end: the cursor wraps to .10
    for (const owner of ["m5", "m1", "m7"]) pool.release(owner); // .17, .11, .19
    expect(fill(pool, 3, "new")).toEqual(["10.0.0.11", "10.0.0.17", "10.0.0.19"]);
  });

  it("moves the cursor for dynamic allocations only, not for requests", () => {
    const pool = Ipv4Pool.create(definition);
    fill(pool, 2); // .10 .11
    ipOf(pool.allocate("static", "10.0.0.17"));
    expect(fill(pool, 3, "new")).toEqual(["10.0.0.13", "10.0.0.14", "10.0.0.16"]);
    pool.release("static"); // .17 is ahead of the cursor: the next dynamic allocation gets it
    expect(fill(pool, 2, "late")).toEqual(["10.0.0.17", "10.0.0.18"]);
  });

  it("makes a released address wait for the cursor to go round all the other free ones", () => {
    const pool = Ipv4Pool.create(definition);
    fill(pool, 3); // .10 .11 .13
    pool.release("m2"); // .13, just released
    pool.release("m0"); // .10, released after it but behind it in the cursor's order
    expect(fill(pool, 6, "new")).toEqual(
      ["14", "16", "17", "18", "19", "10"].map((n) => `10.0.0.${n}`),
    );
    expect(ipOf(pool.allocate("last"))).toBe("10.0.0.13");
  });
});

describe("Ipv4Pool.release and releaseAddress", () => {
  it("frees by owner and reports what was held", () => {
    const pool = Ipv4Pool.create(definition);
    ipOf(pool.allocate("vm"));
    expect(pool.release("vm")).toEqual({
      ok: true,
      value: { ip: "10.0.0.10", owner: "vm", inRange: true, unchanged: false },
    });
    expect([pool.used, pool.available, pool.addressOf("vm")]).toEqual([0, 8, undefined]);
  });

  it("frees by address, whoever holds it", () => {
    const pool = Ipv4Pool.create(definition);
    ipOf(pool.allocate("vm", "10.0.0.100"));
    expect(pool.releaseAddress("10.0.0.100").ok).toBe(true);
    expect(pool.ownerOf("10.0.0.100")).toBeUndefined();
  });

  it.each([
    [(p: Ipv4Pool) => p.release("nobody"), "NOT_ALLOCATED", "owner holds nothing"],
    [(p: Ipv4Pool) => p.release(""), "INVALID_OWNER", "empty owner"],
    [(p: Ipv4Pool) => p.releaseAddress("10.0.0.11"), "NOT_ALLOCATED", "free address"],
    [(p: Ipv4Pool) => p.releaseAddress("10.0.0.12"), "NOT_ALLOCATED", "excluded address"],
    [(p: Ipv4Pool) => p.releaseAddress("10.9.0.1"), "OUT_OF_RANGE", "outside the CIDR"],
    [(p: Ipv4Pool) => p.releaseAddress("10.0.0"), "INVALID_ADDRESS", "malformed"],
  ])("refuses case %#: %s (%s)", (action, code) => {
    expect(errorOf(action(Ipv4Pool.create(definition))).code).toBe(code);
  });
});

describe("Ipv4Pool lookups", () => {
  const pool = Ipv4Pool.create(definition);
  ipOf(pool.allocate("vm-a"));
  ipOf(pool.allocate("vm-b", "10.0.0.150"));

  it.each([
    ["10.0.0.10", "vm-a", "dynamic allocation"],
    ["10.0.0.150", "vm-b", "fixed address outside the range"],
    ["10.0.0.11", undefined, "free"],
    ["10.0.0.12", undefined, "excluded: a mark, not an owner"],
    ["192.168.0.1", undefined, "outside the CIDR"],
  ])("ownerOf(%s) is %s (%s)", (ip, owner, _why) => {
    expect(pool.ownerOf(ip)).toBe(owner);
    expect(pool.isAllocated(ip)).toBe(owner !== undefined);
  });

  it("throws INVALID_ADDRESS for a malformed query instead of answering 'free'", () => {
    expect(() => pool.ownerOf("10.0.0.1O")).toThrow(IpamError);
    expect(() => pool.isAllocated("")).toThrow(
      expect.objectContaining({ code: "INVALID_ADDRESS" }),
    );
  });

  it("finds addresses, marks and entries", () => {
    expect([pool.addressOf("vm-b"), pool.addressOf("ghost")]).toEqual(["10.0.0.150", undefined]);
    expect([pool.markOf("10.0.0.15"), pool.markOf("10.0.0.200"), pool.markOf("10.0.0.11")]).toEqual(
      ["RESERVED", "EXCLUDED", undefined],
    );
    expect([...pool.entries()]).toEqual([
      ["10.0.0.10", "vm-a"],
      ["10.0.0.150", "vm-b"],
    ]);
  });
});

describe("Ipv4Pool.snapshot and dumps", () => {
  const pool = Ipv4Pool.create(definition);
  ipOf(pool.allocate("52:54:00:00:00:02", "10.0.0.150"));
  ipOf(pool.allocate("52:54:00:00:00:01"));

  it("writes status.ipv4.allocated: owners, every EXCLUDED, RESERVED inside the range", () => {
    expect(Object.entries(pool.snapshot())).toEqual([
      ["10.0.0.10", "52:54:00:00:00:01"],
      ["10.0.0.12", "EXCLUDED"],
      ["10.0.0.15", "RESERVED"],
      ["10.0.0.150", "52:54:00:00:00:02"],
      ["10.0.0.200", "EXCLUDED"],
    ]);
  });

  it("dumps the range as true/false without marked addresses, fixed addresses as true", () => {
    expect(pool.dumpIpam()).toEqual({
      "10.0.0.10": "true",
      "10.0.0.11": "false",
      "10.0.0.13": "false",
      "10.0.0.14": "false",
      "10.0.0.16": "false",
      "10.0.0.17": "false",
      "10.0.0.18": "false",
      "10.0.0.19": "false",
      "10.0.0.150": "true",
    });
  });

  it("dumps the MAC cache as owner -> IP", () => {
    expect(pool.dumpCache()).toEqual({
      "52:54:00:00:00:01": "10.0.0.10",
      "52:54:00:00:00:02": "10.0.0.150",
    });
  });
});

describe("Ipv4Pool.restore", () => {
  it("rebuilds allocations and ignores marks, which come from the definition", () => {
    const pool = Ipv4Pool.restore(definition, {
      "10.0.0.11": "vm-a",
      "10.0.0.12": "EXCLUDED",
      "10.0.0.13": "RESERVED", // a stale mark: the address is simply free
      "10.0.0.150": "vm-b",
    });
    expect([pool.used, pool.usedOutsideRange, pool.ownerOf("10.0.0.11")]).toEqual([1, 1, "vm-a"]);
    expect(fill(pool, 2)).toEqual(["10.0.0.13", "10.0.0.14"]);
  });

  it.each([
    [{ "10.0.0.16": "vm-a" }, ["17", "18", "19", "10", "11"], "just after the highest allocation"],
    [
      { "10.0.0.11": "a", "10.0.0.16": "b" },
      ["17", "18", "19", "10", "13"],
      "after the highest, not the lowest",
    ],
    [{ "10.0.0.16": "a", "10.0.0.150": "b" }, ["17", "18"], "ignores a fixed address outside"],
    [{ "10.0.0.19": "vm-a" }, ["10", "11", "13"], "wraps round after end"],
    [{ "10.0.0.150": "vm-a" }, ["10", "11", "13"], "at start: nothing in range"],
  ])("restores %j, then hands out %j (cursor %s)", (allocated, expected, _why) => {
    const pool = Ipv4Pool.restore(definition, allocated);
    expect(fill(pool, expected.length)).toEqual(expected.map((n) => `10.0.0.${n}`));
  });

  it("hands out the addresses released before a restart last", () => {
    const pool = Ipv4Pool.create(definition);
    fill(pool, 5); // .10 .11 .13 .14 .16
    for (const owner of ["m1", "m3"]) pool.release(owner); // .11 and .14, the deleted VMs
    const restored = Ipv4Pool.restore(definition, pool.snapshot());
    const expected = ["17", "18", "19", "11", "14"].map((n) => `10.0.0.${n}`);
    expect([fill(restored, 5, "new"), fill(pool, 5, "new")]).toEqual([expected, expected]);
  });

  it.each([
    [undefined, "status.ipv4 absent"],
    [{}, "empty map"],
  ])("accepts %j as an empty pool (%s)", (allocated, _why) => {
    expect(Ipv4Pool.restore(definition, allocated).used).toBe(0);
  });

  it.each([
    [{ "10.0.0.011": "vm" }, "INVALID_ADDRESS", "key with a leading zero"],
    [{ "10.0.1.11": "vm" }, "OUT_OF_RANGE", "outside the CIDR"],
    [{ "10.0.0.255": "vm" }, "OUT_OF_RANGE", "broadcast address"],
    [{ "10.0.0.12": "vm" }, "EXCLUDED", "an owner on an excluded address"],
    [{ "10.0.0.1": "vm" }, "RESERVED", "an owner on the router address"],
    [{ "10.0.0.11": "" }, "INVALID_OWNER", "empty owner"],
    [{ "10.0.0.11": "vm", "10.0.0.13": "vm" }, "OWNER_HAS_ADDRESS", "two IPs for one owner"],
  ])("refuses %j as a whole: %s (%s)", (allocated, code, _why) => {
    let thrown: unknown;
    try {
      Ipv4Pool.restore(definition, allocated);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(IpamError);
    const error = thrown as IpamError;
    expect(error.code).toBe("INVALID_SNAPSHOT");
    expect(error.rejected?.map((entry) => entry.error.code)).toEqual([code]);
  });

  it("lists every refused entry, not just the first", () => {
    const allocated = { "10.0.0.11": "a", bad: "b", "10.0.0.12": "c", "10.0.0.13": "d" };
    expect(() => Ipv4Pool.restore(definition, allocated)).toThrow(
      expect.objectContaining({
        rejected: [
          expect.objectContaining({ ip: "bad", value: "b" }),
          expect.objectContaining({ ip: "10.0.0.12", value: "c" }),
        ],
      }),
    );
  });
});
