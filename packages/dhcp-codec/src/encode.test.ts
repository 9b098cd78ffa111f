import { describe, expect, it } from "vitest";
import { MessageType, OptionCode } from "./constants.js";
import { decode } from "./decode.js";
import { encode, encodedLength } from "./encode.js";
import { DhcpEncodeError } from "./errors.js";
import { FILE_LENGTH, Offset, SNAME_LENGTH } from "./header.js";
import type { DhcpMessage, DhcpOptions } from "./types.js";

const ACK: DhcpMessage = {
  op: 2,
  htype: 1,
  hlen: 6,
  hops: 0,
  xid: 42,
  secs: 0,
  flags: 0,
  ciaddr: "0.0.0.0",
  yiaddr: "192.0.2.10",
  siaddr: "0.0.0.0",
  giaddr: "0.0.0.0",
  chaddr: new Uint8Array([0x52, 0x54, 0, 0x12, 0x34, 0x56, ...new Array(10).fill(0)]),
  sname: "",
  file: "",
  options: {
    relayAgentInformation: [{ code: 1, data: new Uint8Array([7]) }],
    routers: ["192.0.2.1"],
    unknown: [{ code: 250, data: new Uint8Array([1]) }],
    subnetMask: "255.255.255.0",
    leaseTimeSeconds: 3600,
    messageType: MessageType.Ack,
    serverIdentifier: "192.0.2.1",
  },
};

const withOptions = (options: DhcpOptions): DhcpMessage => ({ ...ACK, options });
const big = (code: number, length: number) => ({ code, data: new Uint8Array(length).fill(code) });

/** Option codes in wire order, walking the options field like a receiver would. */
function wireOrder(packet: Uint8Array, start: number = Offset.options): number[] {
  const codes: number[] = [];
  for (let at = start; packet[at] !== 255; at += 2 + (packet[at + 1] ?? 0)) {
    if (packet[at] === 0) at -= 1;
    else codes.push(packet[at] ?? 0);
  }
  return codes;
}

function encodeError(message: DhcpMessage, maxMessageSize?: number): DhcpEncodeError {
  try {
    encode(message, { maxMessageSize });
  } catch (error) {
    if (error instanceof DhcpEncodeError) return error;
    throw error;
  }
  throw new Error("expected encode to fail");
}

