import { invalidValue } from "../errors.js";
import type { RelayAgentSubOption } from "../types.js";
import { requireBytes } from "./bytes.js";
import { type OptionCodec, type OptionSlice, requireArray } from "./codec.js";
import { requireInteger } from "./uint.js";

/**
 * The Relay Agent Information option (RFC 3046 §2.0): a sequence of sub-options, each a
 * code byte, a length byte and that many data bytes. Sub-options are kept raw and in order,
 * because a server must echo the option unchanged in its reply (RFC 3046 §2.2). Data is
 * copied on decode. A sub-option that runs past the option is `SUBOPTION_OVERRUN`.
 */
export const relayAgentCodec: OptionCodec<RelayAgentSubOption[]> = {
  encodedLength(value, field) {
    let length = 0;
    for (const sub of requireArray(value, field, "sub-options")) {
      requireInteger(sub?.code, 0, 255, `${field} sub-option code`);
      const size = requireBytes(sub.data, `${field} sub-option ${sub.code}`).length;
      if (size > 255)
        throw invalidValue(field, `sub-option ${sub.code} has ${size} bytes (max 255)`);
      length += 2 + size;
    }
    return length;
  },
  encode(value, target, offset) {
    let at = offset;
    for (const sub of value) {
      target[at] = sub.code;
      target[at + 1] = sub.data.length;
      target.set(sub.data, at + 2);
      at += 2 + sub.data.length;
    }
    return at;
  },
  decode(slice) {
    const subs: RelayAgentSubOption[] = [];
    let at = 0;
    while (at < slice.bytes.length) at = readSubOption(slice, at, subs);
    return subs;
  },
};

function readSubOption(slice: OptionSlice, at: number, subs: RelayAgentSubOption[]): number {
  const bytes = slice.bytes;
  if (at + 2 > bytes.length) {
    throw slice.error("SUBOPTION_OVERRUN", at, "sub-option header cut off", "2 bytes", "1 byte");
  }
  const length = bytes[at + 1] ?? 0;
  const end = at + 2 + length;
  if (end > bytes.length) {
    throw slice.error(
      "SUBOPTION_OVERRUN",
      at,
      `sub-option ${bytes[at]} runs past the end of the option`,
      `${length} bytes`,
      `${bytes.length - at - 2} bytes`,
    );
  }
  subs.push({ code: bytes[at] ?? 0, data: new Uint8Array(bytes.subarray(at + 2, end)) });
  return end;
}
