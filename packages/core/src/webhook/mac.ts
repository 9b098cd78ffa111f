/** Why a NIC's MAC address cannot be used, or undefined when it can. */
export type MacProblem = "malformed" | "multicast" | "zero";

const MAC_TEXT = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

/**
 * Checks a NIC's MAC address as the controller and agent use it: six hex pairs joined by
 * colons, either case (the agent compares in lower case). Hyphen or dotted forms are refused
 * rather than guessed, because a MAC is matched as text against the DHCP client's `chaddr`.
 * A NIC needs an individual (unicast) address: the I/G bit, the least significant bit of the
 * first octet (IEEE 802-2014 section 8.2), must be clear, and all zeros is no address.
 */
export function macProblem(text: string): MacProblem | undefined {
  if (!MAC_TEXT.test(text)) return "malformed";
  const firstOctet = Number.parseInt(text.slice(0, 2), 16);
  if (firstOctet & 1) return "multicast";
  if (/^(00:){5}00$/.test(text)) return "zero";
  return undefined;
}

/** The form MACs are compared in: lower case. */
export function normalizeMac(text: string): string {
  return text.toLowerCase();
}
