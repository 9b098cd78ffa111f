/**
 * The one invariant every option kind must keep, checked for every entry of the option
 * table: the announced length is what gets written, writing at any offset gives the same
 * bytes, and decoding them gives the value back, alone and inside a whole packet. And the
 * length is never announced for a value that cannot be written: `encodedLength` refuses
 * it with the same `INVALID_VALUE` that `encode` would throw.
 */
import { describe, expect, it } from "vitest";
import { MessageType } from "../constants.js";
import { decode } from "../decode.js";
import { encode, encodedLength } from "../encode.js";
import type { DhcpMessage, DhcpOptions } from "../types.js";
import { decodeValue, encodeValue } from "./codec.js";
import { OPTION_SPECS, type OptionSpec, type TypedOptionKey } from "./table.js";

type Samples = { [K in TypedOptionKey]-?: NonNullable<DhcpOptions[K]>[] };

const SAMPLES: Samples = {
  subnetMask: ["255.255.255.0", "0.0.0.0"],
  routers: [["192.0.2.1"], ["192.0.2.1", "192.0.2.2"], []],
  domainNameServers: [["1.1.1.1", "8.8.8.8", "9.9.9.9"]],
  hostName: ["vm-1", "", "caf\u00e9"],
  domainName: ["example.com"],
  interfaceMtu: [1500, 68, 65535],
  broadcastAddress: ["192.0.2.255"],
  ntpServers: [["192.0.2.123"]],
  requestedIpAddress: ["192.0.2.10"],
  leaseTimeSeconds: [3600, 0, 0xffffffff],
  overload: [1, 2, 3],
  messageType: [MessageType.Discover, MessageType.Inform, MessageType.Tls],
  serverIdentifier: ["192.0.2.1"],
  parameterRequestList: [[1, 3, 6, 15, 119, 121], []],
  message: ["address in use"],
  maxMessageSize: [576, 1500],
  renewalTimeSeconds: [1800],
  rebindingTimeSeconds: [3150],
  vendorClassIdentifier: ["MSFT 5.0", "udhcp 1.35.0\u0000"],
  clientIdentifier: [new Uint8Array([1, 0x52, 0x54, 0, 0x12, 0x34, 0x56]), new Uint8Array(0)],
  clientFqdn: [
    { flags: 5, rcode1: 0, rcode2: 0, name: "vm-1.example.com." },
    { flags: 1, rcode1: 255, rcode2: 255, name: "vm-1" },
  ],
  relayAgentInformation: [
    [
      { code: 1, data: new Uint8Array([0, 4]) },
      { code: 2, data: new Uint8Array([0xaa]) },
    ],
  ],
  domainSearch: [["example.com", "corp.example.com", "."], Array(40).fill("a-long-zone.example")],
  classlessStaticRoutes: [
    [
      { destination: "10.0.0.0/8", router: "192.0.2.1" },
      { destination: "0.0.0.0/0", router: "192.0.2.1" },
    ],
  ],
};

/** Values each option must refuse; typed loosely, as a JavaScript caller might pass them. */
const INVALID: { [K in TypedOptionKey]-?: unknown[] } = {
  subnetMask: ["255.255.255", "255.255.255.0 ", 0xffffff00],
  routers: [["192.0.2.1", "192.0.2.256"], "192.0.2.1"],
  domainNameServers: [["1.1.1.01"]],
  hostName: ["vm-\u2603", 42],
  domainName: ["\u0101.example"],
  interfaceMtu: [65536, -1, 1500.5],
  broadcastAddress: ["192.0.2.255/24"],
  ntpServers: [[""]],
  requestedIpAddress: [0xc000020a, null],
  leaseTimeSeconds: [-1, 2 ** 32, Number.NaN, "3600"],
  overload: [0, 4],
  messageType: [0, 19, 1.5],
  serverIdentifier: ["192.0.2"],
  parameterRequestList: [[1, 256], [-1], [1.5]],
  message: ["\u{1f600}"],
  maxMessageSize: [65536],
  renewalTimeSeconds: [-0.5],
  rebindingTimeSeconds: [Number.POSITIVE_INFINITY],
  vendorClassIdentifier: ["MSFT \u2603"],
  clientIdentifier: ["01525400123456", [1, 2]],
  clientFqdn: [
    { flags: 256, rcode1: 0, rcode2: 0, name: "" },
    { flags: 0, rcode1: 0, rcode2: 0, name: "\u2603" },
    { flags: 4, rcode1: 0, rcode2: 0, name: "\u2603.example." },
  ],
  relayAgentInformation: [[{ code: 1, data: new Uint8Array(256) }]],
  domainSearch: [["\u2603.com"], [""]],
  classlessStaticRoutes: [
    [{ destination: "10.0.0.0/8", router: "192.0.2" }],
    [{ destination: "10.0.0.1/8", router: "192.0.2.1" }],
  ],
};

const BASE: DhcpMessage = {
  op: 2,
  htype: 1,
  hlen: 6,
  hops: 0,
  xid: 1,
  secs: 0,
  flags: 0,
  ciaddr: "0.0.0.0",
  yiaddr: "192.0.2.10",
  siaddr: "0.0.0.0",
  giaddr: "0.0.0.0",
  chaddr: new Uint8Array(16),
  sname: "",
  file: "",
  options: {},
};

/** The shared round-trip check: length, bytes at an offset, value alone, value in a packet. */
function expectRoundTrip<T>(key: TypedOptionKey, spec: OptionSpec<T>, value: T): void {
  const field = `option ${spec.code} (${spec.label})`;
  const wire = encodeValue(spec.codec, value, field);
  expect(wire).toHaveLength(spec.codec.encodedLength(value, field));

  const shifted = new Uint8Array(wire.length + 7);
  expect(spec.codec.encode(value, shifted, 7)).toBe(shifted.length);
  expect(shifted.subarray(7)).toEqual(wire);
  expect(decodeValue(spec.codec, wire, spec.code, spec.label)).toEqual(value);

  const message = { ...BASE, options: { [key]: value } };
  expect(decode(encode(message, { maxMessageSize: 1500 }))).toEqual(message);
}

describe("every option codec", () => {
  const rows = (Object.keys(SAMPLES) as TypedOptionKey[]).flatMap((key) =>
    SAMPLES[key].map((value, i) => [`${key} #${i + 1}`, key, value] as const),
  );

  it.each(rows)("round-trips %s", (_name, key, value) => {
    expectRoundTrip(key, OPTION_SPECS[key] as OptionSpec<unknown>, value);
  });
});

describe("every option codec's encodedLength", () => {
  const rows = (Object.keys(INVALID) as TypedOptionKey[]).flatMap((key) =>
    INVALID[key].map((value, i) => [`${key} #${i + 1}`, key, value] as const),
  );

  it.each(rows)("refuses invalid %s as encode does", (_name, key, value) => {
    const spec = OPTION_SPECS[key] as OptionSpec<unknown>;
    const field = `option ${spec.code} (${spec.label})`;
    const invalid = expect.objectContaining({ name: "DhcpEncodeError", code: "INVALID_VALUE" });
    expect(() => spec.codec.encodedLength(value, field)).toThrow(invalid);

    const message = { ...BASE, options: { [key]: value } };
    let thrown: unknown;
    try {
      encode(message);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: "INVALID_VALUE" });
    expect(() => encodedLength(message)).toThrow(thrown as Error);
  });
});
