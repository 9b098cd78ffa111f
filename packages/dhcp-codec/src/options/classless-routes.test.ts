import { describe, expect, it } from "vitest";
import { DhcpEncodeError } from "../errors.js";
import type { ClasslessRoute } from "../types.js";
import { classlessRoutesCodec } from "./classless-routes.js";
import { decodeValue, encodeValue } from "./codec.js";

const bytes = (hex: string) => new Uint8Array(Buffer.from(hex.replace(/\s+/g, ""), "hex"));
const hexOf = (value: Uint8Array) => Buffer.from(value).toString("hex");
const route = (destination: string, router: string): ClasslessRoute => ({ destination, router });

describe("classlessRoutesCodec", () => {
  it.each([
    [
      "a default route: width 0, no destination octets",
      [route("0.0.0.0/0", "10.0.0.1")],
      "00 0a000001",
    ],
    ["a /8: one octet", [route("10.0.0.0/8", "10.0.0.1")], "08 0a 0a000001"],
    ["a /24: three octets", [route("192.168.1.0/24", "10.0.0.1")], "18 c0a801 0a000001"],
    ["a /25: four octets", [route("192.168.1.128/25", "10.0.0.1")], "19 c0a80180 0a000001"],
    ["a host route /32", [route("192.0.2.7/32", "0.0.0.0")], "20 c0000207 00000000"],
    [
      "two routes in order",
      [route("10.0.0.0/8", "10.0.0.1"), route("0.0.0.0/0", "10.0.0.254")],
      "08 0a 0a000001 00 0a0000fe",
    ],
    ["an empty list", [], ""],
  ])("round-trips %s (RFC 3442)", (_why, routes, wire) => {
    const compact = wire.replace(/\s+/g, "");
    expect(hexOf(encodeValue(classlessRoutesCodec, routes, "f"))).toBe(compact);
    expect(decodeValue(classlessRoutesCodec, bytes(wire))).toEqual(routes);
  });

  it("keeps bits past the prefix inside a sent octet, as sent", () => {
    expect(decodeValue(classlessRoutesCodec, bytes("09 0a81 01020304"))).toEqual([
      route("10.129.0.0/9", "1.2.3.4"),
    ]);
  });

  it.each([
    ["a width above 32", "21 0a000000 0a000001", "BAD_OPTION_VALUE", 0],
    ["a route cut short in its router", "08 0a 0a0000", "BAD_OPTION_LENGTH", 0],
    ["a second route cut short in its destination", "00 0a000001 18 c0", "BAD_OPTION_LENGTH", 5],
  ])("rejects %s", (_why, wire, code, index) => {
    expect(() => decodeValue(classlessRoutesCodec, bytes(wire), 121, "routes", 50)).toThrow(
      expect.objectContaining({ code, offset: 50 + index }),
    );
  });

  it.each([
    ["no prefix length", route("10.0.0.0", "10.0.0.1")],
    ["a prefix above 32", route("10.0.0.0/33", "10.0.0.1")],
    ["a prefix with a leading zero", route("10.0.0.0/08", "10.0.0.1")],
    ["octets past the prefix that would be lost", route("10.1.0.0/8", "10.0.0.1")],
    ["a bad router", route("10.0.0.0/8", "10.0.0")],
  ])("refuses %s", (_why, bad) => {
    expect(() => encodeValue(classlessRoutesCodec, [bad], "option 121")).toThrow(DhcpEncodeError);
  });
});
