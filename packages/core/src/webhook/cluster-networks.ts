import { cidrOf, formatCidr, type Ipv4Cidr, parseIpv4 } from "@vm-dhcp/ipam";

/** Node annotation of rke2 (and so Harvester) holding the server's command line as JSON. */
export const RKE2_NODE_ARGS_ANNOTATION = "rke2.io/node-args";
/** Service CIDR when no node says otherwise: Harvester's default (SPEC section 5). */
export const DEFAULT_SERVICE_CIDR = "10.53.0.0/16";
/**
 * Cluster (pod) CIDR when no node says otherwise: Harvester's default. Plain rke2 uses
 * 10.42.0.0/16; such clusters carry the annotation, or take `--cluster-cidr`.
 */
export const DEFAULT_CLUSTER_CIDR = "10.52.0.0/16";

/** Which of the two cluster networks. */
export type ClusterNetworkKind = "service" | "cluster";

/** One cluster network block and where it was learnt, for messages. */
export interface ClusterNetwork {
  readonly kind: ClusterNetworkKind;
  readonly cidr: Ipv4Cidr;
  /** e.g. `node n1 annotation rke2.io/node-args` or `flag --service-cidr`. */
  readonly source: string;
}

/** The IPv4 blocks one node's annotation names, by kind. */
export interface NodeCidrs {
  readonly service: Ipv4Cidr[];
  readonly cluster: Ipv4Cidr[];
}

const FLAGS: Record<ClusterNetworkKind, string> = {
  service: "--service-cidr",
  cluster: "--cluster-cidr",
};

/**
 * Reads `--service-cidr` and `--cluster-cidr` from the `rke2.io/node-args` annotation: a JSON
 * list of the server's arguments, each flag followed by its value (`--flag=value` is read
 * too). Values may list several blocks separated by commas (dual stack); the IPv4 ones are
 * kept, written with or without host bits. Undefined when the annotation is absent or not
 * a JSON list of strings.
 *
 * @example parseNodeArgs('["server","--service-cidr","10.53.0.0/16"]')?.service
 */
export function parseNodeArgs(annotation: string | undefined): NodeCidrs | undefined {
  if (annotation === undefined) return undefined;
  let args: unknown;
  try {
    args = JSON.parse(annotation);
  } catch {
    return undefined;
  }
  if (!Array.isArray(args) || !args.every((arg) => typeof arg === "string")) return undefined;

  const found: NodeCidrs = { service: [], cluster: [] };
  args.forEach((arg: string, i) => {
    for (const kind of ["service", "cluster"] as const) {
      const flag = FLAGS[kind];
      const value =
        arg === flag
          ? args[i + 1]
          : arg.startsWith(`${flag}=`)
            ? arg.slice(flag.length + 1)
            : undefined;
      if (typeof value === "string") found[kind].push(...ipv4Blocks(value));
    }
  });
  return found;
}

/** The IPv4 blocks of a comma-separated list; other entries (IPv6, garbage) are skipped. */
function ipv4Blocks(list: string): Ipv4Cidr[] {
  const blocks: Ipv4Cidr[] = [];
  for (const entry of list.split(",")) {
    const match = /^\s*([0-9.]+)\/([0-9]{1,2})\s*$/.exec(entry);
    const prefix = Number(match?.[2]);
    if (!match || prefix > 32) continue;
    try {
      blocks.push(cidrOf(parseIpv4(match[1]!), prefix));
    } catch {
      // Not a dotted quad: not a block this webhook can compare against.
    }
  }
  return blocks;
}

/** A node's name and its `rke2.io/node-args` annotation. */
export interface NodeArgs {
  readonly node: string;
  readonly annotation: string | undefined;
}

/**
 * The service and cluster CIDRs to keep VM networks away from: for each kind, every block
 * any node's annotation names, or else the flag's value (one block per kind).
 */
export function resolveClusterNetworks(
  nodes: readonly NodeArgs[],
  fallback: Readonly<Record<ClusterNetworkKind, Ipv4Cidr>>,
): ClusterNetwork[] {
  const networks: ClusterNetwork[] = [];
  for (const kind of ["service", "cluster"] as const) {
    const fromNodes = new Map<string, ClusterNetwork>();
    for (const { node, annotation } of [...nodes].sort((a, b) => a.node.localeCompare(b.node))) {
      for (const cidr of parseNodeArgs(annotation)?.[kind] ?? []) {
        const key = formatCidr(cidr);
        if (!fromNodes.has(key)) {
          const source = `node ${node} annotation ${RKE2_NODE_ARGS_ANNOTATION}`;
          fromNodes.set(key, { kind, cidr, source });
        }
      }
    }
    if (fromNodes.size > 0) networks.push(...fromNodes.values());
    else networks.push({ kind, cidr: fallback[kind], source: `flag ${FLAGS[kind]}` });
  }
  return networks;
}

/** True when two blocks share at least one address. */
export function cidrsOverlap(a: Ipv4Cidr, b: Ipv4Cidr): boolean {
  return a.network <= b.broadcast && b.network <= a.broadcast;
}
