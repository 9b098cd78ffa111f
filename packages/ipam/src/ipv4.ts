import { IpamError } from "./errors.js";

/** Largest IPv4 address as an unsigned 32-bit integer (255.255.255.255). */
export const IPV4_MAX = 0xffffffff;

const DOT = 46;
const DIGIT_0 = 48;
const DIGIT_9 = 57;
const MAX_DOTTED_QUAD_LENGTH = 15;

/**
 * An IPv4 CIDR block (RFC 4632), all addresses as unsigned 32-bit integers.
 *
 * For prefixes up to /30 the first address is the network and the last the broadcast address
 * (RFC 919/922), neither usable by a host. A /31 follows RFC 3021: both addresses are hosts.
 * A /32 is a single host. `broadcast` is always the all-ones address of the block, so for /31
 * and /32 it is a usable host; check {@link Ipv4Cidr.hasNetworkAndBroadcast}.
 */
export interface Ipv4Cidr {
  /** First address of the block. */
  readonly network: number;
  /** Prefix length, 0..32. */
  readonly prefix: number;
  /** Netmask, e.g. 0xffffff00 for /24. */
  readonly mask: number;
  /** Last address of the block (all host bits set). */
  readonly broadcast: number;
  /** Lowest address a host may use. */
  readonly firstUsable: number;
  /** Highest address a host may use. */
  readonly lastUsable: number;
  /** Number of addresses in the block, 2^(32 - prefix). */
  readonly size: number;
  /** True for prefixes up to /30, where the first and last addresses are not hosts. */
  readonly hasNetworkAndBroadcast: boolean;
}

/**
 * Parses a dotted-quad IPv4 address (RFC 791 notation) into an unsigned 32-bit integer.
 *
 * Strict on purpose: exactly four decimal octets of 0..255, no leading zeros (RFC 6943
 * section 3.1.1: `010` is octal to inet_aton and decimal to others), no signs, spaces, hex,
 * or shortened forms like `10.1`.
 *
 * @throws {IpamError} `INVALID_ADDRESS` with the text in `value` and the reason in the message.
 * @example parseIpv4("192.168.0.1") === 0xc0a80001
 */
export function parseIpv4(text: string): number {
  const address = scanIpv4(text);
  if (address < 0) {
    throw new IpamError(
      "INVALID_ADDRESS",
      `invalid IPv4 address ${JSON.stringify(text)}: ${whyInvalid(text)}`,
      {
        value: String(text),
      },
    );
  }
  return address;
}

/** True when {@link parseIpv4} would accept `text`. */
export function isIpv4(text: string): boolean {
  return scanIpv4(text) >= 0;
}

/**
 * Formats an unsigned 32-bit integer as a dotted-quad IPv4 address.
 *
 * @throws {IpamError} `INVALID_ADDRESS` when `address` is not an integer in 0..2^32-1.
 * @example formatIpv4(0x0a000001) === "10.0.0.1"
 */
export function formatIpv4(address: number): string {
  if (!Number.isInteger(address) || address < 0 || address > IPV4_MAX) {
    throw new IpamError("INVALID_ADDRESS", `not a 32-bit IPv4 address: ${address}`, {
      value: String(address),
    });
  }
  return `${address >>> 24}.${(address >>> 16) & 255}.${(address >>> 8) & 255}.${address & 255}`;
}

/**
 * Parses a canonical CIDR block `a.b.c.d/n` (RFC 4632): the address must be the network
 * address itself (no host bits set), and the prefix a decimal 0..32 without leading zeros.
 *
 * @throws {IpamError} `INVALID_CIDR` with the text in `value`; a malformed address is the cause.
 * @example parseCidr("10.0.0.0/24").lastUsable === parseIpv4("10.0.0.254")
 */
