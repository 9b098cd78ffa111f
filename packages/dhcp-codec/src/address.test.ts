import { describe, expect, it } from "vitest";
import { parseIpv4, readIpv4, writeIpv4 } from "./address.js";
import { DhcpEncodeError } from "./errors.js";

describe("parseIpv4", () => {
  it.each([
    ["the zero address", "0.0.0.0", 0],
    ["a typical host", "192.0.2.1", 0xc0000201],
    ["the all-ones broadcast", "255.255.255.255", 0xffffffff],
  ])("accepts %s", (_why, text, value) => {
    expect(parseIpv4(text)).toBe(value);
  });

  it.each([
    ["three octets", "10.0.0"],
    ["five octets", "10.0.0.0.1"],
    ["an octet above 255", "10.0.0.256"],
    ["a leading zero, which decode never writes", "10.0.0.01"],
    ["an empty octet", "10..0.1"],
    ["a trailing dot", "10.0.0.1."],
    ["surrounding space", " 10.0.0.1"],
    ["a sign", "+10.0.0.1"],
    ["an empty string", ""],
  ])("refuses %s", (_why, text) => {
    expect(parseIpv4(text)).toBeUndefined();
  });
});

describe("readIpv4", () => {
  it("reads four bytes at an offset as a dotted quad", () => {
    expect(readIpv4(new Uint8Array([9, 10, 0, 0, 1]), 1)).toBe("10.0.0.1");
  });
});

describe("writeIpv4", () => {
  it("writes network order and returns the next offset", () => {
    const target = new Uint8Array(5);
    expect(writeIpv4("10.1.2.3", target, 1, "f")).toBe(5);
    expect([...target]).toEqual([0, 10, 1, 2, 3]);
  });

  it("names the field in the INVALID_VALUE error", () => {
    const write = () => writeIpv4("10.1.2", new Uint8Array(4), 0, "giaddr");
    expect(write).toThrow(DhcpEncodeError);
    expect(write).toThrow(/INVALID_VALUE in giaddr/);
  });
});
