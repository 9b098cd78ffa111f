/**
 * The replies our server sends (OFFER and ACK), encoded by this codec and dissected by
 * tshark: a second, independent DHCP implementation must read back every value we meant.
 * Skips, saying why, where tshark is not installed.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DhcpMessage, decode, encode, MessageType } from "../src/index.js";
import { pcapFile } from "./tools/pcap.js";
import {
  type DissectedField,
  dissect,
  show,
  shows,
  tsharkUnavailableReason,
} from "./tools/tshark.js";

const unavailable = tsharkUnavailableReason();
if (unavailable !== undefined) {
  console.warn(`tshark.test.ts skipped: ${unavailable}`);
}

const SERVER_IP = "192.0.2.1";
const SERVER_MAC = "02:00:5e:00:53:01";
const RELAY_IP = "192.0.2.254";
const CLIENT_MAC = "02:00:5e:d1:00:01";
const CIRCUIT_ID = Uint8Array.from(Buffer.from("vm-ns/vm-1:eth0"));
const REMOTE_ID = Uint8Array.from([0x02, 0x00, 0x5e, 0xd1, 0x00, 0x01]);

/** Names chosen so that compression (RFC 1035 section 4.1.4 pointers) has suffixes to share. */
const SHORT_SEARCH = ["vm.example.test", "example.test", "svc.cluster.local", "cluster.local"];

/** Long enough that option 119 exceeds 255 bytes even compressed: split per RFC 3396. */
const LONG_SEARCH = Array.from(
  { length: 10 },
  (_, i) => `tenant-${i}-abcdefghijklmnopqrstuvwxyz.vm.example.test`,
);

function chaddr(mac: string): Uint8Array {
  const bytes = new Uint8Array(16);
  bytes.set(mac.split(":").map((part) => Number.parseInt(part, 16)));
  return bytes;
}

/** Uncompressed RFC 1035 encoding length of a list of names. */
function uncompressedLength(names: readonly string[]): number {
  return names.reduce((sum, name) => sum + name.length + 2, 0);
}

const baseReply = {
  op: 2,
  htype: 1,
  hlen: 6,
  secs: 0,
  ciaddr: "0.0.0.0",
  yiaddr: "192.0.2.50",
  siaddr: "0.0.0.0",
  chaddr: chaddr(CLIENT_MAC),
  sname: "",
  file: "",
};

/** A relayed OFFER: giaddr set, Relay Agent Information (RFC 3046) echoed back. */
const offer: DhcpMessage = {
  ...baseReply,
  hops: 1,
  xid: 0x1234abcd,
  flags: 0,
  giaddr: RELAY_IP,
  options: {
    messageType: MessageType.Offer,
    serverIdentifier: SERVER_IP,
    leaseTimeSeconds: 3600,
    renewalTimeSeconds: 1800,
    rebindingTimeSeconds: 3150,
    subnetMask: "255.255.255.0",
    broadcastAddress: "192.0.2.255",
    routers: ["192.0.2.1"],
    domainNameServers: ["192.0.2.53", "198.51.100.53"],
    domainName: "vm.example.test",
    domainSearch: SHORT_SEARCH,
    ntpServers: ["192.0.2.123", "198.51.100.123"],
    classlessStaticRoutes: [
      { destination: "10.0.0.0/8", router: "192.0.2.254" },
      { destination: "198.51.100.0/25", router: "192.0.2.253" },
      { destination: "0.0.0.0/0", router: "192.0.2.1" },
    ],
    relayAgentInformation: [
      { code: 1, data: CIRCUIT_ID },
      { code: 2, data: REMOTE_ID },
    ],
  },
};

/** A broadcast ACK whose domain search list needs more than one option 119 instance. */
const ack: DhcpMessage = {
  ...baseReply,
  hops: 0,
  xid: 0x0badcafe,
  flags: 0x8000,
  giaddr: "0.0.0.0",
  options: {
    messageType: MessageType.Ack,
    serverIdentifier: SERVER_IP,
    leaseTimeSeconds: 86_400,
    renewalTimeSeconds: 43_200,
    rebindingTimeSeconds: 75_600,
    subnetMask: "255.255.255.0",
    broadcastAddress: "192.0.2.255",
    routers: ["192.0.2.1"],
    domainNameServers: ["192.0.2.53"],
    domainName: "vm.example.test",
    interfaceMtu: 1450,
    domainSearch: LONG_SEARCH,
    ntpServers: ["192.0.2.123"],
    classlessStaticRoutes: [{ destination: "0.0.0.0/0", router: "192.0.2.1" }],
  },
};

