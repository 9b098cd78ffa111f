import {
  BOOTP_MIN_LENGTH,
  IP_UDP_HEADER_LENGTH,
  MIN_MAX_MESSAGE_SIZE,
  Overload,
} from "./constants.js";
import { DhcpEncodeError } from "./errors.js";
import { encodeHeader, FILE_LENGTH, Offset, SNAME_LENGTH } from "./header.js";
import { encodeValue } from "./options/codec.js";
import { requireInteger } from "./options/uint.js";
import { type PlannedOption, planOptions } from "./plan.js";
import type { DhcpMessage } from "./types.js";

/** Settings for {@link encode}. */
export interface EncodeOptions {
  /**
   * Largest message the receiver accepts, counting the IPv4 and UDP headers (RFC 2132
   * §9.10): pass the client's option 57. Values below 576 count as 576, above 65535 as
   * 65535. Default 576. The message's own option 57 is never used for this.
   */
  maxMessageSize?: number;
  /**
   * Option codes in the order the receiver prefers them: pass the client's parameter request
   * list (option 55). RFC 2132 §9.8 says a server MUST try to insert the requested options in
   * the order requested; listed typed options are written in that order, right after 53 and
   * 52, and the others follow by code. Codes not in the message are ignored.
   */
  optionOrder?: readonly number[];
}

const END = 255;
/** Most data bytes one option instance can carry (RFC 2132 §2); longer values are split. */
const MAX_INSTANCE_LENGTH = 255;

/** A run of option space: the options field, or `file`/`sname` when overloaded. */
interface OptionField {
  readonly start: number;
  /** Bytes available for options, the End byte already set aside. */
  readonly capacity: number;
  used: number;
}

/**
 * Encodes a message as a UDP payload (RFC 2131 §2).
 *
 * - Option 53 goes first, then 52, then the typed options of `optionOrder` in that order,
 *   then the others by code, then `unknown` in order, then relay agent information last,
 *   where relays put it (RFC 3046 §2.1).
 * - Values over 255 bytes are split into consecutive instances of the same code (RFC 3396).
 * - The result never exceeds `maxMessageSize` minus 28 bytes of IPv4 and UDP headers. When
 *   options do not fit, it throws `DhcpEncodeError` with code `DOES_NOT_FIT` listing their
 *   codes, instead of dropping them. Options spill into `file` then `sname` only when
 *   `options.overload` asks for it (RFC 2131 §4.1, RFC 3396 order).
 * - The packet is padded with zeros to 300 bytes, the BOOTP minimum that some relays
 *   enforce (RFC 1542 §2.1).
 */
export function encode(message: DhcpMessage, options: EncodeOptions = {}): Buffer {
  const { fields, items } = prepare(message, options);
  const packet = Buffer.alloc(packetLength(fields));
  encodeHeader(message, packet);
  layout(items, resetFields(fields), packet);
  for (const field of fields) packet[field.start + field.used] = END;
  return packet;
}

/**
 * The byte length {@link encode} would produce for `message`, without building it. Throws
 * the same `DhcpEncodeError` that `encode` would for options (header fields are checked
 * only by `encode`).
 */
export function encodedLength(message: DhcpMessage, options: EncodeOptions = {}): number {
  return packetLength(prepare(message, options).fields);
}

/** Plans the options and places them once without writing, to size the packet. */
function prepare(message: DhcpMessage, settings: EncodeOptions) {
  const items = planOptions(message.options, settings.optionOrder);
  const maxMessageSize = effectiveMaxMessageSize(settings.maxMessageSize);
  const fields = optionFields(message, maxMessageSize - IP_UDP_HEADER_LENGTH);
  const failed = layout(items, fields, undefined);
  if (failed.length > 0) throw doesNotFit(failed, fields, maxMessageSize);
  return { fields, items };
}

function packetLength(fields: OptionField[]): number {
  const optionsEnd = (fields[0]?.start ?? Offset.options) + (fields[0]?.used ?? 0) + 1;
  return Math.max(BOOTP_MIN_LENGTH, optionsEnd);
}

/** The maximum message size in force, clamped to 576..65535 (RFC 2132 §9.10). */
function effectiveMaxMessageSize(maxMessageSize = MIN_MAX_MESSAGE_SIZE): number {
  requireInteger(maxMessageSize, -Infinity, Infinity, "maxMessageSize");
  return Math.min(0xffff, Math.max(MIN_MAX_MESSAGE_SIZE, maxMessageSize));
}

