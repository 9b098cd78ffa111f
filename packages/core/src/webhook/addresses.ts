import { formatCidr, type Ipv4Cidr, isIpv4, isUsableHost, parseIpv4 } from "@vm-dhcp/ipam";
import type { Violation } from "./violation.js";

/**
 * Checks one address field against a block: a strict dotted quad, inside the block, and (for
 * a host field) neither its network nor its broadcast address. `where` names the block in
 * the rule, e.g. "spec.ipv4Config.cidr 10.0.0.0/24" or "10.0.0.0/24, the CIDR of IPPool a/b".
 * Returns the address, or the violation.
 */
export function checkAddressIn(
  field: string,
  text: string,
  cidr: Ipv4Cidr,
  where: string,
  host: boolean,
): { address: number } | { violation: Violation } {
  if (!isIpv4(text)) {
    return { violation: { field, value: text, rule: "must be an IPv4 address such as 10.0.0.1" } };
  }
  const address = parseIpv4(text);
  if (address < cidr.network || address > cidr.broadcast) {
    return { violation: { field, value: text, rule: `must lie inside ${where}` } };
  }
  if (host && !isUsableHost(cidr, address)) {
    const which = address === cidr.network ? "network" : "broadcast";
    return {
      violation: { field, value: text, rule: `must not be the ${which} address of ${where}` },
    };
  }
  return { address };
}

/** `spec.ipv4Config.cidr 10.0.0.0/24`: how rules name the pool's block. */
export function poolCidrLabel(cidr: Ipv4Cidr): string {
  return `spec.ipv4Config.cidr ${formatCidr(cidr)}`;
}

/** The address as a number, or undefined when the text is not a strict dotted quad. */
export function addressOf(text: string | undefined): number | undefined {
  return text !== undefined && isIpv4(text) ? parseIpv4(text) : undefined;
}
