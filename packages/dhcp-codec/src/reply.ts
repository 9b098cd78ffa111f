import { BootOp, MessageType } from "./constants.js";
import type { DhcpMessage, DhcpOptions } from "./types.js";

/** What a server decides for a reply; everything else follows from the request. */
export interface ReplyFields extends Partial<Omit<DhcpMessage, "options">> {
  options: DhcpOptions & { messageType: MessageType };
}

/**
 * Builds a server reply to `request` per RFC 2131 §4.3.1, Table 3: `op` is reply, `hops`
 * and `secs` are 0; `htype`, `hlen`, `xid`, `flags`, `giaddr` and `chaddr` are copied;
 * `ciaddr` is copied for an ACK and 0 otherwise. The relay agent information option is
 * echoed (RFC 3046 §2.2) and so is the client identifier (RFC 6842 §3), unless `fields`
 * sets them. Any header field in `fields` overrides the default.
 *
 * @example
 * const offer = createReply(discover, {
 *   yiaddr: "192.0.2.10",
 *   options: { messageType: MessageType.Offer, serverIdentifier: "192.0.2.1" },
 * });
 */
export function createReply(request: DhcpMessage, fields: ReplyFields): DhcpMessage {
  const { options, ...header } = fields;
  const echoed: DhcpOptions = {};
  const { relayAgentInformation, clientIdentifier } = request.options;
  if (relayAgentInformation) echoed.relayAgentInformation = relayAgentInformation;
  if (clientIdentifier) echoed.clientIdentifier = clientIdentifier;
  const isAck = options.messageType === MessageType.Ack;
  return {
    op: BootOp.Reply,
    htype: request.htype,
    hlen: request.hlen,
    hops: 0,
    xid: request.xid,
    secs: 0,
    flags: request.flags,
    ciaddr: isAck ? request.ciaddr : "0.0.0.0",
    yiaddr: "0.0.0.0",
    siaddr: "0.0.0.0",
    giaddr: request.giaddr,
    chaddr: new Uint8Array(request.chaddr),
    sname: "",
    file: "",
    ...header,
    options: { ...echoed, ...options },
  };
}

const TYPE_NAMES: Readonly<Record<MessageType, string>> = {
  [MessageType.Discover]: "DHCPDISCOVER",
  [MessageType.Offer]: "DHCPOFFER",
  [MessageType.Request]: "DHCPREQUEST",
  [MessageType.Decline]: "DHCPDECLINE",
  [MessageType.Ack]: "DHCPACK",
  [MessageType.Nak]: "DHCPNAK",
  [MessageType.Release]: "DHCPRELEASE",
  [MessageType.Inform]: "DHCPINFORM",
  [MessageType.ForceRenew]: "DHCPFORCERENEW",
  [MessageType.LeaseQuery]: "DHCPLEASEQUERY",
  [MessageType.LeaseUnassigned]: "DHCPLEASEUNASSIGNED",
  [MessageType.LeaseUnknown]: "DHCPLEASEUNKNOWN",
  [MessageType.LeaseActive]: "DHCPLEASEACTIVE",
  [MessageType.BulkLeaseQuery]: "DHCPBULKLEASEQUERY",
  [MessageType.LeaseQueryDone]: "DHCPLEASEQUERYDONE",
  [MessageType.ActiveLeaseQuery]: "DHCPACTIVELEASEQUERY",
  [MessageType.LeaseQueryStatus]: "DHCPLEASEQUERYSTATUS",
  [MessageType.Tls]: "DHCPTLS",
};

/**
 * The RFC name of a message type (RFC 2132 §9.6, RFC 4388 §6.1), e.g. `"DHCPDISCOVER"`, for
 * logs; `"UNKNOWN(42)"` for a value outside {@link MessageType}.
 */
export function messageTypeName(type: MessageType): string {
  return TYPE_NAMES[type] ?? `UNKNOWN(${String(type)})`;
}
