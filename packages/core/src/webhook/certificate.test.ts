import { generateKeyPairSync, X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  CERTIFICATE_RENEW_BEFORE_DAYS,
  issueServingCertificate,
  type ServingCertificate,
  unusableReason,
} from "./certificate.js";

const NOW = new Date("2026-03-01T12:00:00Z");
const HOSTS = ["vm-dhcp-webhook.harvester-system.svc", "127.0.0.1"];
const DAY_MS = 86_400_000;

const issue = (hosts = HOSTS, now = NOW, validDays?: number) =>
  issueServingCertificate({ commonName: "vm-dhcp-webhook", hosts, now, validDays });

describe("issueServingCertificate", () => {
  const tls = issue();
  const ca = new X509Certificate(tls.caCertPem);
  const cert = new X509Certificate(tls.certPem);

  it("makes a CA that signed the serving certificate", () => {
    expect(ca.ca).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.verify(ca.publicKey)).toBe(true);
  });

  it("names every host as a SAN: DNS names and IPv4 addresses", () => {
    expect(cert.subjectAltName).toBe(
      "DNS:vm-dhcp-webhook.harvester-system.svc, IP Address:127.0.0.1",
    );
    expect(cert.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(cert.checkHost("other.svc", { subject: "never" })).toBeUndefined();
  });

  it("is a TLS server certificate valid from a little before now for ten years", () => {
    expect(cert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]);
    expect(Date.parse(cert.validFrom)).toBeLessThan(NOW.getTime());
    expect(Date.parse(cert.validTo)).toBe(NOW.getTime() + 3650 * DAY_MS);
  });

  it("pairs the certificate with its own key", () => {
    expect(
      cert.checkPrivateKey(generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey),
    ).toBe(false);
    expect(unusableReason(tls, HOSTS, NOW)).toBeUndefined();
  });

  it.each([
    ["an IPv6 host, which the SAN writer does not support", "::1", /IPv6/],
    ["text that is no DNS name", "under_score!", /not a DNS name/],
  ])("refuses %s", (_why, host, message) => {
    expect(() => issue([host])).toThrow(message);
  });
});

describe("unusableReason", () => {
  const tls = issue();
  const other = issue();
  const swap = (patch: Partial<ServingCertificate>) => ({ ...tls, ...patch });
  const renewMargin = (CERTIFICATE_RENEW_BEFORE_DAYS + 1) * DAY_MS;

  it.each([
    ["a certificate for the same hosts is reused", tls, HOSTS, NOW, undefined],
    [
      "a new host needs a new certificate",
      tls,
      [...HOSTS, "10.0.0.1"],
      NOW,
      "does not name 10.0.0.1",
    ],
    [
      "the certificate of another CA",
      swap({ caCertPem: other.caCertPem }),
      HOSTS,
      NOW,
      "not signed by its CA",
    ],
    [
      "a key of another certificate",
      swap({ keyPem: other.keyPem }),
      HOSTS,
      NOW,
      "the key does not match the certificate",
    ],
    [
      "inside the renewal margin before expiry",
      issue(HOSTS, NOW, CERTIFICATE_RENEW_BEFORE_DAYS),
      HOSTS,
      NOW,
      /^certificate expires/,
    ],
    ["garbage in the Secret", swap({ certPem: "not a PEM" }), HOSTS, NOW, /^cannot parse/],
  ])("%s", (_why, certificate, hosts, now, expected) => {
    const reason = unusableReason(certificate, hosts, now);
    if (expected instanceof RegExp) expect(reason).toMatch(expected);
    else expect(reason).toBe(expected);
  });

  it("is still usable one day before the renewal margin", () => {
    const short = issue(HOSTS, NOW, CERTIFICATE_RENEW_BEFORE_DAYS + 2);
    expect(unusableReason(short, HOSTS, new Date(NOW.getTime() + DAY_MS))).toBeUndefined();
    expect(unusableReason(short, HOSTS, new Date(NOW.getTime() + renewMargin))).toMatch(/expires/);
  });
});
