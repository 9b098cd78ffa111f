/**
 * The Helm chart against the real test API server: the rendered manifests pass
 * `kubectl apply --dry-run=server` (schemas, CRDs, admission), and the chart's RBAC, applied
 * for real under its own release name and namespace, gives each role's service account
 * exactly what it needs, checked with the service accounts' own tokens.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { REPO_ROOT } from "../cluster/binaries.js";
import { type Kubectl, kubectlAs, mustKubectl } from "../cluster/kubectl.js";
import { freePort } from "../cluster/ports.js";
import {
  type LoggedProcess,
  runCommand,
  spawnLogged,
  stopProcess,
  tailLog,
} from "../cluster/process.js";
import type { TestClusterInfo } from "../cluster/test-cluster.js";
import { createNamespace, describeWithCluster } from "../cluster/use-cluster.js";
import {
  CHART_DIR,
  describeWithHelm,
  ensureHelm,
  type Manifest,
  parseManifests,
  renderChart,
} from "./helm.js";

const found = await ensureHelm();

const SERVICE_MONITOR_CRD = join(
  REPO_ROOT,
  "packages/core/test/chart/fixtures/monitoring.coreos.com_servicemonitors.yaml",
);
const POD_MONITOR_CRD = join(
  REPO_ROOT,
  "packages/core/test/chart/fixtures/monitoring.coreos.com_podmonitors.yaml",
);
const SERVICE_MONITOR_API = "--api-versions=monitoring.coreos.com/v1/ServiceMonitor";
const POD_MONITOR_API = "--api-versions=monitoring.coreos.com/v1/PodMonitor";
/**
 * Agent placement values, rendered into the controller's environment and given to the
 * controller of the walk-through as the chart's Deployment would.
 */
const AGENT_PLACEMENT_VALUES =
  "imagePullSecrets[0].name=regcred,agent.nodeSelector.dhcp=true," +
  "agent.tolerations[0].key=dedicated,agent.tolerations[0].operator=Exists," +
  "agent.resources.limits.memory=256Mi";
/** Cluster-wide kinds that would change how the shared API server admits everyone's writes. */
const NOT_APPLIED = new Set(["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"]);
const TSX = join(REPO_ROOT, "node_modules", "tsx", "dist", "loader.mjs");
const CLI_MAIN = join(REPO_ROOT, "packages", "cli", "src", "main.ts");
const TSCONFIG = join(REPO_ROOT, "tsconfig.check.json");
const POLL_MS = 200;
/**
 * Server-side apply, so objects the harness made (the CRDs) are compared field by field
 * rather than through kubectl's last-applied annotation; the same values raise no conflict.
 */
const DRY_RUN_APPLY = [
  "apply",
  "--server-side",
  "--dry-run=server",
  "--field-manager=vm-dhcp-chart",
];
/** How long a role may take to act, well inside the test timeout so its log is shown. */
const WAIT_MS = 20_000;
const WALK_TIMEOUT_MS = 60_000;

const asList = (items: Manifest[]) => JSON.stringify({ apiVersion: "v1", kind: "List", items });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A kubeconfig that authenticates with a TokenRequest token of a chart service account. */
async function serviceAccountKubectl(
  cluster: TestClusterInfo,
  admin: Kubectl,
  dir: string,
  namespace: string,
  account: string,
): Promise<{ kubectl: Kubectl; kubeconfig: string }> {
  const token = (await mustKubectl(admin, ["create", "token", account, "-n", namespace])).trim();
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: "test",
        cluster: { server: cluster.server, "certificate-authority": cluster.caFile },
      },
    ],
    users: [{ name: account, user: { token } }],
    contexts: [{ name: account, context: { cluster: "test", user: account, namespace } }],
    "current-context": account,
  };
  const kubeconfig = join(dir, `kubeconfig-${account}.json`);
  await writeFile(kubeconfig, JSON.stringify(config), { mode: 0o600 });
  const kubeconfigs = {
    admin: kubeconfig,
    controller: kubeconfig,
    agent: kubeconfig,
    webhook: kubeconfig,
  };
  return { kubectl: kubectlAs({ dir: join(dir, account), kubeconfigs }, "agent"), kubeconfig };
}

