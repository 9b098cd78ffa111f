import {
  BootOp,
  BROADCAST_FLAG,
  type DhcpEncodeErrorCode,
  MessageType,
  OptionCode,
  parseMac,
} from "@vm-dhcp/dhcp-codec";
import { describe, expect, it } from "vitest";
import {
  EVERY_OPTION,
  LEASED,
  MAC,
  poolWith,
  request,
  SERVER,
  XID,
} from "../../test/agent/fixtures.js";
import type { IpPool } from "../api/types.js";
import { LeaseStore, leasesOf, type PoolOptions } from "./lease-store.js";
import { assertRepliesEncode, Responder } from "./responder.js";

/** A relay inside the pool's 192.0.2.0/24, as the relay end-to-end test has it. */
const RELAY = "192.0.2.250";

const pool = poolWith(EVERY_OPTION);

function responder(active = true): Responder {
  const store = new LeaseStore();
  store.replace(leasesOf(pool));
  return new Responder(store, () => active);
}

function reply(outcome: ReturnType<Responder["respond"]>) {
  if (outcome.kind !== "reply") throw new Error(`expected a reply, got silence: ${outcome.reason}`);
  return outcome.reply;
}

describe("Responder.respond", () => {
  it("offers the allocated address with every configured option to a DISCOVER", () => {
    const { message, destination } = reply(responder().respond(request(MessageType.Discover)));
    expect(message.op).toBe(BootOp.Reply);
    expect(message.yiaddr).toBe(LEASED);
    expect(message.xid).toBe(XID);
    expect(destination).toEqual({ address: "255.255.255.255", port: 68 });
    expect(message.options).toMatchObject({
      messageType: MessageType.Offer,
      serverIdentifier: SERVER,
      subnetMask: "255.255.255.0",
      routers: ["192.0.2.1"],
      domainNameServers: ["192.0.2.53"],
      domainName: "vm.example",
      domainSearch: ["vm.example", "example"],
      ntpServers: ["192.0.2.123"],
      broadcastAddress: "192.0.2.255",
      leaseTimeSeconds: 3600,
      renewalTimeSeconds: 1800,
      rebindingTimeSeconds: 3150,
    });
  });

  it("sends only the options the client asked for, plus those RFC 2131 requires", () => {
    const asked = [OptionCode.SubnetMask, OptionCode.Router];
    const { message } = reply(
      responder().respond(request(MessageType.Discover, { parameterRequestList: asked })),
    );
    expect(message.options.routers).toEqual(["192.0.2.1"]);
    expect(message.options.domainNameServers).toBeUndefined();
    expect(message.options.ntpServers).toBeUndefined();
    expect(message.options.leaseTimeSeconds).toBe(3600);
    expect(message.options.serverIdentifier).toBe(SERVER);
  });

  it("leaves out an option the pool does not configure instead of sending it empty", () => {
    const bare: IpPool = structuredClone(pool);
    delete bare.spec.ipv4Config.router;
    bare.spec.ipv4Config.dns = [];
    const store = new LeaseStore();
    store.replace(leasesOf(bare));
    const { message } = reply(new Responder(store).respond(request(MessageType.Discover)));
    expect("routers" in message.options).toBe(false);
    expect("domainNameServers" in message.options).toBe(false);
  });

  it.each([
    [
      "SELECTING with our server id and the leased address: ACK",
      { serverIdentifier: SERVER, requestedIpAddress: LEASED },
      {},
      MessageType.Ack,
    ],
    [
      "SELECTING with our server id and another address: NAK",
      { serverIdentifier: SERVER, requestedIpAddress: "192.0.2.99" },
      {},
      MessageType.Nak,
    ],
    [
      "our server id, no option 50 but ciaddr the lease (a renewal some clients send; Kea ACKs)",
      { serverIdentifier: SERVER },
      { ciaddr: LEASED },
      MessageType.Ack,
    ],
    [
      "our server id, no option 50 and ciaddr another address: NAK",
      { serverIdentifier: SERVER },
      { ciaddr: "192.0.2.99" },
      MessageType.Nak,
    ],
    [
      "our server id and neither option 50 nor ciaddr: NAK, nothing names the lease",
      { serverIdentifier: SERVER },
      {},
      MessageType.Nak,
    ],
    ["INIT-REBOOT asking for the lease: ACK", { requestedIpAddress: LEASED }, {}, MessageType.Ack],
    [
      "INIT-REBOOT asking for a wrong address: NAK",
      { requestedIpAddress: "192.0.2.99" },
      {},
      MessageType.Nak,
    ],
    ["RENEWING from the leased address: ACK", {}, { ciaddr: LEASED }, MessageType.Ack],
    ["RENEWING from another address: NAK", {}, { ciaddr: "192.0.2.99" }, MessageType.Nak],
  ] as const)("%s", (_why, options, fields, expected) => {
    const { message } = reply(responder().respond(request(MessageType.Request, options, fields)));
    expect(message.options.messageType).toBe(expected);
    if (expected === MessageType.Nak) {
      expect(message.yiaddr).toBe("0.0.0.0");
      expect(message.options.leaseTimeSeconds).toBeUndefined();
    }
  });

  it.each([
    [
      "a MAC the control plane did not allocate",
      request(MessageType.Discover, {}, { chaddr: parseMac("52:54:00:00:00:99") }),
      "unknown-client",
    ],
    [
      "a REQUEST for another server's offer",
      request(MessageType.Request, { serverIdentifier: "192.0.2.3", requestedIpAddress: LEASED }),
      "other-server",
    ],
    [
      "a relay outside the pool's CIDR: its client is on another network (RFC 2131 4.3.1)",
      request(MessageType.Discover, {}, { giaddr: "198.51.100.1" }),
      "foreign-relay",
    ],
    [
      "a REQUEST relayed from 192.0.3.1, just past the pool's broadcast address",
      request(MessageType.Request, { requestedIpAddress: LEASED }, { giaddr: "192.0.3.1" }),
      "foreign-relay",
    ],
    [
      "a BOOTREPLY seen on the wire",
      { ...request(MessageType.Offer), op: BootOp.Reply },
      "not-a-request",
    ],
    [
      "a BOOTP request without option 53",
      { ...request(MessageType.Discover), options: {} },
      "no-message-type",
    ],
  ] as const)("stays silent for %s", (_why, message, reason) => {
    expect(responder().respond(message)).toEqual({ kind: "silent", reason });
  });

  it("answers by chaddr even when the client identifier names another client (a clone)", () => {
    // A cloned VM keeps its template's client identifier (type 1 + the template's MAC).
    const template = new Uint8Array([1, ...parseMac("52:54:00:aa:bb:02")]);
    const store = new LeaseStore();
    const twoLeases: IpPool = structuredClone(pool);
    twoLeases.status!.ipv4!.allocated!["192.0.2.11"] = "52:54:00:aa:bb:02";
    store.replace(leasesOf(twoLeases));
    const outcome = new Responder(store).respond(
      request(MessageType.Discover, { clientIdentifier: template }),
    );
    expect(reply(outcome).message.yiaddr).toBe(LEASED);
  });

  it("stays silent while its gate is closed (standby agent)", () => {
    expect(responder(false).respond(request(MessageType.Discover))).toMatchObject({
      reason: "inactive",
    });
  });

  it.each([
    [
      "a relayed request goes back to the relay on port 67",
      { ciaddr: LEASED, giaddr: RELAY },
      { address: RELAY, port: 67 },
    ],
    [
      "a renewing client with an address gets a unicast",
      { ciaddr: LEASED },
      { address: LEASED, port: 68 },
    ],
    ["a client without an address gets a broadcast", {}, { address: "255.255.255.255", port: 68 }],
  ] as const)("addresses replies per RFC 2131 4.1: %s", (_why, fields, destination) => {
    const asked = "ciaddr" in fields ? {} : { requestedIpAddress: LEASED };
    const outcome = responder().respond(request(MessageType.Request, asked, fields));
    expect(reply(outcome).message.options.messageType).toBe(MessageType.Ack);
    expect(reply(outcome).destination).toEqual(destination);
  });

  it("broadcasts a NAK to a client with an address; a relayed NAK gets the broadcast bit", () => {
    const direct = reply(
      responder().respond(request(MessageType.Request, {}, { ciaddr: "192.0.2.99" })),
    );
    expect(direct.destination).toEqual({ address: "255.255.255.255", port: 68 });
    const relayed = reply(
      responder().respond(
        request(MessageType.Request, { requestedIpAddress: "192.0.2.99" }, { giaddr: RELAY }),
      ),
    );
    expect(relayed.message.flags & BROADCAST_FLAG).toBe(BROADCAST_FLAG);
    expect(relayed.destination.port).toBe(67);
  });

  it("acknowledges an INFORM with options but without an address or lease time", () => {
    const { message, destination } = reply(
      responder().respond(request(MessageType.Inform, {}, { ciaddr: LEASED })),
    );
    expect(message.options.messageType).toBe(MessageType.Ack);
    expect(message.yiaddr).toBe("0.0.0.0");
    expect(message.options.leaseTimeSeconds).toBeUndefined();
    expect(message.options.routers).toEqual(["192.0.2.1"]);
    expect(destination).toEqual({ address: LEASED, port: 68 });
  });

  it.each([
    ["RELEASE from the leased address", MessageType.Release, {}, { ciaddr: LEASED }, "release"],
    [
      "DECLINE of the offered address",
      MessageType.Decline,
      { requestedIpAddress: LEASED, serverIdentifier: SERVER },
      {},
      "decline",
    ],
  ] as const)("records a %s without answering", (_why, type, options, fields, kind) => {
    const outcome = responder().respond(request(type, options, fields));
    expect(outcome.kind).toBe("silent");
    expect(outcome.notice).toEqual({ kind, mac: MAC, address: LEASED });
  });

  it("echoes the client identifier and, for relays, the relay agent information", () => {
    const clientIdentifier = new Uint8Array([1, 0x52, 0x54, 0, 0xaa, 0xbb, 1]);
    const relayAgentInformation = [{ code: 1, data: new Uint8Array([7, 7]) }];
    const { message } = reply(
      responder().respond(
        request(
          MessageType.Discover,
          { clientIdentifier, relayAgentInformation },
          { giaddr: RELAY },
        ),
      ),
    );
    expect(message.options.clientIdentifier).toEqual(clientIdentifier);
    expect(message.options.relayAgentInformation).toEqual(relayAgentInformation);
  });

  it.each([
    ["empty: below the minimum length of 2 (RFC 2132 9.14)", 0, false],
    ["a type byte without a value: below the minimum", 1, false],
    ["a type byte and one byte of value: the shortest valid one", 2, true],
  ] as const)("echoes a client identifier only when valid: %s", (_why, length, echoed) => {
    const clientIdentifier = new Uint8Array(length).fill(1);
    const { message } = reply(
      responder().respond(request(MessageType.Discover, { clientIdentifier })),
    );
    expect("clientIdentifier" in message.options).toBe(echoed);
  });

  it("honours the client's maximum message size but never below 576", () => {
    const big = reply(responder().respond(request(MessageType.Discover, { maxMessageSize: 1500 })));
    const tiny = reply(responder().respond(request(MessageType.Discover, { maxMessageSize: 300 })));
    expect(big.maxMessageSize).toBe(1500);
    expect(tiny.maxMessageSize).toBe(576);
  });

  it("serves an address that moved to another MAC to the new MAC only, at once", () => {
    const store = new LeaseStore();
    store.replace(leasesOf(pool));
    const responderNow = new Responder(store);
    const moved: IpPool = structuredClone(pool);
    moved.status = { ipv4: { allocated: { [LEASED]: "52:54:00:aa:bb:02" } } };
    store.replace(leasesOf(moved));
    expect(responderNow.respond(request(MessageType.Discover))).toMatchObject({
      reason: "unknown-client",
    });
    const other = request(MessageType.Discover, {}, { chaddr: parseMac("52:54:00:aa:bb:02") });
    expect(reply(responderNow.respond(other)).message.yiaddr).toBe(LEASED);
  });
});

describe("assertRepliesEncode", () => {
  const options = () => structuredClone(leasesOf(pool).get(MAC)!.options);

  it("accepts the options of a usable pool", () => {
    expect(() => assertRepliesEncode(options())).not.toThrow();
  });

  it.each([
    ["a search domain with an empty label", { domainSearch: ["a..b"] }, "INVALID_VALUE"],
    ["a router that is not an address", { routers: ["192.0.2"] }, "INVALID_VALUE"],
    ["a negative lease time", { leaseSeconds: -1 }, "INVALID_VALUE"],
    [
      "a 300-byte domain name: no room left in 576 bytes",
      { domainName: "d".repeat(300) },
      "DOES_NOT_FIT",
    ],
  ] satisfies [string, Partial<PoolOptions>, DhcpEncodeErrorCode][])(
    "throws the codec's error for %s",
    (_why, change, code) => {
      expect(() => assertRepliesEncode({ ...options(), ...change })).toThrow(
        expect.objectContaining({ name: "DhcpEncodeError", code }),
      );
    },
  );
});
