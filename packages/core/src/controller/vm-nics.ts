import { isIpv4 } from "@vm-dhcp/ipam";
import {
  ANNOTATION_MAC_ADDRESS,
  ANNOTATION_STATIC_IP_PREFIX,
  networkKey,
  normalizeMac,
} from "./names.js";
import type { VirtualMachine } from "./resources.js";

/** A NIC of a VM on a Multus network, with the MAC it will have. */
export interface VmNic {
  /** Interface name in the VM spec. */
  nic: string;
  /** Normalised MAC (lower case, colons). */
  mac: string;
  /** `namespace/name` of the NetworkAttachmentDefinition. */
  networkKey: string;
  /** Wanted address from `static-ip.harvesterhci.io/<nic>`. */
  ipAddress?: string;
}

/** Something in a VM that could not be used, for an Event and a log line. */
export interface VmNicProblem {
  nic?: string;
  field: string;
  message: string;
}

/**
 * The Multus NICs of a VM, in the order of its interfaces. A NIC's MAC comes from the
 * interface's `macAddress`, else from the `harvesterhci.io/mac-address` annotation (a JSON map
 * NIC name -> MAC): a spec MAC wins. NICs on the pod network, without a network, or without a
 * usable MAC are left out. Malformed annotations and MACs are reported in `problems`, never
 * thrown: one bad value must not keep the VM's other NICs from their addresses.
 */
export function vmNics(vm: VirtualMachine): { nics: VmNic[]; problems: VmNicProblem[] } {
  const problems: VmNicProblem[] = [];
  const namespace = vm.metadata.namespace ?? "default";
  const annotations = vm.metadata.annotations ?? {};
  const annotatedMacs = parseMacAnnotation(annotations[ANNOTATION_MAC_ADDRESS], problems);
  const template = vm.spec?.template?.spec;
  const networks = new Map((template?.networks ?? []).map((network) => [network.name, network]));
  const nics: VmNic[] = [];
  const seen = new Set<string>();

  for (const iface of template?.domain?.devices?.interfaces ?? []) {
    const networkName = networks.get(iface.name)?.multus?.networkName;
    if (!networkName) continue;
    const mac = macOf(iface.name, iface.macAddress, annotatedMacs, problems);
    if (!mac) continue;
    const key = networkKey(networkName, namespace);
    if (seen.has(`${key} ${mac}`)) {
      problems.push({ nic: iface.name, field: "macAddress", message: `${mac} is used twice` });
      continue;
    }
    seen.add(`${key} ${mac}`);
    const ipAddress = staticAddressOf(iface.name, annotations, problems);
    nics.push({ nic: iface.name, mac, networkKey: key, ...(ipAddress ? { ipAddress } : {}) });
  }
  return { nics, problems };
}

function parseMacAnnotation(
  text: string | undefined,
  problems: VmNicProblem[],
): Record<string, string> {
  if (text === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const message = `is not JSON: ${(error as Error).message}`;
    problems.push({ field: `metadata.annotations[${ANNOTATION_MAC_ADDRESS}]`, message });
    return {};
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    const message = "must be a JSON object mapping NIC names to MAC addresses";
    problems.push({ field: `metadata.annotations[${ANNOTATION_MAC_ADDRESS}]`, message });
    return {};
  }
  const macs: Record<string, string> = {};
  for (const [nic, mac] of Object.entries(parsed)) {
    if (typeof mac === "string") macs[nic] = mac;
  }
  return macs;
}

function macOf(
  nic: string,
  specMac: string | undefined,
  annotated: Record<string, string>,
  problems: VmNicProblem[],
): string | undefined {
  if (specMac) {
    const mac = normalizeMac(specMac);
    if (mac) return mac;
    problems.push({ nic, field: "macAddress", message: `${JSON.stringify(specMac)} is not a MAC` });
  }
  const fromAnnotation = annotated[nic];
  if (fromAnnotation === undefined) return undefined;
  const mac = normalizeMac(fromAnnotation);
  if (!mac) {
    const field = `metadata.annotations[${ANNOTATION_MAC_ADDRESS}].${nic}`;
    problems.push({ nic, field, message: `${JSON.stringify(fromAnnotation)} is not a MAC` });
  }
  return mac;
}

function staticAddressOf(
  nic: string,
  annotations: Record<string, string>,
  problems: VmNicProblem[],
): string | undefined {
  const key = `${ANNOTATION_STATIC_IP_PREFIX}${nic}`;
  const value = annotations[key];
  if (value === undefined) return undefined;
  if (isIpv4(value.trim())) return value.trim();
  const message = `${JSON.stringify(value)} is not an IPv4 address`;
  problems.push({ nic, field: `metadata.annotations[${key}]`, message });
  return undefined;
}
