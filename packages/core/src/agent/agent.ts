import { networkInterfaces } from "node:os";
import type { KubeConfig } from "@kubernetes/client-node";
import { isIpv4 } from "@vm-dhcp/ipam";
import type { Registry } from "prom-client";
import { ResourceClient } from "../api/client.js";
import { IP_POOL, type IpPool } from "../api/types.js";
import type { Readiness } from "../http/server.js";
import { Reflector, type ReflectorState } from "../kube/reflector.js";
import { errorText, type Logger } from "../logger.js";
import { DhcpServer } from "./dhcp-server.js";
import { type Lease, LeaseStore, leasesOf, type PoolOptions } from "./lease-store.js";
import { createAgentMetrics } from "./metrics.js";
import { NtpResolver, type ResolveHost } from "./ntp-resolver.js";
import { type ClientNotice, Responder } from "./responder.js";
import { type Transport, UdpTransport } from "./udp-transport.js";

/** How long to wait before trying to open the DHCP socket again. */
const SOCKET_RETRY_MS = 2_000;
/**
 * Longest wait between attempts to reach the API server. An agent watches one object, so
 * retrying every 10 s costs the server little, and the store is current again within
 * seconds of the control plane's return rather than the reflector's default 30 s.
 */
const WATCH_MAX_BACKOFF_MS = 10_000;

/**
 * One entry of the `/leases` dump: the lease's address and the pool's options as clients get
 * them (the parsed CIDR, kept for the packet path only, is left out).
 */
export type LeaseDump = { address: string } & Omit<PoolOptions, "subnet">;

/** `namespace/name` of the IPPool an agent serves. */
export interface PoolRef {
  namespace: string;
  name: string;
}

/** What an {@link Agent} needs: its pool, the API server, the NIC and every effect. */
export interface AgentOptions {
  poolRef: PoolRef;
  kubeConfig: KubeConfig;
  /** Interface of the VM network; the pool's server address must be on it. */
  nic: string;
  /** Everything but the socket: watch, store, metrics, HTTP. */
  dryRun: boolean;
  logger: Logger;
  registry: Registry;
  /** Opens the DHCP sockets for the server address; UDP port 67 by default. */
  createTransport?: (serverAddress: string) => Transport;
  resolveHost?: ResolveHost;
  /** Answering gate, for an agent that stands by while another one serves. */
  isActive?: () => boolean;
  onClientNotice?: (notice: ClientNotice) => void;
  /** Per-packet debug logs (see DhcpServerOptions.packetLogs); on by default. */
  packetLogs?: boolean;
  /** IPv4 addresses on an interface; `os.networkInterfaces()` by default. */
  interfaceAddresses?: (nic: string) => string[];
}

/** The IPv4 addresses the kernel has on `nic` (none when it does not exist). */
export function systemInterfaceAddresses(nic: string): string[] {
  const entries = networkInterfaces()[nic] ?? [];
  return entries.filter((entry) => entry.family === "IPv4").map((entry) => entry.address);
}

/** Field selector of the one IPPool an agent serves, for its list and its watch alike. */
function ownPoolSelector({ name }: PoolRef): string {
  return `metadata.name=${name}`;
}

/**
 * The data plane of one pool: keeps a lease store equal to what the IPPool says and serves it
 * over DHCP. The store is built in full before the first packet is answered, rebuilt on every
 * change of the pool (allocations and options alike), and kept as it is while the API server
 * is unreachable, so clients keep getting their leases during a control-plane outage.
 */
