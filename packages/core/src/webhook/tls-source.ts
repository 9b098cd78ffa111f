import { readFile } from "node:fs/promises";
import { CoreV1Api, type KubeConfig, type V1Secret } from "@kubernetes/client-node";
import { apiErrorMessage, isConflict, isNotFound } from "../api/errors.js";
import { errorText, type Logger } from "../logger.js";
import { issueServingCertificate, type ServingCertificate, unusableReason } from "./certificate.js";

/** Keys of the TLS Secret: the `kubernetes.io/tls` pair plus the CA, as cert-manager writes. */
export const SECRET_KEYS = { cert: "tls.crt", key: "tls.key", ca: "ca.crt" } as const;
const SECRET_WRITE_ATTEMPTS = 5;

/** Where the serving certificate comes from. */
export type TlsSource =
  /** PEM files given by the operator (cert-manager, a corporate CA...). */
  | {
      readonly kind: "files";
      readonly certFile: string;
      readonly keyFile: string;
      /** CA to register as `caBundle`; defaults to the certificate file itself. */
      readonly caFile?: string | undefined;
    }
  /** Made by the webhook and kept in a Secret, so every replica and restart serves the same. */
  | {
      readonly kind: "secret";
      readonly namespace: string;
      readonly name: string;
      /** DNS names and IPv4 addresses the certificate must be valid for. */
      readonly hosts: readonly string[];
      readonly commonName: string;
    };

/** A serving certificate and how it was obtained, for logs and tests. */
export interface LoadedCertificate extends ServingCertificate {
  readonly origin: "files" | "reused" | "created";
}

/** What {@link loadServingCertificate} needs. */
export interface LoadCertificateOptions {
  readonly source: TlsSource;
  readonly kubeConfig: KubeConfig;
  readonly now: () => Date;
  readonly logger: Logger;
}

/** Reads or makes the serving certificate (see {@link TlsSource}). */
export async function loadServingCertificate(
  options: LoadCertificateOptions,
): Promise<LoadedCertificate> {
  const { source } = options;
  if (source.kind === "files") {
    const [certPem, keyPem, caCertPem] = await Promise.all([
      readFile(source.certFile, "utf8"),
      readFile(source.keyFile, "utf8"),
      readFile(source.caFile ?? source.certFile, "utf8"),
    ]);
    return { certPem, keyPem, caCertPem, origin: "files" };
  }
  return secretCertificate(options.kubeConfig, source, options.now, options.logger);
}

/**
 * Reuses the certificate in the Secret when it still serves every host for more than the
 * renewal margin; otherwise makes a new one and writes it. Writes are optimistic: when
 * another replica wrote first (409), its certificate is read back and used, so all replicas
 * converge on the one the Secret holds.
 */
async function secretCertificate(
  kubeConfig: KubeConfig,
  source: Extract<TlsSource, { kind: "secret" }>,
  now: () => Date,
  logger: Logger,
): Promise<LoadedCertificate> {
  const api = kubeConfig.makeApiClient(CoreV1Api);
  const fields = { namespace: source.namespace, secret: source.name };
  for (let attempt = 1; ; attempt++) {
    const secret = await readSecret(api, source.namespace, source.name);
    const stored = secret ? fromSecret(secret) : undefined;
    const why = stored ? unusableReason(stored, source.hosts, now()) : "no certificate stored";
    if (stored && why === undefined) {
      logger.info("reusing the stored serving certificate", fields);
      return { ...stored, origin: "reused" };
    }

    logger.info("creating a serving certificate", { ...fields, reason: why, hosts: source.hosts });
    const made = issueServingCertificate({
      commonName: source.commonName,
      hosts: source.hosts,
      now: now(),
    });
    try {
      await writeSecret(api, source, secret, made);
      return { ...made, origin: "created" };
    } catch (error) {
      if (!isConflict(error) || attempt >= SECRET_WRITE_ATTEMPTS) {
        throw new Error(
          `cannot store the serving certificate in Secret ${source.namespace}/${source.name}: ` +
            apiErrorMessage(error),
        );
      }
      logger.debug("Secret changed while writing; reading it again", {
        ...fields,
        err: errorText(error),
      });
    }
  }
}

async function readSecret(api: CoreV1Api, namespace: string, name: string) {
  try {
    return await api.readNamespacedSecret({ namespace, name });
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw new Error(`cannot read Secret ${namespace}/${name}: ${apiErrorMessage(error)}`);
  }
}

function fromSecret(secret: V1Secret): ServingCertificate | undefined {
  const text = (key: string) => {
    const value = secret.data?.[key];
    return value ? Buffer.from(value, "base64").toString("utf8") : undefined;
  };
  const certPem = text(SECRET_KEYS.cert);
  const keyPem = text(SECRET_KEYS.key);
  const caCertPem = text(SECRET_KEYS.ca);
  return certPem && keyPem && caCertPem ? { certPem, keyPem, caCertPem } : undefined;
}

/**
 * Creates the Secret, or replaces its data at the resourceVersion that was read (a stale
 * version fails with 409). An existing Secret keeps its type: a chart may create it empty so
 * that the webhook needs no `create` permission on Secrets.
 */
async function writeSecret(
  api: CoreV1Api,
  source: Extract<TlsSource, { kind: "secret" }>,
  existing: V1Secret | undefined,
  made: ServingCertificate,
): Promise<void> {
  const data = {
    [SECRET_KEYS.cert]: Buffer.from(made.certPem).toString("base64"),
    [SECRET_KEYS.key]: Buffer.from(made.keyPem).toString("base64"),
    [SECRET_KEYS.ca]: Buffer.from(made.caCertPem).toString("base64"),
  };
  if (!existing) {
    await api.createNamespacedSecret({
      namespace: source.namespace,
      body: {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: source.name, namespace: source.namespace },
        type: "kubernetes.io/tls",
        data,
      },
    });
    return;
  }
  await api.replaceNamespacedSecret({
    namespace: source.namespace,
    name: source.name,
    body: { ...existing, data: { ...existing.data, ...data } },
  });
}
