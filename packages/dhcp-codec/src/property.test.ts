/**
 * Properties over generated messages and hostile bytes (fast-check). Run counts are kept
 * moderate so the package's tests stay within a few seconds; `fuzz/fuzz.ts` goes further.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { applyMutation, type Mutation } from "../fuzz/mutations.js";
import { FqdnFlag, MESSAGE_TYPE_MAX, MESSAGE_TYPE_MIN } from "./constants.js";
import { decode } from "./decode.js";
import { encode } from "./encode.js";
import { DhcpDecodeError, DhcpEncodeError } from "./errors.js";
import { OPTION_BY_CODE } from "./options/table.js";
import type { ClasslessRoute, ClientFqdn, DhcpMessage, DhcpOptions } from "./types.js";

const RUNS = { numRuns: 300 };
const LARGEST = { maxMessageSize: 65535 };

const byte = fc.integer({ min: 0, max: 255 });
const ipv4 = fc.tuple(byte, byte, byte, byte).map((octets) => octets.join("."));
const latin1 = (maxLength: number, min = 0) =>
  fc.string({ unit: fc.integer({ min, max: 255 }).map((c) => String.fromCharCode(c)), maxLength });
/** NVT text as decode returns it: trailing NULs are dropped (RFC 2132 §2). */
const nvtText = latin1(40).filter((text) => !text.endsWith("\u0000"));

/** A small label pool, so names share suffixes and compression gets exercised. */
const label = fc.constantFrom("example", "Example", "corp", "a", "svc", "cluster", "local", "x-1");
const dnsName = fc.array(label, { minLength: 1, maxLength: 4 }).map((labels) => labels.join("."));
const searchName = fc.oneof(
  { weight: 9, arbitrary: dnsName },
  { weight: 1, arbitrary: fc.constant(".") },
);

const clientFqdn: fc.Arbitrary<ClientFqdn> = fc
  .tuple(
    byte,
    byte,
    byte,
    fc.oneof(
      dnsName,
      dnsName.map((n) => `${n}.`),
      fc.constantFrom("", "."),
    ),
  )
  .chain(([flags, rcode1, rcode2, canonicalName]) =>
    (flags & FqdnFlag.CanonicalEncoding ? fc.constant(canonicalName) : latin1(30)).map((name) => ({
      flags,
      rcode1,
      rcode2,
      name,
    })),
  );

const classlessRoute: fc.Arbitrary<ClasslessRoute> = fc
  .tuple(fc.integer({ min: 0, max: 32 }), fc.tuple(byte, byte, byte, byte), ipv4)
  .map(([width, octets, router]) => {
    const sent = Math.ceil(width / 8);
    const destination = octets.map((octet, i) => (i < sent ? octet : 0)).join(".");
    return { destination: `${destination}/${width}`, router };
  });

const unknownCode = fc.integer({ min: 1, max: 254 }).filter((code) => !OPTION_BY_CODE[code]);

const options: fc.Arbitrary<DhcpOptions> = fc.record(
  {
    messageType: fc.integer({ min: MESSAGE_TYPE_MIN, max: MESSAGE_TYPE_MAX }),
    subnetMask: ipv4,
    routers: fc.array(ipv4, { maxLength: 4 }),
    domainNameServers: fc.array(ipv4, { maxLength: 3 }),
    hostName: nvtText,
    domainName: nvtText,
    interfaceMtu: fc.integer({ min: 0, max: 0xffff }),
    broadcastAddress: ipv4,
    ntpServers: fc.array(ipv4, { maxLength: 4 }),
    requestedIpAddress: ipv4,
    leaseTimeSeconds: fc.integer({ min: 0, max: 0xffffffff }),
    overload: fc.integer({ min: 1, max: 3 }),
    serverIdentifier: ipv4,
    parameterRequestList: fc.array(byte, { maxLength: 20 }),
    message: nvtText,
    maxMessageSize: fc.integer({ min: 0, max: 0xffff }),
    renewalTimeSeconds: fc.integer({ min: 0, max: 0xffffffff }),
    rebindingTimeSeconds: fc.integer({ min: 0, max: 0xffffffff }),
    vendorClassIdentifier: latin1(30),
    clientIdentifier: fc.uint8Array({ maxLength: 20 }),
    clientFqdn,
    relayAgentInformation: fc.array(
      fc.record({ code: byte, data: fc.uint8Array({ maxLength: 12 }) }),
      { maxLength: 3 },
    ),
    domainSearch: fc.array(searchName, { maxLength: 6 }),
    classlessStaticRoutes: fc.array(classlessRoute, { maxLength: 5 }),
    unknown: fc.uniqueArray(
      fc.record({ code: unknownCode, data: fc.uint8Array({ maxLength: 300 }) }),
      { selector: (option) => option.code, minLength: 1, maxLength: 3 },
    ),
  },
  { requiredKeys: [] },
);

