import { formatCidr, formatIpv4 } from "@vm-dhcp/ipam";
import {
  ALLOCATED_EXCLUDED,
  ALLOCATED_RESERVED,
  type IpPool,
  type VmNetCfg,
} from "../api/types.js";
import { addressOf, checkAddressIn } from "./addresses.js";
import { poolCidr } from "./ippool-rules.js";
import { macProblem, normalizeMac } from "./mac.js";
import { formatRef, type ObjectRef, parseNetworkName } from "./network-ref.js";
import type { Violation } from "./violation.js";

/** The IPPool that serves one NIC's network, or why there is none. */
export type NicPool =
  | {
      readonly kind: "pool";
      readonly ref: ObjectRef;
      readonly pool: IpPool;
      /**
       * Addresses of the pool held by or asked for by other MACs, with who holds them (see
       * `takenAddresses`); this vmnetcfg's own MACs are left out.
       */
      readonly taken: ReadonlyMap<number, string>;
    }
  | { readonly kind: "unmanaged"; readonly network: string; readonly reason: string };

/** What the vmnetcfg rules need to know beyond the object itself. */
export interface VmNetCfgFacts {
  /**
   * The pool of each NIC, by index in `spec.networkConfigs`; undefined where the network
   * name cannot be read (that NIC already has a violation).
   */
  readonly nicPools: readonly (NicPool | undefined)[];
}

/** Violations and non-blocking warnings of a vmnetcfg. */
export interface VmNetCfgVerdict {
  readonly violations: Violation[];
  readonly warnings: string[];
}

const MAC_RULES = {
  malformed: "must be six hex pairs separated by colons, such as 52:54:00:12:34:56",
  multicast: "must be a unicast address: the least significant bit of the first octet is set",
  zero: "must not be the all-zero address",
} as const;

const nicField = (index: number, key: string) => `spec.networkConfigs[${index}].${key}`;

/**
 * Every rule a vmnetcfg spec must meet beyond its schema (SPEC section 5): each network name
 * is `namespace/name` or `name`; each MAC is a unicast colon-separated MAC, unique in the
 * object; each static `ipAddress` is a host address of its pool's CIDR that is not the
 * server, the router, excluded, held by another MAC, or asked for twice in the object. A NIC
 * whose network has no pool is a warning ("unmanaged"), not a violation.
 */
export function vmNetCfgVerdict(config: VmNetCfg, facts: VmNetCfgFacts): VmNetCfgVerdict {
  const verdict: VmNetCfgVerdict = { violations: [], warnings: [] };
  const firstIndexOfMac = new Map<string, number>();
  const firstIndexOfAddress = new Map<string, number>();
  const namespace = config.metadata?.namespace ?? "";

  (config.spec?.networkConfigs ?? []).forEach((nic, index) => {
    if (!parseNetworkName(nic.networkName, namespace)) {
      const rule = "must be 'namespace/name' or 'name' of a NetworkAttachmentDefinition";
      verdict.violations.push({
        field: nicField(index, "networkName"),
        value: nic.networkName,
        rule,
      });
    }
    verdict.violations.push(...macViolations(nic.macAddress, index, firstIndexOfMac));

    const nicPool = facts.nicPools[index];
    if (nicPool?.kind === "unmanaged") {
      verdict.warnings.push(
        `spec.networkConfigs[${index}] on network ${nicPool.network} is unmanaged: ` +
          nicPool.reason,
      );
    } else if (nicPool?.kind === "pool" && nic.ipAddress !== undefined) {
      const key = `${formatRef(nicPool.ref)} ${nic.ipAddress}`;
      const first = firstIndexOfAddress.get(key);
      if (first === undefined) firstIndexOfAddress.set(key, index);
      verdict.violations.push(...staticAddressViolations(nic.ipAddress, index, nicPool, first));
    }
  });
  return verdict;
}

function macViolations(
  mac: string,
  index: number,
  firstIndexOfMac: Map<string, number>,
): Violation[] {
  const field = nicField(index, "macAddress");
  const problem = macProblem(mac);
  if (problem) return [{ field, value: mac, rule: MAC_RULES[problem] }];

  const first = firstIndexOfMac.get(normalizeMac(mac));
  if (first === undefined) {
    firstIndexOfMac.set(normalizeMac(mac), index);
    return [];
  }
  const rule = `must be unique in the object: ${nicField(first, "macAddress")} has it too`;
  return [{ field, value: mac, rule }];
}

function staticAddressViolations(
  text: string,
  index: number,
  nicPool: Extract<NicPool, { kind: "pool" }>,
  firstIndexOfSameAddress: number | undefined,
): Violation[] {
  const field = nicField(index, "ipAddress");
  const { pool } = nicPool;
  const poolName = `IPPool ${formatRef(nicPool.ref)}`;
  const parsed = poolCidr(pool.spec?.ipv4Config?.cidr ?? "");
  if ("violation" in parsed) return []; // a pool the webhook would have refused: nothing to compare

  const where = `${formatCidr(parsed.cidr)}, the CIDR of ${poolName}`;
  const checked = checkAddressIn(field, text, parsed.cidr, where, true);
  if ("violation" in checked) return [checked.violation];

  const rule = addressConflict(checked.address, nicPool, poolName);
  if (rule) return [{ field, value: text, rule }];
  if (firstIndexOfSameAddress !== undefined && firstIndexOfSameAddress !== index) {
    const other = nicField(firstIndexOfSameAddress, "ipAddress");
    return [{ field, value: text, rule: `must be unique per IPPool: ${other} asks for it too` }];
  }
  return [];
}

/** Why a host address of the pool cannot be this NIC's, or undefined when it can. */
function addressConflict(
  address: number,
  nicPool: Extract<NicPool, { kind: "pool" }>,
  poolName: string,
): string | undefined {
  const config = nicPool.pool.spec.ipv4Config;
  if (address === addressOf(config.serverIP)) {
    return `must not be the DHCP server address of ${poolName} (spec.ipv4Config.serverIP)`;
  }
  if (address === addressOf(config.router)) {
    return `must not be the router address of ${poolName} (spec.ipv4Config.router)`;
  }
  const excluded = (config.pool?.exclude ?? []).findIndex((text) => addressOf(text) === address);
  if (excluded >= 0) {
    const field = `spec.ipv4Config.pool.exclude[${excluded}]`;
    return `must not be an address excluded by ${poolName} (${field})`;
  }
  const mark = nicPool.pool.status?.ipv4?.allocated?.[formatIpv4(address)];
  if (mark === ALLOCATED_EXCLUDED || mark === ALLOCATED_RESERVED) {
    return `must not be an address ${poolName} marks ${mark} in status.ipv4.allocated`;
  }
  const holder = nicPool.taken.get(address);
  return holder === undefined ? undefined : `must not be held by another MAC: ${holder}`;
}
