import { readLatin1, requireLatin1, writeLatin1Unchecked } from "../latin1.js";
import type { OptionCodec, OptionSlice } from "./codec.js";

/**
 * NVT ASCII text (RFC 2132 §2): host name (§3.14), domain name (§3.17), message (§9.9).
 * RFC 2132 §2 says senders SHOULD NOT add a trailing NUL and receivers MUST be prepared to
 * delete it, so trailing NULs are dropped on decode. Each byte maps to one character
 * (ISO-8859-1) so odd bytes survive; characters above U+00FF cannot be encoded. An empty
 * value (some clients send a zero-length host name) decodes as `""`.
 */
export const textCodec: OptionCodec<string> = {
  encodedLength: (value, field) => requireLatin1(value, field).length,
  encode: (value, target, offset) => writeLatin1Unchecked(value, target, offset),
  decode(slice) {
    let end = slice.bytes.length;
    while (end > 0 && slice.bytes[end - 1] === 0) end--;
    return readLatin1(slice.bytes, 0, end);
  },
};

/**
 * Text kept exactly, NULs included: the vendor class identifier (RFC 2132 §9.13), an opaque
 * string of octets that servers match on as text.
 */
export const exactTextCodec: OptionCodec<string> = {
  encodedLength: textCodec.encodedLength,
  encode: textCodec.encode,
  decode: (slice: OptionSlice) => readLatin1(slice.bytes, 0, slice.bytes.length),
};
