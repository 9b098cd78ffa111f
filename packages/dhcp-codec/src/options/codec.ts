import {
  CodecInvariantError,
  DhcpDecodeError,
  type DhcpDecodeErrorCode,
  invalidValue,
} from "../errors.js";

/**
 * The value bytes of one option as the decoder hands them to a codec: a single instance's
 * data, or all instances of the code concatenated in RFC 3396 order. `offsetOf` maps an
 * index in `bytes` back to the packet so errors can point at the right byte.
 */
export class OptionSlice {
  constructor(
    readonly bytes: Uint8Array,
    readonly code: number,
    readonly label: string,
    /**
     * Where the data sits in the packet: the offset of a single instance's data, or the
     * flattened `[packetOffset, length]` pairs of several instances, in order.
     */
    private readonly offsets: number | readonly number[],
  ) {}

  /** The field name errors carry, e.g. `"option 51 (lease time)"`. */
  get field(): string {
    return `option ${this.code} (${this.label})`;
  }

  /** Packet offset of value byte `index`; an index at the end maps just past the data. */
  offsetOf(index: number): number {
    const segments = this.offsets;
    if (typeof segments === "number") return segments + index;
    let remaining = index;
    for (let i = 0; i + 1 < segments.length; i += 2) {
      const start = segments[i] ?? 0;
      const length = segments[i + 1] ?? 0;
      if (remaining < length || i + 2 >= segments.length) return start + remaining;
      remaining -= length;
    }
    throw new CodecInvariantError("option slice has no segments");
  }

  /** Builds the error a codec throws for a malformed value at value byte `index`. */
  error(
    code: DhcpDecodeErrorCode,
    index: number,
    reason: string,
    expected?: string,
    found?: string,
  ): DhcpDecodeError {
    const details = { code, offset: this.offsetOf(index), field: this.field, reason };
    return new DhcpDecodeError({ ...details, expected, found });
  }
}

/**
 * The contract every option value kind implements (RFC 2132 §2 option format): the encoded
 * length of a value, writing it at an offset, and reading it back from a slice. Values
 * longer than 255 bytes are split by the caller (RFC 3396), so codecs see and produce whole
 * values.
 *
 * Each value is checked once, by {@link OptionCodec.encodedLength}: callers size a value
 * first and hand {@link OptionCodec.encode} only values that sizing accepted, so writers
 * store bytes without checking them again and never throw. Decoders throw only
 * `DhcpDecodeError`, built with {@link OptionSlice.error}.
 */
export interface OptionCodec<T> {
  /**
   * Bytes that {@link OptionCodec.encode} will write for `value`. This is the value's check:
   * it throws `DhcpEncodeError` (`INVALID_VALUE`, naming `field`) for every value that
   * cannot be written, so sizing a message (the package's `encodedLength`) fails exactly
   * where encoding it would.
   */
  encodedLength(value: T, field: string): number;
  /**
   * Writes `value`, which {@link OptionCodec.encodedLength} accepted, at `offset` and
   * returns the offset after it. Does not check the value again; given a value that was
   * never sized, what it writes is unspecified.
   */
  encode(value: T, target: Uint8Array, offset: number): number;
  /** Reads a whole value; rejects malformed bytes rather than returning nothing. */
  decode(slice: OptionSlice): T;
}

/**
 * Encodes one value into a fresh array of exactly its encoded length. Pass `length` when
 * the value was already sized (and so checked); otherwise sizing it here checks it.
 */
export function encodeValue<T>(
  codec: OptionCodec<T>,
  value: T,
  field: string,
  length = codec.encodedLength(value, field),
): Uint8Array {
  const bytes = new Uint8Array(length);
  const end = codec.encode(value, bytes, 0);
  if (end !== bytes.length) {
    throw new CodecInvariantError(`${field}: wrote ${end} bytes, announced ${bytes.length}`);
  }
  return bytes;
}

/** Decodes `bytes` as if they were the data of option `code` at packet offset `offset`. */
export function decodeValue<T>(
  codec: OptionCodec<T>,
  bytes: Uint8Array,
  code = 0,
  label = "value",
  offset = 0,
): T {
  return codec.decode(new OptionSlice(bytes, code, label, offset));
}

/** Rejects a value whose length is not exactly `length` (fixed-size kinds). */
export function requireLength(slice: OptionSlice, length: number): void {
  if (slice.bytes.length !== length) {
    throw slice.error(
      "BAD_OPTION_LENGTH",
      0,
      `value must be exactly ${length} bytes`,
      `${length} bytes`,
      `${slice.bytes.length} bytes`,
    );
  }
}

/** Rejects a value whose length is not a multiple of `unit` (list kinds). */
export function requireMultipleOf(slice: OptionSlice, unit: number): void {
  if (slice.bytes.length % unit !== 0) {
    throw slice.error(
      "BAD_OPTION_LENGTH",
      0,
      `value must be a multiple of ${unit} bytes`,
      `a multiple of ${unit} bytes`,
      `${slice.bytes.length} bytes`,
    );
  }
}

/** Returns `value` when it is an array, else throws the encode error for `field`. */
export function requireArray<T>(value: T[], field: string, what: string): T[] {
  if (!Array.isArray(value)) {
    throw invalidValue(field, `expected an array of ${what}`);
  }
  return value;
}
