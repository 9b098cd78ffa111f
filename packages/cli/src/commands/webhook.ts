import type { V1LabelSelector } from "@kubernetes/client-node";
import {
  DEFAULT_CLUSTER_CIDR,
  DEFAULT_HTTP_PORT,
  DEFAULT_HTTPS_PORT,
  DEFAULT_SERVICE_CIDR,
  startHttpServer,
  type TlsSource,
  Webhook,
  type WebhookEndpoint,
} from "@vm-dhcp/core";
import { Registry } from "prom-client";
import type { CommandModule } from "yargs";
import { envFlag, envText } from "../env.js";
import { loadKubeConfig } from "../kube-config.js";
import { createLogger } from "../logging.js";
import { runUntilSignal } from "../run-until-signal.js";

interface WebhookArgs {
  name: string;
  namespace: string;
  "https-port": number;
  "http-port": number;
  "bind-address": string;
  "service-cidr": string;
  "cluster-cidr": string;
  "tls-cert-file"?: string | undefined;
  "tls-key-file"?: string | undefined;
  "tls-ca-file"?: string | undefined;
  "tls-secret-name"?: string | undefined;
  register: boolean;
  "webhook-url"?: string | undefined;
  "service-name"?: string | undefined;
  "service-port": number;
  "namespace-selector"?: string | undefined;
  kubeconfig?: string | undefined;
  kubecontext?: string | undefined;
  debug: boolean;
  trace: boolean;
}

/** `vm-dhcp webhook`: admission for IPPools and vmnetcfgs (SPEC section 5). */
export const webhookCommand: CommandModule<object, WebhookArgs> = {
  command: "webhook",
  describe: "validate and default IPPools and VirtualMachineNetworkConfigs (admission webhook)",
  builder: (args) =>
    args
      .option("name", {
        type: "string",
        default: envText("WEBHOOK_NAME") ?? "vm-dhcp-webhook",
        describe:
          "name of the configurations; default Service and Secret prefix [env WEBHOOK_NAME]",
      })
      .option("namespace", {
        type: "string",
        default: envText("WEBHOOK_NAMESPACE") ?? "harvester-system",
        describe: "namespace of the webhook's Service and TLS Secret [env WEBHOOK_NAMESPACE]",
      })
      .option("https-port", {
        type: "number",
        default: DEFAULT_HTTPS_PORT,
        describe: "admission port",
      })
      .option("http-port", {
        type: "number",
        default: DEFAULT_HTTP_PORT,
        describe: "port of /healthz, /readyz, /metrics",
      })
      .option("bind-address", {
        type: "string",
        default: "0.0.0.0",
        describe: "address both ports listen on",
      })
      .option("service-cidr", {
        type: "string",
        default: DEFAULT_SERVICE_CIDR,
        describe: "service CIDR when no node has the rke2.io/node-args annotation",
      })
      .option("cluster-cidr", {
        type: "string",
        default: DEFAULT_CLUSTER_CIDR,
        describe: "cluster (pod) CIDR when no node has the rke2.io/node-args annotation",
      })
      .option("tls-cert-file", {
        type: "string",
        describe: "serving certificate (PEM); else one is made",
      })
      .option("tls-key-file", { type: "string", describe: "its private key (PEM)" })
      .option("tls-ca-file", {
        type: "string",
        describe: "CA bundle to register (PEM); default: the certificate file",
      })
      .option("tls-secret-name", {
        type: "string",
        describe: "Secret that keeps the made certificate [default: <name>-tls]",
      })
      .option("register", {
        type: "boolean",
        default: true,
        describe: "create/patch the webhook configurations (--no-register leaves them alone)",
      })
      .option("webhook-url", {
        type: "string",
        describe: "https://host:port the API server calls (out of cluster); else the Service",
      })
      .option("service-name", {
        type: "string",
        describe: "Service in --namespace that fronts the webhook [default: <name>]",
      })
      .option("service-port", { type: "number", default: 443, describe: "port of that Service" })
      .option("namespace-selector", {
        type: "string",
        describe: "only admit in namespaces with these labels (k=v,k2=v2); default: all namespaces",
      })
      .option("kubeconfig", {
        type: "string",
        default: envText("KUBECONFIG"),
        describe: "kubeconfig file [env KUBECONFIG]",
      })
      .option("kubecontext", { type: "string", describe: "context of the kubeconfig to use" })
      .option("debug", {
        type: "boolean",
        default: envFlag("VM_DHCP_WEBHOOK_DEBUG"),
        describe: "debug logs [env VM_DHCP_WEBHOOK_DEBUG]",
      })
      .option("trace", {
        type: "boolean",
        default: envFlag("VM_DHCP_WEBHOOK_TRACE"),
        describe: "trace logs [env VM_DHCP_WEBHOOK_TRACE]",
      })
      .check((argv) => {
        if (Boolean(argv["tls-cert-file"]) !== Boolean(argv["tls-key-file"])) {
          throw new Error("--tls-cert-file and --tls-key-file go together");
        }
        if (argv["webhook-url"] !== undefined) webhookUrlHost(argv["webhook-url"]);
        parseNamespaceSelector(argv["namespace-selector"]);
        return true;
      }),
  handler: async (argv) => {
    const logger = createLogger(argv, "webhook");
    const registry = new Registry();
    const webhook = new Webhook({
      name: argv.name,
      kubeConfig: loadKubeConfig(argv),
      httpsPort: argv["https-port"],
      host: argv["bind-address"],
      serviceCidr: argv["service-cidr"],
      clusterCidr: argv["cluster-cidr"],
      tls: tlsSource(argv),
      registration: argv.register
        ? {
            endpoint: endpoint(argv),
            namespaceSelector: parseNamespaceSelector(argv["namespace-selector"]),
          }
        : undefined,
      logger,
      registry,
    });
    const http = await startHttpServer({
      port: argv["http-port"],
      host: argv["bind-address"],
      registry,
      readiness: () => webhook.readiness(),
      logger,
    });
    logger.info("webhook starting", { name: argv.name, namespace: argv.namespace });
    try {
      await webhook.start();
    } catch (error) {
      // Close what runs, so the process exits with the error instead of idling unready.
      await webhook.stop();
      await http.close();
      throw error;
    }
    await runUntilSignal(logger, async () => {
      await webhook.stop();
      await http.close();
    });
  },
};

