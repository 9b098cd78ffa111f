/**
 * Seed packets for the fuzzer and the benchmark: captured client packets from
 * `test/fixtures/*.bin` when present, plus built-in encodings that reach the parts real
 * captures rarely do (overload, RFC 3396 splits, compressed domain search, FQDN, relay).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type DhcpMessage, encode, FqdnFlag, MessageType, parseMac } from "../src/index.js";

/** Where the captured real packets live, relative to this file. */
export const FIXTURE_DIR = fileURLToPath(new URL("../test/fixtures/", import.meta.url));

/** A named packet. */
export interface Seed {
  name: string;
  bytes: Uint8Array;
}

/** Every `*.bin` under `dir`, recursively, sorted by path; none if the folder is missing. */
export function loadFixtureSeeds(dir = FIXTURE_DIR): Seed[] {
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return loadFixtureSeeds(path);
    return entry.endsWith(".bin")
      ? [{ name: entry, bytes: new Uint8Array(readFileSync(path)) }]
      : [];
  });
}

const MAC = parseMac("52:54:00:12:34:56");
const CLIENT_ID = new Uint8Array([1, ...MAC.subarray(0, 6)]);

/** The header shared by the built-in messages. */
function header(op: 1 | 2, overrides: Partial<DhcpMessage> = {}): Omit<DhcpMessage, "options"> {
  return {
    op,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid: 0x3903f326,
    secs: 0,
    flags: 0,
    ciaddr: "0.0.0.0",
    yiaddr: "0.0.0.0",
    siaddr: "0.0.0.0",
    giaddr: "0.0.0.0",
    chaddr: MAC,
    sname: "",
    file: "",
    ...overrides,
  };
}

/** A DHCPDISCOVER as dhclient sends it (no client identifier by default). */
export const DISCOVER: DhcpMessage = {
  ...header(1),
  options: {
    messageType: MessageType.Discover,
    maxMessageSize: 1500,
    hostName: "vm-1",
    parameterRequestList: [1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42],
  },
};

/** A DHCPREQUEST in SELECTING state, answering an offer. */
export const REQUEST: DhcpMessage = {
  ...header(1, { secs: 3 }),
  options: {
    messageType: MessageType.Request,
    requestedIpAddress: "192.0.2.101",
    serverIdentifier: "192.0.2.1",
    maxMessageSize: 1500,
    hostName: "vm-1",
    parameterRequestList: [1, 28, 2, 3, 15, 6, 119, 12, 44, 47, 26, 121, 42],
  },
};

/** A DHCPACK with the options a pool hands out, limited to what both benchmarked codecs know. */
export const ACK: DhcpMessage = {
  ...header(2, { yiaddr: "192.0.2.101", siaddr: "192.0.2.1" }),
  options: {
    messageType: MessageType.Ack,
    serverIdentifier: "192.0.2.1",
    leaseTimeSeconds: 86400,
    renewalTimeSeconds: 43200,
    rebindingTimeSeconds: 75600,
    subnetMask: "255.255.255.0",
    broadcastAddress: "192.0.2.255",
    routers: ["192.0.2.1"],
    domainNameServers: ["192.0.2.53", "198.51.100.53", "203.0.113.53"],
    domainName: "vms.example.com",
    ntpServers: ["192.0.2.123"],
    interfaceMtu: 1500,
    hostName: "vm-1",
  },
};

/** Built-in messages for the fuzzer, including the features captures rarely carry. */
export const BUILT_IN_MESSAGES: Record<string, DhcpMessage> = {
  discover: DISCOVER,
  request: REQUEST,
  ack: ACK,
  "ack-extended": {
    ...ACK,
    ...header(2, { yiaddr: "192.0.2.101", giaddr: "192.0.2.254", hops: 1 }),
    options: {
      ...ACK.options,
      clientIdentifier: CLIENT_ID,
      vendorClassIdentifier: "PXEClient:Arch:00000:UNDI:002001",
      domainSearch: ["vms.example.com", "example.com", "svc.cluster.local", "cluster.local"],
      classlessStaticRoutes: [
        { destination: "10.0.0.0/8", router: "192.0.2.1" },
        { destination: "0.0.0.0/0", router: "192.0.2.1" },
      ],
      clientFqdn: { flags: FqdnFlag.CanonicalEncoding, rcode1: 0, rcode2: 0, name: "vm-1.vms." },
      relayAgentInformation: [
        { code: 1, data: new Uint8Array([0, 4, 0, 1]) },
        { code: 2, data: new Uint8Array([0xaa, 0xbb, 0xcc]) },
      ],
      unknown: [{ code: 224, data: new Uint8Array(300).fill(0x5a) }],
    },
  },
  "ack-overloaded": {
    ...header(2, { yiaddr: "192.0.2.101" }),
    options: {
      messageType: MessageType.Ack,
      overload: 3,
      serverIdentifier: "192.0.2.1",
      domainSearch: Array.from({ length: 12 }, (_, i) => `zone-${i}.corp.example.com`),
      unknown: [
        { code: 224, data: new Uint8Array(120).fill(1) },
        { code: 225, data: new Uint8Array(100).fill(2) },
        { code: 226, data: new Uint8Array(40).fill(3) },
      ],
    },
  },
};

/** The built-in messages encoded; `ack-overloaded` at 576 spills into file and sname. */
export function builtInSeeds(): Seed[] {
  return Object.entries(BUILT_IN_MESSAGES).map(([name, message]) => ({
    name: `built-in ${name}`,
    bytes: new Uint8Array(
      encode(message, { maxMessageSize: name === "ack-overloaded" ? 576 : 1500 }),
    ),
  }));
}
