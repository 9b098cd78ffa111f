import { invalidValue } from "../errors.js";
import { type OptionCodec, requireArray, requireLength } from "./codec.js";

/** Throws `INVALID_VALUE` unless `value` is an integer in `[min, max]`. */
export function requireInteger(value: number, min: number, max: number, field: string): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalidValue(field, `${String(value)} is not an integer in ${min}..${max}`);
  }
  return value;
}

/**
 * An unsigned big-endian integer of `size` bytes (network order, RFC 2132 §2): 16 bits for
 * interface MTU (§5.1) and maximum message size (§9.10), 32 bits for the lease, renewal
 * and rebinding times in seconds (§9.2, §9.11, §9.12).
 */
function unsignedCodec(size: 1 | 2 | 4): OptionCodec<number> {
  const max = 2 ** (size * 8) - 1;
  return {
    encodedLength(value, field) {
      requireInteger(value, 0, max, field);
      return size;
    },
    encode(value, target, offset) {
      let rest = value;
      for (let i = size - 1; i >= 0; i--) {
        target[offset + i] = rest & 0xff;
        rest = Math.floor(rest / 256);
      }
      return offset + size;
    },
    decode(slice) {
      requireLength(slice, size);
      let value = 0;
      for (let i = 0; i < size; i++) value = value * 256 + (slice.bytes[i] ?? 0);
      return value;
    },
  };
}

/** 8-bit unsigned integer. */
export const uint8Codec = unsignedCodec(1);
/** 16-bit unsigned integer, e.g. interface MTU (RFC 2132 §5.1). */
export const uint16Codec = unsignedCodec(2);
/** 32-bit unsigned integer, e.g. lease time in seconds (RFC 2132 §9.2). */
export const uint32Codec = unsignedCodec(4);

/**
 * One byte restricted to `[min, max]`, typed as `T`: the message type (RFC 2132 §9.6) and
 * the overload value (§9.3). A byte outside the range is `BAD_OPTION_VALUE`, not absent.
 */
export function uint8RangeCodec<T extends number>(min: T, max: T): OptionCodec<T> {
  return {
    encodedLength(value, field) {
      requireInteger(value, min, max, field);
      return 1;
    },
    encode(value, target, offset) {
      target[offset] = value;
      return offset + 1;
    },
    decode(slice) {
      requireLength(slice, 1);
      const value = slice.bytes[0] ?? 0;
      if (value < min || value > max) {
        throw slice.error(
          "BAD_OPTION_VALUE",
          0,
          "value out of range",
          `${min}..${max}`,
          `${value}`,
        );
      }
      // The range check above is what makes this number a T.
      return value as T;
    },
  };
}

/** A list of bytes: the parameter request list of option codes (RFC 2132 §9.8). */
export const uint8ListCodec: OptionCodec<number[]> = {
  encodedLength(value, field) {
    for (const entry of requireArray(value, field, "bytes")) requireInteger(entry, 0, 255, field);
    return value.length;
  },
  encode(value, target, offset) {
    for (let i = 0; i < value.length; i++) target[offset + i] = value[i] ?? 0;
    return offset + value.length;
  },
  decode(slice) {
    const list = new Array<number>(slice.bytes.length);
    for (let i = 0; i < list.length; i++) list[i] = slice.bytes[i] ?? 0;
    return list;
  },
};