function serviceName(argv: WebhookArgs): string {
  return argv["service-name"] ?? argv.name;
}

function endpoint(argv: WebhookArgs): WebhookEndpoint {
  if (argv["webhook-url"] !== undefined) return { url: argv["webhook-url"] };
  return {
    service: { namespace: argv.namespace, name: serviceName(argv), port: argv["service-port"] },
  };
}

/**
 * Given files win; otherwise the certificate is made and kept in a Secret, valid for the
 * Service's DNS names and the host of `--webhook-url`.
 */
function tlsSource(argv: WebhookArgs): TlsSource {
  const certFile = argv["tls-cert-file"];
  const keyFile = argv["tls-key-file"];
  if (certFile && keyFile) return { kind: "files", certFile, keyFile, caFile: argv["tls-ca-file"] };

  const service = serviceName(argv);
  const namespace = argv.namespace;
  const hosts = [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
  ];
  if (argv["webhook-url"] !== undefined) hosts.push(webhookUrlHost(argv["webhook-url"]));
  return {
    kind: "secret",
    namespace,
    name: argv["tls-secret-name"] ?? `${argv.name}-tls`,
    hosts: [...new Set(hosts)],
    commonName: `${service}.${namespace}.svc`,
  };
}

/** The host of an https URL; the error names the flag and the value. */
export function webhookUrlHost(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`--webhook-url=${JSON.stringify(text)}: not a URL`);
  }
  if (url.protocol !== "https:") {
    throw new Error(
      `--webhook-url=${JSON.stringify(text)}: the API server calls webhooks over https`,
    );
  }
  return url.hostname;
}

/** `k=v,k2=v2` as a label selector; undefined (all namespaces) when not given. */
export function parseNamespaceSelector(text: string | undefined): V1LabelSelector | undefined {
  if (text === undefined || text === "") return undefined;
  const matchLabels: Record<string, string> = {};
  for (const pair of text.split(",")) {
    const match = /^\s*([A-Za-z0-9./_-]+)\s*=\s*([A-Za-z0-9._-]*)\s*$/.exec(pair);
    if (!match) {
      throw new Error(
        `--namespace-selector=${JSON.stringify(text)}: expected key=value[,key=value]`,
      );
    }
    matchLabels[match[1]!] = match[2]!;
  }
  return { matchLabels };
}
