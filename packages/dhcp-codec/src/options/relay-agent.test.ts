import { describe, expect, it } from "vitest";
import { DhcpEncodeError } from "../errors.js";
import { decodeValue, encodeValue } from "./codec.js";
import { relayAgentCodec } from "./relay-agent.js";

const bytes = (hex: string) => new Uint8Array(Buffer.from(hex.replace(/\s+/g, ""), "hex"));
const hexOf = (value: Uint8Array) => Buffer.from(value).toString("hex");
const sub = (code: number, hex: string) => ({ code, data: bytes(hex) });

describe("relayAgentCodec", () => {
  it.each([
    [
      "circuit id then remote id, in wire order",
      [sub(1, "0004"), sub(2, "aabbcc")],
      "01020004 0203aabbcc",
    ],
    [
      "remote id before circuit id, order kept for the echo",
      [sub(2, "01"), sub(1, "02")],
      "020101 010102",
    ],
    ["an unassigned sub-option code with no data", [sub(200, "")], "c800"],
    ["no sub-options", [], ""],
  ])("round-trips %s (RFC 3046 §2.0)", (_why, subs, wire) => {
    const compact = wire.replace(/\s+/g, "");
    expect(hexOf(encodeValue(relayAgentCodec, subs, "f"))).toBe(compact);
    expect(decodeValue(relayAgentCodec, bytes(wire))).toEqual(subs);
  });

  it.each([
    ["a sub-option header cut after its code", "010100 02", 3],
    ["a sub-option whose data runs past the option", "0105aabb", 0],
  ])("rejects %s with SUBOPTION_OVERRUN", (_why, wire, index) => {
    expect(() => decodeValue(relayAgentCodec, bytes(wire), 82, "relay", 400)).toThrow(
      expect.objectContaining({ code: "SUBOPTION_OVERRUN", offset: 400 + index }),
    );
  });

  it.each([
    ["a sub-option over 255 bytes", [{ code: 1, data: new Uint8Array(256) }]],
    ["a code above 255", [{ code: 256, data: new Uint8Array(1) }]],
  ])("refuses %s", (_why, subs) => {
    expect(() => encodeValue(relayAgentCodec, subs, "option 82")).toThrow(DhcpEncodeError);
  });
});
