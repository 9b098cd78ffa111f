import {
  formatCidr,
  formatIpv4,
  type Ipv4Cidr,
  MIN_POOL_PREFIX,
  parseCidr,
  parseIpv4,
} from "@vm-dhcp/ipam";
import {
  ALLOCATED_EXCLUDED,
  ALLOCATED_RESERVED,
  type IpPool,
  type Ipv4Config,
} from "../api/types.js";
import { addressOf, checkAddressIn, poolCidrLabel } from "./addresses.js";
import { type ClusterNetwork, cidrsOverlap } from "./cluster-networks.js";
import { type NetworkUser, userNames } from "./network-users.js";
import type { Violation } from "./violation.js";

/** Field paths of an IPPool, as rules name them. */
export const IPPOOL_FIELDS = {
  networkName: "spec.networkName",
  cidr: "spec.ipv4Config.cidr",
  serverIP: "spec.ipv4Config.serverIP",
  router: "spec.ipv4Config.router",
  start: "spec.ipv4Config.pool.start",
  end: "spec.ipv4Config.pool.end",
  exclude: (index: number) => `spec.ipv4Config.pool.exclude[${index}]`,
} as const;

/** What the IPPool rules need to know beyond the object itself. */
export interface IpPoolFacts {
  /** `namespace/name` of the NetworkAttachmentDefinition `spec.networkName` resolves to. */
  readonly network: string;
  /** Whether that NetworkAttachmentDefinition exists. */
  readonly networkExists: boolean;
  /** Other IPPools (`namespace/name`) whose `spec.networkName` resolves to the same network. */
  readonly otherPoolsOnNetwork: readonly string[];
  /** The service and cluster CIDRs a VM network must stay out of. */
  readonly clusterNetworks: readonly ClusterNetwork[];
  /** Addresses VMs hold or ask for on this network, see `takenAddresses`. */
  readonly taken: ReadonlyMap<number, string>;
  /** On update, the stored `status.ipv4.allocated`: the leases the new spec must keep. */
  readonly allocated?: Readonly<Record<string, string>> | undefined;
}

/** Most entries of `spec.ipv4Config.pool.exclude` (the CRD's `maxItems`). */
const MAX_EXCLUDED = 1024;

/** Most vmnetcfgs a delete refusal names before it says how many more there are. */
export const MAX_LISTED_USERS = 20;

/** The CIDR as a block, or the violation that stops every address rule. */
export function poolCidr(text: string): { cidr: Ipv4Cidr } | { violation: Violation } {
  const field = IPPOOL_FIELDS.cidr;
  const match = /^([0-9.]+)\/([0-9]{1,2})$/.exec(text);
  let address: number | undefined;
  try {
    address = match ? parseIpv4(match[1]!) : undefined;
  } catch {
    address = undefined;
  }
  const prefix = Number(match?.[2]);
  if (address === undefined || !(prefix <= 32)) {
    return { violation: { field, value: text, rule: "must be an IPv4 CIDR such as 10.0.0.0/24" } };
  }
  try {
    return { cidr: parseCidr(text) };
  } catch {
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    const network = `${formatIpv4((address & mask) >>> 0)}/${prefix}`;
    const rule = `must be a network address with no host bits set, such as ${network}`;
    return { violation: { field, value: text, rule } };
  }
}

/**
 * Every rule an IPPool spec must meet beyond its schema (SPEC section 5): the network exists
 * and has no other pool; the CIDR is a network address of /8 or longer, clear of the service
 * and cluster CIDRs; the range, server, router and excluded addresses lie inside it, the
 * first three as host addresses; the server is neither the router nor excluded; neither
 * server nor router is an address a VM holds or asks for.
 */
export function ipPoolViolations(pool: IpPool, facts: IpPoolFacts): Violation[] {
  const violations = networkViolations(pool, facts);
  const config = pool.spec?.ipv4Config;
  if (!config) return violations;
  const parsed = poolCidr(config.cidr);
  if ("violation" in parsed) return [...violations, parsed.violation];

  const { cidr } = parsed;
  violations.push(...cidrViolations(config.cidr, cidr, facts.clusterNetworks));
  violations.push(...orphanViolations(config.cidr, cidr, facts.allocated));
  violations.push(...addressViolations(pool, cidr, facts.taken));
  return violations;
}

