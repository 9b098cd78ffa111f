import { IpamError } from "./errors.js";
import {
  cidrContains,
  formatCidr,
  type Ipv4Cidr,
  isUsableHost,
  parseCidr,
  parseIpv4,
} from "./ipv4.js";

/** Status mark of an excluded address in `status.ipv4.allocated`. */
export const EXCLUDED_MARK = "EXCLUDED";
/** Status mark of the DHCP server or router address in `status.ipv4.allocated`. */
export const RESERVED_MARK = "RESERVED";
/** The two marks that stand in `status.ipv4.allocated` where an owner would be. */
export type PoolMark = typeof EXCLUDED_MARK | typeof RESERVED_MARK;

/**
 * Shortest prefix a pool accepts. A /8 range already needs a 2 MiB bitmap; a broadcast
 * domain with more hosts is not a realistic DHCP network.
 */
export const MIN_POOL_PREFIX = 8;

/**
 * Definition of a pool, as in an IPPool's `spec.ipv4Config` (all addresses dotted quads).
 *
 * @example { cidr: "10.0.0.0/24", start: "10.0.0.10", end: "10.0.0.250",
 *   exclude: ["10.0.0.100"], reserved: ["10.0.0.2", "10.0.0.1"] }
 */
export interface Ipv4PoolConfig {
  /** The network, canonical `a.b.c.d/n` with n in 8..32. */
  readonly cidr: string;
  /** First address handed out dynamically; a usable host of the CIDR. */
  readonly start: string;
  /** Last address handed out dynamically; a usable host of the CIDR, not below `start`. */
  readonly end: string;
  /** Addresses never handed out, neither dynamically nor on request. Inside the CIDR. */
  readonly exclude?: readonly string[];
  /** The DHCP server and router addresses: never handed out. Inside the CIDR. */
  readonly reserved?: readonly string[];
}

/** A validated {@link Ipv4PoolConfig} in 32-bit form. */
export interface ResolvedPoolConfig {
  readonly cidr: Ipv4Cidr;
  readonly start: number;
  readonly end: number;
  /** Marks by address; an address both excluded and reserved is `RESERVED`. */
  readonly marks: ReadonlyMap<number, PoolMark>;
}

/**
 * Validates a pool definition. /31 pools follow RFC 3021 (both addresses are hosts) and /32
 * pools hold their single address; for shorter prefixes the range may contain neither the
 * network nor the broadcast address. Duplicates in `exclude` or `reserved` are harmless.
 *
 * @throws {IpamError} `INVALID_POOL` naming the `field` (e.g. `exclude[1]`) and its `value`;
 *   field `definition` when the definition is not an object at all (null, a string, a list).
 */
export function resolvePoolConfig(config: Ipv4PoolConfig): ResolvedPoolConfig {
  checkObject(config);
  const cidr = resolveCidr(config.cidr);
  const start = resolveRangeBound(cidr, "start", config.start);
  const end = resolveRangeBound(cidr, "end", config.end);
  if (start > end) {
    throw invalidPool("start", config.start, `start is after end ${config.end}`);
  }

  const marks = new Map<number, PoolMark>();
  resolveList(cidr, "exclude", config.exclude, (address) => marks.set(address, EXCLUDED_MARK));
  resolveList(cidr, "reserved", config.reserved, (address) => marks.set(address, RESERVED_MARK));
  return { cidr, start, end, marks };
}

/** Callers without type checks (JavaScript, parsed JSON) may pass anything. */
function checkObject(config: unknown): void {
  if (typeof config === "object" && config !== null && !Array.isArray(config)) return;
  const value = Array.isArray(config) ? JSON.stringify(config) : String(config);
  throw invalidPool("definition", value, "expected an object with cidr, start and end");
}

function resolveCidr(text: string): Ipv4Cidr {
  let cidr: Ipv4Cidr;
  try {
    cidr = parseCidr(text);
  } catch (cause) {
    throw invalidPool("cidr", text, (cause as Error).message, cause);
  }
  if (cidr.prefix < MIN_POOL_PREFIX) {
    throw invalidPool("cidr", text, `prefix shorter than /${MIN_POOL_PREFIX} is not supported`);
  }
  return cidr;
}

function resolveRangeBound(cidr: Ipv4Cidr, field: string, text: string): number {
  const address = resolveAddress(field, text);
  if (!cidrContains(cidr, address)) {
    throw invalidPool(field, text, `outside ${formatCidr(cidr)}`);
  }
  if (!isUsableHost(cidr, address)) {
    const which = address === cidr.network ? "network" : "broadcast";
    throw invalidPool(field, text, `is the ${which} address of ${formatCidr(cidr)}`);
  }
  return address;
}

function resolveList(
  cidr: Ipv4Cidr,
  name: string,
  list: readonly string[] | undefined,
  record: (address: number) => void,
): void {
  if (list === undefined) return;
  if (!Array.isArray(list)) throw invalidPool(name, String(list), "expected a list");
  list.forEach((text, i) => {
    const field = `${name}[${i}]`;
    const address = resolveAddress(field, text);
    if (!cidrContains(cidr, address)) {
      throw invalidPool(field, text, `outside ${formatCidr(cidr)}`);
    }
    record(address);
  });
}

function resolveAddress(field: string, text: string): number {
  try {
    return parseIpv4(text);
  } catch (cause) {
    throw invalidPool(field, text, (cause as Error).message, cause);
  }
}

function invalidPool(field: string, value: string, reason: string, cause?: unknown): IpamError {
  return new IpamError(
    "INVALID_POOL",
    `invalid pool ${field} ${JSON.stringify(value)}: ${reason}`,
    {
      field,
      value: String(value),
      cause,
    },
  );
}
