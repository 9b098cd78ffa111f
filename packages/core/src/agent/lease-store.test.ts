import { describe, expect, it } from "vitest";
import { EVERY_OPTION, LEASED, MAC, poolWith, SERVER } from "../../test/agent/fixtures.js";
import type { Ipv4Config } from "../api/types.js";
import { leasesOf, PoolConfigError } from "./lease-store.js";
import { MAX_ADDRESSES_PER_NAME } from "./ntp-resolver.js";

describe("leasesOf", () => {
  it("makes a lease of every MAC entry, keyed by the lower-case MAC, skipping marks", () => {
    const pool = poolWith();
    pool.status = { ipv4: { allocated: { [LEASED]: MAC.toUpperCase(), [SERVER]: "RESERVED" } } };
    const leases = leasesOf(pool);
    expect([...leases.keys()]).toEqual([MAC]);
    expect(leases.get(MAC)).toMatchObject({ address: LEASED });
  });

  it.each([
    ["a CIDR that does not parse", { cidr: "192.0.2.0/33" }, "spec.ipv4Config.cidr"],
    ["no server address", { serverIP: "" }, "spec.ipv4Config.serverIP"],
    // The options are encoded once here, so a value the codec refuses is a configuration
    // error (readiness `config`, last good leases kept) rather than a drop of every reply.
    ["a search domain with an empty label", { domainSearch: ["a..b"] }, "spec.ipv4Config"],
    ["a router that is not an address", { router: "192.0.2" }, "spec.ipv4Config"],
    ["a lease time over 32 bits", { leaseTime: 2 ** 32 }, "spec.ipv4Config"],
    [
      "literal values too long for a 576-byte reply: a 300-byte domain name",
      { domainName: "d".repeat(300) },
      "spec.ipv4Config",
    ],
  ] satisfies [string, Partial<Ipv4Config>, string][])(
    "refuses a pool with %s",
    (_why, config, field) => {
      const attempt = () => leasesOf(poolWith(config));
      expect(attempt).toThrow(PoolConfigError);
      expect(attempt).toThrow(expect.objectContaining({ field }));
    },
  );

  it("names the codec's finding in the configuration error", () => {
    expect(() => leasesOf(poolWith({ domainSearch: ["a..b"] }))).toThrow(
      /^spec\.ipv4Config: the options make replies that cannot be encoded: INVALID_VALUE /,
    );
  });

  it("serves every option with as many resolved NTP addresses as the resolver keeps", () => {
    // Four host names (the CRD's limit), each capped by the resolver: the most DNS can add.
    // Answers are capped there, so a large one never makes the pool a configuration error.
    const names = ["a", "b", "c", "d"].map((name) => `${name}.ntp.example`);
    const resolved = Array.from(
      { length: 4 * MAX_ADDRESSES_PER_NAME },
      (_, i) => `198.51.100.${i}`,
    );
    const leases = leasesOf(poolWith({ ...EVERY_OPTION, ntp: names }), resolved);
    expect(leases.get(MAC)?.options.ntpServers).toEqual(resolved);
  });
});
