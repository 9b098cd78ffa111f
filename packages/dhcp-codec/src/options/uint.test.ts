import { describe, expect, it } from "vitest";
import { DhcpEncodeError } from "../errors.js";
import { decodeValue, encodeValue } from "./codec.js";
import {
  requireInteger,
  uint8Codec,
  uint8ListCodec,
  uint8RangeCodec,
  uint16Codec,
  uint32Codec,
} from "./uint.js";

const bytes = (hex: string) => new Uint8Array(Buffer.from(hex, "hex"));
const hexOf = (value: Uint8Array) => Buffer.from(value).toString("hex");

describe("uint8Codec, uint16Codec, uint32Codec", () => {
  it.each([
    ["a byte", uint8Codec, 7, "07"],
    ["an Ethernet MTU", uint16Codec, 1500, "05dc"],
    ["the largest max message size", uint16Codec, 65535, "ffff"],
    ["a one-hour lease", uint32Codec, 3600, "00000e10"],
    ["an infinite lease, 0xffffffff, above the int32 range", uint32Codec, 0xffffffff, "ffffffff"],
  ])("round-trips %s", (_why, codec, value, wire) => {
    expect(hexOf(encodeValue(codec, value, "f"))).toBe(wire);
    expect(decodeValue(codec, bytes(wire))).toBe(value);
  });

  it.each([
    ["a 16-bit value sent as one byte", uint16Codec, "05"],
    ["a lease time with a stray fifth byte", uint32Codec, "00000e1000"],
    ["an empty lease time", uint32Codec, ""],
  ])("rejects %s with BAD_OPTION_LENGTH", (_why, codec, wire) => {
    expect(() => decodeValue(codec, bytes(wire))).toThrow(
      expect.objectContaining({ code: "BAD_OPTION_LENGTH" }),
    );
  });

  it.each([
    ["negative", uint32Codec, -1],
    ["fractional", uint32Codec, 1.5],
    ["above 16 bits", uint16Codec, 65536],
    ["NaN", uint8Codec, Number.NaN],
  ])("refuses a %s value", (_why, codec, value) => {
    expect(() => encodeValue(codec, value, "f")).toThrow(DhcpEncodeError);
  });
});

describe("uint8RangeCodec", () => {
  const overload = uint8RangeCodec(1, 3);

  it("accepts values in range", () => {
    expect(decodeValue(overload, bytes("03"))).toBe(3);
    expect(hexOf(encodeValue(overload, 1, "f"))).toBe("01");
  });

  it.each([
    ["zero, below the range", "00", "0"],
    ["four, above the range", "04", "4"],
  ])("rejects %s with BAD_OPTION_VALUE", (_why, wire, found) => {
    expect(() => decodeValue(overload, bytes(wire), 52, "overload", 300)).toThrow(
      expect.objectContaining({ code: "BAD_OPTION_VALUE", offset: 300, expected: "1..3", found }),
    );
  });

  it("refuses to encode a value out of range", () => {
    expect(() => encodeValue(overload, 4, "f")).toThrow(DhcpEncodeError);
  });
});

describe("uint8ListCodec", () => {
  it.each([
    ["dhclient's parameter request list", [1, 28, 2, 3, 15, 6, 119], "011c02030f0677"],
    ["an empty list", [], ""],
  ])("round-trips %s", (_why, value, wire) => {
    expect(hexOf(encodeValue(uint8ListCodec, value, "f"))).toBe(wire);
    expect(decodeValue(uint8ListCodec, bytes(wire))).toEqual(value);
  });

  it("refuses an entry above 255", () => {
    expect(() => encodeValue(uint8ListCodec, [1, 256], "f")).toThrow(DhcpEncodeError);
  });
});

describe("requireInteger", () => {
  it("returns the value when it is in range", () => {
    expect(requireInteger(5, 0, 10, "f")).toBe(5);
  });

  it("names the field otherwise", () => {
    expect(() => requireInteger(11, 0, 10, "hops")).toThrow(/INVALID_VALUE in hops/);
  });
});
