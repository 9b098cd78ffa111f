import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  X509Certificate,
} from "node:crypto";
import { isIP } from "node:net";
import { parseIpv4 } from "@vm-dhcp/ipam";
import {
  bitString,
  boolean,
  explicit,
  implicit,
  namedBits,
  octetString,
  oid,
  sequence,
  set,
  smallInteger,
  time,
  unsignedInteger,
  utf8String,
} from "./der.js";

/** PEM texts of a serving certificate, its private key and the CA that signed it. */
export interface ServingCertificate {
  /** The CA certificate: what the API server must trust (the webhook's `caBundle`). */
  readonly caCertPem: string;
  /** The serving certificate, signed by the CA. */
  readonly certPem: string;
  /** PKCS #8 private key of the serving certificate. */
  readonly keyPem: string;
}

/** Lifetime of a certificate this webhook makes: ten years, renewed on start near the end. */
export const CERTIFICATE_VALID_DAYS = 3650;
/** A stored certificate closer than this to its end is replaced on start. */
export const CERTIFICATE_RENEW_BEFORE_DAYS = 30;
/** notBefore is set this far in the past, for API servers whose clock is a little behind. */
const CLOCK_SKEW_MS = 5 * 60_000;
const DAY_MS = 86_400_000;

/** Object identifiers used below (RFC 5280 section 4.2.1, RFC 5758 section 3.2). */
const OID = {
  commonName: "2.5.4.3",
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  authorityKeyIdentifier: "2.5.29.35",
  extKeyUsage: "2.5.29.37",
  serverAuth: "1.3.6.1.5.5.7.3.1",
} as const;

/** KeyUsage bit numbers (RFC 5280 section 4.2.1.3). */
const KEY_USAGE = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;

/** What {@link issueServingCertificate} makes a certificate for. */
export interface IssueOptions {
  /** Subject CN of the serving certificate; peers check the SANs, not this. */
  readonly commonName: string;
  /** DNS names and IPv4 addresses the certificate must be valid for (its SANs). */
  readonly hosts: readonly string[];
  readonly now: Date;
  readonly validDays?: number;
}

/**
 * Makes a private CA and a serving certificate signed by it, both ECDSA P-256 with SHA-256
 * (RFC 5480, RFC 5758): an X.509 v3 certificate (RFC 5280) written with Node's crypto and a
 * small DER encoder, so no openssl binary or npm package is needed at run time.
 *
 * @throws {Error} when a host is neither a DNS name nor an IPv4 address.
 * @example
 * const tls = issueServingCertificate({
 *   commonName: "vm-dhcp-webhook.harvester-system.svc",
 *   hosts: ["vm-dhcp-webhook.harvester-system.svc", "127.0.0.1"],
 *   now: new Date(),
 * });
 * https.createServer({ cert: tls.certPem, key: tls.keyPem });
 */
export function issueServingCertificate(options: IssueOptions): ServingCertificate {
  const sans = options.hosts.map(subjectAltName);
  const notBefore = new Date(options.now.getTime() - CLOCK_SKEW_MS);
  const notAfter = new Date(
    options.now.getTime() + (options.validDays ?? CERTIFICATE_VALID_DAYS) * DAY_MS,
  );
  const ca = ecKeyPair();
  const leaf = ecKeyPair();
  const caName = name(`${options.commonName} CA`);
  const caKeyId = keyIdentifier(ca.spki);

  const caCert = signCertificate(ca.privateKey, {
    issuer: caName,
    subject: caName,
    notBefore,
    notAfter,
    spki: ca.spki,
    extensions: [
      extension(OID.basicConstraints, true, sequence(boolean(true), smallInteger(0))),
      extension(
        OID.keyUsage,
        true,
        namedBits([KEY_USAGE.digitalSignature, KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign]),
      ),
      extension(OID.subjectKeyIdentifier, false, octetString(caKeyId)),
    ],
  });
  const leafCert = signCertificate(ca.privateKey, {
    issuer: caName,
    subject: name(options.commonName),
    notBefore,
    notAfter,
    spki: leaf.spki,
    extensions: [
      extension(OID.basicConstraints, true, sequence()),
      extension(OID.keyUsage, true, namedBits([KEY_USAGE.digitalSignature])),
      extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth))),
      extension(OID.subjectAltName, false, sequence(...sans)),
      extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(leaf.spki))),
      extension(OID.authorityKeyIdentifier, false, sequence(implicit(0, caKeyId))),
    ],
  });

  return {
    caCertPem: pem("CERTIFICATE", caCert),
    certPem: pem("CERTIFICATE", leafCert),
    keyPem: leaf.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}

