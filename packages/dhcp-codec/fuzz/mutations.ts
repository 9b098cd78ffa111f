/**
 * Byte-level mutations of DHCP packets, shared by the fuzzer (driven by a seeded PRNG) and
 * the property tests (driven by fast-check). Each takes a packet and returns a new one;
 * positions are taken modulo the packet length so any number is a valid choice.
 */

/** Offset of the options field (RFC 2131 §2: 236 fixed bytes and a 4-byte cookie). */
const OPTIONS_OFFSET = 240;

/** One mutation, as data, so failing cases print and replay. */
export type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "set"; at: number; value: number }
  | { kind: "truncate"; at: number }
  | { kind: "insert"; at: number; bytes: Uint8Array }
  | { kind: "delete"; at: number; count: number }
  | { kind: "length"; option: number; value: number }
  | { kind: "duplicate"; at: number; count: number };

/** Applies `mutation` to a copy of `packet`. */
export function applyMutation(packet: Uint8Array, mutation: Mutation): Uint8Array {
  const size = packet.length;
  switch (mutation.kind) {
    case "flip":
      return withByte(
        packet,
        mutation.at % Math.max(size, 1),
        (b) => b ^ (1 << (mutation.bit & 7)),
      );
    case "set":
      return withByte(packet, mutation.at % Math.max(size, 1), () => mutation.value & 0xff);
    case "truncate":
      return packet.slice(0, mutation.at % (size + 1));
    case "insert":
      return splice(packet, mutation.at % (size + 1), 0, mutation.bytes);
    case "delete":
      return splice(packet, mutation.at % (size + 1), mutation.count, new Uint8Array(0));
    case "duplicate": {
      const start = mutation.at % (size + 1);
      return splice(packet, start, 0, packet.slice(start, start + mutation.count));
    }
    case "length":
      return changeLength(packet, mutation.option, mutation.value);
  }
}

/** Offsets of every option length byte in the options field, walking as a receiver does. */
export function lengthByteOffsets(packet: Uint8Array): number[] {
  const offsets: number[] = [];
  let at = OPTIONS_OFFSET;
  while (at + 1 < packet.length) {
    const code = packet[at] ?? 0;
    if (code === 255) break;
    if (code === 0) {
      at++;
      continue;
    }
    offsets.push(at + 1);
    at += 2 + (packet[at + 1] ?? 0);
  }
  return offsets;
}

/** Sets the length byte of the `option`-th option (modulo the count) to `value`. */
function changeLength(packet: Uint8Array, option: number, value: number): Uint8Array {
  const offsets = lengthByteOffsets(packet);
  const at = offsets[option % Math.max(offsets.length, 1)];
  return at === undefined ? packet.slice() : withByte(packet, at, () => value & 0xff);
}

function withByte(packet: Uint8Array, at: number, change: (byte: number) => number): Uint8Array {
  const copy = packet.slice();
  if (at < copy.length) copy[at] = change(copy[at] ?? 0);
  return copy;
}

function splice(packet: Uint8Array, at: number, remove: number, insert: Uint8Array): Uint8Array {
  const tail = packet.subarray(Math.min(packet.length, at + remove));
  const result = new Uint8Array(at + insert.length + tail.length);
  result.set(packet.subarray(0, at), 0);
  result.set(insert, at);
  result.set(tail, at + insert.length);
  return result;
}
