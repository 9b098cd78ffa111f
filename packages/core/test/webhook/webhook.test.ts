/**
 * The `webhook` role against the real test API server (SPEC section 5): the webhook runs as
 * a child process under the webhook identity, registers its configurations with
 * `clientConfig.url` https://127.0.0.1:<port> and its CA bundle, and the API server calls it
 * for every `kubectl apply` below. Each test compares what kubectl prints, exactly.
 *
 * The cluster is shared with other test files running at the same time: the configurations
 * carry a namespaceSelector that only this file's namespaces match, and are deleted in
 * afterAll. Their names (and the TLS Secret's) are the product's, because the webhook's
 * RBAC grants access by those names; so this is the only test file that runs the webhook.
 */
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateCerts } from "../cluster/certs.js";
import { SYSTEM_NAMESPACE } from "../cluster/identities.js";
import { type Kubectl, kubectlAs, mustKubectl } from "../cluster/kubectl.js";
import { freePort } from "../cluster/ports.js";
import type { CommandResult } from "../cluster/process.js";
import { createNamespace, describeWithCluster } from "../cluster/use-cluster.js";
import { API_VERSION } from "../fixtures/examples.js";
import {
  httpGet,
  runWebhookToExit,
  servedCertificate,
  startWebhookProcess,
  type WebhookProcess,
} from "./webhook-process.js";

/** Names the webhook's RBAC grants (fixtures/rbac/base-rbac.yaml). */
const CONFIGURATION_NAME = "vm-dhcp-webhook";
const TLS_SECRET = "vm-dhcp-webhook-tls";
/** Namespace label that scopes the configurations to this file's namespaces. */
const SCOPE_LABEL = "vm-dhcp-test/webhook-run";
const SERVICE_CIDR = "10.53.0.0/16";
const CLUSTER_CIDR = "10.52.0.0/16";
const POLL_MS = 100;
const ADMISSION_TIMEOUT_MS = 20_000;

const WEBHOOK = {
  mutatePool: "mutate.ippools.network.harvesterhci.io",
  validatePool: "validate.ippools.network.harvesterhci.io",
  validateVmNetCfg: "validate.virtualmachinenetworkconfigs.network.harvesterhci.io",
} as const;

/** What `kubectl apply -f -` prints when a webhook denies a create with reason Invalid. */
const createDenied = (webhook: string, message: string) =>
  `The request is invalid: error when creating "STDIN": admission webhook "${webhook}" ` +
  `denied the request: ${message}`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `attempt` until `done` holds for its result; returns that result. */
async function eventually<T>(
  what: string,
  attempt: () => Promise<T>,
  done: (value: T) => boolean,
): Promise<T> {
  const deadline = Date.now() + ADMISSION_TIMEOUT_MS;
  let last: T = await attempt();
  while (!done(last)) {
    if (Date.now() > deadline) {
      throw new Error(
        `${what}: not within ${ADMISSION_TIMEOUT_MS} ms; last: ${JSON.stringify(last)}`,
      );
    }
    await sleep(POLL_MS);
    last = await attempt();
  }
  return last;
}

/** Exit code and stderr, compared together so a failure shows both. */
const outcome = (result: CommandResult) => ({ code: result.code, stderr: result.stderr.trimEnd() });

const fingerprint = (certificate: Buffer | string) =>
  new X509Certificate(certificate).fingerprint256;