/** GET on 127.0.0.1:port; undefined while nothing listens. */
function httpGet(
  port: number,
  path: string,
): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: "127.0.0.1", port, path, timeout: 2_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.once("timeout", () => req.destroy());
    req.once("error", () => resolve(undefined));
    req.end();
  });
}

describeWithCluster("Helm chart on the test cluster", (cluster) => {
  const admin = kubectlAs(cluster, "admin");
  const helm = found.ok ? found.helm : "";
  let ns = "";
  let dir = "";

  beforeAll(async () => {
    ns = await createNamespace(admin, "pkg-chart");
    dir = await mkdtemp(join(tmpdir(), "vm-dhcp-pkg-chart-"));
    const applied = await mustKubectl(admin, [
      "apply",
      "--server-side",
      "--field-manager=vm-dhcp-chart-test",
      ...["-f", SERVICE_MONITOR_CRD, "-f", POD_MONITOR_CRD],
      "-o",
      "name",
    ]);
    await mustKubectl(admin, [
      "wait",
      "--for=condition=Established",
      "--timeout=60s",
      ...applied.trim().split("\n"),
    ]);
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describeWithHelm("kubectl apply --dry-run=server", found, () => {
    it("accepts every rendered object (CRDs, Service/PodMonitor) and creates none", async () => {
      const apis = [SERVICE_MONITOR_API, POD_MONITOR_API];
      const placement = ["--set", AGENT_PLACEMENT_VALUES];
      const yaml = await renderChart(helm, "pkgdry", ns, ["--include-crds", ...apis, ...placement]);
      const objects = parseManifests(yaml);
      const result = await admin([...DRY_RUN_APPLY, "-f", "-"], yaml);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      for (const object of objects) {
        expect(result.stdout).toContain(`/${object.metadata.name} `);
      }
      expect(result.stdout).toMatch(/servicemonitor\.monitoring\.coreos\.com\/pkgdry-vm-dhcp /);
      expect(result.stdout).toMatch(/podmonitor\.monitoring\.coreos\.com\/pkgdry-vm-dhcp-agent /);
      const left = await admin(["get", "deployments,services,secrets", "-n", ns, "-o", "name"]);
      expect(left.stdout).not.toContain("pkgdry");
    });

    it.each([
      { why: "a port out of range", set: "webhook.httpsPort=70000", error: "containerPort" },
      {
        why: "an unknown image pull policy",
        set: "image.pullPolicy=Sometimes",
        error: "imagePullPolicy",
      },
      { why: "negative replicas", set: "controller.replicas=-1", error: "replicas" },
    ])("is rejected by the server for $why", async ({ set, error }) => {
      const yaml = await renderChart(helm, "pkgbad", ns, ["--set", set]);
      const result = await admin([...DRY_RUN_APPLY, "-f", "-"], yaml);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(error);
    });
  });

  describeWithHelm("RBAC applied for real", found, () => {
    const accounts = { agent: "", controller: "", webhook: "" };
    const as = {} as Record<keyof typeof accounts, Kubectl>;
    let release = "";
    let agentKubeconfig = "";
    let controllerKubeconfig = "";
    let webhookKubeconfig = "";
    /** `NAME=value` of the rendered controller's agent placement variables. */
    let agentPlacementEnv: string[] = [];

    beforeAll(async () => {
      // The release is named after the test namespace, so its cluster-wide roles never meet
      // the harness's own vm-dhcp-* roles.
      release = ns;
      const apis = [SERVICE_MONITOR_API, POD_MONITOR_API];
      const placement = ["--set", AGENT_PLACEMENT_VALUES];
      const objects = parseManifests(await renderChart(helm, release, ns, [...apis, ...placement]));
      agentPlacementEnv = placementEnvOf(objects);
      const applied = objects.filter((object) => !NOT_APPLIED.has(object.kind));
      await mustKubectl(admin, ["apply", "--server-side", "-f", "-"], asList(applied));
      for (const role of Object.keys(accounts) as (keyof typeof accounts)[]) {
        accounts[role] = `${release}-vm-dhcp-${role}`;
        const made = await serviceAccountKubectl(cluster, admin, dir, ns, accounts[role]);
        as[role] = made.kubectl;
        if (role === "agent") agentKubeconfig = made.kubeconfig;
        if (role === "controller") controllerKubeconfig = made.kubeconfig;
        if (role === "webhook") webhookKubeconfig = made.kubeconfig;
      }
    });

    afterAll(async () => {
      if (!release) return;
      const selector = `app.kubernetes.io/instance=${release}`;
      await admin(["delete", "clusterrole,clusterrolebinding", "-l", selector, "--wait=false"]);
    });

    /** `kubectl auth can-i` with the account's own token: "yes" or "no". */
    async function canI(role: keyof typeof accounts, args: string[]): Promise<string> {
      const resolved = args.map((arg) => arg.replace("<ns>", ns).replace("<release>", release));
      return (await as[role](["auth", "can-i", ...resolved])).stdout.trim();
    }

    it("authenticates each role as its chart service account", async () => {
      for (const role of Object.keys(accounts) as (keyof typeof accounts)[]) {
        const who = await mustKubectl(as[role], [
          "auth",
          "whoami",
          "-o",
          "jsonpath={.status.userInfo.username}",
        ]);
        expect(who).toBe(`system:serviceaccount:${ns}:${accounts[role]}`);
      }
    });

    const POOLS = "ippools.network.harvesterhci.io";
    const CFGS = "virtualmachinenetworkconfigs.network.harvesterhci.io";
    const VMS = "virtualmachines.kubevirt.io";
    const NADS = "network-attachment-definitions.k8s.cni.cncf.io";
    const VWC = "validatingwebhookconfigurations";
    const MWC = "mutatingwebhookconfigurations";
    it.each([
      {
        role: "agent",
        args: ["get", POOLS, "-A"],
        allowed: "no",
        why: "its own pool only, granted by the controller",
      },
      { role: "agent", args: ["watch", POOLS, "-A"], allowed: "no", why: "its own pool only" },
      { role: "agent", args: ["patch", POOLS, "-A"], allowed: "no", why: "never writes" },
      {
        role: "agent",
        args: ["update", POOLS, "--subresource=status", "-A"],
        allowed: "no",
        why: "status is the controller's",
      },
      {
        role: "agent",
        args: ["list", CFGS, "-A"],
        allowed: "no",
        why: "leases come from the pool",
      },
      { role: "agent", args: ["get", "secrets", "-n", "<ns>"], allowed: "no", why: "no secrets" },
      { role: "agent", args: ["list", "pods", "-n", "<ns>"], allowed: "no", why: "nothing else" },
      { role: "controller", args: ["watch", POOLS, "-A"], allowed: "yes", why: "reconciles pools" },
      {
        role: "controller",
        args: ["update", POOLS, "-A"],
        allowed: "no",
        why: "pool specs are the operator's",
      },
      {
        role: "controller",
        args: ["delete", POOLS, "-A"],
        allowed: "no",
        why: "pool specs are the operator's",
      },
      {
        role: "controller",
        args: ["patch", POOLS, "--subresource=status", "-A"],
        allowed: "yes",
        why: "keeps status",
      },
      {
        role: "controller",
        args: ["create", CFGS, "-n", "default"],
        allowed: "yes",
        why: "one per VM",
      },
      {
        role: "controller",
        args: ["delete", CFGS, "-n", "default"],
        allowed: "yes",
        why: "VM deleted",
      },
      {
        role: "controller",
        args: ["patch", CFGS, "--subresource=status", "-A"],
        allowed: "yes",
        why: "allocations",
      },
      {
        role: "controller",
        args: ["watch", VMS, "-A"],
        allowed: "yes",
        why: "VMs drive vmnetcfgs",
      },
      { role: "controller", args: ["patch", VMS, "-A"], allowed: "no", why: "VMs are read only" },
      { role: "controller", args: ["patch", NADS, "-A"], allowed: "yes", why: "links the pool" },
      {
        role: "controller",
        args: ["delete", NADS, "-A"],
        allowed: "no",
        why: "NADs are the operator's",
      },
      {
        role: "controller",
        args: ["create", "pods", "-n", "<ns>"],
        allowed: "yes",
        why: "agent pods",
      },
      {
        role: "controller",
        args: ["delete", "pods", "-n", "<ns>"],
        allowed: "yes",
        why: "agent pods",
      },
      {
        role: "controller",
        args: ["create", "pods", "-n", "default"],
        allowed: "no",
        why: "own namespace only",
      },
      {
        role: "controller",
        args: ["update", "leases.coordination.k8s.io", "-n", "<ns>"],
        allowed: "yes",
        why: "leader election",
      },
      {
        role: "controller",
        args: ["update", "leases.coordination.k8s.io", "-n", "default"],
        allowed: "no",
        why: "own namespace only",
      },
      {
        role: "controller",
        args: ["get", "nodes"],
        allowed: "yes",
        why: "is an agent's node gone",
      },
      {
        role: "controller",
        args: ["list", "nodes"],
        allowed: "no",
        why: "reads nodes by name only",
      },
      { role: "controller", args: ["patch", "nodes"], allowed: "no", why: "nodes are read only" },
      {
        role: "controller",
        args: ["create", "events", "-n", "default"],
        allowed: "yes",
        why: "events",
      },
      {
        role: "controller",
        args: ["get", "secrets", "-n", "<ns>"],
        allowed: "no",
        why: "no secrets",
      },
      { role: "webhook", args: ["list", POOLS, "-A"], allowed: "yes", why: "overlap checks" },
      { role: "webhook", args: ["list", CFGS, "-A"], allowed: "yes", why: "pool still in use" },
      {
        role: "webhook",
        args: ["update", POOLS, "-A"],
        allowed: "no",
        why: "admission only reads",
      },
      { role: "webhook", args: ["get", NADS, "-n", "default"], allowed: "yes", why: "NAD exists" },
      { role: "webhook", args: ["watch", "nodes"], allowed: "yes", why: "CIDR annotation" },
      {
        role: "webhook",
        args: ["patch", `${VWC}/<release>-vm-dhcp-webhook`],
        allowed: "yes",
        why: "CA bundle",
      },
      {
        role: "webhook",
        args: ["patch", `${MWC}/<release>-vm-dhcp-webhook`],
        allowed: "yes",
        why: "CA bundle",
      },
      {
        role: "webhook",
        args: ["patch", `${VWC}/someone-else`],
        allowed: "no",
        why: "only its own",
      },
      {
        role: "webhook",
        args: ["update", "secrets/<release>-vm-dhcp-webhook-tls", "-n", "<ns>"],
        allowed: "yes",
        why: "its certificate",
      },
      {
        role: "webhook",
        args: ["get", "secrets/other", "-n", "<ns>"],
        allowed: "no",
        why: "only its own",
      },
      {
        role: "webhook",
        args: ["create", "secrets", "-n", "<ns>"],
        allowed: "no",
        why: "chart makes it",
      },
    ] as const)("$role can-i $args.0 $args.1: $allowed ($why)", async ({ role, args, allowed }) => {
      expect(await canI(role, [...args])).toBe(allowed);
    });

    it(
      "lets the controller, as the chart's controller account and environment, do the walk-through",
      async () => {
        await mustKubectl(admin, ["apply", "--server-side", "-f", "-"], asList(walkObjects(ns)));
        const port = await freePort();
        const proc = spawnLogged(
          "controller",
          "env",
          [
            `TSX_TSCONFIG_PATH=${TSCONFIG}`,
            ...agentPlacementEnv,
            ...[process.execPath, "--import", TSX, CLI_MAIN, "controller"],
            ...[`--name=${release}-vm-dhcp-controller`, `--kubeconfig=${controllerKubeconfig}`],
            ...[`--namespace=${ns}`, `--watch-namespace=${ns}`, `--http-port=${port}`],
            ...["--image=vm-dhcp/vm-dhcp:0.1.0", `--service-account-name=${accounts.agent}`],
          ],
          join(dir, "controller.log"),
        );
        try {
          const get = async (args: string[]) =>
            JSON.parse(await mustKubectl(admin, [...args, "-n", ns, "-o", "json"]));
          const config = await eventually(proc, "the VM's vmnetcfg allocated", async () => {
            const found = await admin(["get", "vmnetcfg", "vm-a", "-n", ns, "-o", "json"]);
            if (found.code !== 0) return undefined;
            const parsed = JSON.parse(found.stdout);
            return parsed.status?.networkConfigs?.[0]?.state === "Allocated" ? parsed : undefined;
          });
          const ip = config.status.networkConfigs[0].allocatedIPAddress as string;
          expect(ip).toMatch(/^192\.0\.2\.(1[0-9]|20)$/);
          const pool = await eventually(proc, "the pool status", async () => {
            const found = await get(["get", "ippool", "walk-pool"]);
            return found.status?.ipv4?.allocated?.[ip] === WALK_MAC ? found : undefined;
          });
          expect(pool.status.ipv4.used).toBe(1);
          const nadLabels = (await get(["get", "network-attachment-definition", "net-a"])).metadata
            .labels;
          expect(nadLabels["network.harvesterhci.io/ippool-name"]).toBe("walk-pool");
          const pod = await eventually(proc, "the agent pod", async () => {
            const found = await get(["get", "pods", "-l", "network.harvesterhci.io/ippool-name"]);
            return found.items[0];
          });
          expect(pod.metadata.name).toBe(`${ns}-walk-pool-agent`);
          expect(pod.spec.serviceAccountName).toBe(accounts.agent);
          const binding = await get(["get", "rolebinding", "vm-dhcp-agent-walk-pool"]);
          expect(binding.subjects).toEqual([
            { kind: "ServiceAccount", name: accounts.agent, namespace: ns },
          ]);
          // The chart's pull secrets and agent values, through the controller's environment.
          expect(pod.spec.imagePullSecrets).toEqual([{ name: "regcred" }]);
          expect(pod.spec.nodeSelector).toEqual({ dhcp: "true" });
          expect(pod.spec.tolerations).toContainEqual({ key: "dedicated", operator: "Exists" });
          expect(pod.spec.containers[0].resources).toEqual({
            requests: { cpu: "10m", memory: "64Mi" },
            limits: { memory: "256Mi" },
          });
          expect(pod.spec.containers[0].ports).toEqual([
            { name: "metrics", containerPort: 8080, protocol: "TCP" },
          ]);
          const lease = await get(["get", "lease", `${release}-vm-dhcp-controller`]);
          expect(lease.spec.holderIdentity).toBeTruthy();
          const metrics = await httpGet(port, "/metrics");
          expect(metrics?.body).toMatch(
            /^vmdhcpcontroller_ippool_used\{[^}]*ippool="[^"]*walk-pool"[^}]*\} 1$/m,
          );
          expect(await tailLog(proc.logFile, 10_000)).not.toMatch(/forbidden/i);
        } finally {
          await stopProcess(proc, 5_000);
        }
      },
      WALK_TIMEOUT_MS,
    );

    /** The agent CLI in dry-run as the chart's agent account, serving `pool`. */
    const startAgent = async (pool: string) => {
      const port = await freePort();
      const proc = spawnLogged(
        `agent-${pool}`,
        "env",
        [
          `TSX_TSCONFIG_PATH=${TSCONFIG}`,
          ...[process.execPath, "--import", TSX, CLI_MAIN, "agent", "--dry-run"],
          ...[`--ippool-ref=${ns}/${pool}`, `--kubeconfig=${agentKubeconfig}`],
          ...[`--http-port=${port}`, "--enable-cache-dump-api"],
        ],
        join(dir, `agent-${pool}.log`),
      );
      return { proc, port };
    };

    it("lets the agent, as the chart's agent account, serve only its granted pool", async () => {
      // The walk-through's controller granted walk-pool to the agent account; a pool no
      // controller serves stays out of its reach.
      const other = walkObjects(ns)[1]!;
      other.metadata.name = "ungranted-pool";
      await mustKubectl(admin, ["apply", "--server-side", "-f", "-"], JSON.stringify(other));
      expect(await canI("agent", ["get", `${POOLS}/walk-pool`, "-n", "<ns>"])).toBe("yes");
      expect(await canI("agent", ["get", `${POOLS}/ungranted-pool`, "-n", "<ns>"])).toBe("no");

      const granted = await startAgent("walk-pool");
      try {
        const leases = await waitForLeases(granted.proc, granted.port);
        expect(leases[WALK_MAC]).toMatchObject({ address: expect.stringMatching(/^192\.0\.2\./) });
        expect(await tailLog(granted.proc.logFile, 10_000)).not.toMatch(/forbidden/i);
      } finally {
        await stopProcess(granted.proc, 5_000);
      }
    });

    it("keeps an agent without its grant unready, and its log says why", async () => {
      const { proc, port } = await startAgent("ungranted-pool");
      try {
        const entry = await eventually(proc, "the forbidden watch in the log", async () => {
          const lines = (await tailLog(proc.logFile, 10_000)).split("\n");
          return lines
            .flatMap((line) => (line.startsWith("{") ? [JSON.parse(line)] : []))
            .find((e) => e.message === "watch failed; retrying");
        });
        // One line an operator can act on: the status code and the API server's own reason.
        expect(entry.err).toMatch(/^HTTP 403: ippools.network.harvesterhci.io "ungranted-pool"/);
        expect(entry.err).toMatch(/is forbidden: User ".*-vm-dhcp-agent" cannot list resource/);
        expect((await httpGet(port, "/readyz"))?.status).toBe(503);
      } finally {
        await stopProcess(proc, 5_000);
      }
    });

    it(
      "lets the webhook, as the chart's webhook account, keep its certificate and judge pools",
      async () => {
        // Registered for this namespace only: the shared cluster's other writes never wait.
        const label = `vm-dhcp-chart-test=${ns}`;
        await mustKubectl(admin, ["label", "namespace", ns, label, "--overwrite"]);
        const [httpsPort, port] = [await freePort(), await freePort()];
        const name = `${release}-vm-dhcp-webhook`;
        const proc = spawnLogged(
          "webhook",
          "env",
          [
            `TSX_TSCONFIG_PATH=${TSCONFIG}`,
            ...[process.execPath, "--import", TSX, CLI_MAIN, "webhook", `--name=${name}`],
            ...[`--namespace=${ns}`, `--tls-secret-name=${name}-tls`],
            ...[`--kubeconfig=${webhookKubeconfig}`, "--bind-address=127.0.0.1"],
            ...[`--https-port=${httpsPort}`, `--http-port=${port}`],
            ...[`--webhook-url=https://127.0.0.1:${httpsPort}`, `--namespace-selector=${label}`],
          ],
          join(dir, "webhook.log"),
        );
        try {
          await eventually(proc, "webhook /readyz", async () =>
            (await httpGet(port, "/readyz"))?.status === 200 ? true : undefined,
          );
          const secret = await mustKubectl(admin, [
            ...["get", "secret", `${name}-tls`, "-n", ns],
            ...["-o", "jsonpath={.data.tls\\.crt}"],
          ]);
          expect(Buffer.from(secret, "base64").toString()).toContain("BEGIN CERTIFICATE");
          const ca = await mustKubectl(admin, [
            ...["get", "validatingwebhookconfiguration", name],
            ...["-o", "jsonpath={.webhooks[0].clientConfig.caBundle}"],
          ]);
          expect(ca).not.toBe("");

          const bad = walkObjects(ns)[1]!;
          bad.metadata.name = "outside-pool";
          bad.spec.ipv4Config.router = "203.0.113.1";
          const result = await admin(["create", "-f", "-"], JSON.stringify(bad));
          expect(result.code).not.toBe(0);
          expect(result.stderr).toContain(`admission webhook "validate.ippools`);
          expect(result.stderr).toContain('spec.ipv4Config.router: "203.0.113.1"');
          expect(await tailLog(proc.logFile, 10_000)).not.toMatch(/forbidden/i);
        } finally {
          await stopProcess(proc, 5_000);
          await admin([
            ...["delete", "validatingwebhookconfiguration,mutatingwebhookconfiguration", name],
            "--ignore-not-found",
          ]);
        }
      },
      WALK_TIMEOUT_MS,
    );
  });

  describeWithHelm("helm upgrade --install", found, (helm) => {
    let release = "";
    let helmEnv: NodeJS.ProcessEnv = {};
    /** helm against the test cluster as admin, with its caches in the test's directory. */
    const run = (args: string[]) =>
      runCommand(helm, [...args, `--kubeconfig=${cluster.kubeconfigs.admin}`], {
        env: helmEnv,
        timeoutMs: 120_000,
      });
    // The configurations would apply to the whole shared cluster, whose tests write pools
    // with no webhook running: select no namespace at all.
    const NOWHERE = ["--set", "webhook.namespaceSelector.vm-dhcp-test-never=match"];

    beforeAll(() => {
      release = `${ns}-helm`;
      helmEnv = {
        ...process.env,
        HELM_CACHE_HOME: join(dir, "helm", "cache"),
        HELM_CONFIG_HOME: join(dir, "helm", "config"),
        HELM_DATA_HOME: join(dir, "helm", "data"),
      };
    });

    afterAll(async () => {
      if (release) await run(["uninstall", release, "-n", release, "--ignore-not-found"]);
    });

    it("installs into a new namespace, with the monitors the cluster serves", async () => {
      const args = ["upgrade", "--install", release, CHART_DIR, "-n", release];
      const result = await run([...args, "--create-namespace", ...NOWHERE]);
      expect(result.stderr.replace(/^.*symbolic link.*\n/gm, "")).toBe("");
      expect(result.code).toBe(0);
      const names = await mustKubectl(admin, [
        ...["get", "deployments,services,servicemonitors,podmonitors,secrets,serviceaccounts"],
        ...["-n", release, "-o", "name"],
      ]);
      for (const name of [
        `deployment.apps/${release}-vm-dhcp-controller`,
        `deployment.apps/${release}-vm-dhcp-webhook`,
        `service/${release}-vm-dhcp-webhook`,
        `servicemonitor.monitoring.coreos.com/${release}-vm-dhcp`,
        `podmonitor.monitoring.coreos.com/${release}-vm-dhcp-agent`,
        `secret/${release}-vm-dhcp-webhook-tls`,
        `serviceaccount/${release}-vm-dhcp-agent`,
      ]) {
        expect(names).toContain(name);
      }
    });

    it("upgrades and keeps what the webhook wrote: certificate and CA bundle", async () => {
      const secret = `${release}-vm-dhcp-webhook-tls`;
      const data = { "tls.crt": "Y2VydA==", "tls.key": "a2V5", "ca.crt": "Y2E=" };
      await mustKubectl(admin, [
        ...["patch", "secret", secret, "-n", release, "--type=merge"],
        ...["-p", JSON.stringify({ data })],
      ]);
      const config = `${release}-vm-dhcp-webhook`;
      const bundle = {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingWebhookConfiguration",
        metadata: { name: config },
        webhooks: ["validate.ippools.network.harvesterhci.io"].map((name) => ({
          name,
          clientConfig: { caBundle: "Y2E=" },
        })),
      };
      await mustKubectl(
        admin,
        [
          "apply",
          "--server-side",
          "--force-conflicts",
          "--field-manager=vm-dhcp-webhook",
          "-f",
          "-",
        ],
        JSON.stringify(bundle),
      );

      const args = ["upgrade", release, CHART_DIR, "-n", release, "--set", "controller.replicas=2"];
      const result = await run([...args, ...NOWHERE]);
      expect(result.code).toBe(0);

      const replicas = await mustKubectl(admin, [
        ...["get", "deployment", `${release}-vm-dhcp-controller`, "-n", release],
        ...["-o", "jsonpath={.spec.replicas}"],
      ]);
      expect(replicas).toBe("2");
      const kept = await mustKubectl(admin, [
        ...["get", "secret", secret, "-n", release, "-o", "jsonpath={.data}"],
      ]);
      expect(JSON.parse(kept)).toEqual(data);
      const ca = await mustKubectl(admin, [
        ...["get", "validatingwebhookconfiguration", config],
        ...["-o", "jsonpath={.webhooks[0].clientConfig.caBundle}"],
      ]);
      expect(ca).toBe("Y2E=");
    });

    it("uninstalls every cluster-wide object, webhook configurations included", async () => {
      const result = await run(["uninstall", release, "-n", release]);
      expect(result.code).toBe(0);
      const left = await mustKubectl(admin, [
        ...["get", "validatingwebhookconfigurations,mutatingwebhookconfigurations"],
        ...["-o", "name"],
      ]);
      expect(left).not.toContain(release);
      const roles = await mustKubectl(admin, [
        ...["get", "clusterroles,clusterrolebindings", "-o", "name"],
      ]);
      expect(roles).not.toContain(release);
    });
  });
});

/** `NAME=value` of the controller Deployment's AGENT_* variables that have a plain value. */
function placementEnvOf(objects: Manifest[]): string[] {
  const deployment = objects.find(
    (m) => m.kind === "Deployment" && m.metadata.name.endsWith("-vm-dhcp-controller"),
  );
  const env = (deployment?.spec.template.spec.containers[0].env ?? []) as {
    name: string;
    value?: string;
  }[];
  const placement = /^AGENT_(IMAGE_PULL_SECRETS|RESOURCES|TOLERATIONS|NODE_SELECTOR)$/;
  return env.filter((e) => placement.test(e.name)).map((e) => `${e.name}=${e.value}`);
}

/** Polls the agent's /leases until it holds one lease; fails with its log if it exits. */
async function waitForLeases(proc: LoggedProcess, port: number): Promise<Record<string, object>> {
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null)
      throw new Error(`agent exited:\n${await tailLog(proc.logFile)}`);
    const answer = await httpGet(port, "/leases");
    if (answer?.status === 200) {
      const leases = JSON.parse(answer.body) as Record<string, object>;
      if (Object.keys(leases).length > 0) return leases;
    }
    await sleep(POLL_MS);
  }
  throw new Error(`no leases within ${WAIT_MS} ms:\n${await tailLog(proc.logFile)}`);
}

