import { Overload } from "./constants.js";
import { DhcpDecodeError } from "./errors.js";
import { checkHeader, decodeHeader, FILE_LENGTH, Offset, SNAME_LENGTH } from "./header.js";
import { OptionSlice } from "./options/codec.js";
import { OPTION_BY_CODE, OPTION_SPECS, optionLabel } from "./options/table.js";
import type { DhcpMessage, DhcpOptions, RawOption } from "./types.js";

const PAD = 0;
const END = 255;

/**
 * Decodes a DHCPv4 message (RFC 2131 §2) from the UDP payload `bytes`.
 *
 * - Options are read from the options field, then `file`, then `sname` when option 52 says
 *   they carry options (RFC 2131 §4.1, RFC 3396); all instances of a code are concatenated
 *   in that order before the value is decoded (RFC 3396), for every option.
 * - Pad bytes are skipped; End stops a field. A field that runs out without End is accepted
 *   when its last option ends exactly at the field's end, since nothing was lost.
 * - Bytes after End are ignored (padding). Packets shorter than the 300-byte BOOTP minimum
 *   are accepted as long as the fixed fields and the magic cookie are there.
 * - A malformed typed option fails the whole decode; it is never reported as absent.
 *
 * Throws only {@link DhcpDecodeError}, for any argument a JavaScript caller can pass:
 * `NOT_BYTES` for anything but an `ArrayBuffer` view (a `Buffer`, any typed array, a
 * `DataView`) and for a view whose `buffer`, `byteOffset` or `byteLength` properties were
 * redefined so they cannot be read or do not fit its buffer; `TRUNCATED_HEADER` for a view
 * over a detached (transferred) buffer, which reads as 0 bytes.
 */
export function decode(bytes: Uint8Array): DhcpMessage {
  const packet = packetView(bytes);
  checkHeader(packet);

  const instances: number[] = [];
  scanField(packet, Offset.options, packet.length, "options", instances);
  const overload = readOverload(packet, instances);
  if (overload & Overload.File) {
    scanField(packet, Offset.file, Offset.file + FILE_LENGTH, "file", instances);
  }
  if (overload & Overload.Sname) {
    scanField(packet, Offset.sname, Offset.sname + SNAME_LENGTH, "sname", instances);
  }

  return decodeHeader(packet, overload, decodeOptions(packet, instances));
}

/** Stands in for a view that reads as 0 bytes, so that {@link checkHeader} rejects it. */
const EMPTY = new Uint8Array(0);

/**
 * A plain Uint8Array over the bytes of `input`, so every copy below is a real copy even for
 * a Buffer. A view over a detached buffer reports 0 bytes, and building a view over that
 * buffer throws TypeError, so 0 bytes get {@link EMPTY} instead. Whatever else throws here
 * comes from properties redefined on the view, and is reported as `NOT_BYTES`.
 */
function packetView(input: unknown): Uint8Array {
  if (!ArrayBuffer.isView(input)) throw notBytes("not a Uint8Array", typeof input);
  try {
    const length = input.byteLength;
    return length === 0 ? EMPTY : new Uint8Array(input.buffer, input.byteOffset, length);
  } catch {
    throw notBytes("its buffer, byteOffset or byteLength do not describe readable bytes");
  }
}

function notBytes(reason: string, found?: string): DhcpDecodeError {
  return new DhcpDecodeError({ code: "NOT_BYTES", offset: 0, field: "input", reason, found });
}

/**
 * Walks the options in `bytes[start, end)` and appends one `[code, dataOffset, length]`
 * triple per option to `instances` (RFC 2132 §2 option format).
 */
function scanField(
  bytes: Uint8Array,
  start: number,
  end: number,
  field: string,
  instances: number[],
) {
  let at = start;
  while (at < end) {
    const code = bytes[at] ?? PAD;
    if (code === END) return;
    if (code === PAD) {
      at++;
      continue;
    }
    const length = at + 1 < end ? (bytes[at + 1] ?? 0) : -1;
    if (length < 0 || at + 2 + length > end) throw overrun(bytes, at, end, field);
    instances.push(code, at + 2, length);
    at += 2 + length;
  }
}

