import { type ConditionUpdate, setCondition } from "../api/conditions.js";
import type {
  Condition,
  NetworkConfigState,
  NetworkConfigStatus,
  VmNetCfg,
  VmNetCfgConditionType,
} from "../api/types.js";
import { networkKey, normalizeMac } from "./names.js";

/** Why a NIC has no address (or not the one it wants). */
export type NicProblemReason =
  | "NetworkNotFound"
  | "NoPool"
  | "PoolPaused"
  | "PoolUnavailable"
  | "PoolExhausted"
  | "StaticAddressConflict"
  | "StaticAddressInvalid"
  | "InvalidMacAddress";

export interface NicProblem {
  reason: NicProblemReason;
  message: string;
}

/** A NIC the spec asks an address for. */
export interface WantedNic {
  /** `networkKey mac`: how a NIC is recognised between spec and status. */
  id: string;
  /** The network as the spec writes it (echoed into the status). */
  networkName: string;
  networkKey: string;
  /** Normalised MAC. */
  mac: string;
  /** The spec's `ipAddress`: a static lease. */
  wanted?: string;
}

/** A NIC after reconciling: what goes into `status.networkConfigs`. */
export interface NicResult {
  networkName: string;
  mac: string;
  ip?: string;
  state: NetworkConfigState;
  problem?: NicProblem;
}

/** The id of a NIC of a status entry or spec entry. */
export function nicId(networkName: string, mac: string, namespace: string): string {
  return `${networkKey(networkName, namespace)} ${normalizeMac(mac) ?? mac}`;
}

/**
 * The NICs a vmnetcfg's spec asks addresses for, in spec order, once each; entries with a
 * malformed MAC come back as `invalid` results, to be reported rather than allocated.
 */
export function wantedNics(config: VmNetCfg): { nics: WantedNic[]; invalid: NicResult[] } {
  const namespace = config.metadata.namespace ?? "default";
  const nics: WantedNic[] = [];
  const invalid: NicResult[] = [];
  const seen = new Set<string>();
  for (const entry of config.spec?.networkConfigs ?? []) {
    const mac = normalizeMac(entry.macAddress);
    if (!mac) {
      const message = `${JSON.stringify(entry.macAddress)} is not a MAC address`;
      invalid.push({
        networkName: entry.networkName,
        mac: entry.macAddress,
        state: "Pending",
        problem: { reason: "InvalidMacAddress", message },
      });
      continue;
    }
    const key = networkKey(entry.networkName, namespace);
    const id = `${key} ${mac}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const nic: WantedNic = { id, networkName: entry.networkName, networkKey: key, mac };
    if (entry.ipAddress) nic.wanted = entry.ipAddress;
    nics.push(nic);
  }
  return { nics, invalid };
}

/**
 * Whether the pool of an entry's network still records the entry's MAC as the holder of its
 * `allocatedIPAddress`.
 */
export type PoolHolds = (entry: NetworkConfigStatus) => boolean;

/**
 * Status entries whose address must be released before anything else happens: all that hold
 * one when the vmnetcfg is paused, else those whose NIC left the spec.
 *
 * An entry holds its address while it is `Allocated` or `Stale`, and also while it is
 * `Pending` with an address its pool still records for its MAC: a pause marks entries
 * `Pending` (address kept) before releasing them, so a release that failed or never ran after
 * that mark is found again here. Releasing is idempotent, so a pool record that is merely
 * behind costs a no-op release.
 */
export function leavingEntries(
  config: VmNetCfg,
  wanted: readonly WantedNic[],
  poolHolds: PoolHolds,
): NetworkConfigStatus[] {
  const namespace = config.metadata.namespace ?? "default";
  const ids = new Set(wanted.map((nic) => nic.id));
  const paused = !!config.spec.paused;
  return (config.status?.networkConfigs ?? []).filter((entry) => {
    if (!entry.allocatedIPAddress) return false;
    if (!paused && ids.has(nicId(entry.networkName, entry.macAddress, namespace))) return false;
    return entry.state !== "Pending" || poolHolds(entry);
  });
}

/** The status entries to remember across a pause: each NIC keeps its address, Pending. */
export function rememberedResults(config: VmNetCfg, wanted: readonly WantedNic[]): NicResult[] {
  const namespace = config.metadata.namespace ?? "default";
  const byId = new Map(
    (config.status?.networkConfigs ?? []).map((entry) => [
      nicId(entry.networkName, entry.macAddress, namespace),
      entry,
    ]),
  );
  return wanted.map((nic) => {
    const ip = byId.get(nic.id)?.allocatedIPAddress;
    return { networkName: nic.networkName, mac: nic.mac, state: "Pending", ...(ip ? { ip } : {}) };
  });
}

/** The address a NIC held before (to be asked for again), if its status remembers one. */
export function rememberedAddress(config: VmNetCfg, nic: WantedNic): string | undefined {
  const namespace = config.metadata.namespace ?? "default";
  const entry = (config.status?.networkConfigs ?? []).find(
    (e) => nicId(e.networkName, e.macAddress, namespace) === nic.id,
  );
  return entry?.allocatedIPAddress || undefined;
}

/** `status.networkConfigs` from NIC results. */
export function statusEntries(results: readonly NicResult[]): NetworkConfigStatus[] {
  return results.map((result) => ({
    ...(result.ip ? { allocatedIPAddress: result.ip } : {}),
    macAddress: result.mac,
    networkName: result.networkName,
    state: result.state,
  }));
}

type VmNetCfgCondition = ConditionUpdate<VmNetCfgConditionType>;

/**
 * The conditions after a reconcile: `Allocated` True when every NIC of the spec holds the
 * address it wants, else False with every NIC's problem in the message; `Disabled` follows
 * `spec.paused`; `InSynced` True, the status now describes the spec.
 */
export function settledConditions(
  current: Condition<VmNetCfgConditionType>[] | undefined,
  results: readonly NicResult[],
  paused: boolean,
  now: Date,
): Condition<VmNetCfgConditionType>[] {
  const problems = results.filter((result) => result.problem);
  let allocated: VmNetCfgCondition;
  if (paused) {
    const message = "spec.paused is true: addresses are released and remembered";
    allocated = { type: "Allocated", status: "False", reason: "Paused", message };
  } else if (problems.length > 0) {
    const message = problems.map((r) => `${r.mac}: ${r.problem!.message}`).join("; ");
    allocated = {
      type: "Allocated",
      status: "False",
      reason: problems[0]!.problem!.reason,
      message,
    };
  } else {
    allocated = { type: "Allocated", status: "True", reason: "Allocated", message: "" };
  }
  const updates: VmNetCfgCondition[] = [
    allocated,
    paused
      ? { type: "Disabled", status: "True", reason: "Paused", message: "spec.paused is true" }
      : { type: "Disabled", status: "False", reason: "Enabled", message: "" },
    { type: "InSynced", status: "True", reason: "Synced", message: "" },
  ];
  return updates.reduce((list, update) => setCondition(list, update, now), current ?? []);
}

/** Conditions while addresses of NICs that left (or of a pause) are being released. */
export function releasingConditions(
  current: Condition<VmNetCfgConditionType>[] | undefined,
  paused: boolean,
  now: Date,
): Condition<VmNetCfgConditionType>[] {
  const message = "releasing the addresses of NICs that are gone or paused";
  let conditions = setCondition(
    current,
    { type: "InSynced", status: "False", reason: "Releasing", message },
    now,
  );
  if (paused) {
    conditions = setCondition(
      conditions,
      { type: "Disabled", status: "True", reason: "Paused", message: "spec.paused is true" },
      now,
    );
  }
  return conditions;
}
