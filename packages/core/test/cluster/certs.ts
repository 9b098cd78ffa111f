import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runCommand } from "./process.js";

/** Files of the test cluster's PKI. */
export interface ClusterCerts {
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  /** Private key that signs service-account tokens. */
  readonly serviceAccountKey: string;
  readonly serviceAccountPub: string;
}

const VALID_DAYS = "7";

async function openssl(args: readonly string[], cwd: string): Promise<void> {
  const result = await runCommand("openssl", args, { cwd });
  if (result.code !== 0) {
    throw new Error(`openssl ${args[0]} failed (exit ${result.code}): ${result.stderr.trim()}`);
  }
}

/**
 * Writes a throwaway CA, a serving certificate for 127.0.0.1 and localhost, and the
 * service-account signing key pair into `dir`. EC P-256 keys: generated in milliseconds.
 */
export async function generateCerts(dir: string): Promise<ClusterCerts> {
  const certs: ClusterCerts = {
    caCert: join(dir, "ca.crt"),
    serverCert: join(dir, "apiserver.crt"),
    serverKey: join(dir, "apiserver.key"),
    serviceAccountKey: join(dir, "sa.key"),
    serviceAccountPub: join(dir, "sa.pub"),
  };
  await writeFile(
    join(dir, "apiserver.ext"),
    [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "",
    ].join("\n"),
  );

  // Every argument is free of spaces, and files are named relative to `dir`.
  const ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  const steps = [
    `req -x509 ${ec} -keyout ca.key -out ca.crt -days ${VALID_DAYS} -subj /CN=vm-dhcp-test-ca` +
      " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign",
    `req ${ec} -keyout apiserver.key -out apiserver.csr -subj /CN=kube-apiserver`,
    "x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out apiserver.crt" +
      ` -days ${VALID_DAYS} -extfile apiserver.ext`,
    "genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out sa.key",
    "pkey -in sa.key -pubout -out sa.pub",
  ];
  for (const step of steps) await openssl(step.split(" "), dir);
  return certs;
}
