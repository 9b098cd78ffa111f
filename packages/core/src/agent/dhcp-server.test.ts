import { type DhcpEncodeErrorCode, MessageType, parseMac } from "@vm-dhcp/dhcp-codec";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { LEASED, MAC, packet, poolWith, XID } from "../../test/agent/fixtures.js";
import type { Logger } from "../logger.js";
import { DhcpServer, type DropReason } from "./dhcp-server.js";
import { type Lease, LeaseStore, leasesOf, type PoolOptions } from "./lease-store.js";
import { createAgentMetrics } from "./metrics.js";
import { type Destination, Responder } from "./responder.js";
import type { Transport } from "./udp-transport.js";

const pool = poolWith();

/** A DISCOVER from `mac`, as the socket delivers it. */
function discover(mac = MAC): Buffer {
  return packet(MessageType.Discover, {}, { chaddr: parseMac(mac) });
}

type Level = keyof Logger;
type ExpectedLog = { level: Level; message: string; code: DhcpEncodeErrorCode };
interface LogLine {
  level: Level;
  message: string;
  fields: Record<string, unknown> | undefined;
}

/**
 * A server over a transport that records what it was asked to send, answering from a store
 * that holds `pool`'s one lease.
 */
function server(
  packetLogs: boolean | undefined,
  setup: { responder?: (store: LeaseStore) => Responder } = {},
) {
  const store = new LeaseStore();
  store.replace(leasesOf(pool));
  const sent: Destination[] = [];
  const payloads: Uint8Array[] = [];
  const lines: LogLine[] = [];
  let onPacket: ((bytes: Buffer, from: Destination) => void) | undefined;
  const transport: Transport = {
    start: async (deliver) => {
      onPacket = deliver;
    },
    send: async (bytes, to) => {
      sent.push(to);
      payloads.push(bytes);
    },
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
  const responder = setup.responder?.(store) ?? new Responder(store);
  const options = { responder, transport, metrics, logger };
  const dhcp = new DhcpServer(packetLogs === undefined ? options : { ...options, packetLogs });
  const debug = () => lines.filter((line) => line.level === "debug").map((line) => line.message);
  const deliver = (bytes: Buffer) => onPacket?.(bytes, from);
  return { dhcp, store, sent, payloads, lines, debug, metrics, deliver };
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

/** Option codes in wire order in the options field of a packet without overload. */
function wireOrder(bytes: Uint8Array): number[] {
  const codes: number[] = [];
  for (let at = 240; bytes[at] !== 255 && at < bytes.length; at += 2 + (bytes[at + 1] ?? 0)) {
    if (bytes[at] === 0) at -= 1;
    else codes.push(bytes[at] ?? 0);
  }
  return codes;
}

describe("DhcpServer.handle", () => {
  it.each([
    ["on by default", undefined, ["reply sent", "request not answered"]],
    ["off: the hot path builds no debug lines", false, []],
  ] as const)("per-packet logs %s", async (_why, packetLogs, lines) => {
    const { dhcp, sent, debug } = server(packetLogs);
    await dhcp.handle(discover(), from);
    await dhcp.handle(discover("52:54:00:00:00:99"), from);
    expect(sent).toEqual([{ address: "255.255.255.255", port: 68 }]);
    expect(debug()).toEqual(lines);
  });

  it("sends the asked-for options in the client's order (RFC 2132 9.8)", async () => {
    const { dhcp, payloads } = server(false);
    const asked = packet(MessageType.Discover, { parameterRequestList: [51, 1, 54] });
    await dhcp.handle(asked, from);
    expect(payloads).toHaveLength(1);
    expect(wireOrder(payloads[0]!).slice(0, 4)).toEqual([53, 51, 1, 54]);
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
      "reply-invalid",
      { level: "error", message: "reply cannot be encoded", code: "INVALID_VALUE" },
    ],
    [
      "options over the 576 bytes of a client without option 57: too large, a warning",
      { domainName: "d".repeat(300) },
      "reply-too-large",
      {
        level: "warn",
        message: "reply does not fit the client's maximum message size",
        code: "DOES_NOT_FIT",
      },
    ],
  ] satisfies [string, Partial<PoolOptions>, DropReason, ExpectedLog][])(
    "names an encode failure by its code: %s",
    async (_why, change, reason, log) => {
      const { dhcp, store, sent, lines, metrics } = server(false);
      store.replace(leaseWith(change));
      await dhcp.handle(discover(), from);
      expect(sent).toEqual([]);
      expect(await dropped(metrics)).toEqual({ [reason]: 1 });
      const { level, message, code } = log;
      expect(lines).toEqual([
        { level, message, fields: expect.objectContaining({ code, xid: XID }) },
      ]);
    },
  );

  it("survives a failure nothing foresaw: logged at error, counted, next one served", async () => {
    let calls = 0;
    /** A real responder whose first answer fails. */
    const failingOnce = (store: LeaseStore) => {
      const responder = new Responder(store);
      const respond = responder.respond.bind(responder);
      responder.respond = (request) => {
        if (++calls === 1) throw new TypeError("a bug");
        return respond(request);
      };
      return responder;
    };
    const { dhcp, sent, lines, metrics, deliver } = server(false, { responder: failingOnce });
    await dhcp.start();
    deliver(discover()); // as the socket does: nobody awaits it
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toBe(1);
    expect(await dropped(metrics)).toEqual({ "internal-error": 1 });
    expect(lines).toEqual([
      {
        level: "error",
        message: "request handling failed",
        fields: { from: "0.0.0.0", mac: MAC, xid: XID, err: "a bug" },
      },
    ]);

    await dhcp.handle(discover(), from);
    expect(sent).toEqual([{ address: "255.255.255.255", port: 68 }]);
    expect(await dropped(metrics)).toEqual({ "internal-error": 1 });
  });

  it.each([
    ["release", packet(MessageType.Release, {}, { ciaddr: LEASED }), "client released its lease"],
    [
      "decline",
      packet(MessageType.Decline, { requestedIpAddress: LEASED }),
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
          fields: { kind, mac: MAC, address: LEASED, xid: XID },
        },
      ]);
    },
  );

  it.each([
    ["on by default: logged at debug", undefined, ["dropped malformed packet"]],
    ["off: counted, but no debug line is built", false, []],
  ] as const)(
    "counts and drops a malformed packet without answering; per-packet logs %s",
    async (_why, packetLogs, logged) => {
      const { dhcp, sent, metrics, debug } = server(packetLogs);
      await dhcp.handle(Buffer.from([1, 2, 3]), from);
      expect(sent).toEqual([]);
      const counted = (await metrics.malformed.get()).values.reduce((sum, v) => sum + v.value, 0);
      expect(counted).toBe(1);
      expect(debug()).toEqual(logged);
    },
  );
});