function networkViolations(pool: IpPool, facts: IpPoolFacts): Violation[] {
  const field = IPPOOL_FIELDS.networkName;
  const value = pool.spec?.networkName ?? "";
  const violations: Violation[] = [];
  if (!facts.networkExists) {
    const what = `NetworkAttachmentDefinition: ${facts.network}`;
    const rule = `must name an existing ${what} was not found`;
    violations.push({ field, value, rule });
  }
  if (facts.otherPoolsOnNetwork.length > 0) {
    const others = facts.otherPoolsOnNetwork.join(", ");
    const rule =
      "must name a network no other IPPool serves: " +
      `${facts.network} is served by IPPool ${others}`;
    violations.push({ field, value, rule });
  }
  return violations;
}

function cidrViolations(
  text: string,
  cidr: Ipv4Cidr,
  clusterNetworks: readonly ClusterNetwork[],
): Violation[] {
  const field = IPPOOL_FIELDS.cidr;
  const violations: Violation[] = [];
  if (cidr.prefix < MIN_POOL_PREFIX) {
    const rule =
      `must have a prefix of /${MIN_POOL_PREFIX} or longer, ` +
      "the largest pool the allocator holds";
    violations.push({ field, value: text, rule });
  }
  for (const network of clusterNetworks) {
    if (!cidrsOverlap(cidr, network.cidr)) continue;
    const what = network.kind === "service" ? "service CIDR" : "cluster (pod) CIDR";
    const block = formatCidr(network.cidr);
    const rule = `must not overlap the ${what} ${block} (from ${network.source})`;
    violations.push({ field, value: text, rule });
  }
  return violations;
}

/**
 * An update must keep every address a VM holds inside the CIDR. The CRD makes the CIDR
 * immutable; this rule keeps the leases safe where that schema rule is not enforced.
 */
function orphanViolations(
  text: string,
  cidr: Ipv4Cidr,
  allocated: Readonly<Record<string, string>> | undefined,
): Violation[] {
  const outside = Object.entries(allocated ?? {})
    .filter(([, owner]) => owner !== ALLOCATED_EXCLUDED && owner !== ALLOCATED_RESERVED)
    .filter(([ip]) => {
      const address = addressOf(ip);
      return address !== undefined && (address < cidr.network || address > cidr.broadcast);
    })
    .map(([ip, owner]) => `${ip} (${owner})`);
  if (outside.length === 0) return [];
  const listed = outside.slice(0, MAX_LISTED_USERS).join(", ");
  const rule =
    "must keep the addresses VMs hold (status.ipv4.allocated): " +
    `${listed} would fall outside it`;
  return [{ field: IPPOOL_FIELDS.cidr, value: text, rule }];
}

function addressViolations(
  pool: IpPool,
  cidr: Ipv4Cidr,
  taken: ReadonlyMap<number, string>,
): Violation[] {
  const config = pool.spec.ipv4Config;
  const where = poolCidrLabel(cidr);
  const violations: Violation[] = [];
  const check = (field: string, text: string | undefined, host: boolean) => {
    if (text === undefined) return undefined;
    const result = checkAddressIn(field, text, cidr, where, host);
    if ("violation" in result) violations.push(result.violation);
    return "address" in result ? result.address : undefined;
  };

  check(IPPOOL_FIELDS.start, config.pool?.start, true);
  check(IPPOOL_FIELDS.end, config.pool?.end, true);
  // Addresses that must never be a VM's: excluding or serving one would orphan its lease.
  const reserved: [string, number | undefined, string][] = [];
  for (const [i, text] of (config.pool?.exclude ?? []).entries()) {
    reserved.push([IPPOOL_FIELDS.exclude(i), check(IPPOOL_FIELDS.exclude(i), text, false), text]);
  }
  const server = check(IPPOOL_FIELDS.serverIP, config.serverIP, true);
  const router = check(IPPOOL_FIELDS.router, config.router, true);
  reserved.push([IPPOOL_FIELDS.serverIP, server, config.serverIP]);
  reserved.push([IPPOOL_FIELDS.router, router, config.router ?? ""]);

  if (server !== undefined) violations.push(...serverViolations(pool, server, router));
  for (const [field, address, text] of reserved) {
    const holder = address === undefined ? undefined : taken.get(address);
    if (holder !== undefined) {
      const rule = `must not be an address of a VM: ${holder}`;
      violations.push({ field, value: text ?? "", rule });
    }
  }
  return violations;
}