/** Any message encode accepts; an overloaded field is left empty, as RFC 2131 §4.1 needs. */
const message: fc.Arbitrary<DhcpMessage> = fc
  .record({
    op: byte,
    htype: byte,
    hlen: fc.integer({ min: 0, max: 16 }),
    hops: byte,
    xid: fc.integer({ min: 0, max: 0xffffffff }),
    secs: fc.integer({ min: 0, max: 0xffff }),
    flags: fc.integer({ min: 0, max: 0xffff }),
    ciaddr: ipv4,
    yiaddr: ipv4,
    siaddr: ipv4,
    giaddr: ipv4,
    chaddr: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    sname: latin1(63, 1),
    file: latin1(127, 1),
    options,
  })
  .map((m) => {
    const overload = m.options.overload ?? 0;
    return { ...m, file: overload & 1 ? "" : m.file, sname: overload & 2 ? "" : m.sname };
  });

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant("flip" as const),
    at: fc.nat(),
    bit: fc.integer({ min: 0, max: 7 }),
  }),
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: byte }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ maxLength: 8 }),
  }),
  fc.record({
    kind: fc.constant("delete" as const),
    at: fc.nat(),
    count: fc.integer({ min: 1, max: 8 }),
  }),
  fc.record({ kind: fc.constant("length" as const), option: fc.nat(), value: byte }),
  fc.record({
    kind: fc.constant("duplicate" as const),
    at: fc.nat(),
    count: fc.integer({ min: 1, max: 40 }),
  }),
);

/** Decodes, and fails the property on anything thrown that is not a DhcpDecodeError. */
function decodeOrReject(bytes: Uint8Array): DhcpMessage | undefined {
  try {
    return decode(bytes);
  } catch (error) {
    if (error instanceof DhcpDecodeError) return undefined;
    throw error;
  }
}

describe("decode(encode(message))", () => {
  it("gives back every generated message", () => {
    fc.assert(
      fc.property(message, (m) => {
        expect(decode(encode(m, LARGEST))).toEqual(m);
      }),
      RUNS,
    );
  });

  it("at the default 576 either fits in 548 bytes and round-trips, or says DOES_NOT_FIT", () => {
    fc.assert(
      fc.property(message, (m) => {
        let packet: Buffer;
        try {
          packet = encode(m);
        } catch (error) {
          expect(error).toBeInstanceOf(DhcpEncodeError);
          expect((error as DhcpEncodeError).code).toBe("DOES_NOT_FIT");
          expect((error as DhcpEncodeError).optionCodes.length).toBeGreaterThan(0);
          return;
        }
        expect(packet.length).toBeGreaterThanOrEqual(300);
        expect(packet.length).toBeLessThanOrEqual(548);
        expect(decode(packet)).toEqual(m);
      }),
      RUNS,
    );
  });
});

describe("decode on hostile input", () => {
  it("throws nothing but DhcpDecodeError for random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        decodeOrReject(bytes);
      }),
      RUNS,
    );
  });

  it("throws nothing but DhcpDecodeError for random options after a valid header", () => {
    const header = encode(decode(encode(fc.sample(message, { numRuns: 1, seed: 1 })[0]!)));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (tail) => {
        decodeOrReject(new Uint8Array([...header.subarray(0, 240), ...tail]));
      }),
      RUNS,
    );
  });

  it("for mutated packets, decodes or rejects, and what decodes re-encodes to itself", () => {
    fc.assert(
      fc.property(message, fc.array(mutation, { minLength: 1, maxLength: 4 }), (m, mutations) => {
        const mutated = mutations.reduce(applyMutation, new Uint8Array(encode(m, LARGEST)));
        const decoded = decodeOrReject(mutated);
        if (decoded === undefined) return;
        let again: Buffer;
        try {
          again = encode(decoded, LARGEST);
        } catch (error) {
          expect(error).toBeInstanceOf(DhcpEncodeError);
          return;
        }
        expect(decode(again)).toEqual(decoded);
      }),
      RUNS,
    );
  });
});
