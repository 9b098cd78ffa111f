import type { V1Role, V1RoleBinding } from "@kubernetes/client-node";
import { API_GROUP, type IpPool } from "../api/types.js";
import type { Logger } from "../logger.js";
import type { AgentPodSettings } from "./agent-pod.js";
import type { Clock } from "./clock.js";
import type { KubeClient } from "./kube-client.js";
import {
  AGENT_LABEL_VALUE,
  keyOf,
  LABEL_IPPOOL_NAME,
  LABEL_IPPOOL_NAMESPACE,
  LABEL_VM_DHCP_CONTROLLER,
  splitKey,
} from "./names.js";
import { apiVersionOf, IP_POOL, ROLE, ROLE_BINDING, resourcePath } from "./resources.js";

/** Prefix of the Role and RoleBinding that let a pool's agent read that pool. */
export const AGENT_ACCESS_PREFIX = "vm-dhcp-agent-";
/**
 * How long a grant checked against the API is trusted before it is read again: a Role or
 * RoleBinding deleted by hand is put back within this time (or at the controller's restart).
 */
export const ACCESS_RECHECK_MS = 10 * 60_000;

const READ_VERBS = ["get", "list", "watch"];
/** The service account a pod runs as when it names none. */
const DEFAULT_SERVICE_ACCOUNT = "default";

/** Name of the Role and RoleBinding of a pool's agent, in the pool's namespace. */
export function agentAccessName(poolName: string): string {
  return `${AGENT_ACCESS_PREFIX}${poolName}`;
}

/**
 * The Role that lets an agent read exactly one pool: get, and list and watch by the
 * `metadata.name` field selector, which the API server authorizes against `resourceNames`.
 * The agent is the part of vm-dhcp that faces VM traffic, so it must not be able to read the
 * addresses and MACs of other pools. Owned by the pool, so a cluster's garbage collector
 * removes it with the pool even when no controller runs.
 */
export function agentRole(pool: IpPool): V1Role {
  return {
    apiVersion: apiVersionOf(ROLE),
    kind: ROLE.kind,
    metadata: accessMetadata(pool),
    rules: [
      {
        apiGroups: [API_GROUP],
        resources: [IP_POOL.plural],
        resourceNames: [pool.metadata.name ?? ""],
        verbs: READ_VERBS,
      },
    ],
  };
}

/** Binds {@link agentRole} to the service account of the agent pods. */
export function agentRoleBinding(pool: IpPool, agent: AgentAccount): V1RoleBinding {
  const metadata = accessMetadata(pool);
  return {
    apiVersion: apiVersionOf(ROLE_BINDING),
    kind: ROLE_BINDING.kind,
    metadata,
    roleRef: { apiGroup: ROLE.group, kind: ROLE.kind, name: metadata.name ?? "" },
    subjects: [
      {
        kind: "ServiceAccount",
        name: agent.serviceAccountName || DEFAULT_SERVICE_ACCOUNT,
        namespace: agent.namespace,
      },
    ],
  };
}

/** Where the agent pods run and as whom. */
export type AgentAccount = Pick<AgentPodSettings, "namespace" | "serviceAccountName">;

/** Options of {@link AgentAccess}. */
export interface AgentAccessOptions {
  kube: KubeClient;
  agent: AgentAccount;
  clock: Clock;
}

/**
 * Keeps each served pool's grant (the Role and RoleBinding above) in place, and removes it
 * when the pool is paused, unlinked or deleted. A grant checked once is trusted for
 * {@link ACCESS_RECHECK_MS}, so the many reconciles of a busy pool make no RBAC calls.
 */
export class AgentAccess {
  readonly #options: AgentAccessOptions;
  /** Pool key -> when its grant was last found or made, or "revoked". */
  readonly #known = new Map<string, { grantedAt: number; uid: string } | "revoked">();

  constructor(options: AgentAccessOptions) {
    this.#options = options;
  }

