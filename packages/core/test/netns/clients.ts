/**
 * Real DHCP clients (ISC dhclient, busybox udhcpc, dhcpcd) inside a lab namespace, each with a
 * private hook script that records what the client received and configures the address in
 * its own namespace only: the host's resolv.conf, routes and lease files are never touched.
 */
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { LoggedProcess } from "../cluster/process.js";
import type { Lab } from "./netns.js";

/** The clients this helper knows. */
export type ClientKind = "dhclient" | "udhcpc" | "dhcpcd";

/** The command each client needs on PATH. */
export const CLIENT_BINARIES: Readonly<Record<ClientKind, string>> = {
  dhclient: "dhclient",
  udhcpc: "udhcpc",
  dhcpcd: "dhcpcd",
};

/** One call of a hook script: its reason and the environment the client gave it. */
export interface HookEvent {
  /** Normalised to lower case: "bound", "renew", "rebind", "reboot", "release", "nak", ... */
  reason: string;
  env: Record<string, string>;
}

/** What a client was told in one hook call, in the same shape for every client. */
export interface ReceivedLease {
  reason: string;
  address: string;
  mask: string;
  routers: string[];
  dns: string[];
  domain: string;
  search: string[];
  ntp: string[];
  leaseSeconds: number;
}

/** Hook reasons that mean "the client holds this address now" (dhcpcd "inform": its own). */
const BOUND_REASONS = new Set(["bound", "renew", "rebind", "reboot", "inform"]);
const EVENT_MARK = "@@event ";
/**
 * Closes an event's record. The hook appends its record in several writes, so a reader polling
 * the file can see a marker whose environment is not written yet; only closed records count.
 */
const EVENT_END = "@@end";

/** Options of {@link startClient}. */
export interface ClientOptions {
  /** Namespace and interface the client runs on. */
  ns: string;
  iface: string;
  /** Unique within the lab; names the log, hook and lease files. */
  name: string;
  /**
   * Give up after a few tries instead of retrying for ever. udhcpc and dhcpcd also exit once
   * they have a lease; dhclient (`-1`) stays to renew, so stop it when done.
   */
  once?: boolean;
  /** dhclient only: a lease file to start from (e.g. naming an address to ask for). */
  dhclientLeaseFile?: string;
  /**
   * More arguments for the client, e.g. udhcpc `-x 0x3d:01...` to send a client identifier,
   * or dhcpcd `-s <address/len>` to send an INFORM for an address it configures itself.
   */
  extraArgs?: string[];
}

/** A running (or, with `once`, possibly finished) client. */
export interface DhcpClient {
  readonly kind: ClientKind;
  readonly proc: LoggedProcess;
  readonly files: ClientFiles;
  /** Every hook call so far, oldest first. */
  events(): Promise<HookEvent[]>;
  /** The hook calls that bound an address, as leases. */
  leases(): Promise<ReceivedLease[]>;
}

/** Files a client uses, all under the lab directory. */
export interface ClientFiles {
  dir: string;
  events: string;
  hook: string;
  leaseFile: string;
  pidFile: string;
  config: string;
}

/** Starts a client of `kind`; its process is stopped by `lab.close()` if not before. */
export async function startClient(
  lab: Lab,
  kind: ClientKind,
  options: ClientOptions,
): Promise<DhcpClient> {
  const files = await prepareFiles(lab, kind, options);
  const [command, args] = commandLine(kind, options, files);
  const proc = lab.spawn(options.ns, options.name, command, args);
  const events = () => readEvents(files.events);
  const leases = async () => (await events()).flatMap((event) => toLease(kind, event));
  return { kind, proc, files, events, leases };
}

/**
 * `dhclient -r`: releases the lease of a running dhclient (found by its pid file) and stops it.
 * Resolves with the command's exit code.
 */
export async function releaseDhclient(lab: Lab, client: DhcpClient, ns: string, iface: string) {
  const { config, hook, leaseFile, pidFile } = client.files;
  const args = ["-r", "-v", "-cf", config, "-sf", hook, "-lf", leaseFile, "-pf", pidFile, iface];
  return lab.exec(ns, "dhclient", args);
}

