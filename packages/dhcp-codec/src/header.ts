import { readIpv4, writeIpv4 } from "./address.js";
import { MAGIC_COOKIE, Overload } from "./constants.js";
import { DhcpDecodeError, invalidValue } from "./errors.js";
import { readLatin1, requireString, writeLatin1 } from "./latin1.js";
import { CHADDR_LENGTH } from "./mac.js";
import { requireBytes } from "./options/bytes.js";
import { requireInteger } from "./options/uint.js";
import type { DhcpMessage, DhcpOptions } from "./types.js";

/** Byte offsets of the fixed fields (RFC 2131 §2, Figure 1). */
export const Offset = {
  op: 0,
  htype: 1,
  hlen: 2,
  hops: 3,
  xid: 4,
  secs: 8,
  flags: 10,
  ciaddr: 12,
  yiaddr: 16,
  siaddr: 20,
  giaddr: 24,
  chaddr: 28,
  sname: 44,
  file: 108,
  cookie: 236,
  options: 240,
} as const;

/** Sizes of the two text fields that option 52 can turn into option space (RFC 2131 §2). */
export const SNAME_LENGTH = 64;
export const FILE_LENGTH = 128;

/** The fixed BOOTP part, everything before the magic cookie (RFC 2131 §2). */
export const FIXED_HEADER_LENGTH = Offset.cookie;

/** The fields of a message other than its options. */
export type DhcpHeader = Omit<DhcpMessage, "options">;

/**
 * Rejects a packet too short for the fixed fields and cookie, with the wrong magic cookie
 * (RFC 2131 §3), or with an `hlen` larger than `chaddr` (RFC 2131 §2). Packets shorter than
 * the 300-byte BOOTP minimum are accepted when these hold.
 */
export function checkHeader(bytes: Uint8Array): void {
  if (bytes.length < Offset.options) {
    const reason = "packet ends before the fixed header and magic cookie";
    const found = `${bytes.length} bytes`;
    const details = { offset: bytes.length, field: "header", reason, found };
    throw new DhcpDecodeError({ code: "TRUNCATED_HEADER", ...details, expected: ">= 240 bytes" });
  }
  const cookie = readUint32(bytes, Offset.cookie);
  if (cookie !== MAGIC_COOKIE) {
    const details = { offset: Offset.cookie, field: "magic cookie", expected: "99.130.83.99" };
    const found = readIpv4(bytes, Offset.cookie);
    throw new DhcpDecodeError({ code: "BAD_MAGIC_COOKIE", ...details, reason: "not DHCP", found });
  }
  const hlen = bytes[Offset.hlen] ?? 0;
  if (hlen > CHADDR_LENGTH) {
    const reason = "longer than the 16-byte chaddr field";
    const details = { offset: Offset.hlen, field: "hlen", reason, expected: "0..16" };
    throw new DhcpDecodeError({ code: "BAD_HARDWARE_LENGTH", ...details, found: `${hlen}` });
  }
}

/**
 * Reads the fixed fields of a packet that passed {@link checkHeader} into a message with
 * the given `options`. `sname` and `file` read as empty when `overload` (option 52,
 * RFC 2132 §9.3) says they carry options.
 */
export function decodeHeader(
  bytes: Uint8Array,
  overload: number,
  options: DhcpOptions,
): DhcpMessage {
  return {
    op: bytes[Offset.op] ?? 0,
    htype: bytes[Offset.htype] ?? 0,
    hlen: bytes[Offset.hlen] ?? 0,
    hops: bytes[Offset.hops] ?? 0,
    xid: readUint32(bytes, Offset.xid),
    secs: readUint16(bytes, Offset.secs),
    flags: readUint16(bytes, Offset.flags),
    ciaddr: readIpv4(bytes, Offset.ciaddr),
    yiaddr: readIpv4(bytes, Offset.yiaddr),
    siaddr: readIpv4(bytes, Offset.siaddr),
    giaddr: readIpv4(bytes, Offset.giaddr),
    chaddr: Uint8Array.prototype.slice.call(bytes, Offset.chaddr, Offset.chaddr + CHADDR_LENGTH),
    sname: overload & Overload.Sname ? "" : readCString(bytes, Offset.sname, SNAME_LENGTH),
    file: overload & Overload.File ? "" : readCString(bytes, Offset.file, FILE_LENGTH),
    options,
  };
}

