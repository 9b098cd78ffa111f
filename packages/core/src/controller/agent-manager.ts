import type { V1Node, V1Pod } from "@kubernetes/client-node";
import type { ConditionUpdate } from "../api/conditions.js";
import type { IpPool, PodReference } from "../api/types.js";
import type { Logger } from "../logger.js";
import { agentImageOf, agentPod, isPodReady } from "./agent-pod.js";
import { BY_POOL, type ReconcileDeps } from "./context.js";
import {
  ANNOTATION_AGENT_SPEC_HASH,
  ANNOTATION_HOLD_AGENT_UPGRADE,
  agentPodName,
  keyOf,
  LABEL_CLUSTER_NETWORK,
} from "./names.js";
import { type NetworkAttachmentDefinition, NODE, POD, resourcePath } from "./resources.js";

/** What the agent of a pool looks like after one pass, for the pool status. */
export interface AgentOutcome {
  /** The pod serving the pool; undefined removes `status.agentPodRef`. */
  podRef?: PodReference;
  registered: ConditionUpdate<"Registered">;
  agentReady: ConditionUpdate<"AgentReady">;
  requeueAfterMs?: number;
}

/** How long a node lookup is trusted. */
const NODE_CACHE_MS = 5_000;

type NodeState = "ready" | "not-ready" | "absent";

/**
 * Keeps one agent pod per pool (SPEC section 3): creates it when missing, replaces it when
 * the pod spec or image it was made from is outdated (unless the pool holds upgrades: it has
 * the annotation {@link ANNOTATION_HOLD_AGENT_UPGRADE}, whatever its value), and
 * replaces a pod stuck terminating: at once when its node is gone or not ready, else
 * `stuckAgentGraceMs` after its deletion deadline. An outdated agent is deleted before its
 * successor is made under the usual name; only a successor of a pod stuck terminating gets
 * a new name (`...-agent-1`), since the stuck one still holds the usual name.
 */
export class AgentManager {
  readonly #deps: ReconcileDeps;
  readonly #nodes = new Map<string, { state: NodeState; at: number }>();
  /** Outdated agents deleted per pool, to name them when their successor is made. */
  readonly #replacing = new Map<string, V1Pod>();

  constructor(deps: ReconcileDeps) {
    this.#deps = deps;
  }

