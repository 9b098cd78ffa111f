/**
 * `@vm-dhcp/ipam`: a compact IPv4 address allocator for DHCP pools. Pure 32-bit arithmetic
 * over a bitmap, no I/O, no dependencies.
 *
 * - {@link Ipv4Pool}: one pool (CIDR, dynamic range, excluded and reserved addresses) in a
 *   bitmap of range/8 bytes, with O(1) release and amortised O(1) allocate, and a reuse policy
 *   of next after the last allocation: a cursor goes round the range, so an address handed
 *   out and released comes back only after every other free address.
 * - {@link Ipam}: named pools behind one object, keyed like `"namespace/name"`.
 * - Snapshot and restore in the shape of an IPPool's `status.ipv4.allocated`, and the
 *   controller's cache dumps.
 * - IPv4 helpers: {@link parseIpv4}, {@link formatIpv4}, {@link parseCidr}.
 *
 * Mutations return an {@link IpamResult}; refusals carry an {@link IpamError} with a stable
 * `code`. Broken internal invariants throw {@link IpamInvariantError}.
 *
 * @example
 * import { Ipam } from "@vm-dhcp/ipam";
 *
 * const ipam = new Ipam();
 * const definition = {
 *   cidr: "192.168.100.0/24",
 *   start: "192.168.100.10",
 *   end: "192.168.100.200",
 *   exclude: ["192.168.100.50"],
 *   reserved: ["192.168.100.2", "192.168.100.1"],
 * };
 * // Rebuild from the IPPool status after a restart.
 * ipam.replace("default/net-a", definition, { "192.168.100.10": "52:54:00:aa:bb:01" });
 *
 * const next = ipam.allocate("default/net-a", "52:54:00:aa:bb:02");
 * if (next.ok) console.log(next.value.ip); // "192.168.100.11"
 * const fixed = ipam.allocate("default/net-a", "52:54:00:aa:bb:03", "192.168.100.10");
 * if (!fixed.ok && fixed.error.code === "ALREADY_ALLOCATED") console.log(fixed.error.owner);
 * // "52:54:00:aa:bb:01"
 *
 * const status = ipam.pool("default/net-a").snapshot(); // write to status.ipv4.allocated
 *
 * @packageDocumentation
 */

export {
  IpamError,
  type IpamErrorCode,
  type IpamErrorDetails,
  IpamInvariantError,
  type IpamResult,
  type RejectedEntry,
} from "./errors.js";
export { Ipam } from "./ipam.js";
export {
  cidrContains,
  cidrOf,
  formatCidr,
  formatIpv4,
  IPV4_MAX,
  type Ipv4Cidr,
  isIpv4,
  isUsableHost,
  parseCidr,
  parseIpv4,
} from "./ipv4.js";
export { type Allocation, Ipv4Pool } from "./ipv4-pool.js";
export {
  EXCLUDED_MARK,
  type Ipv4PoolConfig,
  MIN_POOL_PREFIX,
  type PoolMark,
  RESERVED_MARK,
} from "./pool-config.js";
export type { AllocatedStatus, CacheDump, IpamDump } from "./status.js";