function serverViolations(pool: IpPool, server: number, router: number | undefined): Violation[] {
  const field = IPPOOL_FIELDS.serverIP;
  const value = pool.spec.ipv4Config.serverIP;
  const violations: Violation[] = [];
  if (server === router) {
    violations.push({ field, value, rule: `must differ from ${IPPOOL_FIELDS.router}` });
  }
  const excluded = (pool.spec.ipv4Config.pool?.exclude ?? []).findIndex(
    (text) => addressOf(text) === server,
  );
  if (excluded >= 0) {
    const rule = `must not be an excluded address (${IPPOOL_FIELDS.exclude(excluded)})`;
    violations.push({ field, value, rule });
  }
  return violations;
}

/**
 * Why an IPPool may not be deleted: the vmnetcfgs whose NICs are on its network still hold
 * or wait for addresses from it. Lists them (at most {@link MAX_LISTED_USERS}).
 */
export function ipPoolDeletionViolations(
  pool: IpPool,
  network: string,
  users: readonly NetworkUser[],
): Violation[] {
  const names = userNames(users);
  if (names.length === 0) return [];
  const listed = names.slice(0, MAX_LISTED_USERS).join(", ");
  const more =
    names.length > MAX_LISTED_USERS ? ` and ${names.length - MAX_LISTED_USERS} more` : "";
  const rule =
    `must not be in use when the IPPool is deleted: network ${network} is used by ` +
    `VirtualMachineNetworkConfig ${listed}${more} (delete them or move their NICs first)`;
  return [{ field: IPPOOL_FIELDS.networkName, value: pool.spec?.networkName ?? "", rule }];
}

/**
 * A dynamic range larger than this is told that its status may not fit: every allocation is
 * one entry of `status.ipv4.allocated`, and the whole IPPool is one etcd object. Measured on
 * the test API server (etcd's default 1.5 MiB request limit): writes failed with "etcdserver:
 * request is too large" between 40,000 and 44,000 entries, and managed fields double an
 * entry's cost while they are kept, so the advice starts well below.
 */
export const MAX_RANGE_WITHOUT_SIZE_ADVICE = 20_000;

/**
 * Advice that does not block: a range whose every address is the server, the router or
 * excluded hands out nothing dynamically (static `ipAddress` entries still work); a range so
 * large that a full pool's status would outgrow an etcd object.
 */
export function ipPoolWarnings(pool: IpPool): string[] {
  const config = pool.spec?.ipv4Config;
  const parsed = config ? poolCidr(config.cidr) : undefined;
  const start = addressOf(config?.pool?.start);
  const end = addressOf(config?.pool?.end);
  if (!config || !parsed || "violation" in parsed || start === undefined || end === undefined) {
    return [];
  }
  if (end < start) return [];
  const range = `${config.pool.start}-${config.pool.end}`;
  const size = end - start + 1;
  if (size > MAX_RANGE_WITHOUT_SIZE_ADVICE) {
    return [
      `spec.ipv4Config.pool ${range} holds ${size} addresses: the IPPool status keeps one ` +
        `entry per allocation, and past about ${MAX_RANGE_WITHOUT_SIZE_ADVICE} allocations ` +
        "it may exceed etcd's object size limit (1.5 MiB by default) and allocations fail; " +
        `prefer ranges of at most ${MAX_RANGE_WITHOUT_SIZE_ADVICE} addresses`,
    ];
  }
  return rangeExhausted(config, start, end)
    ? [
        `spec.ipv4Config.pool ${range} has no address left for dynamic leases: ` +
          "only static ipAddress entries will be served",
      ]
    : [];
}

/** Whether the server, the router and the excludes block every address of start..end. */
function rangeExhausted(config: Ipv4Config, start: number, end: number): boolean {
  // The schema allows at most 1024 exclusions: a range with more addresses than can be
  // blocked always has room, and is not scanned.
  if (end - start + 1 > MAX_EXCLUDED + 2) return false;
  const blocked = new Set(
    [config.serverIP, config.router, ...(config.pool.exclude ?? [])].map(addressOf),
  );
  for (let address = start; address <= end; address++) {
    if (!blocked.has(address)) return false;
  }
  return true;
}
