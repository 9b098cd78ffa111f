import { isDeepStrictEqual } from "node:util";
import type { IpPool, VmNetCfg } from "../api/types.js";
import {
  type AdmissionRequest,
  type AdmissionVerdict,
  allow,
  denyForbidden,
  denyInvalid,
} from "./admission-review.js";
import type { ClusterState } from "./cluster-state.js";
import { defaultIpPool, restoreIpPoolDefaults } from "./ippool-defaults.js";
import {
  type IpPoolFacts,
  ipPoolDeletionViolations,
  ipPoolViolations,
  ipPoolWarnings,
} from "./ippool-rules.js";
import { normalizeMac } from "./mac.js";
import {
  formatRef,
  IPPOOL_DEFAULT_NETWORK_NAMESPACE,
  type ObjectRef,
  parseNetworkName,
  sameRef,
} from "./network-ref.js";
import { networkUsers, takenAddresses } from "./network-users.js";
import { formatViolations, newViolations } from "./violation.js";
import { type NicPool, vmNetCfgVerdict } from "./vmnetcfg-rules.js";

/** Decides one admission request; throws only when the cluster cannot be read. */
export type AdmissionHandler<T> = (
  request: AdmissionRequest<T>,
  state: ClusterState,
) => Promise<AdmissionVerdict>;

/**
 * Mutating, IPPool: on create fills `pool.start`, `pool.end` and `serverIP` (see
 * `defaultIpPool`); on update puts back those of them the request dropped.
 */
export const mutateIpPool: AdmissionHandler<IpPool> = async (request, state) => {
  const pool = request.object;
  if (!pool) return allow();
  if (request.operation === "UPDATE" && request.oldObject) {
    return allow([], restoreIpPoolDefaults(pool, request.oldObject));
  }
  if (request.operation !== "CREATE") return allow();

  const network = poolNetwork(pool);
  const users = network ? networkUsers(await state.vmNetCfgs(), network) : [];
  const result = defaultIpPool(pool, takenAddresses({ users }));
  if (result.violations.length > 0) {
    return denyInvalid(formatViolations(subject("IPPool", request), result.violations));
  }
  return allow(result.warnings, result.patch);
};

/**
 * Validating, IPPool: the rules of `ipPoolViolations` on create and on every update that
 * changes the spec (only what the update makes worse counts); on delete, the refusal while
 * vmnetcfgs use the pool's network.
 */
export const validateIpPool: AdmissionHandler<IpPool> = async (request, state) => {
  if (request.operation === "DELETE") return validateIpPoolDelete(request, state);
  const pool = request.object;
  if (!pool || (request.operation !== "CREATE" && request.operation !== "UPDATE")) return allow();
  const old = request.operation === "UPDATE" ? request.oldObject : undefined;
  if (old && isDeepStrictEqual(old.spec, pool.spec)) return allow();

  // The stored status is the one the update keeps; a create has none.
  const facts = await ipPoolFacts(pool, old?.status?.ipv4?.allocated, state);
  const found = ipPoolViolations(pool, facts);
  const violations = old ? newViolations(found, ipPoolViolations(old, facts)) : found;
  if (violations.length > 0) {
    return denyInvalid(formatViolations(`${subject("IPPool", request)} is invalid`, violations));
  }
  return allow(ipPoolWarnings(pool));
};

async function validateIpPoolDelete(
  request: AdmissionRequest<IpPool>,
  state: ClusterState,
): Promise<AdmissionVerdict> {
  const pool = request.oldObject;
  const network = pool ? poolNetwork(pool) : undefined;
  if (!pool || !network) return allow();
  const users = networkUsers(await state.vmNetCfgs(), network);
  const violations = ipPoolDeletionViolations(pool, formatRef(network), users);
  if (violations.length === 0) return allow();
  return denyForbidden(
    formatViolations(`${subject("IPPool", request)} cannot be deleted`, violations),
  );
}

async function ipPoolFacts(
  pool: IpPool,
  allocated: Record<string, string> | undefined,
  state: ClusterState,
): Promise<IpPoolFacts> {
  const network = poolNetwork(pool);
  const clusterNetworks = state.clusterNetworks();
  if (!network) {
    // The schema refuses such names; without a network there is nothing to look up.
    const text = pool.spec?.networkName ?? "";
    return {
      network: text,
      networkExists: false,
      otherPoolsOnNetwork: [],
      clusterNetworks,
      taken: new Map(),
    };
  }
  const [nad, pools, vmNetCfgs] = await Promise.all([
    state.networkAttachmentDefinition(network),
    state.ipPools(),
    state.vmNetCfgs(),
  ]);
  const self = { namespace: pool.metadata?.namespace ?? "", name: pool.metadata?.name ?? "" };
  const otherPoolsOnNetwork = pools
    .filter((other) => !sameRef(objectRef(other), self))
    .filter((other) => {
      const otherNetwork = poolNetwork(other);
      return otherNetwork !== undefined && sameRef(otherNetwork, network);
    })
    .map((other) => formatRef(objectRef(other)))
    .sort();
  return {
    network: formatRef(network),
    networkExists: nad !== undefined,
    otherPoolsOnNetwork,
    clusterNetworks,
    taken: takenAddresses({ allocated, users: networkUsers(vmNetCfgs, network) }),
    allocated,
  };
}

/**
 * Validating, vmnetcfg: the rules of `vmNetCfgVerdict` on create and on every update that
 * changes the spec (only what the update makes worse counts). NICs on networks without a
 * pool come back as warnings.
 */
