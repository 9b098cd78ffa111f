import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { KubeConfig, V1LabelSelector } from "@kubernetes/client-node";
import { formatCidr, parseCidr } from "@vm-dhcp/ipam";
import express, { type Request, type Response } from "express";
import { Counter, Histogram, type Registry } from "prom-client";
import { apiErrorMessage } from "../api/errors.js";
import type { IpPool, VmNetCfg } from "../api/types.js";
import type { Readiness } from "../http/server.js";
import type { Logger } from "../logger.js";
import {
  type AdmissionRequest,
  type AdmissionReview,
  type AdmissionVerdict,
  admissionResponse,
} from "./admission-review.js";
import { type ClusterState, KubeClusterState, NodeNetworks } from "./cluster-state.js";
import {
  type AdmissionHandler,
  mutateIpPool,
  validateIpPool,
  validateVmNetCfg,
} from "./handlers.js";
import {
  registerWebhooks,
  WEBHOOK_NAMES,
  WEBHOOK_PATHS,
  type WebhookEndpoint,
  webhookConfigurations,
} from "./registration.js";
import { type LoadedCertificate, loadServingCertificate, type TlsSource } from "./tls-source.js";

/** Port of the admission endpoint (SPEC section 5). */
export const DEFAULT_HTTPS_PORT = 8443;
/** Largest AdmissionReview body accepted: an object and its old version, up to 1.5 MiB each. */
const MAX_REVIEW_BYTES = "8mb";

/** Everything the {@link Webhook} uses, injected. */
export interface WebhookOptions {
  /** Name of the webhook configurations. */
  name: string;
  kubeConfig: KubeConfig;
  httpsPort: number;
  /** Address to listen on; all interfaces when undefined. */
  host?: string;
  /** Service CIDR used when no node annotation names one (`--service-cidr`). */
  serviceCidr: string;
  /** Cluster (pod) CIDR used when no node annotation names one (`--cluster-cidr`). */
  clusterCidr: string;
  tls: TlsSource;
  /** Registers the configurations with this endpoint; left to someone else when undefined. */
  registration?: { endpoint: WebhookEndpoint; namespaceSelector?: V1LabelSelector } | undefined;
  logger: Logger;
  registry: Registry;
  now?: () => Date;
}

/**
 * The `webhook` role (SPEC section 5): mutating and validating admission for IPPools and
 * vmnetcfgs over HTTPS. `start` gets the certificate, watches the nodes for the cluster
 * CIDRs, listens, and registers the webhook configurations with the CA bundle.
 *
 * @example
 * const webhook = new Webhook({
 *   name: "vm-dhcp-webhook",
 *   kubeConfig,
 *   httpsPort: DEFAULT_HTTPS_PORT,
 *   serviceCidr: DEFAULT_SERVICE_CIDR,
 *   clusterCidr: DEFAULT_CLUSTER_CIDR,
 *   tls: { kind: "secret", namespace: "harvester-system", name: "vm-dhcp-webhook-tls",
 *     hosts: ["vm-dhcp-webhook.harvester-system.svc"], commonName: "vm-dhcp-webhook" },
 *   registration: { endpoint: { service: { namespace: "harvester-system",
 *     name: "vm-dhcp-webhook", port: 443 } } },
 *   logger,
 *   registry,
 * });
 * await webhook.start();
 */
export class Webhook {
  readonly #options: WebhookOptions;
  readonly #nodes: NodeNetworks;
  readonly #state: ClusterState;
  readonly #reviews: Counter<"webhook" | "operation" | "allowed">;
  readonly #durations: Histogram<"webhook">;
  #server: Server | undefined;
  #certificate: LoadedCertificate | undefined;
  #registered = false;