  async reconcile(
    pool: IpPool,
    nad: NetworkAttachmentDefinition,
    logger: Logger,
  ): Promise<AgentOutcome> {
    const clusterNetwork = nad.metadata.labels?.[LABEL_CLUSTER_NETWORK];
    if (!clusterNetwork) {
      const message =
        `NetworkAttachmentDefinition ${keyOf(nad)} has no ${LABEL_CLUSTER_NETWORK} label, ` +
        "so no node is known to reach it";
      return this.unlinked(pool, "NoClusterNetwork", message, logger);
    }
    const pods = this.#deps.caches.pods.byIndex(BY_POOL, keyOf(pool));
    const held = ANNOTATION_HOLD_AGENT_UPGRADE in (pool.metadata.annotations ?? {});
    const ref = pool.status?.agentPodRef;
    const image = held && ref?.image ? ref.image : this.#deps.settings.agent.image;
    const wanted = agentPod(pool, clusterNetwork, this.#deps.settings.agent, "", image);
    const wantedHash = wanted.metadata?.annotations?.[ANNOTATION_AGENT_SPEC_HASH];

    const live = pods.filter((pod) => !pod.metadata?.deletionTimestamp);
    const current = live.find((pod) => pod.metadata?.uid === ref?.uid) ?? newest(live);
    const outdated = !!current && !held && hashOf(current) !== wantedHash;
    if (current && !outdated) {
      await this.#removeAll(
        pods.filter((pod) => pod !== current),
        logger,
      );
      return running(current);
    }
    if (current) return this.#retire(pool, current, logger);
    const waitMs = await this.#waitForTerminating(pods);
    if (waitMs > 0) return terminating(ref, waitMs);
    const name = freeName(pool, pods);
    const created = await this.#create({ ...wanted, metadata: { ...wanted.metadata, name } });
    this.#report(pool, created, logger);
    await this.#removeAll(
      pods.filter((pod) => pod.metadata?.uid !== created.metadata?.uid),
      logger,
    );
    return running(created);
  }

  /**
   * Deletes an outdated agent; its successor is made once it is gone (the pod's deletion
   * queues the pool again). Two agents of one pool would both put the server address on the
   * VM network, so the old one goes first.
   */
  async #retire(pool: IpPool, pod: V1Pod, logger: Logger): Promise<AgentOutcome> {
    this.#replacing.set(keyOf(pool), pod);
    await this.#removeAll([pod], logger);
    return terminating(pool.status?.agentPodRef, this.#deps.settings.stuckAgentGraceMs);
  }

  /**
   * A pool that cannot link to its network (no NAD, the network served by another pool, no
   * cluster network, a name too long for a label) serves nothing: any agent it had is
   * removed, so that no pod keeps answering for it while its status names no agent.
   */
  async unlinked(
    pool: IpPool,
    reason: string,
    message: string,
    logger: Logger,
  ): Promise<AgentOutcome> {
    if ((await this.removeAgents(keyOf(pool), logger)) > 0) {
      this.#deps.events.emit(pool, "Normal", "AgentRemoved", `the pool is unlinked: ${message}`);
    }
    return {
      registered: { type: "Registered", status: "False", reason, message },
      agentReady: { type: "AgentReady", status: "False", reason, message },
    };
  }

  /**
   * Deletes every agent pod of a pool (pause, deletion, a pool that cannot link); the number
   * of running ones deleted now, 0 when they were gone or terminating already.
   */
  async removeAgents(poolKey: string, logger: Logger): Promise<number> {
    return this.#removeAll(this.#deps.caches.pods.byIndex(BY_POOL, poolKey), logger);
  }

  async #create(pod: V1Pod): Promise<V1Pod> {
    const { namespace } = this.#deps.settings.agent;
    return this.#deps.kube.create<V1Pod>(resourcePath(POD, namespace), pod);
  }

  /** An Event: the agent replaces the pod the pool last named (if any), or is its first. */
  #report(pool: IpPool, created: V1Pod, logger: Logger): void {
    const name = created.metadata?.name;
    const image = agentImageOf(created);
    const retired = this.#replacing.get(keyOf(pool));
    this.#replacing.delete(keyOf(pool));
    const ref = pool.status?.agentPodRef;
    const previous = retired
      ? { name: retired.metadata?.name, image: agentImageOf(retired) }
      : ref?.name && ref.uid !== created.metadata?.uid
        ? { name: ref.name, image: ref.image }
        : undefined;
    if (previous) {
      const message = `agent pod ${name} (${image}) replaces ${previous.name} (${previous.image})`;
      this.#deps.events.emit(pool, "Normal", "AgentReplaced", message);
      logger.info("agent pod replaced", { pod: name, previous: previous.name, image });
      return;
    }
    this.#deps.events.emit(pool, "Normal", "AgentCreated", `agent pod ${name} (${image}) created`);
    logger.info("agent pod created", { pod: name, image });
  }

  /**
   * Milliseconds to wait before replacing the newest terminating pod, 0 to replace it now.
   * Without terminating pods there is nothing to wait for.
   */
  async #waitForTerminating(pods: V1Pod[]): Promise<number> {
    const pod = newest(pods.filter((p) => p.metadata?.deletionTimestamp));
    if (!pod) return 0;
    const node = await this.#nodeState(pod.spec?.nodeName);
    if (node !== "ready") return 0;
    const deadline = Date.parse(String(pod.metadata?.deletionTimestamp));
    const stuckAt = deadline + this.#deps.settings.stuckAgentGraceMs;
    return Math.max(0, stuckAt - this.#deps.clock.now());
  }

  /** Deletes `pods`; a terminating one only when its node is gone. Running ones deleted. */
  async #removeAll(pods: V1Pod[], logger: Logger): Promise<number> {
    let deleted = 0;
    for (const pod of pods) {
      const terminating = !!pod.metadata?.deletionTimestamp;
      const node = terminating ? await this.#nodeState(pod.spec?.nodeName) : "ready";
      if (terminating && node !== "absent") continue;
      const force = terminating ? { gracePeriodSeconds: 0 } : {};
      const path = resourcePath(POD, pod.metadata?.namespace, pod.metadata?.name);
      const preconditions = { uid: pod.metadata?.uid };
      if (!(await this.#deps.kube.delete(path, { ...force, preconditions }))) continue;
      if (!terminating) deleted++;
      logger.info("agent pod deleted", { pod: pod.metadata?.name, force: terminating });
    }
    return deleted;
  }

  /** Whether a node exists and is Ready; a pod without a node counts as on a ready one. */
  async #nodeState(nodeName: string | undefined): Promise<NodeState> {
    if (!nodeName) return "ready";
    const now = this.#deps.clock.now();
    const cached = this.#nodes.get(nodeName);
    if (cached && now - cached.at < NODE_CACHE_MS) return cached.state;
    const node = await this.#deps.kube.get<V1Node>(resourcePath(NODE, undefined, nodeName));
    const ready = node?.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
    const state: NodeState = !node ? "absent" : ready ? "ready" : "not-ready";
    this.#nodes.set(nodeName, { state, at: now });
    return state;
  }
}

function running(pod: V1Pod): AgentOutcome {
  const name = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
  const ready = isPodReady(pod);
  return {
    podRef: {
      namespace: pod.metadata?.namespace ?? "",
      name: pod.metadata?.name ?? "",
      image: agentImageOf(pod) ?? "",
      uid: pod.metadata?.uid ?? "",
    },
    registered: { type: "Registered", status: "True", reason: "AgentDeployed", message: name },
    agentReady: ready
      ? { type: "AgentReady", status: "True", reason: "AgentReady", message: name }
      : {
          type: "AgentReady",
          status: "False",
          reason: "AgentNotReady",
          message: `agent pod ${name} is not ready`,
        },
  };
}

function terminating(ref: PodReference | undefined, waitMs: number): AgentOutcome {
  const message = "the agent pod is terminating; a new one follows when it is gone";
  return {
    ...(ref ? { podRef: ref } : {}),
    registered: { type: "Registered", status: "True", reason: "AgentTerminating", message },
    agentReady: { type: "AgentReady", status: "False", reason: "AgentTerminating", message },
    requeueAfterMs: waitMs,
  };
}

function hashOf(pod: V1Pod): string | undefined {
  return pod.metadata?.annotations?.[ANNOTATION_AGENT_SPEC_HASH];
}

function newest(pods: V1Pod[]): V1Pod | undefined {
  const stamp = (pod: V1Pod) => String(pod.metadata?.creationTimestamp ?? "");
  return [...pods].sort((a, b) => stamp(b).localeCompare(stamp(a)))[0];
}

/** The usual agent name if no pod holds it, else the first free generation of it. */
function freeName(pool: IpPool, pods: V1Pod[]): string {
  const taken = new Set(pods.map((pod) => pod.metadata?.name));
  const { namespace = "", name = "" } = pool.metadata;
  for (let generation = 0; ; generation++) {
    const candidate = agentPodName(namespace, name, generation);
    if (!taken.has(candidate)) return candidate;
  }
}
