/**
 * Golden packets from real clients (dhclient, udhcpc, dhcpcd), captured on a veth pair by
 * scripts/capture-fixtures.sh. The expected values come from fixtures/manifest.json, which
 * that script writes from tshark's dissection of the same frames, plus the facts the script
 * fixes on purpose (each client's MAC and host name, the responder's addresses).
 */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type DhcpMessage,
  decode,
  encode,
  formatMac,
  MessageType,
  OptionCode,
} from "../src/index.js";

interface ManifestOption {
  code: number;
  hex: string;
}

interface ManifestFixture {
  client: "dhclient" | "udhcpc" | "dhcpcd";
  file: string;
  pcap: string;
  size: number;
  frame: number;
  xid: number;
  mac: string;
  flags: number;
  secs: number;
  ciaddr: string;
  messageType: number;
  parameterRequestList?: number[];
  requestedIpAddress?: string;
  serverIdentifier?: string;
  hostName?: string;
  vendorClassIdentifier?: string;
  maxMessageSize?: number;
  options: ManifestOption[];
}

interface Manifest {
  capture: Record<string, string>;
  fixtures: Record<string, ManifestFixture>;
}

const FIXTURES = new URL("./fixtures/", import.meta.url);
const manifest = JSON.parse(readFileSync(new URL("manifest.json", FIXTURES), "utf8")) as Manifest;

/** Set by scripts/capture-fixtures.sh with `ip link set ... address` before each client. */
const CLIENT_MAC = {
  dhclient: "02:00:5e:d1:00:01",
  udhcpc: "02:00:5e:d1:00:02",
  dhcpcd: "02:00:5e:d1:00:03",
} as const;

/** The throwaway responder's own address and the address it offers each client. */
const SERVER_IP = "192.0.2.1";
const OFFERED_IP = { dhclient: "192.0.2.101", udhcpc: "192.0.2.102", dhcpcd: "192.0.2.103" };

/** Option codes DhcpOptions has a typed field for; anything else must land in `unknown`. */
const TYPED_OPTION_CODES: ReadonlySet<number> = new Set(Object.values(OptionCode));

const fromHex = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, "hex"));

interface Row {
  name: string;
  fixture: ManifestFixture;
  bytes: Uint8Array;
}

const rows: Row[] = Object.entries(manifest.fixtures).map(([name, fixture]) => ({
  name,
  fixture,
  bytes: new Uint8Array(readFileSync(new URL(fixture.file, FIXTURES))),
}));

/** Decodes, re-encodes and decodes again; the two decoded messages must be equal. */
function expectRoundTrip(message: DhcpMessage): void {
  const again = decode(encode(message, { maxMessageSize: 1500 }));
  expect(again).toEqual(message);
}

describe("captured fixtures", () => {
  it("cover a DISCOVER and a REQUEST from each of the three clients", () => {
    expect(rows.map((row) => row.name).sort()).toEqual([
      "dhclient-discover",
      "dhclient-request",
      "dhcpcd-discover",
      "dhcpcd-request",
      "udhcpc-discover",
      "udhcpc-request",
    ]);
    for (const row of rows) expect(row.bytes.length, row.name).toBe(row.fixture.size);
  });
});

