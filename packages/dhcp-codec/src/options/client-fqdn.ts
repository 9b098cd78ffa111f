import { FqdnFlag } from "../constants.js";
import { readLatin1, requireLatin1, writeLatin1Unchecked } from "../latin1.js";
import type { ClientFqdn } from "../types.js";
import type { OptionCodec, OptionSlice } from "./codec.js";
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
import { requireInteger } from "./uint.js";

/** Flags, RCODE1 and RCODE2 precede the name (RFC 4702 §2). */
const FIXED_LENGTH = 3;

/**
 * The Client FQDN option (RFC 4702 §2): flags (§2.1), two RCODE bytes (§2.2), then the
 * name (§2.3). With the E flag set the name is in canonical wire format (RFC 1035 §3.1, no
 * compression): a trailing root label makes it fully qualified, which the text form shows
 * as a trailing dot; without one it is a partial name. With E clear the name is the
 * deprecated ASCII form, kept byte for byte.
 */
export const clientFqdnCodec: OptionCodec<ClientFqdn> = {
  encodedLength(value, field) {
    requireInteger(value?.flags, 0, 255, `${field} flags`);
    requireInteger(value.rcode1, 0, 255, `${field} rcode1`);
    requireInteger(value.rcode2, 0, 255, `${field} rcode2`);
    return FIXED_LENGTH + nameLength(value, field);
  },
  encode(value, target, offset) {
    target[offset] = value.flags;
    target[offset + 1] = value.rcode1;
    target[offset + 2] = value.rcode2;
    const at = offset + FIXED_LENGTH;
    if (!isCanonical(value.flags)) return writeLatin1Unchecked(value.name, target, at);
    return writeCanonicalName(value.name, target, at);
  },
  decode(slice) {
    const bytes = slice.bytes;
    if (bytes.length < FIXED_LENGTH) {
      const found = `${bytes.length} bytes`;
      throw slice.error("BAD_OPTION_LENGTH", 0, "shorter than its fixed part", ">= 3 bytes", found);
    }
    const flags = bytes[0] ?? 0;
    const name = isCanonical(flags)
      ? readCanonicalName(slice)
      : readLatin1(bytes, FIXED_LENGTH, bytes.length);
    return { flags, rcode1: bytes[1] ?? 0, rcode2: bytes[2] ?? 0, name };
  },
};

function isCanonical(flags: number): boolean {
  return (flags & FqdnFlag.CanonicalEncoding) !== 0;
}

/** Checks the name (one-byte text; with E set, labels and length too) and sizes it. */
function nameLength(value: ClientFqdn, field: string): number {
  const text = requireLatin1(value.name, `${field} name`);
  if (!isCanonical(value.flags)) return text.length;
  const { labels, absolute } = splitName(text, field);
  const length = labelsLength(labels) + (absolute ? 1 : 0);
  requireNameLength(length, text, field);
  return length;
}

/** Writes a name that {@link nameLength} accepted in canonical wire format (RFC 1035 §3.1). */
function writeCanonicalName(text: string, target: Uint8Array, offset: number) {
  const { labels, absolute } = nameLabels(text);
  let at = offset;
  for (const label of labels) at = writeLabel(label, target, at);
  if (absolute) target[at++] = 0;
  return at;
}

/** Reads labels to the end of the option; a root label may only come last. */
function readCanonicalName(slice: OptionSlice): string {
  const bytes = slice.bytes;
  const labels: string[] = [];
  let at = FIXED_LENGTH;
  while (at < bytes.length) {
    const root = bytes[at] === 0;
    const length = root ? 0 : plainLabelLength(slice, at);
    if (at + 1 + length - FIXED_LENGTH > MAX_NAME_LENGTH) {
      throw slice.error("BAD_DOMAIN_NAME", FIXED_LENGTH, "name longer than 255 bytes");
    }
    if (root && at + 1 !== bytes.length) {
      throw slice.error("BAD_DOMAIN_NAME", at + 1, "bytes after the root label");
    }
    if (root) return labels.length === 0 ? "." : `${labels.join(".")}.`;
    labels.push(readLabel(slice, at, length));
    at += 1 + length;
  }
  return labels.join(".");
}
