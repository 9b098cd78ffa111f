import {
  BootOp,
  BROADCAST_FLAG,
  type DhcpMessage,
  type DhcpOptions,
  encode,
  formatMac,
  MessageType,
  MIN_MAX_MESSAGE_SIZE,
  OptionCode,
} from "@vm-dhcp/dhcp-codec";
import { cidrContains, parseIpv4 } from "@vm-dhcp/ipam";
import type { Lease, LeaseStore, PoolOptions } from "./lease-store.js";

/** UDP port of DHCP servers and relays (RFC 2131 section 4.1). */
export const SERVER_PORT = 67;
/** UDP port of DHCP clients. */
export const CLIENT_PORT = 68;

const ZERO = "0.0.0.0";
const BROADCAST = "255.255.255.255";
/** Shortest valid client identifier: a type byte and one byte of value (RFC 2132 9.14). */
const MIN_CLIENT_IDENTIFIER_LENGTH = 2;

/** Where a reply goes, per RFC 2131 section 4.1. */
export interface Destination {
  address: string;
  port: number;
}

/** A reply to send. */
export interface Reply {
  message: DhcpMessage;
  destination: Destination;
  /** The client's maximum DHCP message size (option 57), at least 576. */
  maxMessageSize: number;
}

/** Why a request got no reply; each is counted, and logged at debug level. */
export type SilenceReason =
  | "not-a-request"
  | "no-message-type"
  | "unknown-client"
  /** Relayed from a `giaddr` outside the pool's CIDR: the client is on another network. */
  | "foreign-relay"
  | "other-server"
  | "not-our-lease"
  | "inactive"
  | "unsupported-type"
  /** RELEASE and DECLINE: the client expects no answer. */
  | "no-reply-expected";

/** Something a client told us that the control plane should hear about. */
export interface ClientNotice {
  kind: "release" | "decline";
  mac: string;
  address: string;
}

/** What the responder decided for one request. */
export type Outcome =
  | { kind: "reply"; reply: Reply; lease?: Lease; notice?: undefined }
  | { kind: "silent"; reason: SilenceReason; notice?: ClientNotice };

/**
 * The server side of RFC 2131 for one pool, as a pure function of the request and the lease
 * store: no sockets, no clock, so every rule is testable with plain messages.
 *
 * Clients are identified by their hardware address (`chaddr`), never by the client identifier
 * option: cloned VMs keep the identifier of their template, and the control plane allocates by
 * MAC. Only MACs in the store are answered.
 */
export class Responder {
  readonly #store: LeaseStore;
  readonly #isActive: () => boolean;

  /**
   * @param isActive answering gate: while it returns false every request is dropped
   *   ("inactive"), so a standby agent can hold a warm store without answering.
   */
  constructor(store: LeaseStore, isActive: () => boolean = () => true) {
    this.#store = store;
    this.#isActive = isActive;
  }

  /** Decides the answer to one decoded request. */
  respond(request: DhcpMessage): Outcome {
    if (request.op !== BootOp.Request) return silent("not-a-request");
    const type = request.options.messageType;
    if (type === undefined) return silent("no-message-type");
    if (!this.#isActive()) return silent("inactive");

    const lease = this.#store.get(formatMac(request.chaddr, request.hlen));
    if (!lease) return silent("unknown-client");
    if (!relayedFromPool(request, lease.options)) return silent("foreign-relay");

    switch (type) {
      case MessageType.Discover:
        return this.#reply(request, lease, MessageType.Offer);
      case MessageType.Request:
        return this.#onRequest(request, lease);
      case MessageType.Inform:
        return this.#reply(request, lease, MessageType.Ack, { inform: true });
      case MessageType.Release:
      case MessageType.Decline:
        return this.#onNotice(request, lease, type);
      default:
        return silent("unsupported-type");
    }
  }

  /**
   * REQUEST in its three guises (RFC 2131 section 4.3.2): SELECTING names a server, INIT-REBOOT
   * names an address without a server, RENEWING/REBINDING puts the address in `ciaddr`.
   */
  #onRequest(request: DhcpMessage, lease: Lease): Outcome {
    const { serverIdentifier, requestedIpAddress } = request.options;
    const ours = lease.options.serverAddress;

    if (serverIdentifier !== undefined) {
      // SELECTING: a client that chose another server's offer is not ours to answer.
      if (serverIdentifier !== ours) return silent("other-server");
      // RFC 2131 4.3.2 wants option 50 here, but some clients renew with our identifier and
      // only ciaddr set; like Kea, take ciaddr then rather than NAK a valid lease.
      if ((requestedIpAddress ?? request.ciaddr) !== lease.address)
        return this.#nak(request, lease, "requested address is not this client's lease");
      return this.#reply(request, lease, MessageType.Ack);
    }
    if (requestedIpAddress !== undefined) {
      // INIT-REBOOT: the client remembers an address; confirm it or make it start over.
      if (requestedIpAddress !== lease.address)
        return this.#nak(request, lease, "requested address is not this client's lease");
      return this.#reply(request, lease, MessageType.Ack);
    }
    if (request.ciaddr !== ZERO) {
      // RENEWING (unicast) or REBINDING (broadcast): the client is using ciaddr.
      if (request.ciaddr !== lease.address)
        return this.#nak(request, lease, "client address is not this client's lease");
      return this.#reply(request, lease, MessageType.Ack);
    }
    return this.#nak(request, lease, "request names no address");
  }

