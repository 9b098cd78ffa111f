/**
 * Fixtures of the agent's unit tests (`src/agent/*.test.ts`): one pool, its one client, and
 * that client's requests, decoded and as they arrive on the socket. They live outside `src`
 * so that the package build leaves them out. Every call returns a fresh object a test may
 * change.
 */
import {
  BootOp,
  type DhcpMessage,
  type DhcpOptions,
  encode,
  type MessageType,
  parseMac,
} from "@vm-dhcp/dhcp-codec";
import {
  ALLOCATED_RESERVED,
  GROUP_VERSION,
  type IpPool,
  type Ipv4Config,
} from "../../src/api/types.js";

/** The pool's one client. */
export const MAC = "52:54:00:aa:bb:01";
/** The pool's server address (`serverIP`), RESERVED in its allocations. */
export const SERVER = "192.0.2.2";
/** The address the control plane allocated to {@link MAC}. */
export const LEASED = "192.0.2.10";
/** Transaction ID of every {@link request}. */
export const XID = 0x1234;

/** A value for every option a pool can configure. */
export const EVERY_OPTION = {
  router: "192.0.2.1",
  dns: ["192.0.2.53"],
  domainName: "vm.example",
  domainSearch: ["vm.example", "example"],
  ntp: ["192.0.2.123"],
  leaseTime: 3600,
} satisfies Partial<Ipv4Config>;

/**
 * IPPool `default/net-a` on 192.0.2.0/24 with `config` over its required fields and no
 * options otherwise: {@link MAC} holds {@link LEASED}, and the server address is RESERVED.
 */
export function poolWith(config: Partial<Ipv4Config> = {}): IpPool {
  return {
    apiVersion: GROUP_VERSION,
    kind: "IPPool",
    metadata: { namespace: "default", name: "net-a", resourceVersion: "1" },
    spec: {
      networkName: "default/net-a",
      ipv4Config: {
        cidr: "192.0.2.0/24",
        serverIP: SERVER,
        pool: { start: "192.0.2.10", end: "192.0.2.200" },
        ...structuredClone(config),
      },
    },
    status: { ipv4: { allocated: { [LEASED]: MAC, [SERVER]: ALLOCATED_RESERVED } } },
  };
}

/** A BOOTREQUEST of `type` from {@link MAC}, with `options` and header `fields` changed. */
export function request(
  type: MessageType,
  options: Partial<DhcpOptions> = {},
  fields: Partial<DhcpMessage> = {},
): DhcpMessage {
  return {
    op: BootOp.Request,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid: XID,
    secs: 0,
    flags: 0,
    ciaddr: "0.0.0.0",
    yiaddr: "0.0.0.0",
    siaddr: "0.0.0.0",
    giaddr: "0.0.0.0",
    chaddr: parseMac(MAC),
    sname: "",
    file: "",
    ...fields,
    options: { messageType: type, ...options },
  };
}

/** {@link request}, encoded as it arrives on the socket. */
export function packet(...args: Parameters<typeof request>): Buffer {
  return encode(request(...args));
}
