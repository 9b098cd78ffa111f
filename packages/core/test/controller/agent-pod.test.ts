/**
 * The agent pod of a pool, against a real API server (no kubelet: the test writes the pod's
 * status itself to make it ready): exactly the pod SPEC section 3 describes, recreated when
 * deleted, replaced when the agent image changes unless the pool holds upgrades, replaced
 * under a new name when stuck terminating on a node that is gone, removed on pause; the
 * agent's grant to read its pool made with it and removed with it.
 */
import type { V1Pod, V1Role, V1RoleBinding } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IpPool } from "../../src/api/types.js";
import type { Controller } from "../../src/controller/controller.js";
import type { KubeClient } from "../../src/controller/kube-client.js";
import type { NetworkAttachmentDefinition } from "../../src/controller/resources.js";
import { kubectlAs } from "../cluster/kubectl.js";
import { describeWithCluster } from "../cluster/use-cluster.js";
import {
  CLUSTER_NETWORK,
  clientAs,
  controllerNamespace,
  controllerOptions,
  eventually,
  httpGet,
  nad,
  paths,
  pool,
  startController,
} from "./harness.js";

// At most 63 characters (a label value), but too long for `<ns>-<name>-agent`.
const LONG_NAME = `pool-${"x".repeat(45)}`;
const rbac = (ns: string) => `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}`;

