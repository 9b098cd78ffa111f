import {
  AdmissionregistrationV1Api,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1LabelSelector,
  type V1MutatingWebhookConfiguration,
  type V1RuleWithOperations,
  type V1ValidatingWebhookConfiguration,
  type AdmissionregistrationV1WebhookClientConfig as WebhookClientConfig,
} from "@kubernetes/client-node";
import { API_GROUP, API_VERSION } from "../api/types.js";

/** Where the API server posts each review. */
export const WEBHOOK_PATHS = {
  mutateIpPool: "/v1/mutate/ippools",
  validateIpPool: "/v1/validate/ippools",
  validateVmNetCfg: "/v1/validate/virtualmachinenetworkconfigs",
} as const;

/** Webhook names, as `kubectl` prints them in `admission webhook "..." denied the request`. */
export const WEBHOOK_NAMES = {
  mutateIpPool: "mutate.ippools.network.harvesterhci.io",
  validateIpPool: "validate.ippools.network.harvesterhci.io",
  validateVmNetCfg: "validate.virtualmachinenetworkconfigs.network.harvesterhci.io",
} as const;

/**
 * `Fail` for all three webhooks. The validating rules guard invariants that nothing repairs
 * later (a server address inside the service CIDR, a pool deleted under its VMs), and they
 * only cover this project's two kinds, so an outage blocks pool and vmnetcfg writes, never
 * pods or nodes. The controller retries its vmnetcfg writes. The mutating webhook fails closed
 * too: it runs in the same process as the validating one, and with `Ignore` a pool without
 * `serverIP` would meet a bare "Required value" instead of the webhook's own error.
 */
export const FAILURE_POLICY = "Fail";
/**
 * Seconds the API server waits for an answer (the maximum is 30). A review reads at most a
 * NetworkAttachmentDefinition, the IPPools and the vmnetcfgs, well under a second on a
 * healthy API server; 10 s leaves room for a slow list without holding kubectl for long.
 */
export const TIMEOUT_SECONDS = 10;
/** Field manager of the server-side apply that registers the configurations. */
export const REGISTRATION_FIELD_MANAGER = "vm-dhcp-webhook";

/** How the API server reaches the webhook: a URL (out of cluster) or a Service. */
export type WebhookEndpoint =
  | { readonly url: string }
  | { readonly service: { namespace: string; name: string; port: number } };

/** What {@link webhookConfigurations} renders. */
export interface RegistrationOptions {
  /** Name of both configurations. */
  readonly name: string;
  readonly endpoint: WebhookEndpoint;
  /** PEM of the CA the API server must trust for the webhook's certificate. */
  readonly caBundlePem: string;
  /** Limits the webhooks to some namespaces; all namespaces when undefined. */
  readonly namespaceSelector?: V1LabelSelector | undefined;
}

/** The two configurations the webhook registers, both named after `--name`. */
export interface WebhookConfigurations {
  readonly mutating: V1MutatingWebhookConfiguration;
  readonly validating: V1ValidatingWebhookConfiguration;
}

const rule = (resource: string, operations: string[]): V1RuleWithOperations => ({
  apiGroups: [API_GROUP],
  apiVersions: [API_VERSION],
  resources: [resource],
  operations,
  scope: "Namespaced",
});

/**
 * The Mutating and ValidatingWebhookConfiguration of the webhook: IPPool CREATE and UPDATE
 * are mutated; IPPool CREATE, UPDATE, DELETE and vmnetcfg CREATE, UPDATE are validated. The
 * status subresources are not matched, so the controller's status writes never wait for the
 * webhook.
 */
export function webhookConfigurations(options: RegistrationOptions): WebhookConfigurations {
  const clientConfig = (path: string): WebhookClientConfig => ({
    caBundle: Buffer.from(options.caBundlePem).toString("base64"),
    ...("url" in options.endpoint
      ? { url: `${options.endpoint.url.replace(/\/+$/, "")}${path}` }
      : { service: { ...options.endpoint.service, path } }),
  });
  const common = {
    admissionReviewVersions: ["v1"],
    sideEffects: "None",
    failurePolicy: FAILURE_POLICY,
    matchPolicy: "Equivalent",
    timeoutSeconds: TIMEOUT_SECONDS,
    namespaceSelector: options.namespaceSelector ?? {},
  };
  const metadata = {
    name: options.name,
    labels: { "app.kubernetes.io/name": "vm-dhcp", "app.kubernetes.io/component": "webhook" },
  };
  return {
    mutating: {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "MutatingWebhookConfiguration",
      metadata,
      webhooks: [
        {
          ...common,
          name: WEBHOOK_NAMES.mutateIpPool,
          clientConfig: clientConfig(WEBHOOK_PATHS.mutateIpPool),
          rules: [rule("ippools", ["CREATE", "UPDATE"])],
          reinvocationPolicy: "Never",
        },
      ],
    },
    validating: {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingWebhookConfiguration",
      metadata,
      webhooks: [
        {
          ...common,
          name: WEBHOOK_NAMES.validateIpPool,
          clientConfig: clientConfig(WEBHOOK_PATHS.validateIpPool),
          rules: [rule("ippools", ["CREATE", "UPDATE", "DELETE"])],
        },
        {
          ...common,
          name: WEBHOOK_NAMES.validateVmNetCfg,
          clientConfig: clientConfig(WEBHOOK_PATHS.validateVmNetCfg),
          rules: [rule("virtualmachinenetworkconfigs", ["CREATE", "UPDATE"])],
        },
      ],
    },
  };
}

/**
 * Creates or updates both configurations with one server-side apply each (forced, so the
 * webhook owns every field it sets, including the CA bundle). Needs `create` and `patch` on
 * both kinds, which RBAC can restrict to these names.
 */
export async function registerWebhooks(
  kubeConfig: KubeConfig,
  configurations: WebhookConfigurations,
): Promise<void> {
  const api = kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  const apply = setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply);
  const request = (body: { metadata?: { name?: string } }) => ({
    name: body.metadata?.name ?? "",
    body,
    fieldManager: REGISTRATION_FIELD_MANAGER,
    force: true,
  });
  await api.patchMutatingWebhookConfiguration(request(configurations.mutating), apply);
  await api.patchValidatingWebhookConfiguration(request(configurations.validating), apply);
}
