import { describe, expect, it } from "vitest";
import { DhcpEncodeError } from "../errors.js";
import { decodeValue, encodeValue } from "./codec.js";
import { exactTextCodec, textCodec } from "./text.js";

const bytes = (hex: string) => new Uint8Array(Buffer.from(hex, "hex"));
const hexOf = (value: Uint8Array) => Buffer.from(value).toString("hex");

describe("textCodec", () => {
  it.each([
    ["a host name", "vm-1", "766d2d31"],
    ["an empty value, which some clients send", "", ""],
    ["bytes above 0x7f, one character each", "caf\u00e9", "636166e9"],
  ])("round-trips %s", (_why, value, wire) => {
    expect(hexOf(encodeValue(textCodec, value, "f"))).toBe(wire);
    expect(decodeValue(textCodec, bytes(wire))).toBe(value);
  });

  it.each([
    ["one trailing NUL", "766d2d3100", "vm-1"],
    ["several trailing NULs", "766d2d31000000", "vm-1"],
    ["nothing but NULs", "0000", ""],
  ])("drops %s (RFC 2132 §2)", (_why, wire, value) => {
    expect(decodeValue(textCodec, bytes(wire))).toBe(value);
  });

  it("keeps an inner NUL", () => {
    expect(decodeValue(textCodec, bytes("610062"))).toBe("a\u0000b");
  });

  it("refuses characters that are not one byte", () => {
    expect(() => encodeValue(textCodec, "snow\u2603", "option 12")).toThrow(DhcpEncodeError);
  });
});

describe("exactTextCodec", () => {
  it("keeps trailing NULs so the vendor class stays exact", () => {
    expect(decodeValue(exactTextCodec, bytes("4d53465420352e3000"))).toBe("MSFT 5.0\u0000");
    expect(hexOf(encodeValue(exactTextCodec, "MSFT 5.0\u0000", "f"))).toBe("4d53465420352e3000");
  });
});
