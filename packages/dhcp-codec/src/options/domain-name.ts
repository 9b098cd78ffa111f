import { invalidValue } from "../errors.js";
import { readLatin1 } from "../latin1.js";
import type { OptionSlice } from "./codec.js";

/** Longest label (RFC 1035 §2.3.4). */
export const MAX_LABEL_LENGTH = 63;
/** Longest name in wire form, length bytes and root label included (RFC 1035 §2.3.4). */
export const MAX_NAME_LENGTH = 255;

/** Text form of a name split into labels; `absolute` when it ended with a dot. */
export interface NameLabels {
  labels: string[];
  absolute: boolean;
}

/**
 * Splits dotted text into labels for the wire (RFC 1035 §3.1) and checks that each label
 * has 1..63 characters; throws `INVALID_VALUE` naming `field`. The caller has already
 * checked that `text` is one-byte text (`requireLatin1`). Sizing a name goes through here;
 * writing it splits it again with {@link nameLabels}, which does not check.
 */
export function splitName(text: string, field: string): NameLabels {
  const name = nameLabels(text);
  for (const label of name.labels) {
    if (label.length === 0 || label.length > MAX_LABEL_LENGTH) {
      throw invalidValue(field, `label ${JSON.stringify(label)} of ${text} is not 1..63 bytes`);
    }
  }
  return name;
}

/**
 * Splits dotted text into labels without checking them: `"."` is the root (no labels), `""`
 * the empty name, and a trailing dot marks the name absolute. For names that
 * {@link splitName} accepted.
 */
export function nameLabels(text: string): NameLabels {
  if (text === "" || text === ".") return { labels: [], absolute: text === "." };
  const absolute = text.endsWith(".");
  return { labels: (absolute ? text.slice(0, -1) : text).split("."), absolute };
}

/** Wire length of `labels` (a length byte each), without any terminating root label. */
export function labelsLength(labels: readonly string[]): number {
  let length = 0;
  for (const label of labels) length += 1 + label.length;
  return length;
}

/** Throws `INVALID_VALUE` when a name of `wireLength` bytes exceeds 255 (RFC 1035 §2.3.4). */
export function requireNameLength(wireLength: number, text: string, field: string): void {
  if (wireLength > MAX_NAME_LENGTH) {
    throw invalidValue(field, `name ${JSON.stringify(text)} is ${wireLength} bytes on the wire`);
  }
}

/**
 * Writes one label from {@link splitName} (so 1..63 one-byte characters) at `offset`: the
 * length byte, then the text. Returns the offset after it.
 */
export function writeLabel(label: string, target: Uint8Array, offset: number) {
  target[offset] = label.length;
  for (let i = 0; i < label.length; i++) target[offset + 1 + i] = label.charCodeAt(i);
  return offset + 1 + label.length;
}

/**
 * Reads the label whose length byte is at `at` (already checked to be 1..63 and in range)
 * as text. A dot inside a label cannot be told apart from a separator in text form, so it
 * is rejected as `BAD_DOMAIN_NAME` instead of being silently merged.
 */
export function readLabel(slice: OptionSlice, at: number, length: number): string {
  const bytes = slice.bytes;
  for (let i = at + 1; i <= at + length; i++) {
    if (bytes[i] === 0x2e) {
      throw slice.error("BAD_DOMAIN_NAME", i, "label contains a dot", "no '.' in a label", "'.'");
    }
  }
  return readLatin1(bytes, at + 1, at + 1 + length);
}

/**
 * Checks the length byte at `at` of a label that must be a plain label (RFC 1035 §4.1.4:
 * top bits 00) whose data lies within the slice. Returns the label length.
 */
export function plainLabelLength(slice: OptionSlice, at: number): number {
  const length = slice.bytes[at] ?? 0;
  if (length > MAX_LABEL_LENGTH) {
    throw slice.error(
      "BAD_DOMAIN_NAME",
      at,
      "reserved or compressed label type",
      "0..63",
      `${length}`,
    );
  }
  if (at + 1 + length > slice.bytes.length) {
    throw slice.error(
      "BAD_DOMAIN_NAME",
      at,
      "label runs past the end of the option",
      `${length} bytes`,
      `${slice.bytes.length - at - 1} bytes`,
    );
  }
  return length;
}
