import { DhcpEncodeError } from "@vm-dhcp/dhcp-codec";
import { formatIpv4, type Ipv4Cidr, isIpv4, parseCidr } from "@vm-dhcp/ipam";
import { ALLOCATED_EXCLUDED, ALLOCATED_RESERVED, type IpPool } from "../api/types.js";
import { assertRepliesEncode } from "./responder.js";

/** Lease time served when a pool sets none: upstream's "very long lease" of one year. */
export const DEFAULT_LEASE_SECONDS = 365 * 24 * 60 * 60;

/**
 * What every lease of one pool shares: the server's identity and the options of the pool's
 * `ipv4Config`. One object per pool, referenced by each lease, so a /16 pool full of leases
 * costs one options object, and an option change reaches every lease at once.
 */
export interface PoolOptions {
  serverAddress: string;
  subnetMask: string;
  broadcastAddress: string;
  routers: string[];
  dnsServers: string[];
  domainName?: string;
  domainSearch: string[];
  /** NTP servers as addresses; host names from the pool are resolved before they get here. */
  ntpServers: string[];
  leaseSeconds: number;
  /**
   * The pool's CIDR, parsed once per change of the pool so the packet path checks a relay's
   * `giaddr` without parsing text. Sent to no client and left out of the `/leases` dump.
   */
  subnet: Ipv4Cidr;
}

/** One client's lease: its MAC, the address the control plane allocated, and the options. */
export interface Lease {
  mac: string;
  address: string;
  options: PoolOptions;
}

/**
 * Why a pool cannot be served at all (its spec is unusable). The agent keeps serving the last
 * good leases and reports the message on readiness (`config`).
 */
export class PoolConfigError extends Error {
  override readonly name = "PoolConfigError";
  /**
   * @param value the offending value; `undefined` when the fault lies in several fields
   *   together and `field` names their parent.
   */
  constructor(
    readonly field: string,
    readonly value: unknown,
    reason: string,
  ) {
    super(
      value === undefined ? `${field}: ${reason}` : `${field}=${JSON.stringify(value)}: ${reason}`,
    );
  }
}

/**
 * The agent's view of its pool: MAC -> lease, rebuilt in full from the IPPool object on every
 * change. Rebuilding (rather than patching) keeps it level-based: whatever the pool says now is
 * what is served, with no memory of earlier versions that could go stale.
 */
export class LeaseStore {
  #byMac = new Map<string, Lease>();
  #byAddress = new Map<string, Lease>();

  /** The lease of a MAC (lower-case, colon-separated), if the control plane allocated one. */
  get(mac: string): Lease | undefined {
    return this.#byMac.get(mac);
  }

  /** The lease holding an address, if any. */
  holderOf(address: string): Lease | undefined {
    return this.#byAddress.get(address);
  }

  /** Number of leases. */
  get size(): number {
    return this.#byMac.size;
  }

  /** All leases, for the `/leases` dump. */
  leases(): IterableIterator<Lease> {
    return this.#byMac.values();
  }

  /** Replaces every lease with those the pool describes now. */
  replace(leases: Map<string, Lease>): void {
    const byAddress = new Map<string, Lease>();
    for (const lease of leases.values()) byAddress.set(lease.address, lease);
    this.#byMac = leases;
    this.#byAddress = byAddress;
  }

  /** Forgets every lease (the pool was deleted or paused). */
  clear(): void {
    this.replace(new Map());
  }
}

/**
 * Derives the leases of a pool: every `status.ipv4.allocated` entry whose value is a MAC (not
 * an EXCLUDED or RESERVED mark) becomes a lease with the pool's options.
 *
 * @param resolvedNtp NTP addresses, host names already resolved; defaults to the literal
 *   addresses of `spec.ipv4Config.ntp`.
 * @throws PoolConfigError when the pool's CIDR or server address is unusable, or its options
 *   make replies the codec cannot encode.
 */
export function leasesOf(pool: IpPool, resolvedNtp?: string[]): Map<string, Lease> {
  const options = poolOptions(pool, resolvedNtp);
  const leases = new Map<string, Lease>();
  for (const [address, owner] of Object.entries(pool.status?.ipv4?.allocated ?? {})) {
    if (owner === ALLOCATED_EXCLUDED || owner === ALLOCATED_RESERVED) continue;
    const mac = owner.toLowerCase();
    leases.set(mac, { mac, address, options });
  }
  return leases;
}

/**
 * The options every lease of the pool carries, checked once by encoding the largest reply
 * they make, so that one bad value is a configuration error instead of a silent drop of
 * every reply.
 *
 * @throws PoolConfigError as {@link leasesOf} does.
 */
export function poolOptions(pool: IpPool, resolvedNtp?: string[]): PoolOptions {
  const options = unchecked(pool, resolvedNtp);
  try {
    assertRepliesEncode(options);
  } catch (error) {
    if (!(error instanceof DhcpEncodeError)) throw error;
    throw new PoolConfigError("spec.ipv4Config", undefined, encodeProblem(error));
  }
  return options;
}

function encodeProblem(error: DhcpEncodeError): string {
  const problem =
    error.code === "DOES_NOT_FIT"
      ? "the options do not fit the 576-byte reply every client accepts"
      : "the options make replies that cannot be encoded";
  return `${problem}: ${error.message}`;
}

function unchecked(pool: IpPool, resolvedNtp: string[] | undefined): PoolOptions {
  const config = pool.spec.ipv4Config;
  const subnet = subnetOf(config.cidr);
  if (!config.serverIP) {
    throw new PoolConfigError("spec.ipv4Config.serverIP", config.serverIP, "is required");
  }
  return {
    serverAddress: config.serverIP,
    subnetMask: formatIpv4(subnet.mask),
    broadcastAddress: formatIpv4(subnet.broadcast),
    routers: config.router ? [config.router] : [],
    dnsServers: config.dns ?? [],
    ...(config.domainName ? { domainName: config.domainName } : {}),
    domainSearch: config.domainSearch ?? [],
    ntpServers: resolvedNtp ?? (config.ntp ?? []).filter(isIpv4),
    leaseSeconds: config.leaseTime ?? DEFAULT_LEASE_SECONDS,
    subnet,
  };
}

function subnetOf(cidrText: string): Ipv4Cidr {
  try {
    return parseCidr(cidrText);
  } catch (error) {
    throw new PoolConfigError("spec.ipv4Config.cidr", cidrText, (error as Error).message);
  }
}
