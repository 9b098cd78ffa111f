import { ALLOCATED_EXCLUDED, ALLOCATED_RESERVED, type VmNetCfg } from "../api/types.js";
import { addressOf } from "./addresses.js";
import { normalizeMac } from "./mac.js";
import { type ObjectRef, parseNetworkName, sameRef } from "./network-ref.js";

/** One NIC of a vmnetcfg on a given network, from its spec or its status. */
export interface NetworkUser {
  /** `namespace/name` of the vmnetcfg. */
  readonly vmNetCfg: string;
  /** Where the NIC is written, e.g. `spec.networkConfigs[0]` or `status.networkConfigs[1]`. */
  readonly field: string;
  /** Lower case. */
  readonly macAddress: string;
  /** The static `ipAddress` (spec) or the `allocatedIPAddress` (status), if any. */
  readonly ipAddress: string | undefined;
}

/**
 * The NICs of `vmNetCfgs` whose `networkName` resolves to `network` (a bare name means the
 * vmnetcfg's own namespace), from the spec and from the status (a NIC dropped from the spec
 * keeps its address until the controller releases it), sorted by vmnetcfg and field. This is
 * how the webhook finds who uses a pool: through the network the pool serves, whatever the
 * pool is called.
 */
export function networkUsers(vmNetCfgs: readonly VmNetCfg[], network: ObjectRef): NetworkUser[] {
  const users: NetworkUser[] = [];
  for (const config of vmNetCfgs) {
    const namespace = config.metadata.namespace ?? "";
    const vmNetCfg = `${namespace}/${config.metadata.name ?? ""}`;
    const add = (field: string, name: string, mac: string, ip: string | undefined) => {
      const ref = parseNetworkName(name, namespace);
      if (!ref || !sameRef(ref, network)) return;
      users.push({ vmNetCfg, field, macAddress: normalizeMac(mac), ipAddress: ip });
    };
    (config.spec?.networkConfigs ?? []).forEach((nic, index) => {
      add(`spec.networkConfigs[${index}]`, nic.networkName, nic.macAddress, nic.ipAddress);
    });
    (config.status?.networkConfigs ?? []).forEach((nic, index) => {
      const field = `status.networkConfigs[${index}]`;
      add(field, nic.networkName, nic.macAddress ?? "", nic.allocatedIPAddress);
    });
  }
  return users.sort((a, b) => a.vmNetCfg.localeCompare(b.vmNetCfg) || compareFields(a, b));
}

/** Spec before status, then by index. */
function compareFields(a: NetworkUser, b: NetworkUser): number {
  const order = (user: NetworkUser) => (user.field.startsWith("spec.") ? 0 : 1);
  const index = (user: NetworkUser) => Number(/\[(\d+)\]/.exec(user.field)?.[1] ?? 0);
  return order(a) - order(b) || index(a) - index(b);
}

/** The distinct vmnetcfgs among `users`, in order. */
export function userNames(users: readonly NetworkUser[]): string[] {
  return [...new Set(users.map((user) => user.vmNetCfg))];
}

/** What {@link takenAddresses} reads. */
export interface TakenSources {
  /** The pool's `status.ipv4.allocated`, if it has one. */
  readonly allocated?: Readonly<Record<string, string>> | undefined;
  /** `namespace/name` of that pool, named in the phrases; omitted where it is the subject. */
  readonly pool?: string | undefined;
  /** The NICs on the pool's network, see {@link networkUsers}. */
  readonly users: readonly NetworkUser[];
  /** Leaves out a MAC (lower case) or NIC whose addresses are the asker's own. */
  readonly skip?: (mac: string, user?: NetworkUser) => boolean;
}

/**
 * Addresses VMs hold or ask for on a network, each with a phrase saying who, for rules such
 * as "the router must not be a VM's address": the MAC entries of the pool's
 * `status.ipv4.allocated` (the `EXCLUDED`/`RESERVED` marks are not VMs), then the addresses
 * of the NICs on the network that the pool's status does not show (a static `ipAddress` not
 * allocated yet, or an allocation recorded only on the vmnetcfg).
 */
export function takenAddresses(sources: TakenSources): Map<number, string> {
  const skip = sources.skip ?? (() => false);
  const taken = new Map<number, string>();
  const where = sources.pool ? `IPPool ${sources.pool} ` : "";
  for (const [ip, owner] of Object.entries(sources.allocated ?? {})) {
    const address = addressOf(ip);
    if (address === undefined || owner === ALLOCATED_EXCLUDED || owner === ALLOCATED_RESERVED) {
      continue;
    }
    if (skip(normalizeMac(owner))) continue;
    taken.set(address, `${where}status.ipv4.allocated gives it to ${owner}`);
  }
  for (const user of sources.users) {
    const address = addressOf(user.ipAddress);
    if (address === undefined || taken.has(address) || skip(user.macAddress, user)) continue;
    const what = user.field.startsWith("spec.")
      ? `asks for it for ${user.macAddress} (${user.field}.ipAddress)`
      : `holds it for ${user.macAddress} (${user.field}.allocatedIPAddress)`;
    taken.set(address, `VirtualMachineNetworkConfig ${user.vmNetCfg} ${what}`);
  }
  return taken;
}