describe("decode", () => {
  describe.each(rows)("$name", ({ fixture, bytes }) => {
    let message: DhcpMessage;
    beforeAll(() => {
      message = decode(bytes);
    });
    const isRequest = fixture.messageType === MessageType.Request;

    it("reads the fixed BOOTP header as tshark does", () => {
      expect(message.op).toBe(1);
      expect(message.htype).toBe(1);
      expect(message.hlen).toBe(6);
      expect(message.hops).toBe(0);
      expect(message.xid).toBe(fixture.xid);
      expect(message.secs).toBe(fixture.secs);
      expect(message.flags).toBe(fixture.flags);
      expect(message.ciaddr).toBe(fixture.ciaddr);
      expect(message.yiaddr).toBe("0.0.0.0");
      expect(message.giaddr).toBe("0.0.0.0");
      expect(message.chaddr).toHaveLength(16);
    });

    it("reads the MAC the capture script set on the client's interface", () => {
      expect(formatMac(message.chaddr, message.hlen)).toBe(CLIENT_MAC[fixture.client]);
      expect(formatMac(message.chaddr, message.hlen)).toBe(fixture.mac);
    });

    it("reads the message type", () => {
      expect(message.options.messageType).toBe(fixture.messageType);
      expect(message.options.messageType).toBe(
        isRequest ? MessageType.Request : MessageType.Discover,
      );
    });

    it("reads the parameter request list in the client's order", () => {
      expect(message.options.parameterRequestList).toEqual(fixture.parameterRequestList);
    });

    it("reads the requested address and server identifier only where sent", () => {
      expect(message.options.requestedIpAddress).toBe(fixture.requestedIpAddress);
      expect(message.options.serverIdentifier).toBe(fixture.serverIdentifier);
      if (isRequest) {
        expect(message.options.requestedIpAddress).toBe(OFFERED_IP[fixture.client]);
        expect(message.options.serverIdentifier).toBe(SERVER_IP);
      }
    });

    it("reads host name, vendor class and maximum message size where sent", () => {
      expect(message.options.hostName).toBe(fixture.hostName);
      expect(message.options.vendorClassIdentifier).toBe(fixture.vendorClassIdentifier);
      expect(message.options.maxMessageSize).toBe(fixture.maxMessageSize);
    });

    it("keeps the client identifier bytes", () => {
      const sent = fixture.options.find((option) => option.code === 61);
      if (sent === undefined) {
        expect(message.options.clientIdentifier).toBeUndefined();
      } else {
        expect(message.options.clientIdentifier).toEqual(fromHex(sent.hex));
      }
    });

    it("keeps options it has no type for as raw bytes", () => {
      const untyped = fixture.options
        .filter((option) => !TYPED_OPTION_CODES.has(option.code))
        .map((option) => ({ code: option.code, data: fromHex(option.hex) }));
      expect(message.options.unknown ?? []).toEqual(untyped);
    });

    it("re-encodes to a message that decodes the same", () => {
      expectRoundTrip(message);
    });
  });
});

describe("decode, client by client", () => {
  const byName = (name: string): DhcpMessage => {
    const row = rows.find((candidate) => candidate.name === name);
    if (row === undefined) throw new Error(`fixture ${name} missing`);
    return decode(row.bytes);
  };

  it.each([
    {
      name: "dhclient-discover",
      why: "Debian's dhclient.conf sends host-name and asks for 13 options, 121 included",
      hostName: "vm-dhclient",
      prlLength: 13,
    },
    {
      name: "udhcpc-discover",
      why: "udhcpc -x hostname: sends option 12 and asks for its 7 default options",
      hostName: "vm-udhcpc",
      prlLength: 7,
    },
    {
      name: "dhcpcd-discover",
      why: "dhcpcd sends no host name unless told to, and asks for 14 options",
      hostName: undefined,
      prlLength: 14,
    },
  ])("$name: $why", ({ name, hostName, prlLength }) => {
    const message = byName(name);
    expect(message.options.hostName).toBe(hostName);
    expect(message.options.parameterRequestList).toHaveLength(prlLength);
  });

  it("udhcpc: client identifier is type 1 (Ethernet) followed by the MAC", () => {
    const message = byName("udhcpc-discover");
    expect(message.options.clientIdentifier).toEqual(
      fromHex(`01${CLIENT_MAC.udhcpc.replaceAll(":", "")}`),
    );
    expect(message.options.vendorClassIdentifier).toMatch(/^udhcp \d+\.\d+\.\d+$/);
    expect(message.options.maxMessageSize).toBe(576);
  });

  it("dhcpcd: client identifier is RFC 4361 (type 255, IAID, DUID)", () => {
    const id = byName("dhcpcd-discover").options.clientIdentifier;
    expect(id?.[0]).toBe(0xff);
    // The IAID is the last four bytes of the MAC; the DUID (type 1, LLT) ends with the MAC.
    expect(Buffer.from(id!.subarray(1, 5)).toString("hex")).toBe("5ed10003");
    expect(Buffer.from(id!.subarray(-6)).toString("hex")).toBe("02005ed10003");
  });

  it("dhcpcd: Rapid Commit (80, empty) and FORCERENEW nonce (145) are kept as unknown", () => {
    const message = byName("dhcpcd-discover");
    expect(message.options.unknown).toEqual([
      { code: 80, data: new Uint8Array(0) },
      { code: 145, data: fromHex("01") },
    ]);
  });

  it("dhcpcd: a REQUEST with the requested address before the message type still decodes", () => {
    const row = rows.find((candidate) => candidate.name === "dhcpcd-request")!;
    expect(row.fixture.options[0]?.code).toBe(50);
    expect(decode(row.bytes).options.messageType).toBe(MessageType.Request);
  });

  it("the DISCOVER and REQUEST of one client share its transaction id", () => {
    for (const client of ["dhclient", "udhcpc", "dhcpcd"]) {
      expect(byName(`${client}-request`).xid).toBe(byName(`${client}-discover`).xid);
    }
  });
});
