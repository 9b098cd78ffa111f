import { readIpv4, requireIpv4, writeIpv4Unchecked } from "../address.js";
import { type OptionCodec, requireArray, requireLength, requireMultipleOf } from "./codec.js";

/**
 * One IPv4 address, exactly 4 bytes: subnet mask (RFC 2132 §3.3), broadcast address (§5.3),
 * requested IP address (§9.1), server identifier (§9.7).
 */
export const ipv4Codec: OptionCodec<string> = {
  encodedLength(value, field) {
    requireIpv4(value, field);
    return 4;
  },
  encode: (value, target, offset) => writeIpv4Unchecked(value, target, offset),
  decode(slice) {
    requireLength(slice, 4);
    return readIpv4(slice.bytes, 0);
  },
};

/**
 * A list of IPv4 addresses, 4 bytes each, in preference order: router (RFC 2132 §3.5),
 * domain name server (§3.8), NTP servers (§8.3). RFC 2132 gives a minimum of one address;
 * an empty list decodes as `[]` and encodes as a zero-length option, so nothing set is lost.
 */
export const ipv4ListCodec: OptionCodec<string[]> = {
  encodedLength(value, field) {
    for (const address of requireArray(value, field, "addresses")) requireIpv4(address, field);
    return value.length * 4;
  },
  encode(value, target, offset) {
    let at = offset;
    for (const address of value) at = writeIpv4Unchecked(address, target, at);
    return at;
  },
  decode(slice) {
    requireMultipleOf(slice, 4);
    const addresses: string[] = [];
    for (let at = 0; at < slice.bytes.length; at += 4) addresses.push(readIpv4(slice.bytes, at));
    return addresses;
  },
};
