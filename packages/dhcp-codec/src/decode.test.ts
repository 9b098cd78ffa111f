import { describe, expect, it } from "vitest";
import { MessageType } from "./constants.js";
import { decode } from "./decode.js";
import { encode } from "./encode.js";
import { DhcpDecodeError } from "./errors.js";
import { Offset } from "./header.js";
import type { DhcpMessage } from "./types.js";

/** Hex with `#` comments and whitespace, as fixtures are written below. */
const hex = (text: string) =>
  new Uint8Array(Buffer.from(text.replace(/#.*$/gm, "").replace(/\s+/g, ""), "hex"));
const zeros = (count: number) => "00".repeat(count);

/** A relayed DHCPREQUEST built by hand, one line per field (RFC 2131 §2, RFC 2132). */
const REQUEST_HEX = `
  01                      # op: BOOTREQUEST
  01                      # htype: Ethernet
  06                      # hlen: 6
  01                      # hops: one relay
  3903f326                # xid
  0005                    # secs: 5
  8000                    # flags: broadcast bit set
  00000000                # ciaddr: 0.0.0.0
  00000000                # yiaddr: 0.0.0.0
  00000000                # siaddr: 0.0.0.0
  c0000201                # giaddr: 192.0.2.1, the relay
  525400123456            # chaddr: 52:54:00:12:34:56
  ${zeros(10)}            #   chaddr padding to 16 bytes
  ${zeros(64)}            # sname: empty
  ${zeros(128)}           # file: empty
  63825363                # magic cookie 99.130.83.99
  35 01 03                # 53 message type: DHCPREQUEST
  0c 04 766d2d31          # 12 host name: "vm-1"
  32 04 c0000265          # 50 requested IP address: 192.0.2.101
  36 04 c0000202          # 54 server identifier: 192.0.2.2
  37 04 01030677          # 55 parameter request list: 1, 3, 6, 119
  39 02 05dc              # 57 maximum message size: 1500
  3d 07 01525400123456    # 61 client identifier: type 1 (Ethernet) + MAC
  52 0a                   # 82 relay agent information, 10 bytes:
     01 04 00000001       #   sub-option 1 circuit id
     02 02 aabb           #   sub-option 2 remote id
  ff                      # End
  ${zeros(7)}             # Pad to the 300-byte BOOTP minimum
`;

const REQUEST: DhcpMessage = {
  op: 1,
  htype: 1,
  hlen: 6,
  hops: 1,
  xid: 0x3903f326,
  secs: 5,
  flags: 0x8000,
  ciaddr: "0.0.0.0",
  yiaddr: "0.0.0.0",
  siaddr: "0.0.0.0",
  giaddr: "192.0.2.1",
  chaddr: hex(`525400123456 ${zeros(10)}`),
  sname: "",
  file: "",
  options: {
    messageType: MessageType.Request,
    hostName: "vm-1",
    requestedIpAddress: "192.0.2.101",
    serverIdentifier: "192.0.2.2",
    parameterRequestList: [1, 3, 6, 119],
    maxMessageSize: 1500,
    clientIdentifier: hex("01525400123456"),
    relayAgentInformation: [
      { code: 1, data: hex("00000001") },
      { code: 2, data: hex("aabb") },
    ],
  },
};

const HEADER = hex(REQUEST_HEX).subarray(0, Offset.options);

/** The fixture's header and cookie followed by `options` (hex), with `file`/`sname` set. */
function packet(options: string, fields: { file?: string; sname?: string } = {}): Uint8Array {
  const bytes = new Uint8Array([...HEADER, ...hex(options)]);
  bytes.set(hex(fields.file ?? ""), Offset.file);
  bytes.set(hex(fields.sname ?? ""), Offset.sname);
  return bytes;
}

function decodeError(bytes: Uint8Array): DhcpDecodeError {
  try {
    decode(bytes);
  } catch (error) {
    if (error instanceof DhcpDecodeError) return error;
    throw error;
  }
  throw new Error("expected decode to fail");
}

describe("decode", () => {
  describe("the annotated REQUEST fixture", () => {
    it("is 300 bytes", () => {
      expect(hex(REQUEST_HEX)).toHaveLength(300);
    });

    it("decodes field by field", () => {
      expect(decode(hex(REQUEST_HEX))).toEqual(REQUEST);
    });

    it("is reproduced byte for byte by encode, which writes this order", () => {
      expect(Buffer.from(encode(REQUEST)).toString("hex")).toBe(
        Buffer.from(hex(REQUEST_HEX)).toString("hex"),
      );
    });
  });

  describe("RFC 3396 concatenation", () => {
    it("joins instances of one code in order, for every option", () => {
      const options = decode(packet("06 04 01010101 0c 02 766d 06 04 08080808 0c 02 2d31 ff"));
      expect(options.options).toEqual({
        domainNameServers: ["1.1.1.1", "8.8.8.8"],
        hostName: "vm-1",
      });
    });

    it("decodes the split example of RFC 3397 §3", () => {
      const split = "77 09 03656e67056170706c 77 09 6503636f6d00096d61 77 09 726b6574696e67c004 ff";
      expect(decode(packet(split)).options.domainSearch).toEqual([
        "eng.apple.com",
        "marketing.apple.com",
      ]);
    });

    it("turns a repeated single-byte option into a length error, not a silent pick", () => {
      const error = decodeError(packet("35 01 01 35 01 03 ff"));
      expect(error).toMatchObject({ code: "BAD_OPTION_LENGTH", field: "option 53 (message type)" });
      expect(error.offset).toBe(Offset.options + 2);
    });

    it("keeps unknown options in first-appearance order, each concatenated", () => {
      const { unknown } = decode(packet("fa 01 01 50 00 fa 01 02 ff")).options;
      expect(unknown).toEqual([
        { code: 250, data: hex("0102") },
        { code: 80, data: new Uint8Array(0) },
      ]);
    });
  });

  describe("option overload (RFC 2132 §9.3)", () => {
    it("reads options from file then sname, after the options field", () => {
      const bytes = packet("34 01 03 0c 01 61 ff", { file: "0c 01 62 ff", sname: "0c 01 63 ff" });
      expect(decode(bytes)).toMatchObject({
        sname: "",
        file: "",
        options: { overload: 3, hostName: "abc" },
      });
    });

    it("leaves sname as text when only file is overloaded", () => {
      const bytes = packet("34 01 01 ff", { file: "1a 02 05dc ff", sname: "626f6f74" });
      expect(decode(bytes)).toMatchObject({
        sname: "boot",
        file: "",
        options: { overload: 1, interfaceMtu: 1500 },
      });
    });

    it("treats options-looking bytes in file as text when nothing overloads it", () => {
      expect(decode(packet("ff", { file: "41424300" })).file).toBe("ABC");
    });

    it.each([
      ["0", "34 01 00 ff"],
      ["4", "34 01 04 ff"],
    ])("rejects overload value %s", (_value, options) => {
      expect(decodeError(packet(options))).toMatchObject({ code: "BAD_OPTION_VALUE", offset: 242 });
    });

    it("reports an overrun inside file with file's offsets", () => {
      const error = decodeError(packet("34 01 01 ff", { file: `${zeros(127)} 0c` }));
      expect(error).toMatchObject({ code: "OPTION_OVERRUN", offset: Offset.file + 127 });
      expect(error.field).toContain("file field");
    });
  });

  describe("Pad, End and the end of the packet", () => {
    it("skips Pad bytes between options", () => {
      expect(decode(packet("00 00 35 01 01 00 ff")).options).toEqual({ messageType: 1 });
    });

    it("ignores whatever follows End", () => {
      expect(decode(packet("35 01 01 ff 0c 40 61")).options).toEqual({ messageType: 1 });
    });

    it("accepts a packet without End when the last option ends at the last byte", () => {
      expect(decode(packet("35 01 01")).options).toEqual({ messageType: 1 });
    });

    it("accepts a packet shorter than 300 bytes, and one with no options at all", () => {
      expect(decode(packet("")).options).toEqual({});
      expect(decode(packet("35 01 05 ff")).options.messageType).toBe(MessageType.Ack);
    });

    it.each([
      ["data cut by the end of the packet", "35 01 01 0c 05 6162", 243, "5 bytes", "2 bytes"],
      ["a length byte missing", "35 01 01 0c", 243, undefined, undefined],
    ])("rejects %s with OPTION_OVERRUN", (_why, options, offset, expected, found) => {
      const error = decodeError(packet(options));
      expect(error).toMatchObject({ code: "OPTION_OVERRUN", offset, expected, found });
      expect(error.field).toBe("option 12 (host name) in the options field");
    });
  });

  describe("header problems", () => {
    it.each([
      ["an empty datagram", new Uint8Array(0), "TRUNCATED_HEADER"],
      ["a packet without the cookie", hex(REQUEST_HEX).subarray(0, 236), "TRUNCATED_HEADER"],
      ["a packet with a wrong cookie", packet("ff").fill(0, 236, 237), "BAD_MAGIC_COOKIE"],
      ["hlen 255", packet("ff").fill(255, 2, 3), "BAD_HARDWARE_LENGTH"],
    ])("rejects %s", (_why, bytes, code) => {
      expect(decodeError(bytes).code).toBe(code);
    });
  });

  describe("inputs other than plain bytes", () => {
    it.each([
      ["undefined", undefined],
      ["a string", "0101"],
      ["an array of numbers", [1, 1, 6]],
      ["a bare ArrayBuffer", new ArrayBuffer(300)],
    ])("rejects %s with NOT_BYTES rather than a TypeError", (_why, input) => {
      expect(decodeError(input as unknown as Uint8Array).code).toBe("NOT_BYTES");
    });

    it.each([
      ["whole", 0],
      ["at an offset into it", 100],
    ])("rejects a view over a detached buffer, %s, as TRUNCATED_HEADER", (_why, offset) => {
      const bytes = new Uint8Array(new ArrayBuffer(offset + 300), offset, 300);
      bytes.set(hex(REQUEST_HEX));
      // Transferring the buffer (to a worker, say) detaches it; the view then reads as empty.
      structuredClone(bytes.buffer, { transfer: [bytes.buffer] });
      expect(bytes.byteLength).toBe(0);
      const error = decodeError(bytes);
      expect(error).toMatchObject({ code: "TRUNCATED_HEADER", offset: 0, found: "0 bytes" });
    });

    const refuse = () => {
      throw new TypeError("not readable here");
    };

    it.each([
      ["a byteOffset past its buffer", "byteOffset", { value: 1000 }],
      ["a byteLength longer than its buffer", "byteLength", { value: 1000 }],
      ["a buffer getter that throws", "buffer", { get: refuse }],
      ["a byteLength getter that throws", "byteLength", { get: refuse }],
    ])("rejects a view with %s as NOT_BYTES", (_why, property, descriptor) => {
      const bytes = hex(REQUEST_HEX);
      Object.defineProperty(bytes, property, descriptor);
      expect(decodeError(bytes)).toMatchObject({ code: "NOT_BYTES", field: "input" });
    });

    it("reads other byte views, such as a DataView, as their bytes", () => {
      const bytes = hex(REQUEST_HEX);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      expect(decode(view as unknown as Uint8Array)).toEqual(REQUEST);
    });
  });

  it("names the option and the offset when a typed value is malformed", () => {
    const error = decodeError(packet("35 01 01 33 03 000e10 ff"));
    expect(error).toMatchObject({
      code: "BAD_OPTION_LENGTH",
      offset: 245,
      field: "option 51 (lease time)",
      reason: "value must be exactly 4 bytes",
      expected: "4 bytes",
      found: "3 bytes",
    });
    expect(error.message).toContain("offset 245");
  });

  it("reads a Buffer that is a slice of a larger one, and copies what it keeps", () => {
    const pool = Buffer.alloc(1000);
    const bytes = hex(REQUEST_HEX);
    pool.set(bytes, 100);
    const view = pool.subarray(100, 100 + bytes.length);
    const message = decode(view);
    view.fill(0xee);
    expect(message).toEqual(REQUEST);
    expect(message.chaddr).not.toBeInstanceOf(Buffer);
  });
});
