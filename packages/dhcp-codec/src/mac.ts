import { invalidValue } from "./errors.js";

/** Length of the `chaddr` field (RFC 2131 §2). */
export const CHADDR_LENGTH = 16;

/**
 * Formats the first `hlen` bytes of `chaddr` (RFC 2131 §2) as lowercase hex pairs joined by
 * colons, e.g. `"52:54:00:12:34:56"`. `hlen` is clamped to the bytes that exist.
 */
export function formatMac(chaddr: Uint8Array, hlen = 6): string {
  const count = Math.max(0, Math.min(hlen, chaddr.length, CHADDR_LENGTH));
  let text = "";
  for (let i = 0; i < count; i++) {
    const byte = chaddr[i] ?? 0;
    text += (i === 0 ? "" : ":") + (byte < 16 ? "0" : "") + byte.toString(16);
  }
  return text;
}

/**
 * Parses 1 to 16 hex octets separated by `:` or `-` (`"52:54:00:12:34:56"`, either case)
 * into a zero-padded 16-byte `chaddr` (RFC 2131 §2). The message's `hlen` is the number of
 * octets given. Throws `DhcpEncodeError` with code `INVALID_VALUE` otherwise.
 */
export function parseMac(text: string): Uint8Array {
  const parts = typeof text === "string" ? text.split(/[:-]/) : [];
  const chaddr = new Uint8Array(CHADDR_LENGTH);
  if (parts.length < 1 || parts.length > CHADDR_LENGTH) {
    throw invalidValue("chaddr", `${JSON.stringify(text)} is not 1 to 16 hex octets`);
  }
  parts.forEach((part, i) => {
    if (!/^[0-9a-fA-F]{2}$/.test(part)) {
      throw invalidValue(
        "chaddr",
        `octet ${i + 1} of ${JSON.stringify(text)} is not two hex digits`,
      );
    }
    chaddr[i] = Number.parseInt(part, 16);
  });
  return chaddr;
}
