import { lookup } from "node:dns/promises";
import { errorText, type Logger } from "../logger.js";

/** Resolves a host name to IPv4 addresses. */
export type ResolveHost = (name: string) => Promise<string[]>;

/** Resolves with the system resolver (getaddrinfo, so /etc/hosts counts), IPv4 only. */
export const systemResolveHost: ResolveHost = async (name) =>
  (await lookup(name, { family: 4, all: true })).map((entry) => entry.address);

export interface NtpResolverOptions {
  resolve?: ResolveHost;
  logger: Logger;
  /** How long one lookup may take before it counts as failed. */
  timeoutMs?: number;
  /** How often names are looked up again. */
  refreshMs?: number;
  /** Called when the addresses of any name changed, so leases can be rebuilt. */
  onChange: () => void;
}

const DEFAULT_TIMEOUT_MS = 3_000;
const DEFAULT_REFRESH_MS = 5 * 60_000;
/**
 * Most addresses kept of one name's answer. Every NTP entry of a pool (at most 4, the CRD's
 * limit) shares option 42 of one reply, and the whole reply must fit the 576 bytes every
 * client accepts; a name answering with dozens of addresses (a round-robin pool) would make
 * the pool's replies too large, a configuration error that on a first start keeps the agent
 * from serving at all. Capped, names add at most 4 x 4 addresses, 64 bytes.
 */
export const MAX_ADDRESSES_PER_NAME = 4;

/**
 * Turns the pool's NTP entries into addresses without ever blocking DHCP: literals pass
 * through, host names are looked up in the background and their last good answer is kept,
 * at most {@link MAX_ADDRESSES_PER_NAME} addresses of it. A name that never resolved is left
 * out of the option until it does.
 */
export class NtpResolver {
  readonly #options: NtpResolverOptions;
  readonly #resolve: ResolveHost;
  readonly #known = new Map<string, string[]>();
  #names: string[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(options: NtpResolverOptions) {
    this.#options = options;
    this.#resolve = options.resolve ?? systemResolveHost;
  }

  /** Sets the host names to keep resolved (literals are filtered out by the caller). */
  watch(names: string[]): void {
    const changed = names.join(",") !== this.#names.join(",");
    this.#names = names;
    for (const name of this.#known.keys()) if (!names.includes(name)) this.#known.delete(name);
    if (changed && names.length > 0) void this.refresh();
    this.#schedule();
  }

  /** The addresses of `entries`, in order, literals kept and names replaced by what we know. */
  addressesOf(entries: string[], isLiteral: (entry: string) => boolean): string[] {
    const addresses = entries.flatMap((entry) =>
      isLiteral(entry) ? [entry] : (this.#known.get(entry) ?? []),
    );
    return [...new Set(addresses)];
  }

  /** Looks every name up once now; resolves when all lookups finished or timed out. */
  async refresh(): Promise<void> {
    const results = await Promise.all(this.#names.map((name) => this.#lookup(name)));
    if (results.some(Boolean)) this.#options.onChange();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Returns true when the name's addresses changed. */
  async #lookup(name: string): Promise<boolean> {
    const timeoutMs = this.#options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      // Sorted before the cap: a resolver that rotates its answer changes nothing here.
      const answer = [...new Set(await Promise.race([this.#resolve(name), timeout]))].sort();
      const addresses = answer.slice(0, MAX_ADDRESSES_PER_NAME);
      const before = this.#known.get(name);
      if (before && before.join(",") === addresses.join(",")) return false;
      this.#known.set(name, addresses);
      const omitted = answer.length - addresses.length;
      this.#options.logger.info("resolved NTP server name", {
        name,
        addresses,
        ...(omitted > 0 ? { omitted } : {}),
      });
      return true;
    } catch (error) {
      // Keep the last good answer: a resolver outage must not take NTP away from clients.
      this.#options.logger.warn("could not resolve NTP server name", {
        name,
        err: errorText(error),
        keeping: this.#known.get(name) ?? [],
      });
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  #schedule(): void {
    if (this.#names.length === 0) {
      this.stop();
      return;
    }
    if (this.#timer) return;
    this.#timer = setInterval(
      () => void this.refresh(),
      this.#options.refreshMs ?? DEFAULT_REFRESH_MS,
    );
    this.#timer.unref();
  }
}
