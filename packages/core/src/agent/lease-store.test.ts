import { describe, expect, it } from "vitest";
import type { IpPool, Ipv4Config } from "../api/types.js";
import { leasesOf, PoolConfigError } from "./lease-store.js";

const MAC = "52:54:00:aa:bb:01";

function poolWith(config: Partial<Ipv4Config>): IpPool {
  return {
    metadata: { namespace: "default", name: "net-a" },
    spec: {
      networkName: "default/net-a",
      ipv4Config: {
        cidr: "192.0.2.0/24",
        serverIP: "192.0.2.2",
        pool: { start: "192.0.2.10", end: "192.0.2.200" },
        router: "192.0.2.1",
        ...config,
      },
    },
    status: {
      ipv4: { allocated: { "192.0.2.10": MAC.toUpperCase(), "192.0.2.2": "RESERVED" } },
    },
  };
}

describe("leasesOf", () => {
  it("makes a lease of every MAC entry, keyed by the lower-case MAC, skipping marks", () => {
    const leases = leasesOf(poolWith({}));
    expect([...leases.keys()]).toEqual([MAC]);
    expect(leases.get(MAC)).toMatchObject({ address: "192.0.2.10" });
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
      "a domain name too long for a 576-byte reply",
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

  it("refuses NTP addresses that resolved to more than a reply can hold", () => {
    const many = Array.from({ length: 80 }, (_, i) => `198.51.100.${i + 1}`);
    expect(() => leasesOf(poolWith({}), many)).toThrow(/DOES_NOT_FIT/);
  });
});
