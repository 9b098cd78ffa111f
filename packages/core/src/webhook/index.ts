/**
 * The `webhook` role (SPEC section 5): admission for IPPools and VirtualMachineNetworkConfigs.
 * The rules are pure functions over the object and the facts read for it, so they are
 * testable without a cluster; {@link Webhook} serves them over HTTPS and registers itself.
 * README.md beside this file records the operational choices: failure policy, timeouts,
 * scoping, certificates and the RBAC the webhook needs.
 *
 * @example
 * import { formatViolations, ipPoolViolations } from "@vm-dhcp/core";
 *
 * const violations = ipPoolViolations(pool, facts);
 * if (violations.length > 0) console.error(formatViolations("IPPool default/net-a", violations));
 */
export {
  type AdmissionRequest,
  type AdmissionResponse,
  type AdmissionReview,
  type AdmissionVerdict,
  admissionResponse,
} from "./admission-review.js";
export {
  CERTIFICATE_RENEW_BEFORE_DAYS,
  CERTIFICATE_VALID_DAYS,
  issueServingCertificate,
  type ServingCertificate,
  unusableReason,
} from "./certificate.js";
export {
  type ClusterNetwork,
  type ClusterNetworkKind,
  DEFAULT_CLUSTER_CIDR,
  DEFAULT_SERVICE_CIDR,
  parseNodeArgs,
  RKE2_NODE_ARGS_ANNOTATION,
  resolveClusterNetworks,
} from "./cluster-networks.js";
export type { ClusterState } from "./cluster-state.js";
export {
  type AdmissionHandler,
  mutateIpPool,
  validateIpPool,
  validateVmNetCfg,
} from "./handlers.js";
export {
  type Defaulting,
  defaultIpPool,
  type JsonPatchOperation,
  restoreIpPoolDefaults,
} from "./ippool-defaults.js";
export {
  IPPOOL_FIELDS,
  type IpPoolFacts,
  ipPoolDeletionViolations,
  ipPoolViolations,
  ipPoolWarnings,
} from "./ippool-rules.js";
export {
  FAILURE_POLICY,
  REGISTRATION_FIELD_MANAGER,
  TIMEOUT_SECONDS,
  WEBHOOK_NAMES,
  WEBHOOK_PATHS,
  type WebhookConfigurations,
  type WebhookEndpoint,
  webhookConfigurations,
} from "./registration.js";
export { type LoadedCertificate, SECRET_KEYS, type TlsSource } from "./tls-source.js";
export { formatViolation, formatViolations, type Violation } from "./violation.js";
export { type NicPool, type VmNetCfgFacts, vmNetCfgVerdict } from "./vmnetcfg-rules.js";
export { DEFAULT_HTTPS_PORT, Webhook, type WebhookOptions } from "./webhook.js";