export class Agent {
  readonly #options: AgentOptions;
  readonly #store = new LeaseStore();
  readonly #metrics;
  readonly #reflector: Reflector<IpPool>;
  readonly #ntp: NtpResolver;
  #pool: IpPool | undefined;
  #server: DhcpServer | undefined;
  #serverAddress: string | undefined;
  #configError: string | undefined;
  #nicError: string | undefined;
  #retry: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: AgentOptions) {
    this.#options = options;
    this.#metrics = createAgentMetrics(options.registry);
    this.#ntp = new NtpResolver({
      logger: options.logger,
      onChange: () => this.#rebuild(),
      ...(options.resolveHost ? { resolve: options.resolveHost } : {}),
    });
    const { namespace, name } = options.poolRef;
    const pools = new ResourceClient<IpPool>(options.kubeConfig, IP_POOL);
    const fieldSelector = ownPoolSelector(options.poolRef);
    this.#reflector = new Reflector<IpPool>({
      name: `ippool ${namespace}/${name}`,
      kubeConfig: options.kubeConfig,
      path: pools.path(namespace),
      fieldSelector,
      list: () => pools.list(namespace, { fieldSelector }),
      onList: (items) => this.#setPool(items[0]),
      onEvent: (type, pool) => this.#setPool(type === "DELETED" ? undefined : pool),
      onState: (state) => this.#onWatchState(state),
      logger: options.logger,
      maxBackoffMs: WATCH_MAX_BACKOFF_MS,
    });
  }

  /** Starts watching; resolves once the store holds the pool's leases and DHCP is serving. */
  async start(): Promise<void> {
    await this.#reflector.start();
    await this.#ensureServing();
  }

  /** Stops watching and closes the DHCP sockets. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retry);
    this.#ntp.stop();
    await this.#reflector.stop();
    await this.#server?.stop();
    this.#server = undefined;
  }

  /** The lease of a MAC, as the server would answer it now. */
  lease(mac: string): Lease | undefined {
    return this.#store.get(mac);
  }

  /** `/leases` dump: MAC -> the address and the options a client gets with it. */
  leases(): Record<string, LeaseDump> {
    const dump: Record<string, LeaseDump> = {};
    for (const { mac, address, options } of this.#store.leases()) {
      const { subnet: _parsedCidr, ...sent } = options;
      dump[mac] = { address, ...sent };
    }
    return dump;
  }

  /** Ready when the pool is known, its spec usable, the socket open, and the watch current. */
  readiness(): Readiness {
    const watch = this.#reflector.state;
    const serving = this.#options.dryRun || this.#server !== undefined;
    const checks = {
      watch,
      pool: this.#pool ? "found" : "not found",
      config: this.#configError ?? "ok",
      nic: this.#nicError ?? "ok",
      serving: this.#options.dryRun ? "dry-run" : serving,
      leases: this.#store.size,
    };
    const ready = watch === "synced" && !!this.#pool && !this.#configError && serving;
    return { ready, checks };
  }

  /** Test and benchmark access to the packet path, without sockets. */
  get server(): DhcpServer | undefined {
    return this.#server;
  }

  #setPool(pool: IpPool | undefined): void {
    const before = this.#pool;
    this.#pool = pool;
    if (!pool) {
      if (before) this.#options.logger.warn("pool is gone; serving no leases", this.#logFields());
      this.#store.clear();
      this.#metrics.leases.set(0);
      return;
    }
    const ntp = pool.spec.ipv4Config.ntp ?? [];
    this.#ntp.watch(ntp.filter((entry) => !isIpv4(entry)));
    this.#rebuild();
    void this.#ensureServing();
  }

  #rebuild(): void {
    const pool = this.#pool;
    if (!pool) return;
    const ntp = this.#ntp.addressesOf(pool.spec.ipv4Config.ntp ?? [], isIpv4);
    const before = this.#store.size;
    try {
      this.#store.replace(leasesOf(pool, ntp));
      this.#configError = undefined;
    } catch (error) {
      // An unusable spec keeps the last good leases rather than dropping every client.
      this.#configError = errorText(error);
      this.#options.logger.error("pool spec is unusable; keeping the last good leases", {
        ...this.#logFields(),
        err: this.#configError,
      });
      return;
    }
    this.#metrics.leases.set(this.#store.size);
    if (this.#store.size !== before) {
      this.#options.logger.info("leases updated", {
        ...this.#logFields(),
        leases: this.#store.size,
      });
    }
  }

  async #ensureServing(): Promise<void> {
    const serverAddress = this.#pool?.spec.ipv4Config.serverIP;
    if (this.#options.dryRun || this.#server || !serverAddress || this.#configError) return;
    if (this.#serverAddress === serverAddress) return; // a start is already under way
    if (!this.#serverAddressOnNic(serverAddress)) return;
    this.#serverAddress = serverAddress;

    const transport =
      this.#options.createTransport?.(serverAddress) ?? new UdpTransport(serverAddress);
    const server = new DhcpServer({
      responder: new Responder(this.#store, this.#options.isActive),
      transport,
      metrics: this.#metrics,
      logger: this.#options.logger,
      ...(this.#options.onClientNotice ? { onClientNotice: this.#options.onClientNotice } : {}),
      packetLogs: this.#options.packetLogs ?? true,
    });
    try {
      await server.start();
      this.#server = server;
      this.#options.logger.info("serving DHCP", {
        ...this.#logFields(),
        serverAddress,
        nic: this.#options.nic,
      });
    } catch (error) {
      this.#serverAddress = undefined;
      this.#options.logger.error("cannot open the DHCP socket; is the server address on the NIC?", {
        ...this.#logFields(),
        serverAddress,
        nic: this.#options.nic,
        err: errorText(error),
        retryMs: SOCKET_RETRY_MS,
      });
      if (!this.#stopped) {
        this.#retry = setTimeout(() => void this.#ensureServing(), SOCKET_RETRY_MS);
      }
    }
  }

  /**
   * Replies leave through the interface that holds the server address (see UdpTransport), so
   * that address must be on `--nic`, or replies would reach another network. Checked before
   * every start, retried while it does not hold (an init step may still be adding it).
   */
  #serverAddressOnNic(serverAddress: string): boolean {
    const { nic, interfaceAddresses = systemInterfaceAddresses } = this.#options;
    if (interfaceAddresses(nic).includes(serverAddress)) {
      this.#nicError = undefined;
      return true;
    }
    const problem = `${serverAddress} is not on ${nic}`;
    if (this.#nicError !== problem) {
      this.#options.logger.error("the server address is not on --nic; not serving DHCP", {
        ...this.#logFields(),
        serverAddress,
        nic,
        retryMs: SOCKET_RETRY_MS,
      });
    }
    this.#nicError = problem;
    clearTimeout(this.#retry);
    if (!this.#stopped) this.#retry = setTimeout(() => void this.#ensureServing(), SOCKET_RETRY_MS);
    return false;
  }

  #onWatchState(state: ReflectorState): void {
    const fields = { ...this.#logFields(), watch: state, leases: this.#store.size };
    if (state === "disconnected") {
      this.#options.logger.warn("cannot watch the pool; serving the last known leases", fields);
    } else if (state === "synced") {
      this.#options.logger.info("watching the pool", fields);
    }
  }

  #logFields() {
    const { namespace, name } = this.#options.poolRef;
    return { pool: `${namespace}/${name}` };
  }
}