export const validateVmNetCfg: AdmissionHandler<VmNetCfg> = async (request, state) => {
  const config = request.object;
  if (!config || (request.operation !== "CREATE" && request.operation !== "UPDATE")) return allow();
  const old = request.operation === "UPDATE" ? request.oldObject : undefined;
  if (old && isDeepStrictEqual(old.spec, config.spec)) return allow();

  const namespace = config.metadata?.namespace ?? request.namespace ?? "";
  const self = { namespace, name: config.metadata?.name ?? request.name ?? "" };
  const context = await nicPoolContext(config, old ?? undefined, self, state);
  const verdict = vmNetCfgVerdict(config, {
    nicPools: await resolveNicPools(config, namespace, context),
  });
  const violations = old
    ? newViolations(
        verdict.violations,
        vmNetCfgVerdict(old, { nicPools: await resolveNicPools(old, namespace, context) })
          .violations,
      )
    : verdict.violations;
  if (violations.length > 0) {
    const name = `${subject("VirtualMachineNetworkConfig", request)} is invalid`;
    return denyInvalid(formatViolations(name, violations), verdict.warnings);
  }
  return allow(verdict.warnings);
};

/** What resolving a vmnetcfg's NICs to pools reads, fetched once per review. */
interface NicPoolContext {
  readonly pools: readonly IpPool[];
  /** Every vmnetcfg but the one under review. */
  readonly others: readonly VmNetCfg[];
  /** MACs (lower case) the vmnetcfg under review has or had. */
  readonly ownMacs: ReadonlySet<string>;
  readonly state: ClusterState;
}

/** Reads the pools and, when a static address needs them, the other vmnetcfgs. */
async function nicPoolContext(
  config: VmNetCfg,
  old: VmNetCfg | undefined,
  self: ObjectRef,
  state: ClusterState,
): Promise<NicPoolContext> {
  // Other vmnetcfgs matter only to static addresses. Most vmnetcfgs (made from VMs) have
  // none, and listing every vmnetcfg on each of their writes would be the costliest read.
  const hasStatic = [config, old].some((object) =>
    (object?.spec?.networkConfigs ?? []).some((nic) => nic.ipAddress !== undefined),
  );
  const [pools, vmNetCfgs] = await Promise.all([
    state.ipPools(),
    hasStatic ? state.vmNetCfgs() : Promise.resolve([]),
  ]);
  return {
    pools,
    others: vmNetCfgs.filter((other) => !sameRef(objectRef(other), self)),
    ownMacs: ownMacs(config, old),
    state,
  };
}

/** The pool of each NIC, found through the pools' `spec.networkName`, never by pool names. */
async function resolveNicPools(
  config: VmNetCfg,
  namespace: string,
  context: NicPoolContext,
): Promise<(NicPool | undefined)[]> {
  const byNetwork = new Map<string, Promise<NicPool>>();
  const nics = config.spec?.networkConfigs ?? [];
  return Promise.all(
    nics.map((nic) => {
      const network = parseNetworkName(nic.networkName, namespace);
      if (!network) return undefined;
      const key = formatRef(network);
      let pending = byNetwork.get(key);
      if (!pending) {
        pending = resolveNetworkPool(network, context);
        byNetwork.set(key, pending);
      }
      return pending;
    }),
  );
}

async function resolveNetworkPool(network: ObjectRef, context: NicPoolContext): Promise<NicPool> {
  const name = formatRef(network);
  const pool = context.pools.find((candidate) => {
    const served = poolNetwork(candidate);
    return served !== undefined && sameRef(served, network);
  });
  if (pool) {
    const ref = objectRef(pool);
    const taken = takenAddresses({
      allocated: pool.status?.ipv4?.allocated,
      pool: formatRef(ref),
      users: networkUsers(context.others, network),
      skip: (mac) => context.ownMacs.has(mac),
    });
    return { kind: "pool", ref, pool, taken };
  }
  // Only the reason depends on the NetworkAttachmentDefinition.
  const nad = await context.state.networkAttachmentDefinition(network);
  const reason = nad
    ? `no IPPool has spec.networkName ${name}`
    : `NetworkAttachmentDefinition ${name} does not exist and no IPPool serves it`;
  return { kind: "unmanaged", network: name, reason };
}

/** MACs of the object now and before (spec and status), lower case. */
function ownMacs(config: VmNetCfg, old: VmNetCfg | undefined): Set<string> {
  const macs = [
    ...(config.spec?.networkConfigs ?? []),
    ...(old?.spec?.networkConfigs ?? []),
    ...(old?.status?.networkConfigs ?? []),
  ].map((nic) => normalizeMac(nic.macAddress ?? ""));
  return new Set(macs.filter(Boolean));
}

/** The network an IPPool serves; a bare name means namespace `default`. */
function poolNetwork(pool: IpPool): ObjectRef | undefined {
  return parseNetworkName(pool.spec?.networkName ?? "", IPPOOL_DEFAULT_NETWORK_NAMESPACE);
}

function objectRef(object: { metadata?: { namespace?: string; name?: string } }): ObjectRef {
  return { namespace: object.metadata?.namespace ?? "", name: object.metadata?.name ?? "" };
}

/** `IPPool ns/name` for messages. */
function subject(kind: string, request: AdmissionRequest<IpPool | VmNetCfg>): string {
  const object = request.object ?? request.oldObject;
  const namespace = request.namespace ?? object?.metadata?.namespace ?? "";
  const name = request.name || object?.metadata?.name || `${object?.metadata?.generateName ?? ""}*`;
  return `${kind} ${namespace}/${name}`;
}