const WALK_MAC = "52:54:00:c4:a7:11";

/** A NAD, its pool and a VM with one NIC on it: what the controller walk-through starts from. */
function walkObjects(ns: string): Manifest[] {
  const nad = {
    apiVersion: "k8s.cni.cncf.io/v1",
    kind: "NetworkAttachmentDefinition",
    metadata: {
      name: "net-a",
      namespace: ns,
      labels: { "network.harvesterhci.io/clusternetwork": "pkg-chart" },
    },
    spec: { config: JSON.stringify({ cniVersion: "0.3.1", type: "bridge", bridge: "pkg-br" }) },
  };
  const pool = {
    apiVersion: "network.harvesterhci.io/v1alpha1",
    kind: "IPPool",
    metadata: { name: "walk-pool", namespace: ns },
    spec: {
      networkName: `${ns}/net-a`,
      ipv4Config: {
        cidr: "192.0.2.0/24",
        serverIP: "192.0.2.2",
        router: "192.0.2.1",
        pool: { start: "192.0.2.10", end: "192.0.2.20" },
      },
    },
  };
  const vm = {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachine",
    metadata: { name: "vm-a", namespace: ns },
    spec: {
      template: {
        spec: {
          domain: { devices: { interfaces: [{ name: "nic-1", macAddress: WALK_MAC }] } },
          networks: [{ name: "nic-1", multus: { networkName: "net-a" } }],
        },
      },
    },
  };
  return [nad, pool, vm] as Manifest[];
}

/** Polls `check` until it returns a value; fails with the process log when it exits. */
async function eventually<T>(
  proc: LoggedProcess,
  what: string,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) {
      throw new Error(`${proc.name} exited before ${what}:\n${await tailLog(proc.logFile)}`);
    }
    const value = await check();
    if (value !== undefined) return value;
    await sleep(POLL_MS);
  }
  throw new Error(`${what}: not within ${WAIT_MS} ms:\n${await tailLog(proc.logFile)}`);
}