  /** Makes sure the pool's agent may read the pool. */
  async grant(pool: IpPool, logger: Logger): Promise<void> {
    const key = keyOf(pool);
    const known = this.#known.get(key);
    const now = this.#options.clock.now();
    const uid = pool.metadata.uid ?? "";
    if (known !== "revoked" && known?.uid === uid && now - known.grantedAt < ACCESS_RECHECK_MS) {
      return;
    }
    const role = agentRole(pool);
    const binding = agentRoleBinding(pool, this.#options.agent);
    const changed = [await this.#apply(role, sameRole), await this.#apply(binding, sameBinding)];
    this.#known.set(key, { grantedAt: now, uid });
    if (changed.some(Boolean)) {
      logger.info("agent granted read access to its pool", {
        role: role.metadata?.name,
        serviceAccount: binding.subjects?.[0]?.name,
      });
    }
  }

  /** Removes the grant of the pool `key` (`namespace/name`), if there is one. */
  async revoke(key: string, logger: Logger): Promise<void> {
    if (this.#known.get(key) === "revoked") return;
    const { namespace, name } = splitKey(key);
    const objectName = agentAccessName(name);
    const { kube } = this.#options;
    const removed = [
      await kube.delete(resourcePath(ROLE_BINDING, namespace, objectName)),
      await kube.delete(resourcePath(ROLE, namespace, objectName)),
    ];
    this.#known.set(key, "revoked");
    if (removed.some(Boolean)) {
      logger.info("agent read access to its pool removed", { role: objectName });
    }
  }

  /**
   * Creates `wanted` or puts an existing object right; true when something was written. A
   * RoleBinding's `roleRef` cannot change, so one that points elsewhere is made anew.
   */
  async #apply<T extends V1Role | V1RoleBinding>(
    wanted: T,
    same: (found: T, wanted: T) => boolean | "recreate",
  ): Promise<boolean> {
    const { kube } = this.#options;
    const kind = wanted.kind === ROLE.kind ? ROLE : ROLE_BINDING;
    const { namespace, name } = wanted.metadata ?? {};
    const path = resourcePath(kind, namespace, name);
    const found = await kube.get<T>(path);
    if (found) {
      const verdict = same(found, wanted);
      if (verdict === true) return false;
      if (verdict === false) {
        const metadata = { ...wanted.metadata, resourceVersion: found.metadata?.resourceVersion };
        await kube.replace(path, { ...wanted, metadata });
        return true;
      }
      await kube.delete(path, { preconditions: { uid: found.metadata?.uid } });
    }
    await kube.create(resourcePath(kind, namespace), wanted);
    return true;
  }
}

function accessMetadata(pool: IpPool) {
  const name = pool.metadata.name ?? "";
  return {
    name: agentAccessName(name),
    namespace: pool.metadata.namespace ?? "",
    labels: {
      [LABEL_VM_DHCP_CONTROLLER]: AGENT_LABEL_VALUE,
      [LABEL_IPPOOL_NAMESPACE]: pool.metadata.namespace ?? "",
      [LABEL_IPPOOL_NAME]: name,
    },
    ownerReferences: [
      { apiVersion: apiVersionOf(IP_POOL), kind: IP_POOL.kind, name, uid: pool.metadata.uid ?? "" },
    ],
  };
}

/** The fields of a list's entries that matter, in a fixed order, as one comparable string. */
function fieldsOf<T extends object>(list: readonly T[] | undefined, fields: (keyof T)[]): string {
  return JSON.stringify((list ?? []).map((entry) => fields.map((field) => entry[field] ?? "")));
}

/** Whether `found` carries the labels and the owner the grant sets. */
function sameMetadata(found: V1Role | V1RoleBinding, wanted: V1Role | V1RoleBinding): boolean {
  const labels = Object.entries(wanted.metadata?.labels ?? {});
  const owners = (o: V1Role | V1RoleBinding) => fieldsOf(o.metadata?.ownerReferences, ["uid"]);
  return (
    labels.every(([label, value]) => found.metadata?.labels?.[label] === value) &&
    owners(found) === owners(wanted)
  );
}

function sameRole(found: V1Role, wanted: V1Role): boolean {
  const rules = (role: V1Role) =>
    fieldsOf(role.rules, ["apiGroups", "resources", "resourceNames", "verbs"]);
  return sameMetadata(found, wanted) && rules(found) === rules(wanted);
}

function sameBinding(found: V1RoleBinding, wanted: V1RoleBinding): boolean | "recreate" {
  const ref = (binding: V1RoleBinding) => fieldsOf([binding.roleRef], ["apiGroup", "kind", "name"]);
  if (ref(found) !== ref(wanted)) return "recreate";
  const subjects = (binding: V1RoleBinding) =>
    fieldsOf(binding.subjects, ["kind", "name", "namespace"]);
  return sameMetadata(found, wanted) && subjects(found) === subjects(wanted);
}
