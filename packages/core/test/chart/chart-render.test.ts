/**
 * The Helm chart (deploy/charts/vm-dhcp) through `helm lint` and `helm template`: what it
 * renders with its defaults and how each value reaches the objects. The same manifests are
 * applied to the real API server in chart-cluster.test.ts.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { webhookConfigurations } from "../../src/webhook/registration.js";
import { REPO_ROOT } from "../cluster/binaries.js";
import { runCommand } from "../cluster/process.js";
import {
  CHART_DIR,
  describeWithHelm,
  ensureHelm,
  findManifest,
  type Manifest,
  parseManifests,
  renderChart,
  runHelm,
} from "./helm.js";

const found = await ensureHelm();
const helm = found.ok ? found.helm : "";
const NS = "harvester-system";
const SERVICE_MONITOR_API = "--api-versions=monitoring.coreos.com/v1/ServiceMonitor";
const POD_MONITOR_API = "--api-versions=monitoring.coreos.com/v1/PodMonitor";
/** The controller's variables for the agent pods' pull secrets and placement. */
const PLACEMENT_ENV = [
  "AGENT_IMAGE_PULL_SECRETS",
  "AGENT_RESOURCES",
  "AGENT_TOLERATIONS",
  "AGENT_NODE_SELECTOR",
  "AGENT_PRIORITY_CLASS_NAME",
];

/** `helm template vm-dhcp` in harvester-system, as the SPEC installs it, parsed. */
async function render(...extra: string[]): Promise<Manifest[]> {
  return parseManifests(await renderChart(helm, "vm-dhcp", NS, extra));
}

const containerOf = (deployment: Manifest) => deployment.spec.template.spec.containers[0];
const envOf = (deployment: Manifest) =>
  Object.fromEntries(
    (containerOf(deployment).env as { name: string; value?: string; valueFrom?: unknown }[]).map(
      (e) => [e.name, e.value ?? e.valueFrom],
    ),
  );

