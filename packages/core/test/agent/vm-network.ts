/**
 * The wire and the pool of an agent end-to-end test: a server namespace whose bridge is the VM
 * network (the agent's `--nic`), one namespace per client joined to that bridge by a veth
 * pair, optionally a second server interface holding the default route (the pod network of an
 * agent pod), and the IPPool those clients are served from.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { grantAgentRead } from "../cluster/agent-grant.js";
import { type Kubectl, mustKubectl } from "../cluster/kubectl.js";
import { API_VERSION } from "../fixtures/examples.js";
import type { Lab } from "../netns/netns.js";

/** Name of the VM-network bridge in the server namespace: the agent's `--nic`. */
export const VM_NIC = "br0";
/** Name of the pod-network interface in the server namespace, when there is one. */
export const POD_NIC = "eth0";
/** Interface name inside every client namespace. */
export const CLIENT_NIC = "eth0";

/** A client namespace on the VM network. */
export interface ClientHost {
  ns: string;
  iface: string;
  mac: string;
}

/** The VM network of one test file. */
export interface VmNetwork {
  server: string;
  clients: Record<string, ClientHost>;
}

/** What to build. */
export interface VmNetworkOptions {
  /** `a.b.c.d/len` of the server on the bridge: the pool's serverIP. */
  serverCidr: string;
  /** Client name (short: it names interfaces) -> its MAC. */
  clients: Record<string, string>;
  /** Server and peer addresses of a pod network holding the server's default route. */
  podNetwork?: { server: string; gateway: string; prefix: number };
}

/** Builds the namespaces and links; `lab.close()` removes them. */
export async function buildVmNetwork(lab: Lab, options: VmNetworkOptions): Promise<VmNetwork> {
  const server = await lab.namespace("srv");
  await lab.bridge(server, VM_NIC, options.serverCidr);
  const clients: Record<string, ClientHost> = {};
  for (const [name, mac] of Object.entries(options.clients)) {
    const ns = await lab.namespace(name);
    await lab.veth(
      { ns: server, name: `vm-${name}`, bridge: VM_NIC },
      { ns, name: CLIENT_NIC, mac },
    );
    clients[name] = { ns, iface: CLIENT_NIC, mac };
  }
  const pod = options.podNetwork;
  if (pod) {
    const peer = await lab.namespace("pod");
    await lab.veth(
      { ns: server, name: POD_NIC, address: `${pod.server}/${pod.prefix}` },
      { ns: peer, name: POD_NIC, address: `${pod.gateway}/${pod.prefix}` },
    );
    await lab.ip(server, ["route", "add", "default", "via", pod.gateway]);
  }
  return { server, clients };
}

/** The `ipv4Config` of a pool, as in the IPPool spec. */
export interface Ipv4Config {
  cidr: string;
  serverIP: string;
  pool: { start: string; end: string };
  router?: string;
  dns?: string[];
  domainName?: string;
  domainSearch?: string[];
  ntp?: string[];
  leaseTime?: number;
}

/**
 * One IPPool, written the way the control plane would: spec by server-side apply, the
 * allocation by writing `status.ipv4.allocated` through the status subresource. No
 * controller runs in these tests, so nothing else writes the pool.
 */
export class TestPool {
  readonly #admin: Kubectl;
  readonly namespace: string;
  readonly name: string;

  constructor(admin: Kubectl, namespace: string, name: string) {
    this.#admin = admin;
    this.namespace = namespace;
    this.name = name;
  }

  /** `namespace/name`, the agent's `--ippool-ref`. */
  get ref(): string {
    return `${this.namespace}/${this.name}`;
  }

  /**
   * Creates or updates the pool's spec, and lets the agent identity read the pool, as the
   * controller would (no controller serves these pools).
   */
  async apply(ipv4Config: Ipv4Config): Promise<void> {
    const manifest = {
      apiVersion: API_VERSION,
      kind: "IPPool",
      metadata: { name: this.name, namespace: this.namespace },
      spec: { networkName: `${this.namespace}/${this.name}`, ipv4Config },
    };
    const args = ["apply", "--server-side", "--field-manager=agent-e2e", "-f", "-"];
    await mustKubectl(this.#admin, args, JSON.stringify(manifest));
    await grantAgentRead(this.#admin, this.namespace, this.name);
  }

  /** Merges into `status.ipv4.allocated`: IP -> MAC, or null to remove the entry. */
  async allocate(entries: Record<string, string | null>): Promise<void> {
    const patch = { status: { ipv4: { allocated: entries } } };
    await this.#patch(["--subresource=status"], patch);
  }

  /** Merges into `spec.ipv4Config` (lists are replaced whole). */
  async patchConfig(changes: Partial<Ipv4Config>): Promise<void> {
    await this.#patch([], { spec: { ipv4Config: changes } });
  }

  async #patch(extra: string[], patch: unknown): Promise<void> {
    const args = ["patch", "ippool", this.name, "-n", this.namespace, "--type=merge", ...extra];
    // Through a file: a pool of thousands of leases is longer than one argv string may be.
    const dir = await mkdtemp(join(tmpdir(), "vd-agent-patch-"));
    try {
      const file = join(dir, "patch.json");
      await writeFile(file, JSON.stringify(patch));
      await mustKubectl(this.#admin, [...args, `--patch-file=${file}`]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
