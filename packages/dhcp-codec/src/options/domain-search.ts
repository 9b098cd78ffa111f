import { invalidValue } from "../errors.js";
import { requireLatin1 } from "../latin1.js";
import { type OptionCodec, type OptionSlice, requireArray } from "./codec.js";
import {
  labelsLength,
  MAX_NAME_LENGTH,
  nameLabels,
  plainLabelLength,
  readLabel,
  requireNameLength,
  splitName,
  writeLabel,
} from "./domain-name.js";

/** Largest offset a compression pointer can hold (RFC 1035 §4.1.4: 14 bits). */
const MAX_POINTER_OFFSET = 0x3fff;
/** Pointers followed within one name before giving up; real lists need a handful. */
const MAX_POINTER_HOPS = 128;

/**
 * The Domain Search option (RFC 3397 §2): names in DNS wire format, compressed as in
 * RFC 1035 §4.1.4 with pointers that are offsets into the option's data, concatenated over
 * all instances first (RFC 3396). Decoded names are written without the trailing dot, the
 * root as `"."`. Encoding compresses too: a name that ends like an earlier one points back
 * to it (case-sensitively, so the exact text comes back).
 */
export const domainSearchCodec: OptionCodec<string[]> = {
  encodedLength: (value, field) => compressNames(requireArray(value, field, "names"), field),
  encode: (value, target, offset) => offset + compressNames(value, undefined, target, offset),
  decode(slice) {
    const names: string[] = [];
    let at = 0;
    while (at < slice.bytes.length) {
      const name = readName(slice, at);
      names.push(name.text);
      at = name.next;
    }
    return names;
  },
};

/**
 * Lays out `names` with compression and returns the byte count; the same walk sizes and
 * writes, so length and bytes always agree. Given `field`, it checks each name (sizing);
 * given `target`, it writes at `offset` names that were checked before.
 */
function compressNames(
  names: string[],
  field: string | undefined,
  target?: Uint8Array,
  offset = 0,
): number {
  const suffixOffsets = new Map<string, number>();
  let at = 0;
  for (const text of names) {
    const labels = field === undefined ? nameLabels(text).labels : searchNameLabels(text, field);
    let i = 0;
    for (; i < labels.length; i++) {
      const suffix = labels.slice(i).join(".");
      if (suffixOffsets.has(suffix)) break;
      if (at <= MAX_POINTER_OFFSET) suffixOffsets.set(suffix, at);
      const label = labels[i] ?? "";
      if (target) writeLabel(label, target, offset + at);
      at += 1 + label.length;
    }
    at += writeTail(labels, i, suffixOffsets, target, offset + at);
  }
  return at;
}

/** Labels of one search name; `""` is refused because the root is spelled `"."`. */
function searchNameLabels(text: string, field: string): string[] {
  if (text === "") throw invalidValue(field, 'empty name (the root is ".")');
  const { labels } = splitName(requireLatin1(text, field), field);
  requireNameLength(labelsLength(labels) + 1, text, field);
  return labels;
}

/** Writes the root label, or a pointer to the stored suffix `labels[i..]`; returns its size. */
function writeTail(
  labels: string[],
  i: number,
  suffixOffsets: Map<string, number>,
  target: Uint8Array | undefined,
  offset: number,
): number {
  if (i === labels.length) {
    if (target) target[offset] = 0;
    return 1;
  }
  const pointer = suffixOffsets.get(labels.slice(i).join(".")) ?? 0;
  if (target) {
    target[offset] = 0xc0 | (pointer >> 8);
    target[offset + 1] = pointer & 0xff;
  }
  return 2;
}

/**
 * Reads the name starting at `start`, following pointers. Each pointer must target a byte
 * before the previous jump (a prior occurrence, RFC 1035 §4.1.4); that rule alone makes
 * loops impossible, and the hop limit bounds the work on hostile input.
 */
function readName(slice: OptionSlice, start: number): { text: string; next: number } {
  const bytes = slice.bytes;
  const labels: string[] = [];
  let at = start;
  let next = -1;
  let limit = start;
  let hops = 0;
  let wireLength = 1;
  for (;;) {
    if (at >= bytes.length) {
      throw slice.error("BAD_DOMAIN_NAME", at, "name runs past the end of the option");
    }
    const length = bytes[at] ?? 0;
    if (length === 0) break;
    if ((length & 0xc0) === 0xc0) {
      const target = pointerTarget(slice, at, limit, ++hops);
      if (next < 0) next = at + 2;
      limit = target;
      at = target;
      continue;
    }
    const labelLength = plainLabelLength(slice, at);
    wireLength += 1 + labelLength;
    if (wireLength > MAX_NAME_LENGTH) {
      throw slice.error(
        "BAD_DOMAIN_NAME",
        at,
        "name too long",
        "<= 255 bytes",
        `${wireLength} bytes`,
      );
    }
    labels.push(readLabel(slice, at, labelLength));
    at += 1 + labelLength;
  }
  return { text: labels.length === 0 ? "." : labels.join("."), next: next < 0 ? at + 1 : next };
}

/** Validates the pointer at `at` and returns its target (RFC 1035 §4.1.4). */
function pointerTarget(slice: OptionSlice, at: number, limit: number, hops: number): number {
  const bytes = slice.bytes;
  if (at + 1 >= bytes.length) {
    throw slice.error("BAD_DOMAIN_NAME", at, "compression pointer cut off", "2 bytes", "1 byte");
  }
  const target = (((bytes[at] ?? 0) & 0x3f) << 8) | (bytes[at + 1] ?? 0);
  if (target >= limit || hops > MAX_POINTER_HOPS) {
    throw slice.error(
      "NAME_COMPRESSION_LOOP",
      at,
      "compression pointer does not point to a prior occurrence",
      `an offset below ${limit}`,
      `${target}`,
    );
  }
  return target;
}