/** The option fields in RFC 3396 order: options, then `file`, then `sname` if overloaded. */
function optionFields(message: DhcpMessage, payloadLength: number): OptionField[] {
  const fields: OptionField[] = [
    { start: Offset.options, capacity: payloadLength - Offset.options - 1, used: 0 },
  ];
  const overload = message.options.overload ?? 0;
  if (overload & Overload.File) {
    requireEmpty(message.file, "file");
    fields.push({ start: Offset.file, capacity: FILE_LENGTH - 1, used: 0 });
  }
  if (overload & Overload.Sname) {
    requireEmpty(message.sname, "sname");
    fields.push({ start: Offset.sname, capacity: SNAME_LENGTH - 1, used: 0 });
  }
  return fields;
}

function requireEmpty(text: string, field: "file" | "sname"): void {
  if (text !== "") {
    const reason = `option 52 gives ${field} to options, so ${field} must be ""`;
    throw new DhcpEncodeError("OVERLOAD_CONFLICT", field, reason);
  }
}

function resetFields(fields: OptionField[]): OptionField[] {
  for (const field of fields) field.used = 0;
  return fields;
}

/**
 * Places each option in order, never moving back to an earlier field, so instances of a
 * split option stay in RFC 3396 order. Writes them when `target` is given. Returns the
 * codes of the options that found no room.
 */
function layout(items: PlannedOption[], fields: OptionField[], target?: Uint8Array): number[] {
  const failed: number[] = [];
  let current = 0;
  for (const item of items) {
    const next = placeOption(item, fields, current, target);
    if (next < 0) failed.push(item.code);
    else current = next;
  }
  return failed;
}

/** Places one option from field `first` on; returns the field it ended in, or -1. */
function placeOption(
  item: PlannedOption,
  fields: OptionField[],
  first: number,
  target?: Uint8Array,
): number {
  if (walkInstances(item, fields, first, false) < 0) return -1;
  const split = target !== undefined && item.length > MAX_INSTANCE_LENGTH;
  const bytes = split ? encodeValue(item.codec, item.value, item.field, item.length) : undefined;
  return walkInstances(item, fields, first, true, target, bytes);
}

/**
 * Walks the instances of `item` (one, or 255-byte pieces of a longer value, RFC 3396) over
 * the fields from `first` on, moving to the next field when one is full. Returns the last
 * field used, or -1 if the option does not fit. With `commit` it claims the space, and
 * writes when given a `target` (and the pre-encoded `bytes` of a split value).
 */
function walkInstances(
  item: PlannedOption,
  fields: OptionField[],
  first: number,
  commit: boolean,
  target?: Uint8Array,
  bytes?: Uint8Array,
): number {
  let index = first;
  let used = fields[index]?.used ?? 0;
  const count = Math.max(1, Math.ceil(item.length / MAX_INSTANCE_LENGTH));
  for (let n = 0; n < count; n++) {
    const length = Math.min(MAX_INSTANCE_LENGTH, item.length - n * MAX_INSTANCE_LENGTH);
    while (used + 2 + length > (fields[index]?.capacity ?? -1)) {
      if (++index >= fields.length) return -1;
      used = fields[index]?.used ?? 0;
    }
    const field = fields[index];
    if (commit && field) {
      const at = field.start + used;
      if (target) writeInstance(item, target, at, length, bytes, n * MAX_INSTANCE_LENGTH);
      field.used = used + 2 + length;
    }
    used += 2 + length;
  }
  return index;
}

/** Writes one instance; a piece of `bytes` when the value was split, else the whole value. */
function writeInstance(
  item: PlannedOption,
  target: Uint8Array,
  at: number,
  length: number,
  bytes: Uint8Array | undefined,
  from: number,
) {
  target[at] = item.code;
  target[at + 1] = length;
  if (bytes) target.set(bytes.subarray(from, from + length), at + 2);
  else item.codec.encode(item.value, target, at + 2);
}

function doesNotFit(codes: number[], fields: OptionField[], maxMessageSize: number) {
  const space = fields.reduce((sum, field) => sum + field.capacity, 0);
  const what = codes.length === 1 ? `option ${codes[0]} does` : `options ${codes.join(", ")} do`;
  const reason =
    `${what} not fit in ${space} bytes of option space ` +
    `(maximum message size ${maxMessageSize}, End bytes excluded)`;
  return new DhcpEncodeError("DOES_NOT_FIT", "options", reason, codes);
}
