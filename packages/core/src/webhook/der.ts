/**
 * The few ASN.1 DER encodings (ITU-T X.690 section 10) an X.509 certificate needs. Each
 * function returns one complete TLV (tag, length, value); constructed types take encoded
 * children. No decoding: certificates are parsed by Node's `X509Certificate` and by the peers.
 */

/** Universal tag numbers (X.680 section 8.6) with the constructed bit where it applies. */
const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  utf8String: 0x0c,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

/** One TLV; lengths of 128 bytes and more use the long form (X.690 section 8.1.3.5). */
export function tlv(tag: number, value: Uint8Array): Buffer {
  const length = value.length;
  if (length < 0x80) return Buffer.concat([Buffer.from([tag, length]), value]);
  const lengthBytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) lengthBytes.unshift(rest & 255);
  return Buffer.concat([Buffer.from([tag, 0x80 | lengthBytes.length, ...lengthBytes]), value]);
}

/** SEQUENCE of already encoded elements. */
export function sequence(...elements: Uint8Array[]): Buffer {
  return tlv(TAG.sequence, Buffer.concat(elements));
}

/** SET of already encoded elements (callers pass one element, so no DER sorting is needed). */
export function set(...elements: Uint8Array[]): Buffer {
  return tlv(TAG.set, Buffer.concat(elements));
}

/** BOOLEAN; DER writes true as 0xff (X.690 section 11.1). */
export function boolean(value: boolean): Buffer {
  return tlv(TAG.boolean, Buffer.from([value ? 0xff : 0x00]));
}

/**
 * A non-negative INTEGER from its big-endian magnitude, in the minimal two's-complement form
 * DER requires: no redundant leading zero, and a zero prepended when the top bit is set.
 */
export function unsignedInteger(magnitude: Uint8Array): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const bytes = Buffer.from(magnitude.subarray(start));
  const body = bytes.length === 0 ? Buffer.from([0]) : bytes;
  return tlv(TAG.integer, (body[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), body]) : body);
}

/** A small non-negative INTEGER, such as the certificate version. */
export function smallInteger(value: number): Buffer {
  const bytes: number[] = [];
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 255);
  return unsignedInteger(Uint8Array.from(bytes));
}

/** OBJECT IDENTIFIER from dotted text (X.690 section 8.19). */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split(".").map(Number);
  const [first = 0, second = 0, ...rest] = arcs;
  const bytes: number[] = [];
  for (const arc of [first * 40 + second, ...rest]) {
    const groups: number[] = [arc & 0x7f];
    for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128)) {
      groups.unshift(0x80 | (value & 0x7f));
    }
    bytes.push(...groups);
  }
  return tlv(TAG.oid, Buffer.from(bytes));
}

/** BIT STRING of whole bytes (no unused bits), as for keys and signatures. */
export function bitString(bytes: Uint8Array): Buffer {
  return tlv(TAG.bitString, Buffer.concat([Buffer.from([0]), bytes]));
}

/**
 * BIT STRING of named bits, bit 0 first (X.680 section 22), such as KeyUsage. DER drops
 * trailing zero bits and counts the unused bits of the last byte (X.690 section 11.2.2).
 */
export function namedBits(bits: readonly number[]): Buffer {
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const bit of bits) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  const unused = 7 - (highest & 7);
  return tlv(TAG.bitString, Buffer.concat([Buffer.from([unused]), bytes]));
}

/** An OCTET STRING (X.690 section 8.7). */
export function octetString(bytes: Uint8Array): Buffer {
  return tlv(TAG.octetString, bytes);
}

/** A UTF8String (X.690 section 8.23). */
export function utf8String(text: string): Buffer {
  return tlv(TAG.utf8String, Buffer.from(text, "utf8"));
}

/**
 * A certificate validity time: UTCTime through 2049 and GeneralizedTime from 2050, both in
 * UTC with seconds and no fraction (RFC 5280 section 4.1.2.5).
 */
export function time(date: Date): Buffer {
  const iso = date.toISOString(); // 2026-01-02T03:04:05.678Z
  // YYYY-MM-DDTHH:MM:SS -> YYYYMMDDHHMMSSZ
  const digits = `${iso.slice(0, 19).replace(/[-:T]/g, "")}Z`;
  return date.getUTCFullYear() < 2050
    ? tlv(TAG.utcTime, Buffer.from(digits.slice(2), "ascii"))
    : tlv(TAG.generalizedTime, Buffer.from(digits, "ascii"));
}

/** `[n] EXPLICIT`: a constructed context-specific tag around one encoded element. */
export function explicit(tagNumber: number, element: Uint8Array): Buffer {
  return tlv(0xa0 | tagNumber, element);
}

/** `[n] IMPLICIT` of a primitive type: the raw content under a context-specific tag. */
export function implicit(tagNumber: number, content: Uint8Array): Buffer {
  return tlv(0x80 | tagNumber, content);
}
