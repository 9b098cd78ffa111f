import {
  BootOp,
  type DhcpEncodeErrorCode,
  type DhcpMessage,
  type DhcpOptions,
  encode,
  MessageType,
  parseMac,
} from "@vm-dhcp/dhcp-codec";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import type { IpPool } from "../api/types.js";
import type { Logger } from "../logger.js";
import { DhcpServer, type DropReason } from "./dhcp-server.js";
import { type Lease, LeaseStore, leasesOf, type PoolOptions } from "./lease-store.js";
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

/** A request from `mac` with a few fields and options set. */
function packet(
  type: MessageType,
  options: Partial<DhcpOptions> = {},
  fields: Partial<DhcpMessage> = {},
  mac = MAC,
): Buffer {
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
    ...fields,
    options: { messageType: type, unknown: [], ...options },
  });
}

function discover(mac: string, options: Partial<DhcpOptions> = {}): Buffer {
  return packet(MessageType.Discover, options, {}, mac);
}

type Level = keyof Logger;
type ExpectedLog = { level: Level; message: string; code: DhcpEncodeErrorCode };
interface LogLine {
  level: Level;
  message: string;
  fields: Record<string, unknown> | undefined;
}

/** A server over a transport that records what it was asked to send. */
function server(packetLogs: boolean | undefined, setup: { responder?: Responder } = {}) {
  const store = new LeaseStore();
  store.replace(leasesOf(pool));
  const sent: Destination[] = [];
  const lines: LogLine[] = [];
  let onPacket: ((bytes: Buffer, from: Destination) => void) | undefined;
  const transport: Transport = {
    start: async (deliver) => {
      onPacket = deliver;
    },
    send: async (_bytes, to) => void sent.push(to),
    close: async () => {},
  };
  const log = (level: Level) => (message: string, fields?: Record<string, unknown>) =>
    void lines.push({ level, message, fields });
  const logger: Logger = {
    error: log("error"),
    warn: log("warn"),
    info: log("info"),
    debug: log("debug"),
  };
  const metrics = createAgentMetrics(new Registry());
  const responder = setup.responder ?? new Responder(store);
  const options = { responder, transport, metrics, logger };
  const dhcp = new DhcpServer(packetLogs === undefined ? options : { ...options, packetLogs });
  const debug = () => lines.filter((line) => line.level === "debug").map((line) => line.message);
  const deliver = (bytes: Buffer) => onPacket?.(bytes, from);
  return { dhcp, store, sent, lines, debug, metrics, deliver };
}

/** The dropped-requests counter, by reason. */
async function dropped(metrics: ReturnType<typeof createAgentMetrics>) {
  const values = (await metrics.dropped.get()).values;
  return Object.fromEntries(values.map((v) => [v.labels.reason, v.value]));
}

/** A store whose one lease carries options changed past what the pool check allows. */
function leaseWith(change: Partial<PoolOptions>): Map<string, Lease> {
  const lease = leasesOf(pool).get(MAC)!;
  return new Map([[MAC, { ...lease, options: { ...lease.options, ...change } }]]);
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
    expect(debug()).toEqual(lines);
  });

  it("drops a request relayed from outside the pool's CIDR, counted, logged at debug", async () => {
    const { dhcp, sent, lines, metrics } = server(undefined);
    await dhcp.handle(packet(MessageType.Discover, {}, { giaddr: "198.51.100.1" }), from);
    expect(sent).toEqual([]);
    expect(await dropped(metrics)).toEqual({ "foreign-relay": 1 });
    expect(lines).toContainEqual({
      level: "debug",
      message: "request not answered",
      fields: expect.objectContaining({ reason: "foreign-relay", giaddr: "198.51.100.1" }),
    });
  });

  it.each([
    [
      "a value the codec refuses: an invalid reply, logged as such at error",
      { domainSearch: ["a..b"] },
      576,
      "reply-invalid",
      { level: "error", message: "reply cannot be encoded", code: "INVALID_VALUE" },
    ],
    [
      "options over the client's 576 bytes: too large, a warning",
      { domainName: "d".repeat(300) },
      576,
      "reply-too-large",
      {
        level: "warn",
        message: "reply does not fit the client's maximum message size",
        code: "DOES_NOT_FIT",
      },
    ],
  ] satisfies [string, Partial<PoolOptions>, number, DropReason, ExpectedLog][])(
    "names an encode failure by its code: %s",
    async (_why, change, max, reason, log) => {
      const { dhcp, store, sent, lines, metrics } = server(false);
      store.replace(leaseWith(change));
      await dhcp.handle(discover(MAC, { maxMessageSize: max }), from);
      expect(sent).toEqual([]);
      expect(await dropped(metrics)).toEqual({ [reason]: 1 });
      const { level, message, code } = log;
      expect(lines).toEqual([
        { level, message, fields: expect.objectContaining({ code, xid: 7 }) },
      ]);
    },
  );

  it("survives a failure nothing foresaw: logged at error, counted, next one served", async () => {
    const failing = new Responder(new LeaseStore());
    let calls = 0;
    failing.respond = () => {
      calls++;
      throw new TypeError("a bug");
    };
    const { dhcp, lines, metrics, deliver } = server(false, { responder: failing });
    await dhcp.start();
    deliver(discover(MAC)); // as the socket does: nobody awaits it
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toBe(1);
    expect(await dropped(metrics)).toEqual({ "internal-error": 1 });
    expect(lines).toEqual([
      {
        level: "error",
        message: "request handling failed",
        fields: { from: "0.0.0.0", mac: MAC, xid: 7, err: "a bug" },
      },
    ]);
    await expect(dhcp.handle(discover(MAC), from)).resolves.toBeUndefined();
  });

  it.each([
    [
      "release",
      packet(MessageType.Release, {}, { ciaddr: "192.0.2.10" }),
      "client released its lease",
    ],
    [
      "decline",
      packet(MessageType.Decline, { requestedIpAddress: "192.0.2.10" }),
      "client declined its address",
    ],
  ] as const)(
    "logs a %s with a constant message and the kind as a field",
    async (kind, bytes, message) => {
      const { dhcp, lines } = server(false);
      await dhcp.handle(bytes, from);
      expect(lines).toEqual([
        {
          level: "info",
          message,
          fields: { kind, mac: MAC, address: "192.0.2.10", xid: 7 },
        },
      ]);
    },
  );

  it("counts and drops a malformed packet without answering", async () => {
    const { dhcp, sent, metrics } = server(false);
    await dhcp.handle(Buffer.from([1, 2, 3]), from);
    expect(sent).toEqual([]);
    const counted = (await metrics.malformed.get()).values.reduce((sum, v) => sum + v.value, 0);
    expect(counted).toBe(1);
  });
});
