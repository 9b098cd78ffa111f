import type { MessageType } from "./constants.js";

/** A route of the Classless Static Route option (RFC 3442): `"10.0.0.0/8"` via `router`. */
export interface ClasslessRoute {
  /** Destination network as `"a.b.c.d/len"`, len 0..32. */
  destination: string;
  router: string;
}

/** A sub-option of the Relay Agent Information option (RFC 3046 §2.0), kept as raw bytes. */
export interface RelayAgentSubOption {
  /** 1 circuit id, 2 remote id, others per IANA; any 0..255 is kept. */
  code: number;
  data: Uint8Array;
}

/**
 * The Client FQDN option (RFC 4702 §2). `name` is decoded per the E flag
 * ({@link FqdnFlag.CanonicalEncoding}): with E set, labels joined by dots and a trailing
 * dot when the name is fully qualified (ends in the root label), none when it is partial;
 * with E clear, the deprecated ASCII text as sent.
 */
export interface ClientFqdn {
  flags: number;
  rcode1: number;
  rcode2: number;
  name: string;
}

/** An option this codec has no typed field for, kept byte for byte (RFC 2132 §2). */
export interface RawOption {
  code: number;
  data: Uint8Array;
}

/**
 * The options of a message, one optional typed field per supported code (RFC 2132 and the
 * RFCs named on each field). A field is present exactly when the option is. Text fields
 * map each byte to one character (ISO-8859-1), so any byte sequence round-trips.
 */
export interface DhcpOptions {
  /** 53, RFC 2132 §9.6. Always written first by {@link encode}. */
  messageType?: MessageType;
  /** 1, RFC 2132 §3.3. */
  subnetMask?: string;
  /** 3, RFC 2132 §3.5. */
  routers?: string[];
  /** 6, RFC 2132 §3.8. */
  domainNameServers?: string[];
  /** 12, RFC 2132 §3.14; trailing NULs are dropped on decode (RFC 2132 §2). */
  hostName?: string;
  /** 15, RFC 2132 §3.17; trailing NULs are dropped on decode. */
  domainName?: string;
  /** 26, RFC 2132 §5.1. */
  interfaceMtu?: number;
  /** 28, RFC 2132 §5.3. */
  broadcastAddress?: string;
  /** 42, RFC 2132 §8.3. */
  ntpServers?: string[];
  /** 50, RFC 2132 §9.1. */
  requestedIpAddress?: string;
  /** 51, RFC 2132 §9.2; 0xffffffff means infinite. */
  leaseTimeSeconds?: number;
  /**
   * 52, RFC 2132 §9.3: 1 `file`, 2 `sname`, 3 both carry options. On decode it tells which
   * fields did. On encode, setting it lets options spill into those fields (which must then
   * be empty strings); leaving it unset never overloads.
   */
  overload?: number;
  /** 54, RFC 2132 §9.7. */
  serverIdentifier?: string;
  /** 55, RFC 2132 §9.8: option codes in the client's order of preference. */
  parameterRequestList?: number[];
  /** 56, RFC 2132 §9.9; trailing NULs are dropped on decode. */
  message?: string;
  /** 57, RFC 2132 §9.10; kept as sent, even below the legal 576. */
  maxMessageSize?: number;
  /** 58, RFC 2132 §9.11. */
  renewalTimeSeconds?: number;
  /** 59, RFC 2132 §9.12. */
  rebindingTimeSeconds?: number;
  /**
   * 60, RFC 2132 §9.13, as text (e.g. `"MSFT 5.0"`, `"PXEClient:Arch:00000"`); one character
   * per byte and nothing trimmed, so it stays exact.
   */
  vendorClassIdentifier?: string;
  /** 61, RFC 2132 §9.14: type byte then identifier, as raw bytes. */
  clientIdentifier?: Uint8Array;
  /** 81, RFC 4702. */
  clientFqdn?: ClientFqdn;
  /** 82, RFC 3046: sub-options in wire order, so a server can echo them (§2.2). */
  relayAgentInformation?: RelayAgentSubOption[];
  /** 119, RFC 3397: fully qualified names without the trailing dot; the root is `"."`. */
  domainSearch?: string[];
  /** 121, RFC 3442. */
  classlessStaticRoutes?: ClasslessRoute[];
  /** Options without a typed field, in first-appearance order, each value concatenated. */
  unknown?: RawOption[];
}

/**
 * A DHCPv4 message (RFC 2131 §2, Table 1). Addresses are dotted quads; `chaddr` is the full
 * 16-byte field, `hlen` says how much of it is the hardware address.
 */
export interface DhcpMessage {
  /** {@link BootOp}: 1 request, 2 reply. */
  op: number;
  /** Hardware type, 1 for Ethernet (RFC 1700 ARP hardware types). */
  htype: number;
  /** Hardware address length, 0..16; 6 for Ethernet. */
  hlen: number;
  hops: number;
  /** Transaction id, an unsigned 32-bit integer. */
  xid: number;
  secs: number;
  /** Bit 15 is {@link BROADCAST_FLAG}; the others must be zero (RFC 2131 §2). */
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  /** The 16-byte client hardware address field, kept whole. */
  chaddr: Uint8Array;
  /** Server host name, NUL-terminated on the wire; empty when it carries options. */
  sname: string;
  /** Boot file name, NUL-terminated on the wire; empty when it carries options. */
  file: string;
  options: DhcpOptions;
}
