import { describe, expect, it } from "vitest";
import { IpamError } from "./errors.js";
import { formatIpv4, parseIpv4 } from "./ipv4.js";
import { type Ipv4PoolConfig, resolvePoolConfig } from "./pool-config.js";

const base: Ipv4PoolConfig = { cidr: "10.0.0.0/24", start: "10.0.0.10", end: "10.0.0.20" };

function rejection(config: Ipv4PoolConfig): IpamError {
  try {
    resolvePoolConfig(config);
  } catch (error) {
    if (error instanceof IpamError) return error;
    throw error;
  }
  throw new Error("expected INVALID_POOL");
}

describe("resolvePoolConfig", () => {
  it.each([
    [{ cidr: "10.0.0.4/31", start: "10.0.0.4", end: "10.0.0.5" }, 2, "/31: RFC 3021, both hosts"],
    [{ cidr: "10.0.0.4/32", start: "10.0.0.4", end: "10.0.0.4" }, 1, "/32: the single host"],
    [{ ...base, start: "10.0.0.1", end: "10.0.0.254" }, 254, "range up to the usable edges"],
    [{ ...base, start: "10.0.0.7", end: "10.0.0.7" }, 1, "start equal to end"],
    [{ cidr: "10.0.0.0/8", start: "10.0.0.1", end: "10.255.255.254" }, 2 ** 24 - 2, "/8"],
  ])("accepts %j with %d addresses (%s)", (config, size) => {
    const resolved = resolvePoolConfig(config);
    expect(resolved.end - resolved.start + 1).toBe(size);
  });

  it.each([
    [{ ...base, cidr: "10.0.0.0" }, "cidr", "10.0.0.0", "no prefix"],
    [{ ...base, cidr: "10.0.0.1/24" }, "cidr", "10.0.0.1/24", "host bits set"],
    [{ ...base, cidr: "10.0.0.0/7" }, "cidr", "10.0.0.0/7", "larger than /8"],
    [{ ...base, start: "10.0.0.256" }, "start", "10.0.0.256", "malformed start"],
    [{ ...base, start: "10.0.1.10" }, "start", "10.0.1.10", "start outside the CIDR"],
    [{ ...base, start: "10.0.0.0" }, "start", "10.0.0.0", "start is the network address"],
    [{ ...base, end: "10.0.0.255" }, "end", "10.0.0.255", "end is the broadcast address"],
    [{ ...base, end: "10.0.1.0" }, "end", "10.0.1.0", "end outside the CIDR"],
    [{ ...base, end: "" }, "end", "", "empty end is malformed, not absent"],
    [{ ...base, start: "10.0.0.30" }, "start", "10.0.0.30", "start after end"],
    [{ ...base, exclude: ["10.0.0.5", "10.0.0.05"] }, "exclude[1]", "10.0.0.05", "leading 0"],
    [{ ...base, exclude: ["192.168.0.1"] }, "exclude[0]", "192.168.0.1", "exclude outside"],
    [{ ...base, reserved: ["10.0.0.1", "x"] }, "reserved[1]", "x", "malformed router"],
    [{ ...base, reserved: ["10.0.1.1"] }, "reserved[0]", "10.0.1.1", "server outside the CIDR"],
  ])("rejects %j naming %s = %j (%s)", (config, field, value) => {
    const error = rejection(config);
    expect(error.code).toBe("INVALID_POOL");
    expect(error.field).toBe(field);
    expect(error.value).toBe(value);
    expect(error.message).toContain(field);
  });

  it("marks an address both excluded and reserved as RESERVED, duplicates once", () => {
    const resolved = resolvePoolConfig({
      ...base,
      exclude: ["10.0.0.12", "10.0.0.12", "10.0.0.15"],
      reserved: ["10.0.0.15", "10.0.0.1"],
    });
    const marks = [...resolved.marks].map(([address, mark]) => [formatIpv4(address), mark]);
    expect(marks).toEqual([
      ["10.0.0.12", "EXCLUDED"],
      ["10.0.0.15", "RESERVED"],
      ["10.0.0.1", "RESERVED"],
    ]);
    expect(resolved.start).toBe(parseIpv4("10.0.0.10"));
  });
});