  /** RELEASE and DECLINE carry no reply (RFC 2131 section 4.3.4/4.3.5); surface them. */
  #onNotice(request: DhcpMessage, lease: Lease, type: MessageType): Outcome {
    const serverIdentifier = request.options.serverIdentifier;
    if (serverIdentifier !== undefined && serverIdentifier !== lease.options.serverAddress) {
      return silent("other-server");
    }
    const isRelease = type === MessageType.Release;
    const address = isRelease ? request.ciaddr : (request.options.requestedIpAddress ?? ZERO);
    if (address !== lease.address) return silent("not-our-lease");
    return {
      kind: "silent",
      reason: "no-reply-expected",
      notice: { kind: isRelease ? "release" : "decline", mac: lease.mac, address },
    };
  }

  #reply(
    request: DhcpMessage,
    lease: Lease,
    type: MessageType.Offer | MessageType.Ack,
    { inform = false } = {},
  ): Outcome {
    const message = replyMessage(request, type);
    if (!inform) message.yiaddr = lease.address;
    // ciaddr is echoed for RENEW/REBIND/INFORM so the client matches the reply (Table 3).
    if (type === MessageType.Ack) message.ciaddr = request.ciaddr;
    message.options = optionsFor(request, lease, type, inform);
    return { kind: "reply", reply: this.#addressed(request, message), lease };
  }

  #nak(request: DhcpMessage, lease: Lease, why: string): Outcome {
    const message = replyMessage(request, MessageType.Nak);
    message.options = withEchoes(request, {
      messageType: MessageType.Nak,
      serverIdentifier: lease.options.serverAddress,
      message: why,
    });
    // A relay must broadcast a NAK to the client, which may have no usable address (4.3.2).
    if (request.giaddr !== ZERO) message.flags |= BROADCAST_FLAG;
    return { kind: "reply", reply: this.#addressed(request, message), lease };
  }

  /**
   * RFC 2131 section 4.1: replies go to the relay when `giaddr` is set; NAKs are broadcast;
   * a client with an address (`ciaddr`) gets a unicast; everyone else gets a broadcast.
   * Unicast to a client without an address would need an ARP entry we cannot create from
   * a UDP socket, and broadcasting is what the RFC allows instead.
   */
  #addressed(request: DhcpMessage, message: DhcpMessage): Reply {
    const maxMessageSize = Math.max(
      MIN_MAX_MESSAGE_SIZE,
      request.options.maxMessageSize ?? MIN_MAX_MESSAGE_SIZE,
    );
    const isNak = message.options.messageType === MessageType.Nak;
    let destination: Destination;
    if (request.giaddr !== ZERO) destination = { address: request.giaddr, port: SERVER_PORT };
    else if (isNak) destination = { address: BROADCAST, port: CLIENT_PORT };
    else if (request.ciaddr !== ZERO) destination = { address: request.ciaddr, port: CLIENT_PORT };
    else destination = { address: BROADCAST, port: CLIENT_PORT };
    return { message, destination, maxMessageSize };
  }
}

function silent(reason: SilenceReason): Outcome {
  return { kind: "silent", reason };
}

/**
 * True unless a relay outside the pool's CIDR forwarded the request. RFC 2131 4.3.1 selects
 * the client's subnet by `giaddr`, so such a client is on a network this pool does not serve;
 * a reply to it would also leave by the kernel's main routing table rather than `--nic`.
 */
function relayedFromPool(request: DhcpMessage, pool: PoolOptions): boolean {
  return request.giaddr === ZERO || cidrContains(pool.subnet, parseIpv4(request.giaddr));
}

