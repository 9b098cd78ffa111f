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
import type {
  ClientNotice,
  Destination,
  Outcome,
  Reply,
  Responder,
  SilenceReason,
} from "./responder.js";
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
   * Per-packet debug summaries ("reply sent", "request not answered", "dropped malformed
   * packet"); on by default. Off, the hot path skips building them, which a logger that drops
   * debug lines still pays for.
   */
  packetLogs?: boolean;
}

/**
 * Why the server itself dropped a request, beyond the responder's {@link SilenceReason}s:
 * the reply exceeded the client's maximum message size, held a value the codec refused, could
 * not be sent, or handling failed in a way nothing above foresaw (a bug, logged at error).
 */
export type ServerDropReason =
  | "reply-too-large"
  | "reply-invalid"
  | "send-failed"
  | "internal-error";

/** Every `reason` label of the dropped-requests metric. */
export type DropReason = SilenceReason | ServerDropReason;

/** What the two `RELEASE`/`DECLINE` log lines say; the kind is a field too. */
const NOTICE_MESSAGES: Record<ClientNotice["kind"], string> = {
  release: "client released its lease",
  decline: "client declined its address",
};

/**
 * Binds the responder to the wire: decode, decide, encode, send. Nothing a client sends can
 * stop it: malformed packets are counted by reason and dropped, a reply that cannot be
 * encoded or sent is logged and counted, and any other failure of one packet is logged at
 * error and counted as `internal-error`; {@link DhcpServer.handle} never rejects.
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

  /** Closes the sockets. */
  stop(): Promise<void> {
    return this.#options.transport.close();
  }

  /**
   * Handles one datagram; exposed so tests and benchmarks can drive it without sockets. Never
   * rejects: the transport calls it without waiting, and an unhandled rejection would end the
   * process.
   */
  async handle(bytes: Uint8Array, from: Destination): Promise<void> {
    let request: DhcpMessage | undefined;
    try {
      request = this.#decode(bytes, from);
      if (!request) return;
      const outcome = this.#options.responder.respond(request);
      this.#record(request, outcome);
      if (outcome.kind === "reply") await this.#send(request, outcome.reply);
    } catch (error) {
      this.#internalError(request, from, error);
    }
  }

  #internalError(request: DhcpMessage | undefined, from: Destination, error: unknown): void {
    this.#drop("internal-error");
    this.#options.logger.error("request handling failed", {
      from: from.address,
      mac: request ? formatMac(request.chaddr, request.hlen) : undefined,
      xid: request?.xid,
      err: errorText(error),
    });
  }

  #decode(bytes: Uint8Array, from: Destination): DhcpMessage | undefined {
    try {
      return decode(bytes);
    } catch (error) {
      if (!(error instanceof DhcpDecodeError)) throw error;
      const { metrics, logger, packetLogs = true } = this.#options;
      metrics.malformed.inc({ code: error.code });
      if (packetLogs) {
        const { code, offset, message } = error;
        logger.debug("dropped malformed packet", {
          from: from.address,
          code,
          offset,
          err: message,
        });
      }
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
      logger.info(NOTICE_MESSAGES[outcome.notice.kind], { ...outcome.notice, xid: request.xid });
      onClientNotice?.(outcome.notice);
      return;
    }
    this.#drop(outcome.reason);
    if (!packetLogs) return;
    const mac = formatMac(request.chaddr, request.hlen);
    const relay = request.giaddr === "0.0.0.0" ? {} : { giaddr: request.giaddr };
    const fields = { type, mac, xid: request.xid, reason: outcome.reason, ...relay };
    logger.debug("request not answered", fields);
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
      // RFC 2132 9.8: the requested options go out in the order the client listed them.
      const optionOrder = request.options.parameterRequestList;
      bytes = encode(reply.message, { maxMessageSize: reply.maxMessageSize, optionOrder });
    } catch (error) {
      if (!(error instanceof DhcpEncodeError)) throw error;
      this.#unencodable(error, { ...fields(), maxMessageSize: reply.maxMessageSize });
      return;
    }
    try {
      await transport.send(bytes, reply.destination);
    } catch (error) {
      logger.warn("could not send reply", { ...fields(), err: errorText(error) });
      this.#drop("send-failed");
      return;
    }
    metrics.sent.inc({ type });
    if (packetLogs) logger.debug("reply sent", fields());
  }

  /**
   * A reply the codec refused: too large for the client (its own small option 57, or a long
   * client identifier or relay information to echo), or a value it cannot write, which the
   * pool check should have caught and so is logged at error.
   */
  #unencodable(error: DhcpEncodeError, fields: Record<string, unknown>): void {
    const { logger } = this.#options;
    const detail = { ...fields, code: error.code, field: error.field, err: error.message };
    if (error.code === "DOES_NOT_FIT") {
      logger.warn("reply does not fit the client's maximum message size", detail);
      this.#drop("reply-too-large");
      return;
    }
    logger.error("reply cannot be encoded", detail);
    this.#drop("reply-invalid");
  }

  #drop(reason: DropReason): void {
    this.#options.metrics.dropped.inc({ reason });
  }
}

/** Upper-case message type name as operators know it from captures ("DISCOVER"). */
function typeName(type: MessageType | undefined): string {
  return type === undefined ? "BOOTP" : (MessageType[type]?.toUpperCase() ?? `TYPE${type}`);
}
