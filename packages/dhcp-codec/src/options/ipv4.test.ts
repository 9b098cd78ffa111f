import { describe, expect, it } from "vitest";
import { DhcpEncodeError } from "../errors.js";
import { decodeValue, encodeValue } from "./codec.js";
import { ipv4Codec, ipv4ListCodec } from "./ipv4.js";

const bytes = (hex: string) => new Uint8Array(Buffer.from(hex, "hex"));
const hexOf = (value: Uint8Array) => Buffer.from(value).toString("hex");

describe("ipv4Codec", () => {
  it.each([
    ["a /24 subnet mask", "255.255.255.0", "ffffff00"],
    ["a server identifier", "192.0.2.1", "c0000201"],
  ])("round-trips %s", (_why, value, wire) => {
    expect(hexOf(encodeValue(ipv4Codec, value, "f"))).toBe(wire);
    expect(decodeValue(ipv4Codec, bytes(wire))).toBe(value);
  });

  it.each([
    ["three bytes, a truncated address", "c00002", "3 bytes"],
    ["eight bytes, two addresses where one belongs", "c0000201c0000202", "8 bytes"],
    ["nothing, an empty option", "", "0 bytes"],
  ])("rejects %s with BAD_OPTION_LENGTH", (_why, wire, found) => {
    expect(() => decodeValue(ipv4Codec, bytes(wire), 1, "subnet mask", 242)).toThrow(
      expect.objectContaining({
        code: "BAD_OPTION_LENGTH",
        offset: 242,
        field: "option 1 (subnet mask)",
        found,
      }),
    );
  });

  it("refuses text that is not a dotted quad", () => {
    expect(() => encodeValue(ipv4Codec, "192.0.2", "option 54")).toThrow(DhcpEncodeError);
  });
});

describe("ipv4ListCodec", () => {
  it.each([
    ["one router", ["192.0.2.1"], "c0000201"],
    [
      "three DNS servers in preference order",
      ["1.1.1.1", "8.8.8.8", "9.9.9.9"],
      "010101010808080809090909",
    ],
    ["an empty list, kept rather than dropped", [], ""],
  ])("round-trips %s", (_why, value, wire) => {
    expect(ipv4ListCodec.encodedLength(value, "f")).toBe(wire.length / 2);
    expect(hexOf(encodeValue(ipv4ListCodec, value, "f"))).toBe(wire);
    expect(decodeValue(ipv4ListCodec, bytes(wire))).toEqual(value);
  });

  it("rejects a length that is not a multiple of four", () => {
    expect(() => decodeValue(ipv4ListCodec, bytes("c0000201c0"), 3, "router")).toThrow(
      expect.objectContaining({ code: "BAD_OPTION_LENGTH", expected: "a multiple of 4 bytes" }),
    );
  });

  it("names the option when one address is bad", () => {
    expect(() => encodeValue(ipv4ListCodec, ["1.1.1.1", "x"], "option 6 (dns)")).toThrow(
      /option 6 \(dns\)/,
    );
  });
});
