import { invalidValue } from "../errors.js";
import type { OptionCodec } from "./codec.js";

/** Throws `INVALID_VALUE` unless `value` is a `Uint8Array` (a `Buffer` is one). */
export function requireBytes(value: Uint8Array, field: string): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw invalidValue(field, "expected a Uint8Array");
  }
  return value;
}

/**
 * Opaque bytes, copied on decode so the message never aliases the packet buffer: the client
 * identifier (RFC 2132 §9.14) and every option without a typed field (RFC 2132 §2). There is
 * no structure to check, so any length, zero included, is accepted.
 */
export const bytesCodec: OptionCodec<Uint8Array> = {
  encodedLength: (value, field) => requireBytes(value, field).length,
  encode(value, target, offset) {
    target.set(value, offset);
    return offset + value.length;
  },
  decode: (slice) => new Uint8Array(slice.bytes),
};
