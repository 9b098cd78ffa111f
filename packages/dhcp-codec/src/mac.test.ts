import { describe, expect, it } from "vitest";
import { DhcpEncodeError } from "./errors.js";
import { formatMac, parseMac } from "./mac.js";

describe("formatMac", () => {
  const chaddr = new Uint8Array([
    0x52, 0x54, 0x00, 0x0a, 0xbc, 0xde, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
  ]);

  it.each([
    ["Ethernet, hlen 6", 6, "52:54:00:0a:bc:de"],
    ["hlen 0 gives an empty string", 0, ""],
    [
      "hlen past 16 is clamped to the field",
      200,
      `52:54:00:0a:bc:de:01:02:03:04:05:06:07:08:09:0a`,
    ],
  ])("%s", (_why, hlen, text) => {
    expect(formatMac(chaddr, hlen)).toBe(text);
  });

  it("defaults to six bytes", () => {
    expect(formatMac(chaddr)).toBe("52:54:00:0a:bc:de");
  });
});

describe("parseMac", () => {
  it.each([
    ["colons", "52:54:00:0A:bc:de"],
    ["dashes", "52-54-00-0a-BC-DE"],
  ])("accepts %s in either case", (_why, text) => {
    const chaddr = parseMac(text);
    expect(chaddr).toHaveLength(16);
    expect(formatMac(chaddr, 6)).toBe("52:54:00:0a:bc:de");
    expect([...chaddr.subarray(6)]).toEqual(new Array(10).fill(0));
  });

  it.each([
    ["single hex digits", "5:54:00:0a:bc:de"],
    ["a non-hex octet", "52:54:00:0a:bc:zz"],
    ["seventeen octets", new Array(17).fill("00").join(":")],
    ["an empty string", ""],
  ])("refuses %s with INVALID_VALUE", (_why, text) => {
    expect(() => parseMac(text)).toThrow(DhcpEncodeError);
  });
});
