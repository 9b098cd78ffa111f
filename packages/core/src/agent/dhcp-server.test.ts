import { BootOp, encode, MessageType, parseMac } from "@vm-dhcp/dhcp-codec";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import type { IpPool } from "../api/types.js";
import type { Logger } from "../logger.js";
import { DhcpServer } from "./dhcp-server.js";
import { LeaseStore, leasesOf } from "./lease-store.js";
import { createAgentMetrics } from "./metrics.js";
import { type Destination, Responder } from "./responder.js";
import type { Transport } from "./udp-transport.js";

const MAC = "52:54:00:aa:bb:01";
const pool: IpPool = {
  metadata: { namespace: "default", name: "net-a" },
  spec: {
    networkName: "default/net-a",
    ipv4Config: {
      cidr: "192.0.2.0/24",
      serverIP: "192.0.2.2",
      pool: { start: "192.0.2.10", end: "192.0.2.200" },
    },
  },
  status: { ipv4: { allocated: { "192.0.2.10": MAC } } },
};

function discover(mac: string): Buffer {
  return encode({
    op: BootOp.Request,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid: 7,
    secs: 0,
    flags: 0,
    ciaddr: "0.0.0.0",
    yiaddr: "0.0.0.0",
    siaddr: "0.0.0.0",
    giaddr: "0.0.0.0",
    chaddr: parseMac(mac),
    sname: "",
    file: "",
    options: { messageType: MessageType.Discover, unknown: [] },
  });
}

/** A server over a transport that records what it was asked to send. */
function server(packetLogs: boolean | undefined) {
  const store = new LeaseStore();
  store.replace(leasesOf(pool));
  const sent: Destination[] = [];
  const debug: string[] = [];
  const transport: Transport = {
    start: async () => {},
    send: async (_bytes, to) => void sent.push(to),
    close: async () => {},
  };
  const logger: Logger = {
    error: () => {},
    warn: () => {},
    info: () => {},
    debug: (message) => void debug.push(message),
  };
  const metrics = createAgentMetrics(new Registry());
  const options = { responder: new Responder(store), transport, metrics, logger };
  const dhcp = new DhcpServer(packetLogs === undefined ? options : { ...options, packetLogs });
  return { dhcp, sent, debug, metrics };
}

const from = { address: "0.0.0.0", port: 68 };

describe("DhcpServer.handle", () => {
  it.each([
    ["on by default", undefined, ["reply sent", "request not answered"]],
    ["off: the hot path builds no debug lines", false, []],
  ] as const)("per-packet logs %s", async (_why, packetLogs, lines) => {
    const { dhcp, sent, debug } = server(packetLogs);
    await dhcp.handle(discover(MAC), from);
    await dhcp.handle(discover("52:54:00:00:00:99"), from);
    expect(sent).toEqual([{ address: "255.255.255.255", port: 68 }]);
    expect(debug).toEqual(lines);
  });

  it("counts and drops a malformed packet without answering", async () => {
    const { dhcp, sent, metrics } = server(false);
    await dhcp.handle(Buffer.from([1, 2, 3]), from);
    expect(sent).toEqual([]);
    const counted = (await metrics.malformed.get()).values.reduce((sum, v) => sum + v.value, 0);
    expect(counted).toBe(1);
  });
});