export function parseCidr(text: string): Ipv4Cidr {
  const slash = typeof text === "string" ? text.indexOf("/") : -1;
  if (slash < 0) throw invalidCidr(text, "missing /prefix");
  const prefix = parsePrefix(text.slice(slash + 1));
  if (prefix < 0) throw invalidCidr(text, "prefix must be a decimal 0..32 without leading zero");
  let address: number;
  try {
    address = parseIpv4(text.slice(0, slash));
  } catch (cause) {
    throw invalidCidr(text, "malformed address", cause);
  }

  const cidr = cidrOf(address, prefix);
  if (cidr.network !== address) {
    throw invalidCidr(text, `host bits set, the block is ${formatCidr(cidr)}`);
  }
  return cidr;
}

/**
 * The CIDR block of the given prefix length that contains `address`.
 *
 * @example formatCidr(cidrOf(parseIpv4("10.1.2.3"), 16)) === "10.1.0.0/16"
 */
export function cidrOf(address: number, prefix: number): Ipv4Cidr {
  const mask = prefix === 0 ? 0 : (IPV4_MAX << (32 - prefix)) >>> 0;
  const network = (address & mask) >>> 0;
  const broadcast = (network | ~mask) >>> 0;
  const hasNetworkAndBroadcast = prefix <= 30;
  return {
    network,
    prefix,
    mask,
    broadcast,
    firstUsable: hasNetworkAndBroadcast ? network + 1 : network,
    lastUsable: hasNetworkAndBroadcast ? broadcast - 1 : broadcast,
    size: broadcast - network + 1,
    hasNetworkAndBroadcast,
  };
}

/** Formats a block as `a.b.c.d/n`. */
export function formatCidr(cidr: Ipv4Cidr): string {
  return `${formatIpv4(cidr.network)}/${cidr.prefix}`;
}

/** True when `address` lies inside the block (network and broadcast included). */
export function cidrContains(cidr: Ipv4Cidr, address: number): boolean {
  return address >= cidr.network && address <= cidr.broadcast;
}

/** True when `address` is a host address of the block (RFC 3021 rules for /31). */
export function isUsableHost(cidr: Ipv4Cidr, address: number): boolean {
  return address >= cidr.firstUsable && address <= cidr.lastUsable;
}

/** Fast path: the address, or -1 when the text is not a strict dotted quad. */
function scanIpv4(text: string): number {
  if (typeof text !== "string" || text.length > MAX_DOTTED_QUAD_LENGTH) return -1;
  let address = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === DOT) {
      if (digits === 0 || ++dots > 3) return -1;
      address = address * 256 + octet;
      octet = 0;
      digits = 0;
    } else if (code >= DIGIT_0 && code <= DIGIT_9) {
      if (digits === 1 && octet === 0) return -1;
      octet = octet * 10 + (code - DIGIT_0);
      digits++;
      if (octet > 255) return -1;
    } else {
      return -1;
    }
  }
  return dots === 3 && digits > 0 ? address * 256 + octet : -1;
}

/** Slow path, only after a failure: a human reason for the error message. */
function whyInvalid(text: unknown): string {
  if (typeof text !== "string") return `expected a string, got ${typeof text}`;
  const parts = text.split(".");
  if (parts.length !== 4) return "expected four dot-separated octets";
  for (const part of parts) {
    if (!/^[0-9]+$/.test(part)) return `octet ${JSON.stringify(part)} is not decimal digits`;
    if (part.length > 1 && part.startsWith("0")) return `octet "${part}" has a leading zero`;
    if (Number(part) > 255) return `octet ${part} is greater than 255`;
  }
  return "malformed";
}

/** The prefix length, or -1 unless the text is a decimal 0..32 without leading zero. */
function parsePrefix(text: string): number {
  if (!/^(?:0|[1-9][0-9]?)$/.test(text)) return -1;
  const prefix = Number(text);
  return prefix <= 32 ? prefix : -1;
}

function invalidCidr(text: unknown, reason: string, cause?: unknown): IpamError {
  return new IpamError("INVALID_CIDR", `invalid CIDR ${JSON.stringify(text)}: ${reason}`, {
    value: String(text),
    cause,
  });
}