/** A dhclient lease file holding one lease for `address`, valid far into the future. */
export function dhclientLeaseFile(iface: string, address: string, server: string): string {
  const far = "4 2037/12/31 00:00:00";
  return [
    "lease {",
    `  interface "${iface}";`,
    `  fixed-address ${address};`,
    "  option subnet-mask 255.255.255.0;",
    `  option dhcp-server-identifier ${server};`,
    `  renew ${far};`,
    `  rebind ${far};`,
    `  expire ${far};`,
    "}",
    "",
  ].join("\n");
}

async function prepareFiles(lab: Lab, kind: ClientKind, options: ClientOptions) {
  const dir = join(lab.dir, options.name);
  await mkdir(dir, { recursive: true });
  const files: ClientFiles = {
    dir,
    events: join(dir, "events"),
    hook: join(dir, "hook.sh"),
    leaseFile: join(dir, "leases"),
    pidFile: join(dir, "pid"),
    config: join(dir, "client.conf"),
  };
  await writeFile(files.events, "");
  await writeFile(files.hook, hookScript(kind, files.events));
  await chmod(files.hook, 0o755);
  await writeFile(files.config, CONFIGS[kind]);
  await writeFile(files.leaseFile, options.dhclientLeaseFile ?? "");
  return files;
}

function commandLine(
  kind: ClientKind,
  options: ClientOptions,
  files: ClientFiles,
): [string, string[]] {
  const { iface, once = false } = options;
  const extra = options.extraArgs ?? [];
  switch (kind) {
    case "dhclient": {
      const paths = ["-cf", files.config, "-sf", files.hook, "-lf", files.leaseFile];
      const mode = once ? ["-1"] : [];
      const pid = ["-pf", files.pidFile];
      return ["dhclient", ["-d", "-v", "-4", ...mode, ...paths, ...pid, ...extra, iface]];
    }
    case "udhcpc": {
      // Option 119 and 42 are not in udhcpc's default request list; ask as a user would.
      const mode = once ? ["-n", "-q", "-t", "4", "-T", "1", "-A", "1"] : ["-t", "5", "-T", "1"];
      const asks = ["-O", "search", "-O", "ntpsrv"];
      return ["udhcpc", ["-f", "-i", iface, "-s", files.hook, ...asks, ...mode, ...extra]];
    }
    case "dhcpcd": {
      // dhcpcd keeps state under /run/dhcpcd and /var/lib/dhcpcd: give it private tmpfs copies.
      const mode = once ? "-1 -t 10" : "";
      const flags = `-B -4 -A -L --nodelay ${mode}`;
      const dhcpcd = `exec dhcpcd ${flags} -f ${files.config} -c ${files.hook}`;
      const script = [
        "mkdir -p /run/dhcpcd /var/lib/dhcpcd",
        "mount -t tmpfs tmpfs /run/dhcpcd",
        "mount -t tmpfs tmpfs /var/lib/dhcpcd",
        `${dhcpcd} "$@" ${iface}`,
      ].join(" && ");
      // The extra arguments reach dhcpcd as the script's "$@", unquoted by no shell.
      return ["unshare", ["-m", "--propagation", "private", "sh", "-c", script, "sh", ...extra]];
    }
  }
}

/** Client configuration: the request lists Debian ships (dhclient) or documents (dhcpcd). */
const CONFIGS: Readonly<Record<ClientKind, string>> = {
  dhclient: [
    "option rfc3442-classless-static-routes code 121 = array of unsigned integer 8;",
    "request subnet-mask, broadcast-address, time-offset, routers,",
    "  domain-name, domain-name-servers, domain-search, host-name,",
    "  netbios-name-servers, netbios-scope, interface-mtu,",
    "  rfc3442-classless-static-routes, ntp-servers;",
    "",
  ].join("\n"),
  udhcpc: "",
  dhcpcd: [
    "option domain_name_servers, domain_name, domain_search, ntp_servers",
    "option classless_static_routes, interface_mtu",
    "nohook resolv.conf, timesyncd, ntp.conf",
    "noipv4ll",
    "",
  ].join("\n"),
};

