import { ALLOCATED_EXCLUDED, ALLOCATED_RESERVED, type VmNetCfg } from "../api/types.js";
import { addressOf } from "./addresses.js";
import { type ObjectRef, parseNetworkName, sameRef } from "./network-ref.js";

/** One NIC of a vmnetcfg on a given network. */
export interface NetworkUser {
  /** `namespace/name` of the vmnetcfg. */
  readonly vmNetCfg: string;
  /** Index in its `spec.networkConfigs`. */
  readonly index: number;
  readonly macAddress: string;
  readonly ipAddress: string | undefined;
}

/**
 * The NICs of `vmNetCfgs` whose `networkName` resolves to `network` (a bare name means the
 * vmnetcfg's own namespace), sorted by vmnetcfg and index. This is how the webhook finds who
 * uses a pool: through the network the pool serves, whatever the pool is called.
 */
export function networkUsers(vmNetCfgs: readonly VmNetCfg[], network: ObjectRef): NetworkUser[] {
  const users: NetworkUser[] = [];
  for (const config of vmNetCfgs) {
    const namespace = config.metadata.namespace ?? "";
    const vmNetCfg = `${namespace}/${config.metadata.name ?? ""}`;
    (config.spec?.networkConfigs ?? []).forEach((nic, index) => {
      const ref = parseNetworkName(nic.networkName, namespace);
      if (ref && sameRef(ref, network)) {
        users.push({ vmNetCfg, index, macAddress: nic.macAddress, ipAddress: nic.ipAddress });
      }
    });
  }
  return users.sort((a, b) => a.vmNetCfg.localeCompare(b.vmNetCfg) || a.index - b.index);
}

/** The distinct vmnetcfgs among `users`, in order. */
export function userNames(users: readonly NetworkUser[]): string[] {
  return [...new Set(users.map((user) => user.vmNetCfg))];
}

/**
 * Addresses VMs hold or ask for on a network, each with a phrase saying who, for rules such
 * as "the router must not be a VM's address": the MAC entries of the pool's
 * `status.ipv4.allocated` (the `EXCLUDED`/`RESERVED` marks are not VMs), then the static
 * `ipAddress` of every NIC on the network that status does not show yet.
 */
export function takenAddresses(
  allocated: Readonly<Record<string, string>> | undefined,
  users: readonly NetworkUser[],
): Map<number, string> {
  const taken = new Map<number, string>();
  for (const [ip, owner] of Object.entries(allocated ?? {})) {
    const address = addressOf(ip);
    if (address === undefined || owner === ALLOCATED_EXCLUDED || owner === ALLOCATED_RESERVED) {
      continue;
    }
    taken.set(address, `status.ipv4.allocated gives it to ${owner}`);
  }
  for (const user of users) {
    const address = addressOf(user.ipAddress);
    if (address === undefined || taken.has(address)) continue;
    const field = `spec.networkConfigs[${user.index}].ipAddress`;
    taken.set(address, `VirtualMachineNetworkConfig ${user.vmNetCfg} asks for it in ${field}`);
  }
  return taken;
}
