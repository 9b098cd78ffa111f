import { describe, expect, it } from "vitest";
import { BootOp, MessageType } from "./constants.js";
import { createReply, messageTypeName } from "./reply.js";
import type { DhcpMessage } from "./types.js";

const REQUEST: DhcpMessage = {
  op: BootOp.Request,
  htype: 1,
  hlen: 6,
  hops: 1,
  xid: 7,
  secs: 9,
  flags: 0x8000,
  ciaddr: "192.0.2.10",
  yiaddr: "0.0.0.0",
  siaddr: "0.0.0.0",
  giaddr: "192.0.2.1",
  chaddr: new Uint8Array([0x52, 0x54, 0, 0x12, 0x34, 0x56, ...new Array(10).fill(0)]),
  sname: "",
  file: "",
  options: {
    messageType: MessageType.Request,
    clientIdentifier: new Uint8Array([1, 0x52, 0x54, 0, 0x12, 0x34, 0x56]),
    relayAgentInformation: [{ code: 1, data: new Uint8Array([9]) }],
    hostName: "vm-1",
  },
};

describe("createReply", () => {
  const ack = createReply(REQUEST, {
    yiaddr: "192.0.2.10",
    options: { messageType: MessageType.Ack, serverIdentifier: "192.0.2.2" },
  });

  it("fills the header per RFC 2131 Table 3", () => {
    expect(ack).toMatchObject({
      op: BootOp.Reply,
      hops: 0,
      secs: 0,
      xid: 7,
      flags: 0x8000,
      giaddr: "192.0.2.1",
      ciaddr: "192.0.2.10",
      yiaddr: "192.0.2.10",
      htype: 1,
      hlen: 6,
    });
    expect(ack.chaddr).toEqual(REQUEST.chaddr);
    expect(ack.chaddr).not.toBe(REQUEST.chaddr);
  });

  it("echoes relay agent information (RFC 3046 §2.2) and client identifier (RFC 6842)", () => {
    expect(ack.options).toEqual({
      messageType: MessageType.Ack,
      serverIdentifier: "192.0.2.2",
      relayAgentInformation: REQUEST.options.relayAgentInformation,
      clientIdentifier: REQUEST.options.clientIdentifier,
    });
  });

  it("zeroes ciaddr for anything but an ACK", () => {
    const nak = createReply(REQUEST, { options: { messageType: MessageType.Nak } });
    expect(nak.ciaddr).toBe("0.0.0.0");
  });

  it("lets the caller override header fields and echoed options", () => {
    const offer = createReply(REQUEST, {
      siaddr: "192.0.2.3",
      file: "pxelinux.0",
      options: { messageType: MessageType.Offer, relayAgentInformation: [] },
    });
    expect(offer).toMatchObject({ siaddr: "192.0.2.3", file: "pxelinux.0" });
    expect(offer.options.relayAgentInformation).toEqual([]);
  });
});

describe("messageTypeName", () => {
  it.each([
    [MessageType.Discover, "DHCPDISCOVER"],
    [MessageType.Inform, "DHCPINFORM"],
    [MessageType.LeaseQuery, "DHCPLEASEQUERY"],
    [42 as MessageType, "UNKNOWN(42)"],
  ])("names %s as %s", (type, name) => {
    expect(messageTypeName(type)).toBe(name);
  });
});