/**
 * Why a stored certificate cannot serve `hosts` at `now`, or undefined when it can: it must
 * parse, be signed by the CA, match its key, name every host, and stay valid for more than
 * {@link CERTIFICATE_RENEW_BEFORE_DAYS} days.
 */
export function unusableReason(
  tls: ServingCertificate,
  hosts: readonly string[],
  now: Date,
): string | undefined {
  let ca: X509Certificate;
  let cert: X509Certificate;
  let key: KeyObject;
  try {
    ca = new X509Certificate(tls.caCertPem);
    cert = new X509Certificate(tls.certPem);
    key = createPrivateKey(tls.keyPem);
  } catch (error) {
    return `cannot parse: ${error instanceof Error ? error.message : String(error)}`;
  }

  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return "not signed by its CA";
  if (!cert.checkPrivateKey(key)) return "the key does not match the certificate";
  const missing = hosts.filter((host) => !certificateNames(cert, host));
  if (missing.length > 0) return `does not name ${missing.join(", ")}`;
  const renewAt = now.getTime() + CERTIFICATE_RENEW_BEFORE_DAYS * DAY_MS;
  for (const [what, certificate] of [
    ["certificate", cert],
    ["CA", ca],
  ] as const) {
    const from = Date.parse(certificate.validFrom);
    const to = Date.parse(certificate.validTo);
    if (!(from <= now.getTime() + CLOCK_SKEW_MS)) return `${what} not valid before ${from}`;
    if (!(to > renewAt)) return `${what} expires ${certificate.validTo}`;
  }
  return undefined;
}

function certificateNames(cert: X509Certificate, host: string): boolean {
  return isIP(host) !== 0
    ? cert.checkIP(host) !== undefined
    : cert.checkHost(host, { subject: "never", wildcards: false }) !== undefined;
}

interface CertificateFields {
  issuer: Buffer;
  subject: Buffer;
  notBefore: Date;
  notAfter: Date;
  spki: Buffer;
  extensions: Buffer[];
}

/** TBSCertificate (RFC 5280 section 4.1) signed with ecdsa-with-SHA256. */
function signCertificate(signer: KeyObject, fields: CertificateFields): Buffer {
  const algorithm = sequence(oid(OID.ecdsaWithSha256));
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40; // positive and 16 bytes long (RFC 5280 4.1.2.2)
  const tbs = sequence(
    explicit(0, smallInteger(2)), // v3
    unsignedInteger(serial),
    algorithm,
    fields.issuer,
    sequence(time(fields.notBefore), time(fields.notAfter)),
    fields.subject,
    fields.spki,
    explicit(3, sequence(...fields.extensions)),
  );
  // Node returns the DER ECDSA-Sig-Value that X.509 expects (RFC 5758 section 3.2).
  const signature = sign("sha256", tbs, signer);
  return sequence(tbs, algorithm, bitString(signature));
}

function ecKeyPair(): { privateKey: KeyObject; spki: Buffer } {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  return { privateKey, spki: publicKey.export({ type: "spki", format: "der" }) };
}

/** A Name holding one CN (RFC 5280 section 4.1.2.4). */
function name(commonName: string): Buffer {
  return sequence(set(sequence(oid(OID.commonName), utf8String(commonName))));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [boolean(true)] : []), octetString(value));
}

/**
 * A key identifier: the first 160 bits of SHA-256 over the SubjectPublicKeyInfo. RFC 5280
 * section 4.2.1.2 lets the method be chosen freely; it only has to be stable per key.
 */
function keyIdentifier(spki: Buffer): Buffer {
  return createHash("sha256").update(spki).digest().subarray(0, 20);
}

/** A GeneralName: iPAddress [7] for IPv4 literals, dNSName [2] otherwise (RFC 5280 4.2.1.6). */
function subjectAltName(host: string): Buffer {
  if (isIP(host) === 4) {
    const address = parseIpv4(host);
    return implicit(
      7,
      Buffer.from([address >>> 24, (address >>> 16) & 255, (address >>> 8) & 255, address & 255]),
    );
  }
  if (isIP(host) === 6) {
    throw new Error(`certificate host ${host}: IPv6 addresses are not supported, use a DNS name`);
  }
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i.test(host)) {
    throw new Error(`certificate host ${JSON.stringify(host)} is not a DNS name or IPv4 address`);
  }
  return implicit(2, Buffer.from(host.toLowerCase(), "ascii"));
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
