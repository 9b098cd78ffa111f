import { parseIpv4, readIpv4, requireIpv4, writeIpv4Unchecked } from "../address.js";
import { invalidValue } from "../errors.js";
import type { ClasslessRoute } from "../types.js";
import { type OptionCodec, type OptionSlice, requireArray } from "./codec.js";

/** A destination parsed from `"a.b.c.d/len"`; no address, or width 33, when malformed. */
interface Destination {
  address: number | undefined;
  width: number;
}

/**
 * The Classless Static Route option (RFC 3442): per route, the prefix width (0..32), the
 * significant octets of the destination (`ceil(width / 8)` of them), then the router's four
 * bytes. Destinations read back as `"a.b.c.d/len"` with the octets that were not sent as 0;
 * encoding refuses a destination with non-zero octets it could not send. Bits past the
 * prefix inside a sent octet are kept as they are.
 */
export const classlessRoutesCodec: OptionCodec<ClasslessRoute[]> = {
  encodedLength(value, field) {
    let length = 0;
    for (const route of requireArray(value, field, "routes")) {
      const width = requireDestinationWidth(route, field);
      requireIpv4(route.router, field);
      length += 5 + significantOctets(width);
    }
    return length;
  },
  encode(value, target, offset) {
    let at = offset;
    for (const route of value) at = writeRoute(route, target, at);
    return at;
  },
  decode(slice) {
    const routes: ClasslessRoute[] = [];
    let at = 0;
    while (at < slice.bytes.length) at = readRoute(slice, at, routes);
    return routes;
  },
};

function significantOctets(width: number): number {
  return Math.ceil(width / 8);
}

/**
 * Writes a route that the codec's `encodedLength` accepted. The destination is parsed
 * again for its bytes, but not checked again.
 */
function writeRoute(route: ClasslessRoute, target: Uint8Array, offset: number) {
  const { address = 0, width } = parseDestination(route.destination);
  const octets = significantOctets(width);
  target[offset] = width;
  for (let i = 0; i < octets; i++) target[offset + 1 + i] = (address >>> (24 - 8 * i)) & 0xff;
  return writeIpv4Unchecked(route.router, target, offset + 1 + octets);
}

/**
 * Checks the destination `"a.b.c.d/len"` of `route` and returns its prefix width; throws
 * `INVALID_VALUE` if it is malformed or has octets that the option cannot carry.
 */
function requireDestinationWidth(route: ClasslessRoute, field: string): number {
  const text = typeof route?.destination === "string" ? route.destination : "";
  const { address, width } = parseDestination(text);
  if (address === undefined || width > 32) {
    throw invalidValue(field, `destination ${JSON.stringify(text)} is not "a.b.c.d/0..32"`);
  }
  const octets = significantOctets(width);
  const unsent = octets === 4 ? 0 : address % 2 ** (32 - 8 * octets);
  if (unsent !== 0) {
    throw invalidValue(field, `destination ${text} has non-zero octets past its /${width} prefix`);
  }
  return width;
}

function parseDestination(text: string): Destination {
  const slash = text.indexOf("/");
  const widthText = text.slice(slash + 1);
  const width = slash >= 0 && /^(0|[1-9][0-9]?)$/.test(widthText) ? Number(widthText) : 33;
  return { address: parseIpv4(text.slice(0, slash)), width };
}

/** Reads one route at `at` into `routes`; returns the offset after it. */
function readRoute(slice: OptionSlice, at: number, routes: ClasslessRoute[]): number {
  const bytes = slice.bytes;
  const width = bytes[at] ?? 0;
  if (width > 32) {
    throw slice.error("BAD_OPTION_VALUE", at, "prefix width out of range", "0..32", `${width}`);
  }
  const octets = significantOctets(width);
  const end = at + 1 + octets + 4;
  if (end > bytes.length) {
    throw slice.error(
      "BAD_OPTION_LENGTH",
      at,
      "route runs past the end of the option",
      `${end - at} bytes`,
      `${bytes.length - at} bytes`,
    );
  }
  const destination = [0, 0, 0, 0];
  for (let i = 0; i < octets; i++) destination[i] = bytes[at + 1 + i] ?? 0;
  routes.push({
    destination: `${destination.join(".")}/${width}`,
    router: readIpv4(bytes, end - 4),
  });
  return end;
}
