/**
 * Stable codes of {@link DhcpDecodeError}. They are API: match on them, not on messages.
 *
 * - `NOT_BYTES`: the input is not a `Uint8Array` (or other byte view) at all, or is a view
 *   whose `buffer`, `byteOffset` or `byteLength` were redefined and cannot be used.
 * - `TRUNCATED_HEADER`: fewer than the 236 fixed BOOTP bytes plus the 4-byte cookie; a view
 *   over a detached buffer has none.
 * - `BAD_MAGIC_COOKIE`: the options field does not start with 99.130.83.99 (RFC 2131 §3).
 * - `BAD_HARDWARE_LENGTH`: `hlen` is larger than the 16-byte `chaddr` field (RFC 2131 §2).
 * - `OPTION_OVERRUN`: an option's length byte is missing or its data runs past its field.
 * - `BAD_OPTION_LENGTH`: an option's length does not suit its kind (RFC 2132 per option).
 * - `BAD_OPTION_VALUE`: the value is out of its defined range (message type, overload, route).
 * - `SUBOPTION_OVERRUN`: a relay agent sub-option runs past its option (RFC 3046 §2.0).
 * - `BAD_DOMAIN_NAME`: a domain name is truncated, too long, or uses a reserved label type.
 * - `NAME_COMPRESSION_LOOP`: a compression pointer does not point to a prior occurrence
 *   (RFC 1035 §4.1.4), so following it could loop.
 */
export type DhcpDecodeErrorCode =
  | "NOT_BYTES"
  | "TRUNCATED_HEADER"
  | "BAD_MAGIC_COOKIE"
  | "BAD_HARDWARE_LENGTH"
  | "OPTION_OVERRUN"
  | "BAD_OPTION_LENGTH"
  | "BAD_OPTION_VALUE"
  | "SUBOPTION_OVERRUN"
  | "BAD_DOMAIN_NAME"
  | "NAME_COMPRESSION_LOOP";

/** What a decoder knows when it rejects a packet; the fields of {@link DhcpDecodeError}. */
export interface DhcpDecodeErrorDetails {
  readonly code: DhcpDecodeErrorCode;
  /** Byte offset in the packet where the problem was found. */
  readonly offset: number;
  /** The part of the packet, e.g. `"option 51 (lease time)"` or `"header"`. */
  readonly field: string;
  /** Why, in a few words, without the offset or field. */
  readonly reason: string;
  readonly expected?: string;
  readonly found?: string;
}

/**
 * The only error {@link decode} throws: the packet is not a well-formed DHCPv4 message
 * (RFC 2131 §2, RFC 2132). Carries a stable `code`, the byte `offset`, the `field`, the
 * human `reason`, and `expected`/`found` where they mean something; `message` joins them
 * into one line for logs, so callers never need to parse it.
 */
export class DhcpDecodeError extends Error {
  override readonly name = "DhcpDecodeError";
  readonly code: DhcpDecodeErrorCode;
  /** Byte offset in the packet where the problem was found. */
  readonly offset: number;
  /** The part of the packet, e.g. `"option 51 (lease time)"` or `"header"`. */
  readonly field: string;
  /** Why, in a few words, e.g. `"value must be exactly 4 bytes"`; not a stable code. */
  readonly reason: string;
  readonly expected: string | undefined;
  readonly found: string | undefined;

  constructor(details: DhcpDecodeErrorDetails) {
    super(decodeMessage(details));
    this.code = details.code;
    this.offset = details.offset;
    this.field = details.field;
    this.reason = details.reason;
    this.expected = details.expected;
    this.found = details.found;
  }
}

function decodeMessage(details: DhcpDecodeErrorDetails): string {
  const { code, offset, field, reason, expected, found } = details;
  const comparison =
    expected === undefined && found === undefined
      ? ""
      : ` (expected ${expected ?? "?"}, found ${found ?? "?"})`;
  return `${code} at offset ${offset} in ${field}: ${reason}${comparison}`;
}

/**
 * Stable codes of {@link DhcpEncodeError}.
 *
 * - `DOES_NOT_FIT`: the options exceed the maximum message size (RFC 2132 §9.10); the error
 *   lists the option codes that were left out.
 * - `INVALID_VALUE`: a field or option value cannot be represented on the wire.
 * - `DUPLICATE_OPTION`: an `unknown` entry repeats a code, or uses a code that has a typed
 *   field; on the wire both would merge into one option (RFC 3396).
 * - `OVERLOAD_CONFLICT`: option 52 asks for `sname`/`file` to carry options but the message
 *   also sets that field's text (RFC 2131 §4.1).
 */
export type DhcpEncodeErrorCode =
  | "DOES_NOT_FIT"
  | "INVALID_VALUE"
  | "DUPLICATE_OPTION"
  | "OVERLOAD_CONFLICT";

/**
 * Thrown by {@link encode} instead of emitting a packet that a peer would misread
 * (RFC 2131 §2, RFC 2132 §9.10). `optionCodes` lists what did not fit, for `DOES_NOT_FIT`.
 */
export class DhcpEncodeError extends Error {
  override readonly name = "DhcpEncodeError";
  readonly code: DhcpEncodeErrorCode;
  /** The message field or option the problem is in, e.g. `"ciaddr"` or `"option 3 (router)"`. */
  readonly field: string;
  /** For `DOES_NOT_FIT`: the codes of the options that found no room, in emission order. */
  readonly optionCodes: readonly number[];

  constructor(
    code: DhcpEncodeErrorCode,
    field: string,
    reason: string,
    optionCodes: number[] = [],
  ) {
    super(`${code} in ${field}: ${reason}`);
    this.code = code;
    this.field = field;
    this.optionCodes = optionCodes;
  }
}

/** Builds the `INVALID_VALUE` error that every encoder throws for a value it cannot write. */
export function invalidValue(field: string, reason: string): DhcpEncodeError {
  return new DhcpEncodeError("INVALID_VALUE", field, reason);
}

/**
 * A broken internal invariant of this codec: a bug here, never a property of the input.
 * Kept apart from the two error classes above so callers never mistake it for bad input.
 */
export class CodecInvariantError extends Error {
  override readonly name = "CodecInvariantError";
}
