import { describe, expect, it } from "vitest";
import { FqdnFlag } from "../constants.js";
import { DhcpEncodeError } from "../errors.js";
import type { ClientFqdn } from "../types.js";
import { clientFqdnCodec } from "./client-fqdn.js";
import { decodeValue, encodeValue } from "./codec.js";

const bytes = (hex: string) => new Uint8Array(Buffer.from(hex.replace(/\s+/g, ""), "hex"));
const hexOf = (value: Uint8Array) => Buffer.from(value).toString("hex");
const E = FqdnFlag.CanonicalEncoding;
const S = FqdnFlag.ServerUpdate;
const fqdn = (flags: number, name: string): ClientFqdn => ({ flags, rcode1: 0, rcode2: 0, name });

describe("clientFqdnCodec", () => {
  it.each([
    [
      "a fully qualified canonical name, root label shown as a trailing dot",
      fqdn(E | S, "vm.example."),
      "050000 02766d 076578616d706c65 00",
    ],
    ["a partial canonical name, no root label", fqdn(E, "vm"), "040000 02766d"],
    ["the root alone", fqdn(E, "."), "040000 00"],
    ["no name at all, asking the server to pick", fqdn(E, ""), "040000"],
    [
      "the deprecated ASCII form, kept byte for byte",
      fqdn(S, "vm.example"),
      "010000 766d2e6578616d706c65",
    ],
    ["RCODE bytes carried through", { flags: E, rcode1: 255, rcode2: 255, name: "" }, "04ffff"],
  ])("round-trips %s (RFC 4702 §2)", (_why, value, wire) => {
    const compact = wire.replace(/\s+/g, "");
    expect(hexOf(encodeValue(clientFqdnCodec, value, "f"))).toBe(compact);
    expect(decodeValue(clientFqdnCodec, bytes(wire))).toEqual(value);
  });

  it.each([
    ["fewer than three bytes", "0400", "BAD_OPTION_LENGTH", 0],
    ["a compression pointer, which RFC 4702 forbids", "040000 c000", "BAD_DOMAIN_NAME", 3],
    ["a label running past the option", "040000 0561", "BAD_DOMAIN_NAME", 3],
    ["bytes after the root label", "040000 00 0161", "BAD_DOMAIN_NAME", 4],
    ["a dot inside a label", "040000 03612e62", "BAD_DOMAIN_NAME", 5],
  ])("rejects %s", (_why, wire, code, index) => {
    expect(() => decodeValue(clientFqdnCodec, bytes(wire), 81, "client FQDN", 260)).toThrow(
      expect.objectContaining({ code, offset: 260 + index, field: "option 81 (client FQDN)" }),
    );
  });

  it.each([
    ["an empty label", fqdn(E, "vm..example")],
    ["a label over 63 bytes", fqdn(E, "a".repeat(64))],
    ["flags above a byte", { flags: 256, rcode1: 0, rcode2: 0, name: "" }],
  ])("refuses %s", (_why, value) => {
    expect(() => encodeValue(clientFqdnCodec, value, "option 81")).toThrow(DhcpEncodeError);
  });
});
