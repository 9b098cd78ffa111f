import { describe, expect, it } from "vitest";
import { DhcpEncodeError } from "../errors.js";
import { bytesCodec } from "./bytes.js";
import { decodeValue, encodeValue } from "./codec.js";

describe("bytesCodec", () => {
  it.each([
    ["an Ethernet client identifier", [1, 0x52, 0x54, 0, 0x12, 0x34, 0x56]],
    ["a zero-length value (rapid commit carries none)", []],
  ])("round-trips %s", (_why, values) => {
    const value = new Uint8Array(values);
    expect(encodeValue(bytesCodec, value, "f")).toEqual(value);
    expect(decodeValue(bytesCodec, value)).toEqual(value);
  });

  it("copies on decode, so the message never aliases the packet", () => {
    const packet = new Uint8Array([1, 2, 3]);
    const decoded = decodeValue(bytesCodec, packet);
    packet[0] = 9;
    expect(decoded[0]).toBe(1);
  });

  it("refuses a value that is not bytes", () => {
    const notBytes = [1, 2] as unknown as Uint8Array;
    expect(() => encodeValue(bytesCodec, notBytes, "f")).toThrow(DhcpEncodeError);
  });
});
