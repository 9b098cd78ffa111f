/**
 * DHCPv4 wire codec: {@link decode} turns a UDP payload into a {@link DhcpMessage},
 * {@link encode} turns one back, per RFC 2131 and RFC 2132 with long options (RFC 3396),
 * domain search (RFC 3397), classless routes (RFC 3442), relay agent information
 * (RFC 3046) and client FQDN (RFC 4702). No runtime dependencies.
 *
 * @example
 * import { createReply, decode, encode, formatMac, MessageType } from "@vm-dhcp/dhcp-codec";
 *
 * const request = decode(udpPayload); // throws DhcpDecodeError on malformed input
 * if (request.options.messageType === MessageType.Discover) {
 *   const offer = createReply(request, {
 *     yiaddr: "192.0.2.10",
 *     options: {
 *       messageType: MessageType.Offer,
 *       serverIdentifier: "192.0.2.1",
 *       leaseTimeSeconds: 3600,
 *       subnetMask: "255.255.255.0",
 *       routers: ["192.0.2.1"],
 *     },
 *   });
 *   const reply = encode(offer, { maxMessageSize: request.options.maxMessageSize });
 *   console.log(formatMac(request.chaddr, request.hlen), reply.length);
 * }
 *
 * @packageDocumentation
 */

export {
  BOOTP_MIN_LENGTH,
  BootOp,
  BROADCAST_FLAG,
  FqdnFlag,
  MAGIC_COOKIE,
  MessageType,
  MIN_MAX_MESSAGE_SIZE,
  OptionCode,
  Overload,
} from "./constants.js";
export { decode } from "./decode.js";
export { type EncodeOptions, encode, encodedLength } from "./encode.js";
export {
  CodecInvariantError,
  DhcpDecodeError,
  type DhcpDecodeErrorCode,
  type DhcpDecodeErrorDetails,
  DhcpEncodeError,
  type DhcpEncodeErrorCode,
} from "./errors.js";
export { formatMac, parseMac } from "./mac.js";
export { createReply, messageTypeName, type ReplyFields } from "./reply.js";
export type {
  ClasslessRoute,
  ClientFqdn,
  DhcpMessage,
  DhcpOptions,
  RawOption,
  RelayAgentSubOption,
} from "./types.js";