describe("encode", () => {
  it("returns a Buffer that decodes to the same message", () => {
    const packet = encode(ACK);
    expect(packet).toBeInstanceOf(Buffer);
    expect(decode(packet)).toEqual(ACK);
  });

  it("writes message type first, then by code, unknown next, relay agent information last", () => {
    expect(wireOrder(encode(ACK))).toEqual([53, 1, 3, 51, 54, 250, 82]);
  });

  it.each([
    ["no preference: by code", undefined, [53, 1, 3, 51, 54, 250, 82]],
    // RFC 2132 §9.8: the server MUST try to follow the client's order.
    ["the client's order first", [54, 3, 1], [53, 54, 3, 1, 51, 250, 82]],
    ["codes the message lacks, 53 and 82 ignored", [6, 82, 53, 51], [53, 51, 1, 3, 54, 250, 82]],
  ])("orders options by the receiver's preference: %s", (_why, optionOrder, codes) => {
    expect(wireOrder(encode(ACK, { optionOrder }))).toEqual(codes);
  });

  it("pads to the 300-byte BOOTP minimum (RFC 1542 §2.1) and ends options with End", () => {
    const packet = encode(withOptions({ messageType: MessageType.Nak }));
    expect(packet).toHaveLength(300);
    expect([...packet.subarray(240, 244)]).toEqual([53, 1, 6, 255]);
    expect(packet.subarray(244).every((byte) => byte === 0)).toBe(true);
  });

  it("grows past 300 bytes only as far as the options need", () => {
    const packet = encode(withOptions({ unknown: [big(250, 200)] }));
    expect(packet).toHaveLength(240 + 202 + 1);
  });

  describe("RFC 3396 long options", () => {
    it("splits a 600-byte value into consecutive 255, 255 and 90-byte instances", () => {
      const packet = encode(withOptions({ unknown: [big(250, 600)] }), { maxMessageSize: 1500 });
      expect(packet[240]).toBe(250);
      expect(packet[241]).toBe(255);
      expect([packet[240 + 257], packet[240 + 258]]).toEqual([250, 255]);
      expect([packet[240 + 514], packet[240 + 515]]).toEqual([250, 90]);
      expect(packet[240 + 516 + 90]).toBe(255);
      expect(decode(packet).options.unknown).toEqual([big(250, 600)]);
    });

    it("keeps a value of exactly 255 bytes in one instance", () => {
      const packet = encode(withOptions({ unknown: [big(250, 255)] }), { maxMessageSize: 1500 });
      expect(wireOrder(packet)).toEqual([250]);
    });
  });

  describe("maximum message size (RFC 2132 §9.10)", () => {
    const crowded = withOptions({
      messageType: MessageType.Offer,
      unknown: [big(250, 200), big(251, 200)],
      domainSearch: ["example.com"],
    });

    it("reports every option that did not fit, in emission order", () => {
      const error = encodeError(crowded);
      expect(error.code).toBe("DOES_NOT_FIT");
      expect(error.optionCodes).toEqual([251]);
      expect(error.message).toContain("option 251 does not fit");
    });

    it("fits with the client's larger size", () => {
      const packet = encode(crowded, { maxMessageSize: 1500 });
      expect(decode(packet)).toEqual(crowded);
    });

    it("never exceeds the size less 28 bytes of IPv4 and UDP headers", () => {
      const exact = withOptions({ unknown: [big(250, 255), big(251, 48)] });
      expect(encode(exact)).toHaveLength(548);
      expect(
        encodeError(withOptions({ unknown: [big(250, 255), big(251, 49)] })).optionCodes,
      ).toEqual([251]);
    });

    it.each([
      ["a client's bogus 300", 300],
      ["zero", 0],
    ])("treats %s as 576", (_why, size) => {
      expect(encodeError(crowded, size).optionCodes).toEqual([251]);
    });

    it("ignores the message's own option 57", () => {
      const own = { ...crowded, options: { ...crowded.options, maxMessageSize: 1500 } };
      expect(encodeError(own).code).toBe("DOES_NOT_FIT");
    });

    it("refuses a size that is not an integer", () => {
      expect(encodeError(ACK, 1000.5)).toMatchObject({
        code: "INVALID_VALUE",
        field: "maxMessageSize",
      });
    });
  });

  describe("option overload (RFC 2131 §4.1)", () => {
    const spilling = withOptions({
      messageType: MessageType.Ack,
      overload: 3,
      unknown: [big(250, 255), big(251, 40), big(252, 100), big(253, 40)],
    });

    it("spills into file, then sname, when overload asks for it", () => {
      const packet = encode(spilling);
      expect(packet).toHaveLength(240 + 3 + 3 + 257 + 42 + 1);
      expect(wireOrder(packet)).toEqual([53, 52, 250, 251]);
      expect(wireOrder(packet, Offset.file)).toEqual([252]);
      expect(wireOrder(packet, Offset.sname)).toEqual([253]);
      expect(decode(packet)).toEqual(spilling);
    });

    it("ends each overloaded field with End even when nothing landed there", () => {
      const packet = encode(withOptions({ overload: 3 }));
      expect(packet[Offset.file]).toBe(255);
      expect(packet[Offset.sname]).toBe(255);
    });

    it("still reports what fits nowhere", () => {
      const error = encodeError({
        ...spilling,
        options: { ...spilling.options, unknown: [big(250, FILE_LENGTH + SNAME_LENGTH + 400)] },
      });
      expect(error.optionCodes).toEqual([250]);
    });

    it.each([
      ["file", { file: "pxelinux.0" }],
      ["sname", { sname: "tftp" }],
    ])("refuses to overload a %s that has text", (field, texts) => {
      expect(encodeError({ ...spilling, ...texts })).toMatchObject({
        code: "OVERLOAD_CONFLICT",
        field,
      });
    });
  });

  describe("unknown options", () => {
    it.each([
      [
        "a code with a typed field",
        [{ code: OptionCode.Router, data: new Uint8Array(4) }],
        "DUPLICATE_OPTION",
      ],
      ["a code listed twice", [big(250, 1), big(250, 2)], "DUPLICATE_OPTION"],
      ["Pad as a code", [big(0, 1)], "INVALID_VALUE"],
      ["End as a code", [big(255, 1)], "INVALID_VALUE"],
    ])("refuses %s", (_why, unknown, code) => {
      expect(encodeError(withOptions({ unknown })).code).toBe(code);
    });
  });

  it("names the field of a bad value", () => {
    expect(encodeError(withOptions({ routers: ["192.0.2"] }))).toMatchObject({
      code: "INVALID_VALUE",
      field: "option 3 (router)",
    });
    expect(encodeError({ ...ACK, yiaddr: "nope" })).toMatchObject({ field: "yiaddr" });
  });
});

describe("encodedLength", () => {
  it.each([
    ["a small ACK, padded", ACK, {}],
    ["a long option at 1500", withOptions({ unknown: [big(250, 900)] }), { maxMessageSize: 1500 }],
  ])("matches encode for %s", (_why, message, settings) => {
    expect(encodedLength(message, settings)).toBe(encode(message, settings).length);
  });

  it("throws DOES_NOT_FIT like encode", () => {
    expect(() => encodedLength(withOptions({ unknown: [big(250, 900)] }))).toThrow(
      expect.objectContaining({ code: "DOES_NOT_FIT", optionCodes: [250] }),
    );
  });

  // Each option kind's refusals are listed in options/codecs.test.ts; these rows check the
  // same agreement for whole messages, including a value that encode would split.
  it.each([
    ["a bad value among valid options", { ...ACK.options, routers: ["192.0.2.1", "nope"] }],
    ["a bad value over 255 bytes", { ...ACK.options, message: `${"x".repeat(300)}\u2603` }],
  ])("throws the INVALID_VALUE encode throws for %s", (_why, options) => {
    const message = withOptions(options);
    const error = encodeError(message, 1500);
    expect(error.code).toBe("INVALID_VALUE");
    expect(() => encodedLength(message, { maxMessageSize: 1500 })).toThrow(error);
  });
});