describeWithCluster("controller: agent pods", (cluster) => {
  let admin: KubeClient;
  let controller: Controller | undefined;
  let ns = "";
  const podPath = (name?: string) => `/api/v1/namespaces/${ns}/pods${name ? `/${name}` : ""}`;
  const agentName = () => `${ns}-pool-a-agent`;
  const kubectl = kubectlAs(cluster, "admin");
  /** The Role of the agent's grant to read `poolName` (its RoleBinding has the same name). */
  const grant = async (poolName: string) => {
    const name = `vm-dhcp-agent-${poolName}`;
    const binding = await admin.get<V1RoleBinding>(`${rbac(ns)}/rolebindings/${name}`);
    const role = await admin.get<V1Role>(`${rbac(ns)}/roles/${name}`);
    if (role && binding) expect(binding.subjects?.[0]?.namespace).toBe(ns);
    return role && binding ? role : undefined;
  };

  const agentPods = async (poolName = "pool-a") =>
    (
      await admin.list<V1Pod>(podPath(), {
        labelSelector: `network.harvesterhci.io/ippool-name=${poolName}`,
      })
    ).items.filter((pod) => !pod.metadata?.deletionTimestamp);

  /** The one live agent pod of the pool once it satisfies `ok`. */
  const agentPod = (what: string, ok: (pod: V1Pod) => boolean = () => true, poolName = "pool-a") =>
    eventually(what, async () => {
      const pods = await agentPods(poolName);
      return pods.length === 1 && ok(pods[0]!) ? pods[0] : undefined;
    });

  const restart = async (image: string, noDhcp = false) => {
    await controller?.stop();
    const options = controllerOptions(cluster, ns);
    controller = await startController({ ...options, agent: { ...options.agent, image, noDhcp } });
  };

  beforeAll(async () => {
    admin = clientAs(cluster, "admin");
    ns = await controllerNamespace(cluster, "ctrl-agent");
    await admin.create(paths.nads(ns), nad(ns, "net-a"));
    await admin.create(paths.nads(ns), nad(ns, "net-b"));
    await admin.create(
      paths.pools(ns),
      pool(ns, "pool-a", `${ns}/net-a`, { start: "192.0.2.10", end: "192.0.2.20" }),
    );
    await restart("vm-dhcp:test-1", true);
  });

  afterAll(async () => {
    await controller?.stop();
    admin?.close();
  });

  describe("the pod SPEC section 3 describes", () => {
    let pod: V1Pod;
    beforeAll(async () => {
      pod = await agentPod("agent pod created");
    });

    it("is named <pool-ns>-<pool-name>-agent, in the controller's namespace", () => {
      expect(pod.metadata?.name).toBe(agentName());
      expect(pod.metadata?.namespace).toBe(ns);
    });

    it("carries the agent label and the two ippool labels", () => {
      expect(pod.metadata?.labels).toMatchObject({
        "network.harvesterhci.io/vm-dhcp-controller": "agent",
        "network.harvesterhci.io/ippool-namespace": ns,
        "network.harvesterhci.io/ippool-name": "pool-a",
      });
    });

    it("attaches the NAD as eth1 through the Multus annotation", () => {
      const networks = JSON.parse(pod.metadata!.annotations!["k8s.v1.cni.cncf.io/networks"]!);
      expect(networks).toEqual([{ namespace: ns, name: "net-a", interface: "eth1" }]);
    });

    it("requires nodes labelled network.harvesterhci.io/<clusternetwork>=true", () => {
      const terms =
        pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution
          ?.nodeSelectorTerms;
      expect(terms).toEqual([
        {
          matchExpressions: [
            { key: `network.harvesterhci.io/${CLUSTER_NETWORK}`, operator: "In", values: ["true"] },
          ],
        },
      ]);
    });

    it("puts serverIP/prefix on eth1 in an init step", () => {
      const [init] = pod.spec?.initContainers ?? [];
      expect(init?.image).toBe("busybox:test");
      expect(init?.command?.join(" ")).toContain("ip address add 192.0.2.2/24 dev eth1");
      expect(init?.securityContext?.capabilities?.add).toContain("NET_ADMIN");
    });

    it("runs the agent unprivileged: no capabilities, port 67 opened by the pod's sysctl", () => {
      const [agent] = pod.spec?.containers ?? [];
      expect(agent?.securityContext).toMatchObject({
        runAsUser: 65532,
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
      });
      expect(agent?.securityContext?.capabilities?.add).toBeUndefined();
      expect(pod.spec?.securityContext?.sysctls).toEqual([
        { name: "net.ipv4.ip_unprivileged_port_start", value: "67" },
      ]);
    });

    it("probes /healthz (liveness) and /readyz (readiness) on port 8080", () => {
      const [agent] = pod.spec?.containers ?? [];
      expect(agent?.livenessProbe?.httpGet).toMatchObject({ path: "/healthz", port: 8080 });
      expect(agent?.readinessProbe?.httpGet).toMatchObject({ path: "/readyz", port: 8080 });
    });

    it("runs the agent of the pool, with --dry-run under --no-dhcp, as the agent account", () => {
      const [agent] = pod.spec?.containers ?? [];
      expect(agent?.image).toBe("vm-dhcp:test-1");
      expect(agent?.args).toEqual(["agent", "--ippool-ref", `${ns}/pool-a`, "--dry-run"]);
      expect(pod.spec?.serviceAccountName).toBe("vm-dhcp-agent");
    });

    it("comes with a grant that lets the agent account read this pool and no other", async () => {
      const role = await grant("pool-a");
      expect(role?.rules).toEqual([
        {
          apiGroups: ["network.harvesterhci.io"],
          resources: ["ippools"],
          resourceNames: ["pool-a"],
          verbs: ["get", "list", "watch"],
        },
      ]);
      const agentAccount = `system:serviceaccount:${ns}:vm-dhcp-agent`;
      const canI = async (...args: string[]) =>
        (await kubectl(["auth", "can-i", ...args, "-n", ns, `--as=${agentAccount}`])).stdout.trim();
      expect(await canI("watch", "ippools.network.harvesterhci.io/pool-a")).toBe("yes");
      expect(await canI("list", "ippools.network.harvesterhci.io")).toBe("no");
    });

    it("shortens a long pool name to 63 characters with a hash", async () => {
      await admin.create(
        paths.pools(ns),
        pool(ns, LONG_NAME, `${ns}/net-b`, { start: "192.0.2.30", end: "192.0.2.40" }),
      );
      const long = await agentPod("long-named agent", () => true, LONG_NAME);
      const name = long.metadata!.name!;
      expect(name.length).toBeLessThanOrEqual(63);
      expect(name).toMatch(new RegExp(`^${ns}-pool-x+-[0-9a-f]{6}-agent$`));
      await admin.delete(paths.pools(ns, LONG_NAME));
      await eventually("long-named agent and its grant removed with its pool", async () =>
        (await agentPods(LONG_NAME)).length === 0 && !(await grant(LONG_NAME)) ? true : undefined,
      );
    });
    it.each([
      { why: "a NAD without a clusternetwork label", reason: "NoClusterNetwork" },
      { why: "a network another pool serves", reason: "NetworkInUse" },
      { why: "a NAD that does not exist", reason: "NetworkNotFound" },
    ])("reports $why on Registered ($reason)", async ({ reason }) => {
      const name = `pool-${reason.toLowerCase()}`;
      let network = `${ns}/net-a`;
      if (reason === "NoClusterNetwork") {
        const bare = nad(ns, "net-bare");
        bare.metadata.labels = {};
        await admin.create(paths.nads(ns), bare);
        network = `${ns}/net-bare`;
      } else if (reason === "NetworkNotFound") {
        network = `${ns}/net-missing`;
      }
      await admin.create(
        paths.pools(ns),
        pool(ns, name, network, { start: "192.0.2.30", end: "192.0.2.40" }),
      );
      const condition = await eventually(`Registered ${reason}`, async () => {
        const found = await admin.get<IpPool>(paths.pools(ns, name));
        return found?.status?.conditions?.find(
          (c) => c.type === "Registered" && c.reason === reason,
        );
      });
      expect(condition.status).toBe("False");
      expect(await agentPods(name)).toEqual([]);
      await admin.delete(paths.pools(ns, name));
    });

    it("reports a pool name too long for a label instead of retrying for ever", async () => {
      const name = `pool-${"y".repeat(70)}`;
      await admin.create(
        paths.pools(ns),
        pool(ns, name, `${ns}/net-b`, { start: "192.0.2.30", end: "192.0.2.40" }),
      );
      const condition = await eventually("Registered False", async () => {
        const found = await admin.get<IpPool>(paths.pools(ns, name));
        return found?.status?.conditions?.find(
          (c) => c.type === "Registered" && c.status === "False",
        );
      });
      expect(condition.reason).toBe("PoolNameTooLong");
      await admin.delete(paths.pools(ns, name));
    });
  });

  describe("lifecycle", () => {
    it("reports AgentReady once the pod is ready", async () => {
      const pod = await agentPod("agent pod");
      const now = new Date().toISOString();
      await admin.mergePatch(podPath(`${pod.metadata!.name}/status`), {
        status: {
          phase: "Running",
          conditions: [{ type: "Ready", status: "True", lastTransitionTime: now }],
        },
      });
      await eventually("AgentReady True", async () => {
        const found = await admin.get<IpPool>(paths.pools(ns, "pool-a"));
        const c = found?.status?.conditions?.find((x) => x.type === "AgentReady");
        return c?.status === "True" ? c : undefined;
      });
    });

    it("recreates a deleted agent pod", async () => {
      const before = await agentPod("agent pod");
      await admin.delete(podPath(before.metadata!.name));
      const after = await agentPod(
        "agent recreated",
        (p) => p.metadata?.uid !== before.metadata?.uid,
      );
      expect(after.metadata?.name).toBe(agentName());
    });

    it("replaces the pod when the agent image changes; --dry-run goes with DHCP on", async () => {
      const before = await agentPod("agent pod");
      await restart("vm-dhcp:test-2");
      const after = await agentPod(
        "agent on the new image",
        (p) => p.spec?.containers[0]?.image === "vm-dhcp:test-2",
      );
      expect(after.metadata?.uid).not.toBe(before.metadata?.uid);
      expect(after.metadata?.name).toBe(agentName());
      expect(after.spec?.containers[0]?.args).toEqual(["agent", "--ippool-ref", `${ns}/pool-a`]);
      const found = await eventually("agentPodRef updated", async () => {
        const p = await admin.get<IpPool>(paths.pools(ns, "pool-a"));
        return p?.status?.agentPodRef?.uid === after.metadata?.uid ? p : undefined;
      });
      expect(found.status?.agentPodRef?.image).toBe("vm-dhcp:test-2");
    });

    it("keeps the image while the pool has the hold annotation", async () => {
      await admin.mergePatch(paths.pools(ns, "pool-a"), {
        metadata: { annotations: { "network.harvesterhci.io/hold-ippool-agent-upgrade": "true" } },
      });
      const before = await agentPod("agent pod");
      await restart("vm-dhcp:test-3");
      // Judge only after the new controller has reconciled the pool at least once.
      await eventually("pool reconciled", async () => {
        const { body } = await httpGet(controller!.httpPort!, "/metrics");
        const line =
          /vmdhcpcontroller_reconciles_total\{controller="ippool",result="success"\} (\d+)/;
        return Number(line.exec(body)?.[1] ?? 0) >= 1 ? true : undefined;
      });
      const held = await agentPod("agent still there");
      expect(held.metadata?.uid).toBe(before.metadata?.uid);
      expect(held.spec?.containers[0]?.image).toBe("vm-dhcp:test-2");

      // A held pool's agent that disappears comes back on the held image.
      await admin.delete(podPath(held.metadata!.name));
      const back = await agentPod(
        "held agent recreated",
        (p) => p.metadata?.uid !== held.metadata?.uid,
      );
      expect(back.spec?.containers[0]?.image).toBe("vm-dhcp:test-2");

      await admin.mergePatch(paths.pools(ns, "pool-a"), {
        metadata: { annotations: { "network.harvesterhci.io/hold-ippool-agent-upgrade": null } },
      });
      await agentPod(
        "upgraded once released",
        (p) => p.spec?.containers[0]?.image === "vm-dhcp:test-3",
      );
    });

    it("replaces a pod stuck terminating on a node that is gone, under a new name", async () => {
      const stuck = await agentPod("agent pod");
      const name = stuck.metadata!.name!;
      // Bound to a node that does not exist, a pod stays Terminating: no kubelet confirms.
      await admin.create(podPath(`${name}/binding`), {
        apiVersion: "v1",
        kind: "Binding",
        metadata: { name },
        target: { apiVersion: "v1", kind: "Node", name: "vd-ctrl-gone-node" },
      });
      await admin.delete(podPath(name));
      const replacement = await agentPod("replacement", (p) => p.metadata?.name !== name);
      expect(replacement.metadata?.name).toBe(`${agentName()}-1`);
      await eventually("stuck pod force-deleted", async () =>
        (await admin.get<V1Pod>(podPath(name))) === undefined ? true : undefined,
      );
    });

    it("replaces a pod stuck terminating on a live node once its grace has passed", async () => {
      const node = `vd-ctrl-node-${ns}`;
      await admin.create("/api/v1/nodes", {
        apiVersion: "v1",
        kind: "Node",
        metadata: { name: node },
      });
      await admin.mergePatch(`/api/v1/nodes/${node}/status`, {
        status: { conditions: [{ type: "Ready", status: "True", reason: "KubeletReady" }] },
      });
      const stuck = await agentPod("agent pod");
      const name = stuck.metadata!.name!;
      await admin.create(podPath(`${name}/binding`), {
        apiVersion: "v1",
        kind: "Binding",
        metadata: { name },
        target: { apiVersion: "v1", kind: "Node", name: node },
      });
      const deletedAt = Date.now();
      await admin.delete(podPath(name), { gracePeriodSeconds: 1 });
      const replacement = await agentPod("replacement", (p) => p.metadata?.name !== name);
      const waitedMs = Date.now() - deletedAt;
      // The deadline (1 s grace, in whole seconds on the wire) plus the stuck-agent grace (1 s).
      expect(waitedMs).toBeGreaterThanOrEqual(1_000);
      expect(replacement.metadata?.name).not.toBe(name);
    });

    it("removes the agent when the pool is paused", async () => {
      await admin.mergePatch(paths.pools(ns, "pool-a"), { spec: { paused: true } });
      await eventually("agent removed", async () =>
        (await agentPods()).length === 0 ? true : undefined,
      );
      const stopped = await eventually("Stopped True", async () => {
        const p = await admin.get<IpPool>(paths.pools(ns, "pool-a"));
        return p?.status?.conditions?.find((c) => c.type === "Stopped" && c.status === "True");
      });
      expect(stopped.reason).toBe("Paused");
      const registered = await eventually("Registered False", async () => {
        const p = await admin.get<IpPool>(paths.pools(ns, "pool-a"));
        return p?.status?.conditions?.find((c) => c.type === "Registered" && c.status === "False");
      });
      expect(registered.reason).toBe("Paused");
      expect((await httpGet(controller!.httpPort!, `/ipams/${ns}/pool-a`)).status).toBe(404);
      await eventually("the agent's grant removed", async () =>
        (await grant("pool-a")) ? undefined : true,
      );
    });

    it("brings the agent and the cache back when the pool resumes", async () => {
      await admin.mergePatch(paths.pools(ns, "pool-a"), { spec: { paused: false } });
      await agentPod("agent back after resume");
      expect(await grant("pool-a")).toBeDefined();
      await eventually("CacheReady True", async () => {
        const p = await admin.get<IpPool>(paths.pools(ns, "pool-a"));
        const ok = (type: string) =>
          p?.status?.conditions?.some(
            (c) => c.type === type && c.status === (type === "Stopped" ? "False" : "True"),
          );
        return ok("Stopped") && ok("CacheReady") ? true : undefined;
      });
      expect((await httpGet(controller!.httpPort!, `/ipams/${ns}/pool-a`)).status).toBe(200);
    });

    it.each([
      { why: "its NAD is deleted", reason: "NetworkNotFound" },
      { why: "its NAD loses the clusternetwork label", reason: "NoClusterNetwork" },
    ])("removes the agent of a pool that can no longer link: $why", async ({ reason }) => {
      const name = `pool-lost-${reason.toLowerCase()}`;
      const network = `net-lost-${reason.toLowerCase()}`;
      await admin.create(paths.nads(ns), nad(ns, network));
      await admin.create(
        paths.pools(ns),
        pool(ns, name, `${ns}/${network}`, { start: "192.0.2.30", end: "192.0.2.40" }),
      );
      await agentPod("agent of the linked pool", () => true, name);
      if (reason === "NetworkNotFound") await admin.delete(paths.nads(ns, network));
      else {
        await admin.mergePatch(paths.nads(ns, network), {
          metadata: { labels: { "network.harvesterhci.io/clusternetwork": null } },
        });
      }
      await eventually("agent removed", async () =>
        (await agentPods(name)).length === 0 ? true : undefined,
      );
      const found = await eventually(`Registered ${reason}`, async () => {
        const p = await admin.get<IpPool>(paths.pools(ns, name));
        const c = p?.status?.conditions?.find((x) => x.type === "Registered");
        return c?.reason === reason ? p : undefined;
      });
      expect(found.status?.agentPodRef).toBeUndefined();
      await admin.delete(paths.pools(ns, name));
    });

    it("links a NAD two pools race for to one of them only", async () => {
      await admin.create(paths.nads(ns), nad(ns, "net-race"));
      const names = ["pool-race-1", "pool-race-2"];
      await Promise.all(
        names.map((name) =>
          admin.create(
            paths.pools(ns),
            pool(ns, name, `${ns}/net-race`, { start: "192.0.2.30", end: "192.0.2.40" }),
          ),
        ),
      );
      const registered = (p: IpPool | undefined) =>
        p?.status?.conditions?.find((c) => c.type === "Registered");
      const [winner, loser] = await eventually("one pool linked, the other refused", async () => {
        const pools = await Promise.all(names.map((n) => admin.get<IpPool>(paths.pools(ns, n))));
        const won = pools.filter((p) => registered(p)?.status === "True");
        const lost = pools.filter((p) => registered(p)?.reason === "NetworkInUse");
        return won.length === 1 && lost.length === 1 ? [won[0]!, lost[0]!] : undefined;
      });
      const linked = await admin.get<NetworkAttachmentDefinition>(paths.nads(ns, "net-race"));
      expect(linked?.metadata.labels?.["network.harvesterhci.io/ippool-name"]).toBe(
        winner.metadata.name,
      );
      await agentPod("the winner's agent", () => true, winner.metadata.name);
      expect(await agentPods(loser.metadata.name)).toEqual([]);
      for (const name of names) await admin.delete(paths.pools(ns, name));
    });

    it("reported the agent's creation and replacement as Events on the pool", async () => {
      const events = (
        await admin.list<{ reason: string; message: string; involvedObject: { name: string } }>(
          `/api/v1/namespaces/${ns}/events`,
        )
      ).items.filter((e) => e.involvedObject.name === "pool-a");
      const reasons = new Set(events.map((e) => e.reason));
      expect(reasons).toContain("AgentCreated");
      expect(reasons).toContain("AgentRemoved");
      const replaced = events.filter((e) => e.reason === "AgentReplaced").map((e) => e.message);
      const upgrade = /\(vm-dhcp:test-2\) replaces \S+ \(vm-dhcp:test-1\)$/;
      expect(
        replaced.some((message) => upgrade.test(message)),
        replaced.join("\n"),
      ).toBe(true);
    });
  });
});