/** Pairs each option code with its length byte, in wire order, from tshark's fields. */
function optionLengths(packet: readonly DissectedField[]): { code: number; length: number }[] {
  const pairs: { code: number; length: number }[] = [];
  let code: number | undefined;
  for (const field of packet) {
    if (field.name === "dhcp.option.type") code = Number(field.show);
    if (field.name === "dhcp.option.length" && code !== undefined) {
      pairs.push({ code, length: Number(field.show) });
      code = undefined;
    }
  }
  return pairs;
}

/** tshark's display of each classless route, e.g. "10.0.0.0/8-192.0.2.254". */
function routeTexts(packet: readonly DissectedField[]): string[] {
  return packet
    .filter((field) => field.name === "dhcp.option.classless_static_route")
    .map((field) => field.showname.trim());
}

function expertProblems(packet: readonly DissectedField[]): string[] {
  return packet
    .filter((field) => field.name === "_ws.malformed" || field.name === "_ws.expert")
    .map((field) => field.showname)
    .filter((text) => !/\(Chat\/|\(Note\//.test(text));
}

describe.skipIf(unavailable !== undefined)("encode, read back by tshark", () => {
  let dir: string;
  let offerBytes: Buffer;
  let ackBytes: Buffer;
  let offerPacket: DissectedField[];
  let ackPacket: DissectedField[];

  beforeAll(() => {
    offerBytes = encode(offer, { maxMessageSize: 1500 });
    ackBytes = encode(ack, { maxMessageSize: 1500 });
    dir = mkdtempSync(join(tmpdir(), "vm-dhcp-tshark-"));
    const pcapPath = join(dir, "replies.pcap");
    const common = { srcIp: SERVER_IP, srcMac: SERVER_MAC, srcPort: 67 };
    const frames = [
      // Relayed: unicast to the relay's server port (RFC 2131 section 4.1).
      { ...common, payload: offerBytes, dstIp: RELAY_IP, dstMac: "02:00:5e:00:53:fe", dstPort: 67 },
      // Broadcast flag set: to 255.255.255.255 on the client port.
      {
        ...common,
        payload: ackBytes,
        dstIp: "255.255.255.255",
        dstMac: "ff:ff:ff:ff:ff:ff",
        dstPort: 68,
      },
    ];
    writeFileSync(pcapPath, pcapFile(frames));
    const packets = dissect(pcapPath);
    expect(packets).toHaveLength(2);
    [offerPacket, ackPacket] = packets as [DissectedField[], DissectedField[]];
  });

  afterAll(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("tshark reports no malformed field and no expert warning", () => {
    expect(expertProblems(offerPacket)).toEqual([]);
    expect(expertProblems(ackPacket)).toEqual([]);
  });

  it.each([
    { field: "dhcp.type", offer: "2", ack: "2" },
    { field: "dhcp.hw.mac_addr", offer: CLIENT_MAC, ack: CLIENT_MAC },
    { field: "dhcp.id", offer: "0x1234abcd", ack: "0x0badcafe" },
    { field: "dhcp.hops", offer: "1", ack: "0" },
    { field: "dhcp.flags", offer: "0x0000", ack: "0x8000" },
    { field: "dhcp.ip.your", offer: "192.0.2.50", ack: "192.0.2.50" },
    { field: "dhcp.ip.relay", offer: RELAY_IP, ack: "0.0.0.0" },
    { field: "dhcp.cookie", offer: "99.130.83.99", ack: "99.130.83.99" },
    { field: "dhcp.option.dhcp", offer: "2", ack: "5" },
    { field: "dhcp.option.dhcp_server_id", offer: SERVER_IP, ack: SERVER_IP },
    { field: "dhcp.option.ip_address_lease_time", offer: "3600", ack: "86400" },
    { field: "dhcp.option.renewal_time_value", offer: "1800", ack: "43200" },
    { field: "dhcp.option.rebinding_time_value", offer: "3150", ack: "75600" },
    { field: "dhcp.option.subnet_mask", offer: "255.255.255.0", ack: "255.255.255.0" },
    { field: "dhcp.option.broadcast_address", offer: "192.0.2.255", ack: "192.0.2.255" },
    { field: "dhcp.option.domain_name", offer: "vm.example.test", ack: "vm.example.test" },
  ])("$field: header and single-valued options", ({ field, offer: inOffer, ack: inAck }) => {
    expect(show(offerPacket, field)).toBe(inOffer);
    expect(show(ackPacket, field)).toBe(inAck);
  });

  it("address lists keep their order: routers, DNS, NTP", () => {
    expect(shows(offerPacket, "dhcp.option.router")).toEqual(offer.options.routers);
    expect(shows(offerPacket, "dhcp.option.domain_name_server")).toEqual(
      offer.options.domainNameServers,
    );
    expect(shows(offerPacket, "dhcp.option.ntp_server")).toEqual(offer.options.ntpServers);
    expect(shows(ackPacket, "dhcp.option.ntp_server")).toEqual(ack.options.ntpServers);
  });

  it("interface MTU (26) reads back in the ACK and is absent from the OFFER", () => {
    expect(show(ackPacket, "dhcp.option.interface_mtu")).toBe("1450");
    expect(shows(offerPacket, "dhcp.option.interface_mtu")).toEqual([]);
  });

  it("classless static routes (RFC 3442) read back with their prefix lengths", () => {
    expect(routeTexts(offerPacket)).toEqual([
      "10.0.0.0/8-192.0.2.254",
      "198.51.100.0/25-192.0.2.253",
      "default-192.0.2.1",
    ]);
    expect(routeTexts(ackPacket)).toEqual(["default-192.0.2.1"]);
  });

  it("domain search (RFC 3397) reads back and is compressed", () => {
    expect(shows(offerPacket, "dhcp.option.dhcp_dns_domain_search_list_fqdn")).toEqual(
      SHORT_SEARCH,
    );
    const searchBytes = optionLengths(offerPacket)
      .filter((option) => option.code === 119)
      .reduce((sum, option) => sum + option.length, 0);
    expect(searchBytes).toBeLessThan(uncompressedLength(SHORT_SEARCH));
  });

  it("a domain search longer than 255 bytes is split into several 119s (RFC 3396)", () => {
    const parts = optionLengths(ackPacket).filter((option) => option.code === 119);
    expect(parts.length).toBeGreaterThanOrEqual(2);
    expect(parts.reduce((sum, part) => sum + part.length, 0)).toBeGreaterThan(255);
    expect(shows(ackPacket, "dhcp.option.dhcp_dns_domain_search_list_rfc_3396_detected")).toEqual(
      parts.map((_, i) => `${i + 1}/${parts.length}`),
    );
    expect(shows(ackPacket, "dhcp.option.dhcp_dns_domain_search_list_fqdn")).toEqual(LONG_SEARCH);
  });

  it("relay agent information (RFC 3046) is echoed with its sub-options intact", () => {
    const hex = (name: string) =>
      offerPacket.filter((field) => field.name === name).map((field) => field.value);
    expect(hex("dhcp.option.agent_information_option.agent_circuit_id")).toEqual([
      Buffer.from(CIRCUIT_ID).toString("hex"),
    ]);
    expect(hex("dhcp.option.agent_information_option.agent_remote_id")).toEqual([
      Buffer.from(REMOTE_ID).toString("hex"),
    ]);
    expect(shows(ackPacket, "dhcp.option.agent_information_option.agent_circuit_id")).toEqual([]);
  });

  it("options end with END (255) and our own decoder agrees with what we encoded", () => {
    expect(shows(offerPacket, "dhcp.option.end")).toEqual(["255"]);
    expect(shows(ackPacket, "dhcp.option.end")).toEqual(["255"]);
    expect(decode(offerBytes)).toEqual(offer);
    expect(decode(ackBytes)).toEqual(ack);
  });
});