/**
 * The hook: appends a marker line and the sorted environment to the events file, then does
 * the least a client needs to renew by unicast (the address on its interface).
 */
function hookScript(kind: ClientKind, eventsFile: string): string {
  const lines = `echo "${EVENT_MARK}$1 $reason"; env | sort; echo "${EVENT_END}"`;
  const record = `{ ${lines}; } >> "${eventsFile}"`;
  const actions: Record<ClientKind, string[]> = {
    dhclient: [
      'case "$reason" in',
      '  PREINIT) ip link set dev "$interface" up ;;',
      "  BOUND|RENEW|REBIND|REBOOT)",
      '    if [ "$old_ip_address" != "$new_ip_address" ]; then ip addr flush dev "$interface"; fi',
      '    ip addr replace "$new_ip_address/$new_subnet_mask" dev "$interface" ;;',
      '  EXPIRE|FAIL|RELEASE|STOP) ip addr flush dev "$interface" ;;',
      "esac",
    ],
    udhcpc: [
      'case "$1" in',
      '  deconfig) ip addr flush dev "$interface"; ip link set dev "$interface" up ;;',
      '  bound|renew) ip addr replace "$ip/$mask" dev "$interface" ;;',
      "esac",
    ],
    // dhcpcd configures the interface itself; the hook only records.
    dhcpcd: [],
  };
  return ["#!/bin/sh", record, ...actions[kind], "exit 0", ""].join("\n");
}

async function readEvents(path: string): Promise<HookEvent[]> {
  const text = await readFile(path, "utf8").catch(() => "");
  const events: HookEvent[] = [];
  let open: HookEvent | undefined;
  for (const line of text.split("\n")) {
    if (line.startsWith(EVENT_MARK)) {
      const words = line.slice(EVENT_MARK.length).trim().split(" ").filter(Boolean);
      open = { reason: (words[0] ?? "").toLowerCase(), env: {} };
      continue;
    }
    if (line === EVENT_END && open) {
      events.push(open);
      open = undefined;
      continue;
    }
    const equals = line.indexOf("=");
    if (open && equals > 0) open.env[line.slice(0, equals)] = line.slice(equals + 1);
  }
  return events;
}

const list = (value: string | undefined) => (value ?? "").split(" ").filter(Boolean);

/** Reads the lease out of a hook call that bound an address; [] for any other call. */
function toLease(kind: ClientKind, event: HookEvent): ReceivedLease[] {
  const env = event.env;
  // dhclient and dhcpcd pass the reason in $reason and leave $1 empty; udhcpc passes $1.
  const reason = kind === "udhcpc" ? event.reason : (env.reason ?? "").toLowerCase();
  if (!BOUND_REASONS.has(reason)) return [];
  if (kind === "udhcpc") {
    return [
      {
        reason,
        address: env.ip ?? "",
        mask: env.subnet ?? "",
        routers: list(env.router),
        dns: list(env.dns),
        domain: env.domain ?? "",
        search: list(env.search),
        ntp: list(env.ntpsrv),
        leaseSeconds: Number(env.lease ?? Number.NaN),
      },
    ];
  }
  return [
    {
      reason,
      address: env.new_ip_address ?? "",
      mask: env.new_subnet_mask ?? "",
      routers: list(env.new_routers),
      dns: list(env.new_domain_name_servers),
      domain: env.new_domain_name ?? "",
      // dhclient writes search domains fully qualified ("vm.example."); compare them bare.
      search: list(env.new_domain_search).map((name) => name.replace(/\.$/, "")),
      ntp: list(env.new_ntp_servers),
      leaseSeconds: Number(env.new_dhcp_lease_time ?? Number.NaN),
    },
  ];
}
