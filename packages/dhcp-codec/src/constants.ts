/**
 * DHCP message types, the value of option 53 (RFC 2132 §9.6), with the later lease query
 * and force renew types (RFC 3203, RFC 4388, RFC 6926, RFC 7724).
 */
export enum MessageType {
  Discover = 1,
  Offer = 2,
  Request = 3,
  Decline = 4,
  Ack = 5,
  Nak = 6,
  Release = 7,
  Inform = 8,
  ForceRenew = 9,
  LeaseQuery = 10,
  LeaseUnassigned = 11,
  LeaseUnknown = 12,
  LeaseActive = 13,
  BulkLeaseQuery = 14,
  LeaseQueryDone = 15,
  ActiveLeaseQuery = 16,
  LeaseQueryStatus = 17,
  Tls = 18,
}

/** Smallest and largest message type this codec accepts in option 53 (RFC 2132 §9.6). */
export const MESSAGE_TYPE_MIN = MessageType.Discover;
export const MESSAGE_TYPE_MAX = MessageType.Tls;

/** The BOOTP `op` field (RFC 951, RFC 2131 §2): who sent the message. */
export enum BootOp {
  Request = 1,
  Reply = 2,
}

/** The broadcast bit of the `flags` field (RFC 2131 §2, Figure 2). */
export const BROADCAST_FLAG = 0x8000;

/** The four bytes that open the options field: 99.130.83.99 (RFC 2131 §3, RFC 2132 §2). */
export const MAGIC_COOKIE = 0x63825363;

/**
 * Option codes, named after their RFC 2132 titles (and RFC 3046, 3397, 3442, 4702 for the
 * later ones).
 */
export const OptionCode = {
  Pad: 0,
  SubnetMask: 1,
  Router: 3,
  DomainNameServer: 6,
  HostName: 12,
  DomainName: 15,
  InterfaceMtu: 26,
  BroadcastAddress: 28,
  NtpServers: 42,
  RequestedIpAddress: 50,
  IpAddressLeaseTime: 51,
  OptionOverload: 52,
  DhcpMessageType: 53,
  ServerIdentifier: 54,
  ParameterRequestList: 55,
  Message: 56,
  MaximumDhcpMessageSize: 57,
  RenewalTimeValue: 58,
  RebindingTimeValue: 59,
  VendorClassIdentifier: 60,
  ClientIdentifier: 61,
  ClientFqdn: 81,
  RelayAgentInformation: 82,
  DomainSearch: 119,
  ClasslessStaticRoute: 121,
  End: 255,
} as const;

/** Any value of {@link OptionCode}. */
export type OptionCode = (typeof OptionCode)[keyof typeof OptionCode];

/** Values of option 52 (RFC 2132 §9.3): which of `file` and `sname` carry options. */
export const Overload = {
  File: 1,
  Sname: 2,
  Both: 3,
} as const;

/** Bits of the Client FQDN option's flags byte (RFC 4702 §2.1). */
export const FqdnFlag = {
  /** S: the server should perform the A record update. */
  ServerUpdate: 0x01,
  /** O: the server overrode the client's S bit (server to client only). */
  ServerOverride: 0x02,
  /** E: the name is in canonical wire format rather than the deprecated ASCII form. */
  CanonicalEncoding: 0x04,
  /** N: the server should perform no updates. */
  NoServerUpdate: 0x08,
} as const;

/** The BOOTP minimum message length (RFC 951; RFC 1542 §2.1: some relays drop shorter). */
export const BOOTP_MIN_LENGTH = 300;

/** The smallest legal maximum message size, counting IP and UDP headers (RFC 2132 §9.10). */
export const MIN_MAX_MESSAGE_SIZE = 576;

/** IPv4 (without options) plus UDP header bytes that the maximum message size counts. */
export const IP_UDP_HEADER_LENGTH = 28;
