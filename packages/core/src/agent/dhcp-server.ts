import {
  DhcpDecodeError,
  DhcpEncodeError,
  type DhcpMessage,
  decode,
  encode,
  formatMac,
  MessageType,
} from "@vm-dhcp/dhcp-codec";
import { errorText, type Logger } from "../logger.js";
import type { AgentMetrics } from "./metrics.js";
import type { ClientNotice, Destination, Outcome, Reply, Responder } from "./responder.js";
import type { Transport } from "./udp-transport.js";

/** Dependencies of a {@link DhcpServer}. */
export interface DhcpServerOptions {
  responder: Responder;
  transport: Transport;
  metrics: AgentMetrics;
  logger: Logger;
  /** Told of every RELEASE and DECLINE a client sends for its lease. */
  onClientNotice?: (notice: ClientNotice) => void;
  /**
   * Per-packet debug summaries ("reply sent", "request not answered"); on by default. Off,
   * the hot path skips building them, which a logger that drops debug lines still pays for.
   */
  packetLogs?: boolean;
}

/**
 * Binds the responder to the wire: decode, decide, encode, send. Nothing a client sends can
 * stop it: malformed packets are counted by reason and dropped, and a reply that cannot be
 * encoded or sent is logged and counted, never thrown.
 */
export class DhcpServer {
  readonly #options: DhcpServerOptions;

  constructor(options: DhcpServerOptions) {
    this.#options = options;
  }

  /** Opens the sockets and starts answering. */
  start(): Promise<void> {
    const { transport, logger } = this.#options;
    return transport.start(
      (bytes, from) => void this.handle(bytes, from),
      (error) => logger.error("DHCP socket error", { err: errorText(error) }),
    );
  }

  stop(): Promise<void> {
    return this.#options.transport.close();
  }

  /** Handles one datagram; exposed so tests and benchmarks can drive it without sockets. */
  async handle(bytes: Uint8Array, from: Destination): Promise<void> {
    const request = this.#decode(bytes, from);
    if (!request) return;
    const outcome = this.#options.responder.respond(request);
    this.#record(request, outcome);
    if (outcome.kind === "reply") await this.#send(request, outcome.reply);
  }

  #decode(bytes: Uint8Array, from: Destination): DhcpMessage | undefined {
    try {
      return decode(bytes);
    } catch (error) {
      if (!(error instanceof DhcpDecodeError)) throw error;
      this.#options.metrics.malformed.inc({ code: error.code });
      this.#options.logger.debug("dropped malformed packet", {
        from: from.address,
        code: error.code,
        offset: error.offset,
        err: error.message,
      });
      return undefined;
    }
  }

  #record(request: DhcpMessage, outcome: Outcome): void {
    const { metrics, logger, onClientNotice, packetLogs = true } = this.#options;
    const type = typeName(request.options.messageType);
    metrics.received.inc({ type });
    if (outcome.kind === "reply") return;

    if (outcome.notice) {
      metrics.clientNotices.inc({ kind: outcome.notice.kind });
      logger.info(`client sent ${outcome.notice.kind}`, { ...outcome.notice, xid: request.xid });
      onClientNotice?.(outcome.notice);
      return;
    }
    metrics.dropped.inc({ reason: outcome.reason });
    if (!packetLogs) return;
    const mac = formatMac(request.chaddr, request.hlen);
    logger.debug("request not answered", { type, mac, xid: request.xid, reason: outcome.reason });
  }

  async #send(request: DhcpMessage, reply: Reply): Promise<void> {
    const { transport, metrics, logger, packetLogs = true } = this.#options;
    const type = typeName(reply.message.options.messageType);
    const fields = () => ({
      type,
      mac: formatMac(request.chaddr, request.hlen),
      ip: reply.message.yiaddr,
      xid: request.xid,
      to: reply.destination.address,
    });
    let bytes: Buffer;
    try {
      bytes = encode(reply.message, { maxMessageSize: reply.maxMessageSize });
    } catch (error) {
      if (!(error instanceof DhcpEncodeError)) throw error;
      logger.warn("reply does not fit the client's maximum message size", {
        ...fields(),
        err: error.message,
      });
      metrics.dropped.inc({ reason: "reply-too-large" });
      return;
    }
    try {
      await transport.send(bytes, reply.destination);
    } catch (error) {
      logger.warn("could not send reply", { ...fields(), err: errorText(error) });
      metrics.dropped.inc({ reason: "send-failed" });
      return;
    }
    metrics.sent.inc({ type });
    if (packetLogs) logger.debug("reply sent", fields());
  }
}

/** Upper-case message type name as operators know it from captures ("DISCOVER"). */
function typeName(type: MessageType | undefined): string {
  return type === undefined ? "BOOTP" : (MessageType[type]?.toUpperCase() ?? `TYPE${type}`);
}