describeWithHelm("Helm chart", found, () => {
  describe("helm lint", () => {
    it.each([
      { why: "defaults", set: [] },
      { why: "without the webhook", set: ["--set", "webhook.enabled=false"] },
      { why: "ServiceMonitor forced", set: ["--set", "metrics.serviceMonitor.force=true"] },
      { why: "PodMonitor forced", set: ["--set", "metrics.podMonitor.force=true"] },
      {
        why: "agent placement set",
        set: [
          ...["--set", "imagePullSecrets[0].name=regcred,agent.nodeSelector.zone=a"],
          ...["--set", "agent.tolerations[0].operator=Exists,agent.priorityClassName=high"],
        ],
      },
      { why: "no metrics Service", set: ["--set", "metrics.service.enabled=false"] },
    ])("passes --strict ($why)", async ({ set }) => {
      const result = await runHelm(helm, ["lint", "--strict", CHART_DIR, ...set]);
      expect(result.stderr).toBe("");
      expect(result.stdout).toContain("1 chart(s) linted, 0 chart(s) failed");
      expect(result.code).toBe(0);
    });
  });

  describe("helm template with the defaults", () => {
    let objects: Manifest[] = [];
    beforeAll(async () => {
      objects = await render();
    });

    it("renders every object the SPEC's chart holds, and no monitors without their APIs", () => {
      const names = objects.map((m) => `${m.kind}/${m.metadata.name}`).sort();
      expect(names).toEqual(
        [
          "ClusterRole/vm-dhcp-controller",
          "ClusterRole/vm-dhcp-webhook",
          "ClusterRoleBinding/vm-dhcp-controller",
          "ClusterRoleBinding/vm-dhcp-webhook",
          "Deployment/vm-dhcp-controller",
          "Deployment/vm-dhcp-webhook",
          "MutatingWebhookConfiguration/vm-dhcp-webhook",
          "Role/vm-dhcp-controller",
          "Role/vm-dhcp-webhook",
          "RoleBinding/vm-dhcp-controller",
          "RoleBinding/vm-dhcp-webhook",
          "Secret/vm-dhcp-webhook-tls",
          "Service/vm-dhcp-controller-metrics",
          "Service/vm-dhcp-webhook",
          "ServiceAccount/vm-dhcp-agent",
          "ServiceAccount/vm-dhcp-controller",
          "ServiceAccount/vm-dhcp-webhook",
          "ValidatingWebhookConfiguration/vm-dhcp-webhook",
        ].sort(),
      );
    });

    it("puts every namespaced object in the release namespace", () => {
      const clusterScoped = /^(ClusterRole|ClusterRoleBinding|\w+WebhookConfiguration)$/;
      for (const m of objects.filter((o) => !clusterScoped.test(o.kind))) {
        expect(m.metadata.namespace, `${m.kind}/${m.metadata.name}`).toBe(NS);
      }
    });

    it("runs the controller with leader election, the agent settings and port 8080", () => {
      const deployment = findManifest(objects, "Deployment", "vm-dhcp-controller");
      const container = containerOf(deployment);
      expect(container.args).toEqual(["controller", "--name=vm-dhcp-controller"]);
      expect(container.args).not.toContain("--no-leader-election");
      expect(envOf(deployment)).toMatchObject({
        POD_NAME: { fieldRef: { fieldPath: "metadata.name" } },
        AGENT_NAMESPACE: { fieldRef: { fieldPath: "metadata.namespace" } },
        AGENT_IMAGE: "vm-dhcp/vm-dhcp:0.1.0",
        AGENT_INIT_IMAGE: "vm-dhcp/vm-dhcp:0.1.0",
        AGENT_SERVICE_ACCOUNT_NAME: "vm-dhcp-agent",
      });
      expect(container.ports).toEqual([{ name: "http", containerPort: 8080, protocol: "TCP" }]);
      expect(container.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "http" });
      expect(container.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "http" });
      expect(deployment.spec.template.spec.serviceAccountName).toBe("vm-dhcp-controller");
    });

    it("gives the agent pods small requests and nothing else of placement", () => {
      const env = envOf(findManifest(objects, "Deployment", "vm-dhcp-controller"));
      const placement = Object.keys(env).filter((name) => PLACEMENT_ENV.includes(name));
      expect(placement).toEqual(["AGENT_RESOURCES"]);
      expect(JSON.parse(String(env.AGENT_RESOURCES))).toEqual({
        requests: { cpu: "10m", memory: "64Mi" },
      });
    });

    it("runs the controller and webhook as non-root with no capabilities", () => {
      for (const name of ["vm-dhcp-controller", "vm-dhcp-webhook"]) {
        const pod = findManifest(objects, "Deployment", name).spec.template.spec;
        expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532 });
        expect(pod.containers[0].securityContext).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ["ALL"] },
        });
      }
    });

    it("fronts the webhook with a Service on 443 that matches its pods", () => {
      const service = findManifest(objects, "Service", "vm-dhcp-webhook");
      const deployment = findManifest(objects, "Deployment", "vm-dhcp-webhook");
      expect(service.spec.ports).toContainEqual({
        name: "https",
        port: 443,
        targetPort: "https",
        protocol: "TCP",
      });
      expect(deployment.spec.template.metadata.labels).toMatchObject(service.spec.selector);
      expect(containerOf(deployment).args).toEqual([
        "webhook",
        "--name=vm-dhcp-webhook",
        `--namespace=${NS}`,
        "--service-name=vm-dhcp-webhook",
        "--service-port=443",
        "--tls-secret-name=vm-dhcp-webhook-tls",
        "--https-port=8443",
        "--service-cidr=10.53.0.0/16",
        "--cluster-cidr=10.52.0.0/16",
      ]);
    });

    it("renders the webhook configurations the webhook registers, less the CA bundle", () => {
      const made = webhookConfigurations({
        name: "vm-dhcp-webhook",
        endpoint: { service: { namespace: NS, name: "vm-dhcp-webhook", port: 443 } },
        caBundlePem: "",
      });
      const withoutCa = (config: Manifest | object) =>
        (config as Manifest).webhooks.map((hook: { clientConfig: object }) => {
          const { caBundle: _ca, ...clientConfig } = hook.clientConfig as { caBundle?: string };
          return { ...hook, clientConfig };
        });
      const mutating = findManifest(objects, "MutatingWebhookConfiguration", "vm-dhcp-webhook");
      const validating = findManifest(objects, "ValidatingWebhookConfiguration", "vm-dhcp-webhook");
      expect(withoutCa(mutating)).toEqual(withoutCa(made.mutating));
      expect(withoutCa(validating)).toEqual(withoutCa(made.validating));
    });

    it("creates the webhook's Secret without data, so upgrades keep its certificate", () => {
      const secret = findManifest(objects, "Secret", "vm-dhcp-webhook-tls");
      expect(secret.type).toBe("Opaque");
      expect(secret.data).toBeUndefined();
    });

    it("selects the controller pods with the metrics Service", () => {
      const service = findManifest(objects, "Service", "vm-dhcp-controller-metrics");
      const deployment = findManifest(objects, "Deployment", "vm-dhcp-controller");
      expect(deployment.spec.template.metadata.labels).toMatchObject(service.spec.selector);
      expect(service.spec.ports).toEqual([
        { name: "http", port: 8080, targetPort: "http", protocol: "TCP" },
      ]);
    });
  });

  describe("ServiceMonitor", () => {
    it.each([
      { why: "the API is served", set: [SERVICE_MONITOR_API], rendered: true },
      { why: "forced", set: ["--set", "metrics.serviceMonitor.force=true"], rendered: true },
      {
        why: "disabled although the API is served",
        set: [SERVICE_MONITOR_API, "--set", "metrics.serviceMonitor.enabled=false"],
        rendered: false,
      },
      {
        why: "no metrics Service to scrape",
        set: [SERVICE_MONITOR_API, "--set", "metrics.service.enabled=false"],
        rendered: false,
      },
    ])("rendered: $rendered when $why", async ({ set, rendered }) => {
      const monitors = (await render(...set)).filter((m) => m.kind === "ServiceMonitor");
      expect(monitors.length).toBe(rendered ? 1 : 0);
      if (rendered) {
        expect(monitors[0]!.spec.endpoints).toEqual([
          { port: "http", path: "/metrics", interval: "30s" },
        ]);
      }
    });
  });

  describe("PodMonitor", () => {
    it.each([
      { why: "the API is served", set: [POD_MONITOR_API], rendered: true },
      { why: "forced", set: ["--set", "metrics.podMonitor.force=true"], rendered: true },
      {
        why: "disabled although the API is served",
        set: [POD_MONITOR_API, "--set", "metrics.podMonitor.enabled=false"],
        rendered: false,
      },
      {
        why: "only the ServiceMonitor API is served",
        set: [SERVICE_MONITOR_API],
        rendered: false,
      },
    ])("rendered: $rendered when $why", async ({ set, rendered }) => {
      const monitors = (await render(...set)).filter((m) => m.kind === "PodMonitor");
      expect(monitors.length).toBe(rendered ? 1 : 0);
    });

    it("scrapes the agent pods of the release namespace on their port metrics", async () => {
      const objects = await render(POD_MONITOR_API, "--set", "metrics.podMonitor.labels.team=net");
      const monitor = findManifest(objects, "PodMonitor", "vm-dhcp-agent");
      expect(monitor.metadata.namespace).toBe(NS);
      expect(monitor.metadata.labels).toMatchObject({ team: "net" });
      expect(monitor.spec).toEqual({
        namespaceSelector: { matchNames: [NS] },
        selector: { matchLabels: { "network.harvesterhci.io/vm-dhcp-controller": "agent" } },
        podMetricsEndpoints: [{ port: "metrics", path: "/metrics", interval: "30s" }],
      });
    });
  });

  describe("values", () => {
    it.each([
      {
        why: "image repository and tag reach both roles and the agent pods",
        set: "image.repository=registry.example/vm-dhcp,image.tag=2",
        check: (objects: Manifest[]) => {
          for (const name of ["vm-dhcp-controller", "vm-dhcp-webhook"]) {
            const deployment = findManifest(objects, "Deployment", name);
            expect(containerOf(deployment).image).toBe("registry.example/vm-dhcp:2");
          }
          const controller = findManifest(objects, "Deployment", "vm-dhcp-controller");
          expect(envOf(controller).AGENT_IMAGE).toBe("registry.example/vm-dhcp:2");
        },
      },
      {
        why: "the agent image can differ from the controller's",
        set: "agent.image.repository=registry.example/agent,agent.image.tag=9",
        check: (objects: Manifest[]) => {
          const controller = findManifest(objects, "Deployment", "vm-dhcp-controller");
          expect(envOf(controller).AGENT_IMAGE).toBe("registry.example/agent:9");
          expect(envOf(controller).AGENT_INIT_IMAGE).toBe("registry.example/agent:9");
          expect(containerOf(controller).image).toBe("vm-dhcp/vm-dhcp:0.1.0");
        },
      },
      {
        why: "the init step may use its own image",
        set: "agent.initImage=registry.example/busybox:1.36",
        check: (objects: Manifest[]) => {
          const controller = findManifest(objects, "Deployment", "vm-dhcp-controller");
          expect(envOf(controller).AGENT_INIT_IMAGE).toBe("registry.example/busybox:1.36");
          expect(envOf(controller).AGENT_IMAGE).toBe("vm-dhcp/vm-dhcp:0.1.0");
        },
      },
      {
        why: "resources, node selector and tolerations are per role",
        set:
          "controller.resources.limits.memory=1Gi,controller.nodeSelector.zone=a," +
          "webhook.tolerations[0].key=dedicated,webhook.tolerations[0].operator=Exists",
        check: (objects: Manifest[]) => {
          const controller = findManifest(objects, "Deployment", "vm-dhcp-controller");
          const webhook = findManifest(objects, "Deployment", "vm-dhcp-webhook");
          expect(containerOf(controller).resources.limits).toEqual({ memory: "1Gi" });
          expect(controller.spec.template.spec.nodeSelector).toEqual({ zone: "a" });
          expect(controller.spec.template.spec.tolerations).toBeUndefined();
          expect(webhook.spec.template.spec.tolerations).toEqual([
            { key: "dedicated", operator: "Exists" },
          ]);
          expect(webhook.spec.template.spec.nodeSelector).toBeUndefined();
        },
      },
      {
        why: "pull secrets and agent placement reach the agent pods through the controller",
        set:
          "imagePullSecrets[0].name=regcred,imagePullSecrets[1].name=mirror," +
          "agent.resources.limits.memory=256Mi,agent.nodeSelector.dhcp=true," +
          "agent.tolerations[0].key=dedicated,agent.tolerations[0].operator=Equal," +
          "agent.tolerations[0].value=dhcp,agent.tolerations[0].effect=NoSchedule," +
          "agent.priorityClassName=system-cluster-critical",
        check: (objects: Manifest[]) => {
          const controller = findManifest(objects, "Deployment", "vm-dhcp-controller");
          const env = envOf(controller);
          // The chart's own pods keep the pull secrets too.
          expect(controller.spec.template.spec.imagePullSecrets).toEqual([
            { name: "regcred" },
            { name: "mirror" },
          ]);
          expect(env.AGENT_IMAGE_PULL_SECRETS).toBe("regcred,mirror");
          expect(JSON.parse(String(env.AGENT_RESOURCES))).toEqual({
            requests: { cpu: "10m", memory: "64Mi" },
            limits: { memory: "256Mi" },
          });
          expect(JSON.parse(String(env.AGENT_TOLERATIONS))).toEqual([
            { key: "dedicated", operator: "Equal", value: "dhcp", effect: "NoSchedule" },
          ]);
          // --set makes `true` a boolean; a node selector needs the string.
          expect(JSON.parse(String(env.AGENT_NODE_SELECTOR))).toEqual({ dhcp: "true" });
          expect(env.AGENT_PRIORITY_CLASS_NAME).toBe("system-cluster-critical");
          // The controller's own placement is another matter.
          expect(controller.spec.template.spec.nodeSelector).toBeUndefined();
          expect(controller.spec.template.spec.priorityClassName).toBeUndefined();
        },
      },
      {
        why: "agent.resources=null gives the agent pods no resources at all",
        set: "agent.resources=null",
        check: (objects: Manifest[]) => {
          const env = envOf(findManifest(objects, "Deployment", "vm-dhcp-controller"));
          expect(Object.keys(env).filter((name) => PLACEMENT_ENV.includes(name))).toEqual([]);
        },
      },
      {
        why: "the service and cluster CIDRs reach the webhook",
        set: "serviceCIDR=10.43.0.0/16,clusterCIDR=10.42.0.0/16",
        check: (objects: Manifest[]) => {
          const args = containerOf(findManifest(objects, "Deployment", "vm-dhcp-webhook")).args;
          expect(args).toContain("--service-cidr=10.43.0.0/16");
          expect(args).toContain("--cluster-cidr=10.42.0.0/16");
        },
      },
      {
        why: "the namespace selector reaches the webhook and its configurations",
        set: "webhook.namespaceSelector.vm-dhcp=enabled",
        check: (objects: Manifest[]) => {
          const args = containerOf(findManifest(objects, "Deployment", "vm-dhcp-webhook")).args;
          expect(args).toContain("--namespace-selector=vm-dhcp=enabled");
          const config = findManifest(objects, "ValidatingWebhookConfiguration", "vm-dhcp-webhook");
          for (const hook of config.webhooks) {
            expect(hook.namespaceSelector).toEqual({ matchLabels: { "vm-dhcp": "enabled" } });
          }
        },
      },
      {
        why: "noDhcp, cache dump and debug flags reach the controller",
        set: "controller.noDhcp=true,controller.enableCacheDumpApi=true,controller.debug=true",
        check: (objects: Manifest[]) => {
          const controller = findManifest(objects, "Deployment", "vm-dhcp-controller");
          expect(containerOf(controller).args).toEqual([
            "controller",
            "--name=vm-dhcp-controller",
            "--no-dhcp",
            "--enable-cache-dump-api",
          ]);
          expect(envOf(controller).VM_DHCP_CONTROLLER_DEBUG).toBe("true");
        },
      },
      {
        why: "webhook.enabled=false leaves out every webhook object",
        set: "webhook.enabled=false",
        check: (objects: Manifest[]) => {
          const webhookObjects = objects.filter(
            (m) => m.metadata.labels?.["app.kubernetes.io/component"] === "webhook",
          );
          expect(webhookObjects).toEqual([]);
          expect(objects.some((m) => m.kind === "Deployment")).toBe(true);
        },
      },
    ])("$why", async ({ set, check }) => {
      check(await render("--set", set));
    });

    it("names objects <release>-vm-dhcp-* for a release not named after the chart", async () => {
      const objects = parseManifests(await renderChart(helm, "dhcp", NS));
      const accounts = objects.filter((m) => m.kind === "ServiceAccount");
      expect(accounts.map((m) => m.metadata.name).sort()).toEqual([
        "dhcp-vm-dhcp-agent",
        "dhcp-vm-dhcp-controller",
        "dhcp-vm-dhcp-webhook",
      ]);
    });

    it("packages the CRDs as files, byte for byte those of deploy/crds", async () => {
      const dir = await mkdtemp(join(tmpdir(), "vm-dhcp-pkg-package-"));
      try {
        const packaged = await runHelm(helm, ["package", CHART_DIR, "-d", dir]);
        expect(packaged.code).toBe(0);
        const archive = join(dir, "vm-dhcp-0.1.0.tgz");
        for (const name of [
          "network.harvesterhci.io_ippools.yaml",
          "network.harvesterhci.io_virtualmachinenetworkconfigs.yaml",
        ]) {
          const inside = await runCommand("tar", ["-xzOf", archive, `vm-dhcp/crds/${name}`]);
          expect(inside.code).toBe(0);
          const source = await readFile(join(REPO_ROOT, "deploy", "crds", name), "utf8");
          expect(inside.stdout).toBe(source);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it("requires Kubernetes 1.28, the first whose CRD rules know fieldPath", async () => {
      const crds = await Promise.all(
        ["ippools", "virtualmachinenetworkconfigs"].map((plural) =>
          readFile(
            join(REPO_ROOT, "deploy", "crds", `network.harvesterhci.io_${plural}.yaml`),
            "utf8",
          ),
        ),
      );
      expect(crds.some((crd) => /^\s+fieldPath: /m.test(crd))).toBe(true);
      const old = await runHelm(helm, ["template", "vm-dhcp", CHART_DIR, "--kube-version=1.27.16"]);
      expect(old.code).not.toBe(0);
      expect(old.stderr).toContain("chart requires kubeVersion: >=1.28.0-0");
      const ok = await runHelm(helm, ["template", "vm-dhcp", CHART_DIR, "--kube-version=1.28.0"]);
      expect(ok.code).toBe(0);
    });

    it("ships both CRDs of deploy/crds with --include-crds", async () => {
      const objects = parseManifests(await renderChart(helm, "vm-dhcp", NS, ["--include-crds"]));
      const crds = objects.filter((m) => m.kind === "CustomResourceDefinition");
      expect(crds.map((m) => m.metadata.name).sort()).toEqual([
        "ippools.network.harvesterhci.io",
        "virtualmachinenetworkconfigs.network.harvesterhci.io",
      ]);
    });
  });
});