function overrun(bytes: Uint8Array, at: number, end: number, field: string): DhcpDecodeError {
  const code = bytes[at] ?? 0;
  const where = `option ${code} (${optionLabel(code)}) in the ${field} field`;
  if (at + 1 >= end) {
    const reason = "length byte missing at the end of the field";
    return new DhcpDecodeError({ code: "OPTION_OVERRUN", offset: at, field: where, reason });
  }
  const length = bytes[at + 1] ?? 0;
  return new DhcpDecodeError({
    code: "OPTION_OVERRUN",
    offset: at,
    field: where,
    reason: "data runs past the end of the field",
    expected: `${length} bytes`,
    found: `${end - at - 2} bytes`,
  });
}

/** Reads option 52 from the options field alone, where RFC 2131 §4.1 requires it. */
function readOverload(bytes: Uint8Array, instances: number[]): number {
  const code = OPTION_SPECS.overload.code;
  let count = 0;
  let first = -1;
  for (let i = 0; i < instances.length; i += 3) {
    if (instances[i] !== code) continue;
    if (first < 0) first = i;
    count++;
  }
  if (count === 0) return 0;
  return OPTION_SPECS.overload.codec.decode(sliceOf(bytes, instances, first, count));
}

/**
 * Instance counts per option code. Decoding is synchronous and never re-entered, so one
 * table serves every call; {@link decodeOptions} clears what it touched, even on error.
 */
const COUNTS = new Uint32Array(256);

/** Groups instances by code (RFC 3396), decodes each through the option table. */
function decodeOptions(bytes: Uint8Array, instances: number[]): DhcpOptions {
  const options: DhcpOptions = {};
  const typed = options as Record<string, unknown>;
  let unknown: RawOption[] | undefined;
  for (let i = 0; i < instances.length; i += 3) {
    const code = instances[i] ?? 0;
    COUNTS[code] = (COUNTS[code] ?? 0) + 1;
  }
  try {
    for (let i = 0; i < instances.length; i += 3) {
      const code = instances[i] ?? 0;
      const count = COUNTS[code] ?? 0;
      if (count === 0) continue;
      COUNTS[code] = 0;
      const slice = sliceOf(bytes, instances, i, count);
      const spec = OPTION_BY_CODE[code];
      if (spec) {
        typed[spec.key] = spec.codec.decode(slice);
      } else {
        unknown ??= [];
        unknown.push({ code, data: new Uint8Array(slice.bytes) });
      }
    }
  } finally {
    for (let i = 0; i < instances.length; i += 3) COUNTS[instances[i] ?? 0] = 0;
  }
  if (unknown) options.unknown = unknown;
  return options;
}

/**
 * The value of the option whose first instance is at index `first` and which has `count`
 * instances: a view for one instance, a concatenated copy for several (RFC 3396).
 */
function sliceOf(bytes: Uint8Array, instances: number[], first: number, count: number) {
  const code = instances[first] ?? 0;
  const label = optionLabel(code);
  const start = instances[first + 1] ?? 0;
  if (count === 1) {
    return new OptionSlice(
      bytes.subarray(start, start + (instances[first + 2] ?? 0)),
      code,
      label,
      start,
    );
  }
  const segments: number[] = [];
  let total = 0;
  for (let i = first; i < instances.length; i += 3) {
    if (instances[i] !== code) continue;
    segments.push(instances[i + 1] ?? 0, instances[i + 2] ?? 0);
    total += instances[i + 2] ?? 0;
  }
  const value = new Uint8Array(total);
  for (let i = 0, at = 0; i < segments.length; i += 2) {
    const offset = segments[i] ?? 0;
    const length = segments[i + 1] ?? 0;
    value.set(bytes.subarray(offset, offset + length), at);
    at += length;
  }
  return new OptionSlice(value, code, label, segments);
}