/** A DISCOVER without a parameter request list: its OFFER carries every pool option. */
const WIDEST_REQUEST: DhcpMessage = {
  op: BootOp.Request,
  htype: 1,
  hlen: 6,
  hops: 0,
  xid: 0,
  secs: 0,
  flags: 0,
  ciaddr: ZERO,
  yiaddr: ZERO,
  siaddr: ZERO,
  giaddr: ZERO,
  chaddr: new Uint8Array(6),
  sname: "",
  file: "",
  options: { messageType: MessageType.Discover, unknown: [] },
};

/**
 * Encodes, once, the largest reply the pool's options make (an OFFER with every option, as a
 * client without a parameter request list gets it) within the 576 bytes every client accepts
 * (RFC 2131 section 2, RFC 2132 section 9.10). A pool that fails here would fail on every
 * reply, so callers treat the failure as a configuration error rather than drop each reply.
 *
 * @throws DhcpEncodeError as the codec's `encode` throws it.
 */
export function assertRepliesEncode(pool: PoolOptions): void {
  const lease: Lease = { mac: "00:00:00:00:00:00", address: ZERO, options: pool };
  const message = replyMessage(WIDEST_REQUEST, MessageType.Offer);
  message.options = optionsFor(WIDEST_REQUEST, lease, MessageType.Offer, false);
  encode(message, { maxMessageSize: MIN_MAX_MESSAGE_SIZE });
}

/** The BOOTP fields of a reply, copied from the request as RFC 2131 Table 3 says. */
function replyMessage(request: DhcpMessage, type: MessageType): DhcpMessage {
  return {
    op: BootOp.Reply,
    htype: request.htype,
    hlen: request.hlen,
    hops: 0,
    xid: request.xid,
    secs: 0,
    flags: request.flags & BROADCAST_FLAG,
    ciaddr: ZERO,
    yiaddr: ZERO,
    siaddr: ZERO,
    giaddr: request.giaddr,
    chaddr: request.chaddr,
    sname: "",
    file: "",
    options: { messageType: type, unknown: [] } as DhcpOptions,
  };
}

/**
 * The options of an OFFER or ACK. Those RFC 2131 requires (message type, server identifier,
 * lease time and T1/T2 except for INFORM) are always sent; the rest only when the client asked
 * for them in its parameter request list, or when it sent none, and only when the pool
 * configures them: an unconfigured option is left out, never sent empty.
 */
function optionsFor(
  request: DhcpMessage,
  lease: Lease,
  type: MessageType,
  inform: boolean,
): DhcpOptions {
  const pool = lease.options;
  const asked = request.options.parameterRequestList;
  const wants = (code: number) => asked === undefined || asked.includes(code);
  const options: DhcpOptions = {
    messageType: type,
    serverIdentifier: pool.serverAddress,
  } as DhcpOptions;

  if (!inform) {
    options.leaseTimeSeconds = pool.leaseSeconds;
    options.renewalTimeSeconds = Math.floor(pool.leaseSeconds / 2);
    options.rebindingTimeSeconds = Math.floor((pool.leaseSeconds * 7) / 8);
  }
  options.subnetMask = pool.subnetMask;
  if (wants(OptionCode.Router) && pool.routers.length > 0) options.routers = pool.routers;
  if (wants(OptionCode.DomainNameServer) && pool.dnsServers.length > 0) {
    options.domainNameServers = pool.dnsServers;
  }
  if (wants(OptionCode.DomainName) && pool.domainName) options.domainName = pool.domainName;
  if (wants(OptionCode.DomainSearch) && pool.domainSearch.length > 0) {
    options.domainSearch = pool.domainSearch;
  }
  if (wants(OptionCode.NtpServers) && pool.ntpServers.length > 0)
    options.ntpServers = pool.ntpServers;
  if (wants(OptionCode.BroadcastAddress)) options.broadcastAddress = pool.broadcastAddress;
  return withEchoes(request, options);
}

/**
 * Options a server hands back as the client or relay sent them: the client identifier
 * (RFC 6842) and the relay agent information (RFC 3046 section 2.2).
 */
function withEchoes(request: DhcpMessage, options: Partial<DhcpOptions>): DhcpOptions {
  const echoed: Partial<DhcpOptions> = { ...options, unknown: [] };
  const clientIdentifier = request.options.clientIdentifier;
  // A shorter one is malformed (RFC 2132 9.14); echoing it would send an empty option.
  if (clientIdentifier && clientIdentifier.length >= MIN_CLIENT_IDENTIFIER_LENGTH) {
    echoed.clientIdentifier = clientIdentifier;
  }
  if (request.options.relayAgentInformation && request.giaddr !== ZERO) {
    echoed.relayAgentInformation = request.options.relayAgentInformation;
  }
  return echoed as DhcpOptions;
}
