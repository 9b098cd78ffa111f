import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IpamError } from "./errors.js";
import {
  cidrContains,
  cidrOf,
  formatCidr,
  formatIpv4,
  IPV4_MAX,
  isIpv4,
  isUsableHost,
  parseCidr,
  parseIpv4,
} from "./ipv4.js";

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return error instanceof IpamError ? error.code : "not an IpamError";
  }
  return undefined;
}

describe("parseIpv4", () => {
  it.each([
    ["0.0.0.0", 0, "the unspecified address is a valid quad"],
    ["255.255.255.255", IPV4_MAX, "all ones stays unsigned, not -1"],
    ["10.0.0.1", 0x0a000001, "ordinary private address"],
    ["192.168.100.200", 0xc0a864c8, "above 2^31, must not turn negative"],
    ["1.0.0.0", 0x01000000, "a lone zero octet is not a leading zero"],
  ])("accepts %s (%s): %s", (text, expected) => {
    expect(parseIpv4(text)).toBe(expected);
  });

  it.each([
    ["10.0.0.01", "leading zero: octal to inet_aton, decimal to others"],
    ["010.0.0.1", "leading zero in the first octet"],
    ["00.0.0.0", "two zeros are a leading zero too"],
    ["256.0.0.1", "octet greater than 255"],
    ["1.2.3.1000", "four-digit octet"],
    ["10.1", "shortened inet_aton form"],
    ["1.2.3", "three octets"],
    ["1.2.3.4.5", "five octets"],
    ["1..2.3", "empty octet"],
    ["1.2.3.", "trailing dot"],
    [".1.2.3", "leading dot"],
    [" 1.2.3.4", "leading space"],
    ["1.2.3.4 ", "trailing space"],
    ["+1.2.3.4", "sign"],
    ["1.2.3.-4", "negative octet"],
    ["0x0a.0.0.1", "hex octet"],
    ["１.2.3.4", "full-width digit is not an ASCII digit"],
    ["10.0.0.0/24", "a CIDR is not an address"],
    ["", "empty string is malformed, not absent"],
  ])("rejects %j: %s", (text) => {
    expect(codeOf(() => parseIpv4(text))).toBe("INVALID_ADDRESS");
    expect(isIpv4(text)).toBe(false);
  });

  it("names the text and the reason", () => {
    expect(() => parseIpv4("10.0.0.01")).toThrow(/"10.0.0.01".*leading zero/);
    expect(() => parseIpv4("10.0.0.300")).toThrow(/greater than 255/);
  });

  it("round-trips every 32-bit value through formatIpv4", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: IPV4_MAX }), (address) => {
        expect(parseIpv4(formatIpv4(address))).toBe(address);
      }),
    );
  });
});

describe("formatIpv4", () => {
  it.each([
    [0, "0.0.0.0"],
    [IPV4_MAX, "255.255.255.255"],
    [0xc0a80001, "192.168.0.1"],
  ])("formats %d as %s", (address, text) => {
    expect(formatIpv4(address)).toBe(text);
  });

  it.each([
    [-1, "negative"],
    [IPV4_MAX + 1, "above 32 bits"],
    [1.5, "not an integer"],
    [Number.NaN, "NaN"],
  ])("rejects %d: %s", (address) => {
    expect(codeOf(() => formatIpv4(address))).toBe("INVALID_ADDRESS");
  });
});

describe("parseCidr", () => {
  it.each([
    ["10.0.0.0/24", "10.0.0.0", "10.0.0.255", "10.0.0.1", "10.0.0.254", 256, "ordinary /24"],
    ["10.0.0.0/8", "10.0.0.0", "10.255.255.255", "10.0.0.1", "10.255.255.254", 2 ** 24, "/8"],
    ["10.0.0.4/30", "10.0.0.4", "10.0.0.7", "10.0.0.5", "10.0.0.6", 4, "/30: two hosts"],
    ["10.0.0.4/31", "10.0.0.4", "10.0.0.5", "10.0.0.4", "10.0.0.5", 2, "/31: RFC 3021, no bcast"],
    ["10.0.0.4/32", "10.0.0.4", "10.0.0.4", "10.0.0.4", "10.0.0.4", 1, "/32: a single host"],
    ["0.0.0.0/0", "0.0.0.0", "255.255.255.255", "0.0.0.1", "255.255.255.254", 2 ** 32, "/0"],
  ])("parses %s", (text, network, broadcast, first, last, size) => {
    const cidr = parseCidr(text);
    expect([cidr.network, cidr.broadcast, cidr.firstUsable, cidr.lastUsable]).toEqual(
      [network, broadcast, first, last].map(parseIpv4),
    );
    expect(cidr.size).toBe(size);
    expect(formatCidr(cidr)).toBe(text);
  });

  it.each([
    ["10.0.0.1/24", "host bits set: the block is 10.0.0.0/24"],
    ["10.0.0.0", "no prefix"],
    ["10.0.0.0/33", "prefix above 32"],
    ["10.0.0.0/08", "prefix with a leading zero"],
    ["10.0.0.0/", "empty prefix"],
    ["10.0.0.0/-1", "negative prefix"],
    ["10.0.0.00/24", "malformed address"],
    ["10.0.0.0/24/1", "two slashes"],
  ])("rejects %j: %s", (text) => {
    expect(codeOf(() => parseCidr(text))).toBe("INVALID_CIDR");
  });

  it("reports the canonical block when host bits are set", () => {
    expect(() => parseCidr("192.168.1.7/24")).toThrow(/192\.168\.1\.0\/24/);
  });
});

describe("cidrOf", () => {
  it("masks the host bits and computes the mask", () => {
    const cidr = cidrOf(parseIpv4("172.16.5.9"), 12);
    expect(formatCidr(cidr)).toBe("172.16.0.0/12");
    expect(cidr.mask).toBe(0xfff00000);
    expect(cidr.hasNetworkAndBroadcast).toBe(true);
  });

  it("has a zero mask for /0", () => {
    expect(cidrOf(IPV4_MAX, 0).mask).toBe(0);
  });
});

describe("cidrContains and isUsableHost", () => {
  const cidr = parseCidr("10.0.0.0/30");

  it.each([
    ["9.255.255.255", false, false, "just below the block"],
    ["10.0.0.0", true, false, "network address"],
    ["10.0.0.1", true, true, "first host"],
    ["10.0.0.3", true, false, "broadcast address"],
    ["10.0.0.4", false, false, "just above the block"],
  ])("%s: contained %s, usable %s (%s)", (ip, contained, usable) => {
    expect(cidrContains(cidr, parseIpv4(ip))).toBe(contained);
    expect(isUsableHost(cidr, parseIpv4(ip))).toBe(usable);
  });
});
