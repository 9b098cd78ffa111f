import { IpamError, type RejectedEntry } from "./errors.js";
import { formatIpv4, parseIpv4 } from "./ipv4.js";
import {
  EXCLUDED_MARK,
  type PoolMark,
  RESERVED_MARK,
  type ResolvedPoolConfig,
} from "./pool-config.js";

/**
 * The shape of an IPPool's `status.ipv4.allocated`: IP -> owner MAC, plus `EXCLUDED` for
 * every excluded address and `RESERVED` for the server and router addresses inside the range.
 */
export type AllocatedStatus = Readonly<Record<string, string>>;

/**
 * The controller's `/ipams/<ns>/<name>` dump: IP -> `"true"` (allocated) or `"false"` (free)
 * for every address of the dynamic range except excluded and reserved ones, plus `"true"` for
 * fixed addresses allocated outside the range.
 */
export type IpamDump = Record<string, "true" | "false">;

/** The controller's `/caches/<ns>/<name>` dump: owner MAC -> IP. */
export type CacheDump = Record<string, string>;

/** Allocations keyed by offset from the network address. */
export type OwnersByOffset = ReadonlyMap<number, string>;

/** Builds the `status.ipv4.allocated` map, keys in ascending address order. */
export function buildAllocatedStatus(
  config: ResolvedPoolConfig,
  owners: OwnersByOffset,
): Record<string, string> {
  const values = new Map<number, string>();
  for (const [address, mark] of config.marks) {
    const inRange = address >= config.start && address <= config.end;
    if (mark === EXCLUDED_MARK || inRange) values.set(address, mark);
  }
  for (const [offset, owner] of owners) values.set(config.cidr.network + offset, owner);

  const status: Record<string, string> = {};
  for (const address of sortedAddresses(values.keys())) {
    status[formatIpv4(address)] = values.get(address)!;
  }
  return status;
}

/**
 * Builds the `/ipams` dump. Costs O(range size): a /8 range yields 16.7 million keys, so the
 * controller should only serve it on demand.
 */
export function buildIpamDump(config: ResolvedPoolConfig, owners: OwnersByOffset): IpamDump {
  const { network } = config.cidr;
  const outside = sortedAddresses(
    [...owners.keys()]
      .map((offset) => network + offset)
      .filter((address) => address < config.start || address > config.end),
  );
  const dump: IpamDump = {};
  let next = 0;
  for (; next < outside.length && outside[next]! < config.start; next++) {
    dump[formatIpv4(outside[next]!)] = "true";
  }
  for (let address = config.start; address <= config.end; address++) {
    if (config.marks.has(address)) continue;
    dump[formatIpv4(address)] = owners.has(address - network) ? "true" : "false";
  }
  for (; next < outside.length; next++) dump[formatIpv4(outside[next]!)] = "true";
  return dump;
}

/** Builds the `/caches` dump, keys in ascending address order of their values. */
export function buildCacheDump(config: ResolvedPoolConfig, owners: OwnersByOffset): CacheDump {
  const dump: CacheDump = {};
  for (const offset of sortedAddresses(owners.keys())) {
    dump[owners.get(offset)!] = formatIpv4(config.cidr.network + offset);
  }
  return dump;
}

/** One owner entry of a status map, ready to be allocated. */
export interface StatusEntry {
  readonly ip: string;
  readonly owner: string;
}

/** Outcome of reading a status map: owner entries to allocate, and entries refused already. */
export interface ParsedStatus {
  readonly entries: readonly StatusEntry[];
  readonly rejected: RejectedEntry[];
}

/**
 * Splits a status map into owner entries and refused entries. Keys must be strict dotted
 * quads; marks are skipped because the pool derives them from its own definition.
 */
export function parseAllocatedStatus(allocated: AllocatedStatus | undefined): ParsedStatus {
  const entries: StatusEntry[] = [];
  const rejected: RejectedEntry[] = [];
  for (const [ip, value] of Object.entries(allocated ?? {})) {
    const error = entryError(ip, value);
    if (error !== undefined) rejected.push({ ip, value: String(value), error });
    else if (!isMark(value)) entries.push({ ip, owner: value });
  }
  return { entries, rejected };
}

/** The `INVALID_SNAPSHOT` error listing every refused entry (the first three in its message). */
export function invalidSnapshot(rejected: readonly RejectedEntry[]): IpamError {
  const shown = rejected
    .slice(0, 3)
    .map((entry) => `${entry.ip}=${entry.value} (${entry.error.code})`)
    .join(", ");
  const more = rejected.length > 3 ? ` and ${rejected.length - 3} more` : "";
  return new IpamError(
    "INVALID_SNAPSHOT",
    `status map refused, ${rejected.length} bad entries: ${shown}${more}`,
    { rejected },
  );
}

function entryError(ip: string, value: unknown): IpamError | undefined {
  try {
    parseIpv4(ip);
  } catch (error) {
    return error as IpamError;
  }
  if (typeof value !== "string" || value === "") {
    return new IpamError("INVALID_OWNER", `owner of ${ip} must be a non-empty string`, {
      value: String(value),
    });
  }
  return undefined;
}

function isMark(value: string): value is PoolMark {
  return value === EXCLUDED_MARK || value === RESERVED_MARK;
}

function sortedAddresses(addresses: Iterable<number>): Float64Array {
  return Float64Array.from(addresses).sort();
}
