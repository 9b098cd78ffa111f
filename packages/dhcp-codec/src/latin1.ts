import { invalidValue } from "./errors.js";

/** Largest run handed to `String.fromCharCode` at once, well below engine argument limits. */
const CHUNK_LENGTH = 4096;

/**
 * Scratch list of character codes. Building a string from it leaves no garbage behind but
 * the string, unlike `apply` on a typed array or concatenation; decoding is synchronous, so
 * one list serves every call.
 */
const CODES: number[] = [];

/**
 * Reads `bytes[start, end)` as ISO-8859-1: one character per byte, so every byte sequence
 * maps to a distinct string and back. Used for the NVT ASCII fields of RFC 2132 §2, which
 * real clients sometimes fill with other bytes.
 */
export function readLatin1(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= CHUNK_LENGTH) return chunk(bytes, start, end);
  let text = "";
  for (let at = start; at < end; at += CHUNK_LENGTH) {
    text += chunk(bytes, at, Math.min(end, at + CHUNK_LENGTH));
  }
  return text;
}

function chunk(bytes: Uint8Array, start: number, end: number): string {
  CODES.length = end - start;
  for (let i = start; i < end; i++) CODES[i - start] = bytes[i] ?? 0;
  return stringFromCodes(CODES);
}

/** The string whose character codes are `codes` (at most {@link CHUNK_LENGTH} of them). */
export function stringFromCodes(codes: number[]): string {
  return String.fromCharCode.apply(null, codes);
}

/** Writes `text` one byte per character; throws `INVALID_VALUE` past U+00FF. */
export function writeLatin1(text: string, target: Uint8Array, offset: number, field: string) {
  return writeLatin1Unchecked(requireLatin1(text, field), target, offset);
}

/**
 * Writes text that {@link requireLatin1} already accepted, one byte per character, without
 * checking it again (a character above U+00FF would lose its high bits).
 */
export function writeLatin1Unchecked(text: string, target: Uint8Array, offset: number) {
  for (let i = 0; i < text.length; i++) target[offset + i] = text.charCodeAt(i);
  return offset + text.length;
}

/**
 * Checks that `value` is a string of one-byte characters (U+0000..U+00FF), the text that
 * {@link writeLatin1Unchecked} can write. Option codecs call it when sizing a value.
 */
export function requireLatin1(value: unknown, field: string): string {
  const text = requireString(value, field);
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit > 0xff) {
      throw invalidValue(field, `character U+${hex4(unit)} at index ${i} is not one byte`);
    }
  }
  return text;
}

/** Checks that `value` is a string, so hand-built messages fail with a typed error. */
export function requireString(value: unknown, field: string): string {
  if (typeof value !== "string") {
    throw invalidValue(field, `expected a string, found ${typeof value}`);
  }
  return value;
}

function hex4(unit: number): string {
  return unit.toString(16).toUpperCase().padStart(4, "0");
}