  constructor(options: WebhookOptions) {
    this.#options = options;
    const fallback = {
      service: cidrFlag("--service-cidr", options.serviceCidr),
      cluster: cidrFlag("--cluster-cidr", options.clusterCidr),
    };
    this.#nodes = new NodeNetworks({
      kubeConfig: options.kubeConfig,
      fallback,
      logger: options.logger,
    });
    this.#state = new KubeClusterState(options.kubeConfig, this.#nodes);
    this.#reviews = new Counter({
      name: "vmdhcpwebhook_admission_reviews_total",
      help: "Admission reviews answered, by webhook, operation and outcome",
      labelNames: ["webhook", "operation", "allowed"],
      registers: [options.registry],
    });
    this.#durations = new Histogram({
      name: "vmdhcpwebhook_admission_review_duration_seconds",
      help: "Time to answer one admission review, cluster reads included",
      labelNames: ["webhook"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [options.registry],
    });
  }

  /** The certificate being served, once started. */
  get certificate(): LoadedCertificate | undefined {
    return this.#certificate;
  }

  /** The HTTPS port actually bound (useful with port 0). */
  get httpsPort(): number {
    return (this.#server?.address() as AddressInfo | null)?.port ?? 0;
  }

  async start(): Promise<void> {
    const { logger } = this.#options;
    const now = this.#options.now ?? (() => new Date());
    this.#certificate = await loadServingCertificate({
      source: this.#options.tls,
      kubeConfig: this.#options.kubeConfig,
      now,
      logger,
    });
    await this.#nodes.start();
    logger.info("cluster networks known", { networks: this.#describeNetworks() });

    this.#server = await this.#listen(this.#certificate);
    logger.info("admission endpoint listening", {
      port: this.httpsPort,
      tls: this.#certificate.origin,
    });
    await this.#register(this.#certificate);
  }

  async stop(): Promise<void> {
    await this.#nodes.stop();
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  }

  /** Ready once it serves, knows the cluster networks and (when asked to) has registered. */
  readiness(): Readiness {
    const listening = this.#server?.listening ?? false;
    const registered = this.#options.registration ? this.#registered : "not asked";
    const nodes = this.#nodes.state;
    return {
      ready: listening && registered !== false && nodes !== "starting" && nodes !== "stopped",
      checks: { listening, registered, nodes, tls: this.#certificate?.origin ?? "none" },
    };
  }

  #listen(certificate: LoadedCertificate): Promise<Server> {
    const app = express();
    app.disable("x-powered-by");
    app.use(express.json({ limit: MAX_REVIEW_BYTES }));
    this.#route(app, WEBHOOK_PATHS.mutateIpPool, WEBHOOK_NAMES.mutateIpPool, mutateIpPool);
    this.#route(app, WEBHOOK_PATHS.validateIpPool, WEBHOOK_NAMES.validateIpPool, validateIpPool);
    this.#route(
      app,
      WEBHOOK_PATHS.validateVmNetCfg,
      WEBHOOK_NAMES.validateVmNetCfg,
      validateVmNetCfg,
    );

    const server = createServer(
      { cert: certificate.certPem, key: certificate.keyPem, minVersion: "TLSv1.2" },
      app,
    );
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#options.httpsPort, this.#options.host ?? "0.0.0.0", () => {
        server.off("error", reject);
        resolve(server);
      });
    });
  }

  #route<T extends IpPool | VmNetCfg>(
    app: express.Express,
    path: string,
    webhook: string,
    handler: AdmissionHandler<T>,
  ): void {
    app.post(path, async (req: Request, res: Response) => {
      const review = req.body as AdmissionReview<T> | undefined;
      const request = review?.request;
      if (!request?.uid) {
        res
          .status(400)
          .json({ error: "expected an admission.k8s.io/v1 AdmissionReview with a request" });
        return;
      }
      const stopTimer = this.#durations.startTimer({ webhook });
      const verdict = await this.#decide(webhook, request, handler);
      stopTimer();
      this.#reviews.inc({
        webhook,
        operation: request.operation,
        allowed: String(verdict.allowed),
      });
      res.json(admissionResponse(request.uid, verdict));
    });
  }

  async #decide<T>(
    webhook: string,
    request: AdmissionRequest<T>,
    handler: AdmissionHandler<T>,
  ): Promise<AdmissionVerdict> {
    const { logger } = this.#options;
    const fields = {
      webhook,
      uid: request.uid,
      operation: request.operation,
      namespace: request.namespace,
      name: request.name,
      user: request.userInfo?.username,
    };
    try {
      const verdict = await handler(request, this.#state);
      if (verdict.allowed) logger.debug("admitted", { ...fields, warnings: verdict.warnings });
      else logger.info("denied", { ...fields, reason: verdict.message });
      return verdict;
    } catch (error) {
      const message = `vm-dhcp webhook cannot decide: ${apiErrorMessage(error)}`;
      logger.error("admission review failed", { ...fields, err: message });
      return { allowed: false, code: 500, reason: "InternalError", message };
    }
  }

  async #register(certificate: LoadedCertificate): Promise<void> {
    const registration = this.#options.registration;
    if (!registration) return;
    const configurations = webhookConfigurations({
      name: this.#options.name,
      endpoint: registration.endpoint,
      caBundlePem: certificate.caCertPem,
      namespaceSelector: registration.namespaceSelector,
    });
    try {
      await registerWebhooks(this.#options.kubeConfig, configurations);
    } catch (error) {
      throw new Error(
        `cannot register webhook configurations ${this.#options.name}: ${apiErrorMessage(error)}`,
      );
    }
    this.#registered = true;
    this.#options.logger.info("webhook configurations registered", {
      name: this.#options.name,
      endpoint: registration.endpoint,
      namespaceSelector: registration.namespaceSelector ?? "all namespaces",
    });
  }

  #describeNetworks(): string[] {
    return this.#nodes
      .networks()
      .map((network) => `${network.kind} ${formatCidr(network.cidr)} (${network.source})`);
  }
}

function cidrFlag(flag: string, text: string) {
  try {
    return parseCidr(text);
  } catch (error) {
    throw new Error(`${flag}=${JSON.stringify(text)}: ${(error as Error).message}`);
  }
}
