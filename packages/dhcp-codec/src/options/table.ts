import { MESSAGE_TYPE_MAX, MESSAGE_TYPE_MIN, type MessageType, OptionCode } from "../constants.js";
import type { DhcpOptions } from "../types.js";
import { bytesCodec } from "./bytes.js";
import { classlessRoutesCodec } from "./classless-routes.js";
import { clientFqdnCodec } from "./client-fqdn.js";
import type { OptionCodec } from "./codec.js";
import { domainSearchCodec } from "./domain-search.js";
import { ipv4Codec, ipv4ListCodec } from "./ipv4.js";
import { relayAgentCodec } from "./relay-agent.js";
import { exactTextCodec, textCodec } from "./text.js";
import { uint8ListCodec, uint8RangeCodec, uint16Codec, uint32Codec } from "./uint.js";

/** Every {@link DhcpOptions} field that holds one typed option. */
export type TypedOptionKey = Exclude<keyof DhcpOptions, "unknown">;

/** How one typed option is carried: its code, its short name for errors, its codec. */
export interface OptionSpec<T> {
  readonly code: number;
  readonly label: string;
  readonly codec: OptionCodec<T>;
}

/** The same, with the field name attached, as the dispatch tables hold it. */
export interface KeyedOptionSpec extends OptionSpec<unknown> {
  readonly key: TypedOptionKey;
  /** The name errors carry, e.g. `"option 51 (lease time)"`, built once. */
  readonly field: string;
}

/**
 * The option table (RFC 2132 and the RFCs cited by each codec): one entry per typed field
 * of {@link DhcpOptions}. Codes not listed here are kept raw in `unknown`.
 */
export const OPTION_SPECS: {
  readonly [K in TypedOptionKey]-?: OptionSpec<NonNullable<DhcpOptions[K]>>;
} = {
  subnetMask: { code: OptionCode.SubnetMask, label: "subnet mask", codec: ipv4Codec },
  routers: { code: OptionCode.Router, label: "router", codec: ipv4ListCodec },
  domainNameServers: {
    code: OptionCode.DomainNameServer,
    label: "domain name server",
    codec: ipv4ListCodec,
  },
  hostName: { code: OptionCode.HostName, label: "host name", codec: textCodec },
  domainName: { code: OptionCode.DomainName, label: "domain name", codec: textCodec },
  interfaceMtu: { code: OptionCode.InterfaceMtu, label: "interface MTU", codec: uint16Codec },
  broadcastAddress: {
    code: OptionCode.BroadcastAddress,
    label: "broadcast address",
    codec: ipv4Codec,
  },
  ntpServers: { code: OptionCode.NtpServers, label: "NTP servers", codec: ipv4ListCodec },
  requestedIpAddress: {
    code: OptionCode.RequestedIpAddress,
    label: "requested IP address",
    codec: ipv4Codec,
  },
  leaseTimeSeconds: {
    code: OptionCode.IpAddressLeaseTime,
    label: "lease time",
    codec: uint32Codec,
  },
  overload: { code: OptionCode.OptionOverload, label: "overload", codec: uint8RangeCodec(1, 3) },
  messageType: {
    code: OptionCode.DhcpMessageType,
    label: "message type",
    codec: uint8RangeCodec<MessageType>(MESSAGE_TYPE_MIN, MESSAGE_TYPE_MAX),
  },
  serverIdentifier: {
    code: OptionCode.ServerIdentifier,
    label: "server identifier",
    codec: ipv4Codec,
  },
  parameterRequestList: {
    code: OptionCode.ParameterRequestList,
    label: "parameter request list",
    codec: uint8ListCodec,
  },
  message: { code: OptionCode.Message, label: "message", codec: textCodec },
  maxMessageSize: {
    code: OptionCode.MaximumDhcpMessageSize,
    label: "maximum message size",
    codec: uint16Codec,
  },
  renewalTimeSeconds: {
    code: OptionCode.RenewalTimeValue,
    label: "renewal (T1) time",
    codec: uint32Codec,
  },
  rebindingTimeSeconds: {
    code: OptionCode.RebindingTimeValue,
    label: "rebinding (T2) time",
    codec: uint32Codec,
  },
  vendorClassIdentifier: {
    code: OptionCode.VendorClassIdentifier,
    label: "vendor class identifier",
    codec: exactTextCodec,
  },
  clientIdentifier: {
    code: OptionCode.ClientIdentifier,
    label: "client identifier",
    codec: bytesCodec,
  },
  clientFqdn: { code: OptionCode.ClientFqdn, label: "client FQDN", codec: clientFqdnCodec },
  relayAgentInformation: {
    code: OptionCode.RelayAgentInformation,
    label: "relay agent information",
    codec: relayAgentCodec,
  },
  domainSearch: { code: OptionCode.DomainSearch, label: "domain search", codec: domainSearchCodec },
  classlessStaticRoutes: {
    code: OptionCode.ClasslessStaticRoute,
    label: "classless static route",
    codec: classlessRoutesCodec,
  },
};

/** The table as a list, sorted by code. */
export const OPTION_LIST: readonly KeyedOptionSpec[] = (
  Object.keys(OPTION_SPECS) as TypedOptionKey[]
)
  .map((key): KeyedOptionSpec => {
    const spec = OPTION_SPECS[key];
    return { key, ...spec, field: `option ${spec.code} (${spec.label})` };
  })
  .sort((a, b) => a.code - b.code);

/** Dispatch from option code to its spec; `undefined` for codes kept raw. */
export const OPTION_BY_CODE: readonly (KeyedOptionSpec | undefined)[] = (() => {
  const byCode = new Array<KeyedOptionSpec | undefined>(256).fill(undefined);
  for (const spec of OPTION_LIST) byCode[spec.code] = spec;
  return byCode;
})();

/** The short name of option `code`, for error fields: `"lease time"`, or `"unknown"`. */
export function optionLabel(code: number): string {
  return OPTION_BY_CODE[code]?.label ?? "unknown";
}
