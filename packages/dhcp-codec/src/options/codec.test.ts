import { describe, expect, it } from "vitest";
import { CodecInvariantError, DhcpDecodeError } from "../errors.js";
import { decodeValue, encodeValue, type OptionCodec, OptionSlice } from "./codec.js";

describe("OptionSlice", () => {
  // Two instances: 3 bytes at packet offset 250, then 2 bytes at 300 (e.g. in `file`).
  const slice = new OptionSlice(new Uint8Array(5), 6, "domain name server", [250, 3, 300, 2]);

  it.each([
    ["the first byte of the first instance", 0, 250],
    ["the last byte of the first instance", 2, 252],
    ["the first byte of the second instance", 3, 300],
    ["just past the end, for 'ran out' errors", 5, 302],
  ])("maps %s back to the packet", (_why, index, offset) => {
    expect(slice.offsetOf(index)).toBe(offset);
  });

  it("builds a DhcpDecodeError that names the option", () => {
    const error = slice.error("BAD_OPTION_LENGTH", 4, "why", "4", "5");
    expect(error).toBeInstanceOf(DhcpDecodeError);
    expect(error).toMatchObject({ offset: 301, field: "option 6 (domain name server)" });
  });
});

describe("encodeValue", () => {
  it("treats a codec that writes other than it announced as a bug, not bad input", () => {
    const liar: OptionCodec<number> = {
      encodedLength: () => 2,
      encode: (_value, _target, offset) => offset + 1,
      decode: () => 0,
    };
    expect(() => encodeValue(liar, 0, "f")).toThrow(CodecInvariantError);
  });

  it("uses a length the caller already computed instead of sizing the value again", () => {
    const sized: OptionCodec<number> = {
      encodedLength: () => {
        throw new Error("sized twice");
      },
      encode: (value, target, offset) => {
        target[offset] = value;
        return offset + 1;
      },
      decode: () => 0,
    };
    expect(encodeValue(sized, 7, "f", 1)).toEqual(new Uint8Array([7]));
  });
});

describe("decodeValue", () => {
  it("decodes bytes as the data of one option at a given offset", () => {
    const codec: OptionCodec<number> = {
      encodedLength: () => 0,
      encode: (_value, _target, offset) => offset,
      decode: (slice) => slice.offsetOf(1),
    };
    expect(decodeValue(codec, new Uint8Array(2), 9, "x", 40)).toBe(41);
  });
});
