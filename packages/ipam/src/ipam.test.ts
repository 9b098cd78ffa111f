import { describe, expect, it } from "vitest";
import { IpamError } from "./errors.js";
import { Ipam } from "./ipam.js";
import type { Ipv4PoolConfig } from "./pool-config.js";

const netA: Ipv4PoolConfig = { cidr: "10.0.0.0/24", start: "10.0.0.10", end: "10.0.0.20" };
const netB: Ipv4PoolConfig = { cidr: "172.16.0.0/16", start: "172.16.1.1", end: "172.16.1.9" };

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return error instanceof IpamError ? error.code : "not an IpamError";
  }
  return undefined;
}

describe("Ipam", () => {
  it("keeps pools apart: the same owner may hold an address in each network", () => {
    const ipam = new Ipam();
    ipam.create("default/net-a", netA);
    ipam.create("default/net-b", netB);
    const a = ipam.allocate("default/net-a", "52:54:00:00:00:01");
    const b = ipam.allocate("default/net-b", "52:54:00:00:00:01");
    expect([a.ok && a.value.ip, b.ok && b.value.ip]).toEqual(["10.0.0.10", "172.16.1.1"]);
    expect([...ipam.keys()]).toEqual(["default/net-a", "default/net-b"]);
    expect(ipam.size).toBe(2);
  });

  it("creates from a status map, as the controller does after a restart", () => {
    const ipam = new Ipam();
    const pool = ipam.create("ns/a", netA, { "10.0.0.10": "vm-1", "10.0.0.11": "EXCLUDED" });
    expect([pool.ownerOf("10.0.0.10"), ipam.dumpCache("ns/a")]).toEqual([
      "vm-1",
      { "vm-1": "10.0.0.10" },
    ]);
  });

  it.each([
    [(i: Ipam) => i.create("ns/a", netA), "POOL_EXISTS", "create over an existing key"],
    [(i: Ipam) => i.create("", netA), "INVALID_POOL", "empty key"],
    [(i: Ipam) => i.create("ns/b", { ...netA, start: "10.0.1.1" }), "INVALID_POOL", "bad spec"],
    [(i: Ipam) => i.create("ns/b", null as never), "INVALID_POOL", "null spec, not a TypeError"],
    [(i: Ipam) => i.pool("ns/missing"), "UNKNOWN_POOL", "lookup of a missing key"],
    [(i: Ipam) => i.dumpIpam("ns/missing"), "UNKNOWN_POOL", "dump of a missing key"],
  ])("throws case %#: %s (%s)", (action, code, _why) => {
    const ipam = new Ipam();
    ipam.create("ns/a", netA);
    expect(codeOf(() => action(ipam))).toBe(code);
  });

  it.each([
    [(i: Ipam) => i.allocate("ns/x", "vm"), "allocate"],
    [(i: Ipam) => i.release("ns/x", "vm"), "release"],
    [(i: Ipam) => i.releaseAddress("ns/x", "10.0.0.10"), "releaseAddress"],
  ])("returns UNKNOWN_POOL from %s on a missing key (case %#)", (action) => {
    const result = action(new Ipam());
    expect(result.ok || result.error.code).toBe("UNKNOWN_POOL");
  });

  it("replaces a pool, and keeps the old one when the new definition is refused", () => {
    const ipam = new Ipam();
    const first = ipam.replace("ns/a", netA);
    first.allocate("vm");
    expect(codeOf(() => ipam.replace("ns/a", { ...netA, end: "10.0.0.255" }))).toBe("INVALID_POOL");
    expect(ipam.get("ns/a")).toBe(first);
    const second = ipam.replace("ns/a", netA, first.snapshot());
    expect([ipam.get("ns/a") === second, second.ownerOf("10.0.0.10")]).toEqual([true, "vm"]);
  });

  it("deletes a pool and forgets its allocations", () => {
    const ipam = new Ipam();
    ipam.create("ns/a", netA).allocate("vm");
    expect([ipam.delete("ns/a"), ipam.delete("ns/a"), ipam.has("ns/a")]).toEqual([
      true,
      false,
      false,
    ]);
    expect(ipam.get("ns/a")).toBeUndefined();
  });

  it("releases by owner and by address in the named pool", () => {
    const ipam = new Ipam();
    ipam.create("ns/a", netA);
    ipam.allocate("ns/a", "vm-1");
    ipam.allocate("ns/a", "vm-2");
    expect(ipam.release("ns/a", "vm-1").ok).toBe(true);
    expect(ipam.releaseAddress("ns/a", "10.0.0.11").ok).toBe(true);
    expect(ipam.pool("ns/a").used).toBe(0);
    expect(ipam.dumpIpam("ns/a")["10.0.0.10"]).toBe("false");
  });
});
