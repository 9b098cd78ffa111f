import { describe, expect, it } from "vitest";
import { DhcpEncodeError } from "./errors.js";
import { checkHeader, type DhcpHeader, decodeHeader, encodeHeader, Offset } from "./header.js";

const HEADER: DhcpHeader = {
  op: 1,
  htype: 1,
  hlen: 6,
  hops: 1,
  xid: 0xdeadbeef,
  secs: 65535,
  flags: 0x8000,
  ciaddr: "192.0.2.5",
  yiaddr: "0.0.0.0",
  siaddr: "192.0.2.2",
  giaddr: "192.0.2.1",
  chaddr: new Uint8Array([0x52, 0x54, 0, 0x12, 0x34, 0x56, ...new Array(10).fill(0)]),
  sname: "boot-server",
  file: "pxelinux.0",
};

function packetWith(header: DhcpHeader): Uint8Array {
  const packet = new Uint8Array(Offset.options);
  encodeHeader(header, packet);
  return packet;
}

describe("encodeHeader and decodeHeader", () => {
  it("round-trip every fixed field", () => {
    expect(decodeHeader(packetWith(HEADER), 0, {})).toEqual({ ...HEADER, options: {} });
  });

  it("write the fields at their RFC 2131 offsets", () => {
    const packet = packetWith(HEADER);
    expect(Buffer.from(packet.subarray(4, 12)).toString("hex")).toBe("deadbeefffff8000");
    expect(Buffer.from(packet.subarray(236, 240)).toString("hex")).toBe("63825363");
    expect(packet[Offset.sname + HEADER.sname.length]).toBe(0);
  });

  it.each([
    ["1: file carries options", 1, { sname: "boot-server", file: "" }],
    ["2: sname carries options", 2, { sname: "", file: "pxelinux.0" }],
    ["3: both do", 3, { sname: "", file: "" }],
  ])("read an overloaded field as empty, overload %s", (_why, overload, texts) => {
    expect(decodeHeader(packetWith(HEADER), overload, {})).toMatchObject(texts);
  });

  it("read a text field that fills its whole width without a NUL", () => {
    const packet = packetWith(HEADER);
    packet.fill(0x61, Offset.sname, Offset.file);
    expect(decodeHeader(packet, 0, {}).sname).toBe("a".repeat(64));
  });

  it.each([
    ["op above a byte", { op: 256 }, "op"],
    ["hlen above the 16-byte chaddr", { hlen: 17 }, "hlen"],
    ["a negative xid", { xid: -1 }, "xid"],
    ["an xid above 32 bits", { xid: 2 ** 32 }, "xid"],
    ["flags above 16 bits", { flags: 0x10000 }, "flags"],
    ["a malformed ciaddr", { ciaddr: "10.0.0" }, "ciaddr"],
    ["a chaddr over 16 bytes", { chaddr: new Uint8Array(17) }, "chaddr"],
    ["an sname with no room for its NUL", { sname: "a".repeat(64) }, "sname"],
    ["a file name with an inner NUL", { file: "a\u0000b" }, "file"],
    ["a file name with a character above U+00FF", { file: "\u2603" }, "file"],
  ])("refuse %s", (_why, change, field) => {
    expect(() => packetWith({ ...HEADER, ...change })).toThrow(
      expect.objectContaining({ code: "INVALID_VALUE", field }),
    );
    expect(() => packetWith({ ...HEADER, ...change })).toThrow(DhcpEncodeError);
  });

  it("pad a short chaddr with zeros", () => {
    const header = { ...HEADER, chaddr: new Uint8Array([1, 2, 3, 4, 5, 6]) };
    expect(decodeHeader(packetWith(header), 0, {}).chaddr).toEqual(
      new Uint8Array([1, 2, 3, 4, 5, 6, ...new Array(10).fill(0)]),
    );
  });
});

describe("checkHeader", () => {
  const valid = packetWith(HEADER);

  it("accepts a packet of exactly the fixed fields and cookie", () => {
    expect(() => checkHeader(valid)).not.toThrow();
  });

  it.each([
    ["a packet cut inside the header", valid.subarray(0, 100), "TRUNCATED_HEADER", 100],
    ["a packet cut inside the cookie", valid.subarray(0, 238), "TRUNCATED_HEADER", 238],
    ["a BOOTP packet without the DHCP cookie", withByte(valid, 236, 0), "BAD_MAGIC_COOKIE", 236],
    ["hlen 17, longer than chaddr", withByte(valid, Offset.hlen, 17), "BAD_HARDWARE_LENGTH", 2],
  ])("rejects %s", (_why, packet, code, offset) => {
    expect(() => checkHeader(packet)).toThrow(expect.objectContaining({ code, offset }));
  });
});

function withByte(packet: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = new Uint8Array(packet);
  copy[offset] = value;
  return copy;
}