describeWithCluster("vm-dhcp webhook on the test API server", (cluster) => {
  const admin: Kubectl = kubectlAs(cluster, "admin");
  const webhookIdentity: Kubectl = kubectlAs(cluster, "webhook");
  let ns = "";
  let otherNs = "";
  let dir = "";
  let httpsPort = 0;
  let httpPort = 0;
  let webhook: WebhookProcess | undefined;
  let nodeName = "";

  const apply = (manifest: object, ...args: string[]) =>
    admin(["apply", "-f", "-", ...args], JSON.stringify(manifest));

  function nad(name: string, namespace = ns) {
    return {
      apiVersion: "k8s.cni.cncf.io/v1",
      kind: "NetworkAttachmentDefinition",
      metadata: { name, namespace },
      spec: { config: '{"cniVersion":"0.3.1","type":"bridge"}' },
    };
  }

  function ipPool(name: string, network: string, ipv4Config: Record<string, unknown>) {
    return {
      apiVersion: API_VERSION,
      kind: "IPPool",
      metadata: { name, namespace: ns },
      spec: { networkName: network, ipv4Config },
    };
  }

  type Nic = { networkName: string; macAddress: string; ipAddress?: string };
  function vmNetCfg(name: string, nics: Nic[], namespace = ns) {
    return {
      apiVersion: API_VERSION,
      kind: "VirtualMachineNetworkConfig",
      metadata: { name, namespace },
      spec: { vmName: name, networkConfigs: nics },
    };
  }

  async function patchStatus(kind: string, name: string, status: object, namespace = ns) {
    await mustKubectl(admin, [
      "patch",
      kind,
      name,
      "-n",
      namespace,
      "--subresource=status",
      "--type=merge",
      "-p",
      JSON.stringify({ status }),
    ]);
  }

  /** A pool the validating webhook always refuses: its network does not exist. */
  const probePool = () =>
    ipPool("probe", `${ns}/no-such-network`, {
      cidr: "203.0.113.0/24",
      serverIP: "203.0.113.2",
      pool: { start: "203.0.113.10", end: "203.0.113.20" },
    });
  const probeDenial = () =>
    createDenied(
      WEBHOOK.validatePool,
      `IPPool ${ns}/probe is invalid: spec.networkName: "${ns}/no-such-network" must name ` +
        `an existing NetworkAttachmentDefinition: ${ns}/no-such-network was not found`,
    );

  /**
   * Waits until the API server calls the webhook: it picks up a new or re-registered
   * configuration (URL, CA bundle) a moment after the webhook wrote it.
   */
  async function waitForAdmission(): Promise<void> {
    await eventually(
      "the API server calls the webhook",
      async () => outcome(await apply(probePool(), "--dry-run=server")).stderr,
      (stderr) => stderr === probeDenial(),
    );
  }

  async function startWebhook(extraArgs: readonly string[] = []): Promise<WebhookProcess> {
    const started = await startWebhookProcess({
      kubeconfig: cluster.kubeconfigs.webhook,
      httpsPort,
      httpPort,
      logFile: join(dir, "webhook.log"),
      args: [
        `--webhook-url=https://127.0.0.1:${httpsPort}`,
        `--namespace-selector=${SCOPE_LABEL}=${ns}`,
        `--service-cidr=${SERVICE_CIDR}`,
        `--cluster-cidr=${CLUSTER_CIDR}`,
        "--debug",
        ...extraArgs,
      ],
    });
    webhook = started;
    await waitForAdmission();
    return started;
  }

  async function stopWebhook(): Promise<void> {
    await webhook?.stop();
    webhook = undefined;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "vm-dhcp-webhook-test-"));
    [httpsPort, httpPort] = [await freePort(), await freePort()];
    ns = await createNamespace(admin, "wh");
    otherNs = await createNamespace(admin, "wh-other");
    for (const namespace of [ns, otherNs]) {
      await mustKubectl(admin, ["label", "namespace", namespace, `${SCOPE_LABEL}=${ns}`]);
    }
    await startWebhook();
  });

  afterAll(async () => {
    // Configurations first: with failurePolicy Fail, a stopped webhook must not be called.
    await admin([
      "delete",
      "--ignore-not-found",
      `validatingwebhookconfiguration/${CONFIGURATION_NAME}`,
      `mutatingwebhookconfiguration/${CONFIGURATION_NAME}`,
    ]);
    await stopWebhook();
    if (nodeName) await admin(["delete", "node", nodeName, "--ignore-not-found"]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe("registration", () => {
    it("registers both configurations for this file's namespaces, Fail, 10 s", async () => {
      const jsonpath =
        "jsonpath={range .webhooks[*]}{.name} {.clientConfig.url} {.failurePolicy} " +
        '{.timeoutSeconds} {.namespaceSelector.matchLabels}{"\\n"}{end}';
      const mutating = await mustKubectl(admin, [
        "get",
        `mutatingwebhookconfiguration/${CONFIGURATION_NAME}`,
        "-o",
        jsonpath,
      ]);
      const validating = await mustKubectl(admin, [
        "get",
        `validatingwebhookconfiguration/${CONFIGURATION_NAME}`,
        "-o",
        jsonpath,
      ]);
      const url = `https://127.0.0.1:${httpsPort}`;
      const selector = JSON.stringify({ [SCOPE_LABEL]: ns });
      expect(`${mutating}${validating}`.trimEnd().split("\n")).toEqual([
        `${WEBHOOK.mutatePool} ${url}/v1/mutate/ippools Fail 10 ${selector}`,
        `${WEBHOOK.validatePool} ${url}/v1/validate/ippools Fail 10 ${selector}`,
        `${WEBHOOK.validateVmNetCfg} ${url}/v1/validate/virtualmachinenetworkconfigs ` +
          `Fail 10 ${selector}`,
      ]);
    });

    it("leaves namespaces without the label alone", async () => {
      const unlabeled = await createNamespace(admin, "wh-unlabeled");
      const pool = { ...probePool(), metadata: { name: "probe", namespace: unlabeled } };
      const result = await apply(pool, "--dry-run=server");
      expect(outcome(result)).toEqual({ code: 0, stderr: "" });
      expect(result.stdout.trim()).toBe(
        "ippool.network.harvesterhci.io/probe created (server dry run)",
      );
    });
  });

  describe("RBAC of the webhook identity (least privilege)", () => {
    const tls = `secret/${TLS_SECRET}`;
    const configs = ["validatingwebhookconfiguration", "mutatingwebhookconfiguration"];
    it.each([
      { args: ["get", tls, "-n", SYSTEM_NAMESPACE], allowed: "yes", why: "reads its certificate" },
      { args: ["update", tls, "-n", SYSTEM_NAMESPACE], allowed: "yes", why: "stores a new one" },
      { args: ["get", "secret/other", "-n", SYSTEM_NAMESPACE], allowed: "no", why: "only its own" },
      { args: ["create", "secrets", "-n", SYSTEM_NAMESPACE], allowed: "no", why: "chart makes it" },
      { args: ["list", "secrets", "-A"], allowed: "no", why: "no secret listing" },
      ...configs.map((kind) => ({
        args: ["patch", `${kind}/${CONFIGURATION_NAME}`],
        allowed: "yes",
        why: "registers itself",
      })),
      ...configs.map((kind) => ({
        args: ["patch", `${kind}/someone-else`],
        allowed: "no",
        why: "only its own configuration",
      })),
      { args: ["delete", `${configs[0]}/${CONFIGURATION_NAME}`], allowed: "no", why: "never" },
      { args: ["list", "ippools.network.harvesterhci.io", "-A"], allowed: "yes", why: "reads" },
      { args: ["update", "ippools.network.harvesterhci.io", "-A"], allowed: "no", why: "writes" },
      {
        args: ["watch", "ippools.network.harvesterhci.io", "-A"],
        allowed: "no",
        why: "fresh reads",
      },
      {
        args: ["list", "virtualmachinenetworkconfigs.network.harvesterhci.io", "-A"],
        allowed: "yes",
        why: "delete protection",
      },
      {
        args: ["get", "network-attachment-definitions.k8s.cni.cncf.io", "-A"],
        allowed: "yes",
        why: "NAD must exist",
      },
      { args: ["watch", "nodes"], allowed: "yes", why: "rke2.io/node-args" },
      { args: ["update", "nodes"], allowed: "no", why: "read only" },
      { args: ["list", "pods", "-A"], allowed: "no", why: "nothing else" },
    ])("can-i $args.0 $args.1: $allowed ($why)", async ({ args, allowed }) => {
      const result = await webhookIdentity(["auth", "can-i", ...args]);
      expect(result.stdout.trim()).toBe(allowed);
    });
  });

  describe("IPPool create: defaults", () => {
    beforeAll(async () => {
      await mustKubectl(admin, ["apply", "-f", "-"], JSON.stringify(nad("net-defaults")));
    });

    it("fills pool.start, pool.end and serverIP, stores them and says what it set", async () => {
      const pool = ipPool("defaults", `${ns}/net-defaults`, {
        cidr: "192.0.2.0/24",
        router: "192.0.2.1",
        pool: { exclude: ["192.0.2.2"] },
      });
      const result = await apply(pool);
      expect(outcome(result)).toEqual({
        code: 0,
        stderr: [
          "Warning: spec.ipv4Config.pool.start set to 192.0.2.1, " +
            "the first usable address of 192.0.2.0/24",
          "Warning: spec.ipv4Config.pool.end set to 192.0.2.254, " +
            "the last usable address of 192.0.2.0/24",
          "Warning: spec.ipv4Config.serverIP set to 192.0.2.3, " +
            "the first free address of 192.0.2.0/24",
        ].join("\n"),
      });
      expect(result.stdout.trim()).toBe("ippool.network.harvesterhci.io/defaults created");

      const stored = await mustKubectl(admin, [
        "get",
        "ippool",
        "defaults",
        "-n",
        ns,
        "-o",
        "jsonpath={.spec.ipv4Config}",
      ]);
      expect(JSON.parse(stored)).toEqual({
        cidr: "192.0.2.0/24",
        router: "192.0.2.1",
        serverIP: "192.0.2.3",
        pool: { start: "192.0.2.1", end: "192.0.2.254", exclude: ["192.0.2.2"] },
      });
    });

    it("keeps the defaulted fields when the manifest replaces the pool", async () => {
      const pool = ipPool("reapplied", `${ns}/net-defaults-2`, { cidr: "198.51.100.0/24" });
      await mustKubectl(admin, ["apply", "-f", "-"], JSON.stringify(nad("net-defaults-2")));
      await mustKubectl(admin, ["create", "-f", "-"], JSON.stringify(pool));
      // A replace (PUT) of the original manifest carries none of the defaulted fields; the
      // mutating webhook puts the stored values back, so the immutable fields stay as they are.
      const labelled = { ...pool, metadata: { ...pool.metadata, labels: { again: "yes" } } };
      const again = await admin(["replace", "-f", "-"], JSON.stringify(labelled));
      expect(outcome(again)).toEqual({ code: 0, stderr: "" });
      expect(again.stdout.trim()).toBe("ippool.network.harvesterhci.io/reapplied replaced");
      const stored = await mustKubectl(admin, [
        "get",
        "ippool",
        "reapplied",
        "-n",
        ns,
        "-o",
        "jsonpath={.spec.ipv4Config} {.metadata.labels}",
      ]);
      const [config, labels] = stored.split(" ");
      expect(JSON.parse(config ?? "")).toEqual({
        cidr: "198.51.100.0/24",
        serverIP: "198.51.100.1",
        pool: { start: "198.51.100.1", end: "198.51.100.254" },
      });
      expect(JSON.parse(labels ?? "")).toEqual({ again: "yes" });
    });

    it("refuses a pool whose serverIP cannot be defaulted, naming the field", async () => {
      const pool = ipPool("no-room", `${ns}/net-defaults`, {
        cidr: "192.0.2.0/30",
        router: "192.0.2.1",
      });
      expect(outcome(await apply(pool))).toEqual({
        code: 1,
        stderr: createDenied(
          WEBHOOK.mutatePool,
          `IPPool ${ns}/no-room: spec.ipv4Config.serverIP: "" is not given and cannot be ` +
            "defaulted: every usable address of 192.0.2.0/30 is the router, excluded, the " +
            "range end or a VM's (set it explicitly)",
        ),
      });
    });
  });

  describe("IPPool create and update: validation", () => {
    /** A valid pool on `net-rules`; each test breaks one rule. */
    const VALID = {
      cidr: "192.0.2.64/26",
      serverIP: "192.0.2.66",
      router: "192.0.2.65",
      pool: { start: "192.0.2.70", end: "192.0.2.120" },
    };
    const invalid = (name: string, violation: string) =>
      createDenied(WEBHOOK.validatePool, `IPPool ${ns}/${name} is invalid: ${violation}`);

    beforeAll(async () => {
      for (const name of ["net-rules", "net-held", "net-orphan", "net-del"]) {
        await mustKubectl(admin, ["apply", "-f", "-"], JSON.stringify(nad(name)));
      }
    });

    it("requires the NetworkAttachmentDefinition to exist", async () => {
      const pool = ipPool("no-nad", `${ns}/net-missing`, VALID);
      expect(outcome(await apply(pool))).toEqual({
        code: 1,
        stderr: invalid(
          "no-nad",
          `spec.networkName: "${ns}/net-missing" must name an existing ` +
            `NetworkAttachmentDefinition: ${ns}/net-missing was not found`,
        ),
      });
    });

    it("refuses a second pool for a network that already has one", async () => {
      await mustKubectl(admin, ["apply", "-f", "-"], JSON.stringify(nad("net-shared")));
      const first = ipPool("first", `${ns}/net-shared`, VALID);
      await mustKubectl(admin, ["apply", "-f", "-"], JSON.stringify(first));
      const second = ipPool("second", `${ns}/net-shared`, VALID);
      expect(outcome(await apply(second))).toEqual({
        code: 1,
        stderr: invalid(
          "second",
          `spec.networkName: "${ns}/net-shared" must name a network no other IPPool serves: ` +
            `${ns}/net-shared is served by IPPool ${ns}/first`,
        ),
      });
    });

    it.each([
      { kind: "service CIDR", flag: "--service-cidr", cidr: "10.53.7.0/24", block: SERVICE_CIDR },
      {
        kind: "cluster (pod) CIDR",
        flag: "--cluster-cidr",
        cidr: "10.52.7.0/24",
        block: CLUSTER_CIDR,
      },
    ])(
      "refuses a CIDR overlapping the $kind given by $flag",
      async ({ kind, flag, cidr, block }) => {
        const prefix = cidr.slice(0, -4);
        const pool = ipPool("overlap", `${ns}/net-rules`, {
          cidr,
          serverIP: `${prefix}2`,
          pool: { start: `${prefix}10`, end: `${prefix}20` },
        });
        expect(outcome(await apply(pool))).toEqual({
          code: 1,
          stderr: invalid(
            "overlap",
            `spec.ipv4Config.cidr: "${cidr}" must not overlap the ${kind} ${block} ` +
              `(from flag ${flag})`,
          ),
        });
      },
    );

    it("reads the CIDRs from a node's rke2.io/node-args annotation before the flags", async () => {
      nodeName = `${ns}-node`;
      const args = ["server", "--cluster-cidr", "10.42.0.0/16", "--service-cidr=10.43.0.0/16"];
      const node = {
        apiVersion: "v1",
        kind: "Node",
        metadata: { name: nodeName, annotations: { "rke2.io/node-args": JSON.stringify(args) } },
      };
      await mustKubectl(admin, ["apply", "-f", "-"], JSON.stringify(node));
      const pool = (cidr: string) => {
        const prefix = cidr.slice(0, -4);
        return ipPool("annotated", `${ns}/net-rules`, {
          cidr,
          serverIP: `${prefix}2`,
          pool: { start: `${prefix}10`, end: `${prefix}20` },
        });
      };
      const source = `from node ${nodeName} annotation rke2.io/node-args`;
      const expected = (cidr: string, what: string) =>
        invalid(
          "annotated",
          `spec.ipv4Config.cidr: "${cidr}" must not overlap the ${what} (${source})`,
        );

      // The webhook learns of the node through its watch.
      await eventually(
        "the webhook sees the node",
        async () => outcome(await apply(pool("10.42.7.0/24"))).stderr,
        (stderr) => stderr === expected("10.42.7.0/24", "cluster (pod) CIDR 10.42.0.0/16"),
      );
      expect(outcome(await apply(pool("10.43.7.0/24")))).toEqual({
        code: 1,
        stderr: expected("10.43.7.0/24", "service CIDR 10.43.0.0/16"),
      });
      // The annotation replaces the flags: the flag's service CIDR is allowed now.
      const flagBlock = await apply(pool("10.53.7.0/24"), "--dry-run=server");
      expect(outcome(flagBlock)).toEqual({ code: 0, stderr: "" });

      await mustKubectl(admin, ["delete", "node", nodeName]);
      nodeName = "";
      await eventually(
        "the webhook falls back to the flags",
        async () => outcome(await apply(pool("10.53.7.0/24"), "--dry-run=server")).stderr,
        (stderr) => stderr.includes("(from flag --service-cidr)"),
      );
    });

    it.each([
      { field: "pool.start", change: { pool: { start: "192.0.2.10", end: "192.0.2.120" } } },
      { field: "pool.end", change: { pool: { start: "192.0.2.70", end: "192.0.2.200" } } },
      { field: "serverIP", change: { serverIP: "192.0.2.5" } },
      { field: "router", change: { router: "192.0.2.1" } },
    ])("refuses $field outside the CIDR", async ({ field, change }) => {
      const pool = ipPool("outside", `${ns}/net-rules`, { ...VALID, ...change });
      const value = field.startsWith("pool.")
        ? (change.pool as Record<string, string>)[field.slice(5)]
        : Object.values(change)[0];
      expect(outcome(await apply(pool))).toEqual({
        code: 1,
        stderr: invalid(
          "outside",
          `spec.ipv4Config.${field}: "${value}" must lie inside spec.ipv4Config.cidr 192.0.2.64/26`,
        ),
      });
    });

    it.each([
      {
        field: "pool.start",
        which: "network",
        change: { pool: { start: "192.0.2.64", end: "192.0.2.120" } },
      },
      {
        field: "pool.end",
        which: "broadcast",
        change: { pool: { start: "192.0.2.70", end: "192.0.2.127" } },
      },
      { field: "serverIP", which: "network", change: { serverIP: "192.0.2.64" } },
      { field: "router", which: "broadcast", change: { router: "192.0.2.127" } },
    ])("refuses $field on the $which address", async ({ field, which, change }) => {
      const pool = ipPool("edge", `${ns}/net-rules`, { ...VALID, ...change });
      const value = field.startsWith("pool.")
        ? (change.pool as Record<string, string>)[field.slice(5)]
        : Object.values(change)[0];
      expect(outcome(await apply(pool))).toEqual({
        code: 1,
        stderr: invalid(
          "edge",
          `spec.ipv4Config.${field}: "${value}" must not be the ${which} address of ` +
            "spec.ipv4Config.cidr 192.0.2.64/26",
        ),
      });
    });

    it("refuses a serverIP equal to the router", async () => {
      const pool = ipPool("same", `${ns}/net-rules`, { ...VALID, serverIP: "192.0.2.65" });
      expect(outcome(await apply(pool))).toEqual({
        code: 1,
        stderr: invalid(
          "same",
          'spec.ipv4Config.serverIP: "192.0.2.65" must differ from spec.ipv4Config.router',
        ),
      });
    });

    it("refuses an excluded serverIP", async () => {
      const pool = ipPool("excluded", `${ns}/net-rules`, {
        ...VALID,
        pool: { ...VALID.pool, exclude: ["192.0.2.80", "192.0.2.66"] },
      });
      expect(outcome(await apply(pool))).toEqual({
        code: 1,
        stderr: invalid(
          "excluded",
          'spec.ipv4Config.serverIP: "192.0.2.66" must not be an excluded address ' +
            "(spec.ipv4Config.pool.exclude[1])",
        ),
      });
    });

    describe("addresses a VM holds or asks for", () => {
      beforeAll(async () => {
        const asks = vmNetCfg("held-spec", [
          { networkName: "net-held", macAddress: "52:54:00:00:00:67", ipAddress: "192.0.2.67" },
        ]);
        const holds = vmNetCfg("held-status", [
          { networkName: "net-held", macAddress: "52:54:00:00:00:68" },
        ]);
        for (const config of [asks, holds]) {
          await mustKubectl(admin, ["apply", "-f", "-"], JSON.stringify(config));
        }
        await patchStatus("vmnetcfg", "held-status", {
          networkConfigs: [
            {
              allocatedIPAddress: "192.0.2.68",
              macAddress: "52:54:00:00:00:68",
              networkName: "net-held",
              state: "Allocated",
            },
          ],
        });
      });

      it.each([
        {
          how: "asked for in a vmnetcfg's spec",
          serverIP: "192.0.2.67",
          who: (namespace: string) =>
            `VirtualMachineNetworkConfig ${namespace}/held-spec asks for it for ` +
            "52:54:00:00:00:67 (spec.networkConfigs[0].ipAddress)",
        },
        {
          how: "allocated in a vmnetcfg's status",
          serverIP: "192.0.2.68",
          who: (namespace: string) =>
            `VirtualMachineNetworkConfig ${namespace}/held-status holds it for ` +
            "52:54:00:00:00:68 (status.networkConfigs[0].allocatedIPAddress)",
        },
      ])("is refused when $how", async ({ serverIP, who }) => {
        const pool = ipPool("held", `${ns}/net-held`, { ...VALID, serverIP });
        expect(outcome(await apply(pool))).toEqual({
          code: 1,
          stderr: invalid(
            "held",
            `spec.ipv4Config.serverIP: "${serverIP}" must not be an address of a VM: ${who(ns)}`,
          ),
        });
      });

      it("refuses excluding an address a vmnetcfg asks for", async () => {
        const pool = ipPool("held", `${ns}/net-held`, {
          ...VALID,
          pool: { ...VALID.pool, exclude: ["192.0.2.67"] },
        });
        expect(outcome(await apply(pool))).toEqual({
          code: 1,
          stderr: invalid(
            "held",
            'spec.ipv4Config.pool.exclude[0]: "192.0.2.67" must not be an address of a VM: ' +
              `VirtualMachineNetworkConfig ${ns}/held-spec asks for it for 52:54:00:00:00:67 ` +
              "(spec.networkConfigs[0].ipAddress)",
          ),
        });
      });
    });

    it("refuses an update that takes an allocated address, allows a harmless one", async () => {
      const base = {
        ...VALID,
        router: undefined,
        pool: { start: "192.0.2.70", end: "192.0.2.120" },
      };
      const pool = (router?: string) =>
        ipPool("orphan", `${ns}/net-orphan`, { ...base, ...(router ? { router } : {}) });
      await mustKubectl(admin, ["apply", "--server-side", "-f", "-"], JSON.stringify(pool()));
      await patchStatus("ippool", "orphan", {
        ipv4: { allocated: { "192.0.2.90": "52:54:00:00:00:90" } },
      });

      const refused = await admin(
        ["apply", "--server-side", "-f", "-"],
        JSON.stringify(pool("192.0.2.90")),
      );
      expect(outcome(refused)).toEqual({
        code: 1,
        stderr:
          `The request is invalid: admission webhook "${WEBHOOK.validatePool}" denied the ` +
          `request: IPPool ${ns}/orphan is invalid: spec.ipv4Config.router: "192.0.2.90" must ` +
          "not be an address of a VM: status.ipv4.allocated gives it to 52:54:00:00:00:90",
      });
      const allowed = await admin(
        ["apply", "--server-side", "-f", "-"],
        JSON.stringify(pool("192.0.2.65")),
      );
      expect(outcome(allowed)).toEqual({ code: 0, stderr: "" });
      expect(allowed.stdout.trim()).toBe(
        "ippool.network.harvesterhci.io/orphan serverside-applied",
      );
    });

    it("refuses deleting a pool while vmnetcfgs use its network, listing them", async () => {
      // The pool's name has nothing to do with its network: users are found through
      // spec.networkName, in any namespace, written bare or in full.
      const pool = ipPool("any-name", `${ns}/net-del`, VALID);
      await mustKubectl(admin, ["apply", "-f", "-"], JSON.stringify(pool));
      const users = [
        vmNetCfg("vm-bare", [{ networkName: "net-del", macAddress: "52:54:00:00:0d:01" }]),
        vmNetCfg(
          "vm-full",
          [{ networkName: `${ns}/net-del`, macAddress: "52:54:00:00:0d:02" }],
          otherNs,
        ),
        vmNetCfg("vm-elsewhere", [{ networkName: "net-rules", macAddress: "52:54:00:00:0d:03" }]),
      ];
      for (const config of users) {
        await mustKubectl(admin, ["apply", "-f", "-"], JSON.stringify(config));
      }
      const listed = [`${ns}/vm-bare`, `${otherNs}/vm-full`].sort((a, b) => a.localeCompare(b));

      const refused = await admin(["delete", "ippool", "any-name", "-n", ns]);
      expect(outcome(refused)).toEqual({
        code: 1,
        stderr:
          `Error from server (Forbidden): admission webhook "${WEBHOOK.validatePool}" denied ` +
          `the request: IPPool ${ns}/any-name cannot be deleted: spec.networkName: ` +
          `"${ns}/net-del" must not be in use when the IPPool is deleted: network ` +
          `${ns}/net-del is used by VirtualMachineNetworkConfig ${listed.join(", ")} ` +
          "(delete them or move their NICs first)",
      });

      await mustKubectl(admin, ["delete", "vmnetcfg", "vm-bare", "vm-elsewhere", "-n", ns]);
      await mustKubectl(admin, ["delete", "vmnetcfg", "vm-full", "-n", otherNs]);
      const deleted = await admin(["delete", "ippool", "any-name", "-n", ns]);
      expect(outcome(deleted)).toEqual({ code: 0, stderr: "" });
    });
  });

  describe("vmnetcfg create and update: validation", () => {
    const invalid = (name: string, violation: string) =>
      createDenied(
        WEBHOOK.validateVmNetCfg,
        `VirtualMachineNetworkConfig ${ns}/${name} is invalid: ${violation}`,
      );
    const poolName = () => `IPPool ${ns}/vm-pool`;

    beforeAll(async () => {
      for (const name of ["net-vm", "net-nopool"]) {
        await mustKubectl(admin, ["apply", "-f", "-"], JSON.stringify(nad(name)));
      }
      const pool = ipPool("vm-pool", `${ns}/net-vm`, {
        cidr: "192.0.2.128/26",
        serverIP: "192.0.2.130",
        router: "192.0.2.129",
        pool: { start: "192.0.2.140", end: "192.0.2.180", exclude: ["192.0.2.150"] },
      });
      await mustKubectl(admin, ["apply", "-f", "-"], JSON.stringify(pool));
      await patchStatus("ippool", "vm-pool", {
        ipv4: { allocated: { "192.0.2.160": "52:54:00:00:01:60", "192.0.2.150": "EXCLUDED" } },
      });
      const holder = vmNetCfg("vm-holder", [
        { networkName: "net-vm", macAddress: "52:54:00:00:01:70", ipAddress: "192.0.2.170" },
      ]);
      await mustKubectl(admin, ["apply", "-f", "-"], JSON.stringify(holder));
    });

    it.each([
      {
        mac: "52-54-00-00-01-01",
        rule: "must be six hex pairs separated by colons, such as 52:54:00:12:34:56",
      },
      {
        mac: "01:00:5e:00:00:01",
        rule: "must be a unicast address: the least significant bit of the first octet is set",
      },
      { mac: "00:00:00:00:00:00", rule: "must not be the all-zero address" },
    ])("refuses the MAC $mac", async ({ mac, rule }) => {
      const config = vmNetCfg("bad-mac", [{ networkName: "net-vm", macAddress: mac }]);
      expect(outcome(await apply(config))).toEqual({
        code: 1,
        stderr: invalid("bad-mac", `spec.networkConfigs[0].macAddress: "${mac}" ${rule}`),
      });
    });

    it("refuses a MAC twice in one object, whatever its case", async () => {
      const config = vmNetCfg("dup-mac", [
        { networkName: "net-vm", macAddress: "52:54:00:aa:01:01" },
        { networkName: "net-nopool", macAddress: "52:54:00:AA:01:01" },
      ]);
      expect(outcome(await apply(config))).toEqual({
        code: 1,
        stderr:
          `Warning: spec.networkConfigs[1] on network ${ns}/net-nopool is unmanaged: no IPPool ` +
          `has spec.networkName ${ns}/net-nopool\n${invalid(
            "dup-mac",
            'spec.networkConfigs[1].macAddress: "52:54:00:AA:01:01" must be unique in the ' +
              "object: spec.networkConfigs[0].macAddress has it too",
          )}`,
      });
    });

    it.each([
      {
        ip: "192.0.2.10",
        rule: (pool: string) => `must lie inside 192.0.2.128/26, the CIDR of ${pool}`,
      },
      {
        ip: "192.0.2.128",
        rule: (pool: string) =>
          `must not be the network address of 192.0.2.128/26, the CIDR of ${pool}`,
      },
      {
        ip: "192.0.2.191",
        rule: (pool: string) =>
          `must not be the broadcast address of 192.0.2.128/26, the CIDR of ${pool}`,
      },
      {
        ip: "192.0.2.130",
        rule: (pool: string) =>
          `must not be the DHCP server address of ${pool} (spec.ipv4Config.serverIP)`,
      },
      {
        ip: "192.0.2.129",
        rule: (pool: string) =>
          `must not be the router address of ${pool} (spec.ipv4Config.router)`,
      },
      {
        ip: "192.0.2.150",
        rule: (pool: string) =>
          `must not be an address excluded by ${pool} (spec.ipv4Config.pool.exclude[0])`,
      },
      {
        ip: "192.0.2.160",
        rule: (pool: string) =>
          `must not be held by another MAC: ${pool} status.ipv4.allocated gives it to ` +
          "52:54:00:00:01:60",
      },
      {
        ip: "192.0.2.170",
        rule: () =>
          `must not be held by another MAC: VirtualMachineNetworkConfig ${ns}/vm-holder asks ` +
          "for it for 52:54:00:00:01:70 (spec.networkConfigs[0].ipAddress)",
      },
    ])("refuses the static ipAddress $ip", async ({ ip, rule }) => {
      const config = vmNetCfg("bad-ip", [
        { networkName: "net-vm", macAddress: "52:54:00:00:02:01", ipAddress: ip },
      ]);
      expect(outcome(await apply(config))).toEqual({
        code: 1,
        stderr: invalid("bad-ip", `spec.networkConfigs[0].ipAddress: "${ip}" ${rule(poolName())}`),
      });
    });

    it("accepts the address its own MAC holds, and a free one", async () => {
      const config = vmNetCfg("own-ip", [
        { networkName: "net-vm", macAddress: "52:54:00:00:01:60", ipAddress: "192.0.2.160" },
        { networkName: "net-vm", macAddress: "52:54:00:00:01:61", ipAddress: "192.0.2.161" },
      ]);
      const result = await apply(config);
      expect(outcome(result)).toEqual({ code: 0, stderr: "" });
      expect(result.stdout.trim()).toBe(
        "virtualmachinenetworkconfig.network.harvesterhci.io/own-ip created",
      );
    });

    it("reports NICs whose network has no pool as unmanaged, refusing nothing", async () => {
      const config = vmNetCfg("mixed", [
        { networkName: "net-nopool", macAddress: "52:54:00:00:03:01" },
        { networkName: "net-vm", macAddress: "52:54:00:00:03:02", ipAddress: "192.0.2.176" },
        { networkName: "net-absent", macAddress: "52:54:00:00:03:03", ipAddress: "198.51.100.7" },
      ]);
      const result = await apply(config);
      expect(outcome(result)).toEqual({
        code: 0,
        stderr: [
          `Warning: spec.networkConfigs[0] on network ${ns}/net-nopool is unmanaged: no IPPool ` +
            `has spec.networkName ${ns}/net-nopool`,
          `Warning: spec.networkConfigs[2] on network ${ns}/net-absent is unmanaged: ` +
            `NetworkAttachmentDefinition ${ns}/net-absent does not exist and no IPPool serves it`,
        ].join("\n"),
      });
      expect(result.stdout.trim()).toBe(
        "virtualmachinenetworkconfig.network.harvesterhci.io/mixed created",
      );
    });

    it("judges an update by what it changes", async () => {
      const config = (ip: string) =>
        vmNetCfg("updated", [
          { networkName: "net-vm", macAddress: "52:54:00:00:04:01", ipAddress: ip },
        ]);
      await mustKubectl(
        admin,
        ["apply", "--server-side", "-f", "-"],
        JSON.stringify(config("192.0.2.177")),
      );
      const refused = await admin(
        ["apply", "--server-side", "-f", "-"],
        JSON.stringify(config("192.0.2.130")),
      );
      expect(outcome(refused)).toEqual({
        code: 1,
        stderr:
          `The request is invalid: admission webhook "${WEBHOOK.validateVmNetCfg}" denied the ` +
          `request: VirtualMachineNetworkConfig ${ns}/updated is invalid: ` +
          `spec.networkConfigs[0].ipAddress: "192.0.2.130" must not be the DHCP server ` +
          `address of ${poolName()} (spec.ipv4Config.serverIP)`,
      });
    });
  });

  it("counts the reviews it answered on /metrics", async () => {
    const { status, body } = await httpGet(httpPort, "/metrics");
    expect(status).toBe(200);
    const count = (webhook: string, operation: string, allowed: boolean) => {
      const labels = `webhook="${webhook}",operation="${operation}",allowed="${allowed}"`;
      const line = body
        .split("\n")
        .find((text) => text.startsWith(`vmdhcpwebhook_admission_reviews_total{${labels}}`));
      return Number(line?.split(" ")[1] ?? 0);
    };
    // The vmnetcfg tests above were refused twelve creates: three MACs, one duplicate and
    // eight static addresses.
    expect(count(WEBHOOK.validateVmNetCfg, "CREATE", false)).toBeGreaterThanOrEqual(12);
    expect(count(WEBHOOK.validatePool, "DELETE", false)).toBeGreaterThanOrEqual(1);
    expect(count(WEBHOOK.mutatePool, "CREATE", true)).toBeGreaterThanOrEqual(1);
    const total = (name: string) =>
      body
        .split("\n")
        .filter((line) =>
          line.startsWith(`vmdhcpwebhook_admission_review_duration_seconds_${name}{`),
        )
        .reduce((sum, line) => sum + Number(line.split(" ")[1]), 0);
    const reviews = total("count");
    expect(reviews).toBeGreaterThan(0);
    // A figure for the timeout choice, not a pass/fail bound: the machine is shared.
    console.info(
      `webhook: ${reviews} reviews answered, ` +
        `mean ${((total("sum") / reviews) * 1000).toFixed(1)} ms each`,
    );
  });

  describe("serving certificate", () => {
    async function secretCertificate(): Promise<{ cert: string; ca: string }> {
      const out = await mustKubectl(admin, [
        "get",
        `secret/${TLS_SECRET}`,
        "-n",
        SYSTEM_NAMESPACE,
        "-o",
        "json",
      ]);
      const data = (JSON.parse(out) as { data: Record<string, string> }).data;
      const text = (key: string) => Buffer.from(data[key] ?? "", "base64").toString("utf8");
      return { cert: text("tls.crt"), ca: text("ca.crt") };
    }

    /** The CA bundles of all three webhooks, decoded. */
    async function caBundles(): Promise<string[]> {
      const bundles: string[] = [];
      for (const kind of ["mutatingwebhookconfiguration", "validatingwebhookconfiguration"]) {
        const out = await mustKubectl(admin, [
          "get",
          `${kind}/${CONFIGURATION_NAME}`,
          "-o",
          'jsonpath={range .webhooks[*]}{.clientConfig.caBundle}{"\\n"}{end}',
        ]);
        for (const line of out.trim().split("\n")) {
          bundles.push(Buffer.from(line, "base64").toString("utf8"));
        }
      }
      return bundles;
    }

    it("makes its certificate, keeps it in a Secret, serves it again after a restart", async () => {
      expect(webhook?.readiness.checks.tls).toBe("created");
      const stored = await secretCertificate();
      const before = await servedCertificate(httpsPort);
      expect(fingerprint(before)).toBe(fingerprint(stored.cert));
      expect(new X509Certificate(before).checkIP("127.0.0.1")).toBe("127.0.0.1");

      await stopWebhook();
      const restarted = await startWebhook();
      expect(restarted.readiness.checks.tls).toBe("reused");
      const after = await servedCertificate(httpsPort);
      expect(fingerprint(after)).toBe(fingerprint(before));

      // The registered bundle is the stored CA, and it still vouches for what is served.
      const bundles = await caBundles();
      expect(bundles).toEqual([stored.ca, stored.ca, stored.ca]);
      expect(new X509Certificate(after).verify(new X509Certificate(stored.ca).publicKey)).toBe(
        true,
      );
      expect(outcome(await apply(probePool()))).toEqual({ code: 1, stderr: probeDenial() });
    });

    it("exits with the reason when it may not use its Secret", async () => {
      const result = await runWebhookToExit(
        {
          kubeconfig: cluster.kubeconfigs.webhook,
          httpsPort: await freePort(),
          httpPort: await freePort(),
          args: ["--tls-secret-name=someone-elses", "--no-register"],
          // A webhook that idles instead of exiting is killed here and fails the comparison.
        },
        15_000,
      );
      // The logs go to stderr too; the error is the last line.
      const lastLine = result.stderr.trimEnd().split("\n").at(-1);
      expect({ code: result.code, lastLine }).toEqual({
        code: 2,
        lastLine:
          `vm-dhcp: cannot read Secret ${SYSTEM_NAMESPACE}/someone-elses: secrets ` +
          '"someone-elses" is forbidden: User "system:serviceaccount:harvester-system:' +
          'vm-dhcp-webhook" cannot get resource "secrets" in API group "" in the namespace ' +
          `"${SYSTEM_NAMESPACE}"`,
      });
    });

    it("serves a given certificate and registers the given CA", async () => {
      const certs = await generateCerts(await mkdtemp(join(dir, "given-")));
      const stored = await secretCertificate();
      await stopWebhook();
      const restarted = await startWebhook([
        `--tls-cert-file=${certs.serverCert}`,
        `--tls-key-file=${certs.serverKey}`,
        `--tls-ca-file=${certs.caCert}`,
      ]);
      expect(restarted.readiness.checks.tls).toBe("files");
      const served = await servedCertificate(httpsPort);
      expect(fingerprint(served)).toBe(fingerprint(await readFile(certs.serverCert)));
      const ca = await readFile(certs.caCert, "utf8");
      expect(await caBundles()).toEqual([ca, ca, ca]);
      // startWebhook waited for the API server to call it with the new bundle.
      expect(outcome(await apply(probePool()))).toEqual({ code: 1, stderr: probeDenial() });
      // The Secret is left as it was.
      expect(await secretCertificate()).toEqual(stored);
    });
  });
});