/**
 * Writes the fixed fields and the magic cookie into the first 240 bytes of `target`, which
 * must be zero-filled. Throws `INVALID_VALUE` naming the field that cannot be written.
 */
export function encodeHeader(message: DhcpHeader, target: Uint8Array): void {
  target[Offset.op] = requireInteger(message.op, 0, 255, "op");
  target[Offset.htype] = requireInteger(message.htype, 0, 255, "htype");
  target[Offset.hlen] = requireInteger(message.hlen, 0, CHADDR_LENGTH, "hlen");
  target[Offset.hops] = requireInteger(message.hops, 0, 255, "hops");
  writeUint32(requireInteger(message.xid, 0, 0xffffffff, "xid"), target, Offset.xid);
  writeUint16(requireInteger(message.secs, 0, 0xffff, "secs"), target, Offset.secs);
  writeUint16(requireInteger(message.flags, 0, 0xffff, "flags"), target, Offset.flags);
  writeIpv4(message.ciaddr, target, Offset.ciaddr, "ciaddr");
  writeIpv4(message.yiaddr, target, Offset.yiaddr, "yiaddr");
  writeIpv4(message.siaddr, target, Offset.siaddr, "siaddr");
  writeIpv4(message.giaddr, target, Offset.giaddr, "giaddr");
  writeChaddr(message.chaddr, target);
  writeCString(message.sname, target, Offset.sname, SNAME_LENGTH, "sname");
  writeCString(message.file, target, Offset.file, FILE_LENGTH, "file");
  writeUint32(MAGIC_COOKIE, target, Offset.cookie);
}

function writeChaddr(chaddr: Uint8Array, target: Uint8Array): void {
  requireBytes(chaddr, "chaddr");
  if (chaddr.length > CHADDR_LENGTH) {
    throw invalidValue("chaddr", `${chaddr.length} bytes, the field holds 16`);
  }
  target.set(chaddr, Offset.chaddr);
}

/** Text up to the first NUL, or the whole field if there is none (tolerated on decode). */
function readCString(bytes: Uint8Array, offset: number, length: number): string {
  let end = offset;
  while (end < offset + length && bytes[end] !== 0) end++;
  return end === offset ? "" : readLatin1(bytes, offset, end);
}

/** Writes `text` and leaves room for its terminating NUL (RFC 2131 §2: null terminated). */
function writeCString(
  text: string,
  target: Uint8Array,
  offset: number,
  size: number,
  field: string,
) {
  if (requireString(text, field).length > size - 1) {
    throw invalidValue(field, `${text.length} characters, at most ${size - 1} fit with the NUL`);
  }
  if (text.includes("\u0000")) throw invalidValue(field, "contains a NUL character");
  writeLatin1(text, target, offset, field);
}

/** Reads a big-endian 16-bit unsigned integer (network order, RFC 2131 §2). */
export function readUint16(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset] ?? 0) << 8) | (bytes[offset + 1] ?? 0);
}

/** Reads a big-endian 32-bit unsigned integer (network order, RFC 2131 §2). */
export function readUint32(bytes: Uint8Array, offset: number): number {
  return readUint16(bytes, offset) * 0x10000 + readUint16(bytes, offset + 2);
}

function writeUint16(value: number, target: Uint8Array, offset: number): void {
  target[offset] = value >>> 8;
  target[offset + 1] = value & 0xff;
}

function writeUint32(value: number, target: Uint8Array, offset: number): void {
  writeUint16(Math.floor(value / 0x10000), target, offset);
  writeUint16(value % 0x10000, target, offset + 2);
}
