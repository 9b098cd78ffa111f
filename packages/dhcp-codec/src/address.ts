import { invalidValue } from "./errors.js";
import { stringFromCodes } from "./latin1.js";

/** Scratch character codes for {@link readIpv4}; decoding is synchronous. */
const CODES: number[] = [];

/**
 * Reads the four bytes at `offset` as a dotted quad, the form every address field of RFC
 * 2131 §2 and every address option of RFC 2132 takes here. The caller checks bounds.
 */
export function readIpv4(bytes: Uint8Array, offset: number): string {
  // Most header addresses are unset; skip building the string for them.
  if (!bytes[offset] && !bytes[offset + 1] && !bytes[offset + 2] && !bytes[offset + 3]) {
    return "0.0.0.0";
  }
  let length = 0;
  for (let i = 0; i < 4; i++) {
    const octet = bytes[offset + i] ?? 0;
    if (i > 0) CODES[length++] = 0x2e;
    if (octet >= 100) CODES[length++] = 0x30 + Math.floor(octet / 100);
    if (octet >= 10) CODES[length++] = 0x30 + (Math.floor(octet / 10) % 10);
    CODES[length++] = 0x30 + (octet % 10);
  }
  CODES.length = length;
  return stringFromCodes(CODES);
}

/**
 * Parses a canonical dotted quad (`"192.0.2.1"`: four decimal octets 0..255, no leading
 * zeros, no spaces) into an unsigned 32-bit number, or `undefined` if it is not one.
 * Leading zeros are refused so that decode, which never writes them, round-trips exactly.
 */
export function parseIpv4(text: string): number | undefined {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let octets = 0;
  for (let i = 0; i <= text.length; i++) {
    const unit = i < text.length ? text.charCodeAt(i) : 0x2e;
    if (unit === 0x2e) {
      if (digits === 0 || octets === 4) return undefined;
      value = value * 256 + octet;
      octets++;
      octet = 0;
      digits = 0;
    } else if (unit >= 0x30 && unit <= 0x39) {
      if (digits > 0 && octet === 0) return undefined;
      octet = octet * 10 + (unit - 0x30);
      digits++;
      if (octet > 255) return undefined;
    } else {
      return undefined;
    }
  }
  return octets === 4 ? value : undefined;
}

/**
 * Parses `text` as {@link parseIpv4} does; throws `INVALID_VALUE` naming `field` when it is
 * not a dotted quad. Option codecs call it when sizing an address, header fields when
 * writing one ({@link writeIpv4}).
 */
export function requireIpv4(text: string, field: string): number {
  const value = typeof text === "string" ? parseIpv4(text) : undefined;
  if (value === undefined) {
    throw invalidValue(field, `${JSON.stringify(text)} is not a dotted-quad IPv4 address`);
  }
  return value;
}

/** Writes `text` as four bytes at `offset`; throws `INVALID_VALUE` naming `field`. */
export function writeIpv4(text: string, target: Uint8Array, offset: number, field: string) {
  return writeIpv4Number(requireIpv4(text, field), target, offset);
}

/**
 * Writes an address that {@link requireIpv4} already accepted, without checking it again.
 * It still parses the text, since the bytes are needed; text that was never checked is
 * written as 0.0.0.0, never thrown on.
 */
export function writeIpv4Unchecked(text: string, target: Uint8Array, offset: number) {
  return writeIpv4Number(parseIpv4(text) ?? 0, target, offset);
}

function writeIpv4Number(value: number, target: Uint8Array, offset: number): number {
  target[offset] = value >>> 24;
  target[offset + 1] = (value >>> 16) & 0xff;
  target[offset + 2] = (value >>> 8) & 0xff;
  target[offset + 3] = value & 0xff;
  return offset + 4;
}
