/**
 * The peers the agent is measured against, configured for a fair run: the same reservations
 * and options, no lease persistence, logging at warnings only, pinned to the same CPU.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Lab } from "../../test/netns/netns.js";
import type { Reservation } from "./reservations.js";

/** Where a peer runs and what it serves. */
export interface PeerOptions {
  lab: Lab;
  ns: string;
  cpus: string;
  /** The server's own address (on the interface facing perfdhcp). */
  server: string;
  /** perfdhcp's address, which it sends as giaddr. */
  relay: string;
  reservations: Reservation[];
}

/** A started peer. */
export interface Peer {
  name: string;
  pid: number;
  /** perfdhcp's local port, when the peer cannot answer a relay on port 67. */
  perfdhcpPort?: number;
  stop(): Promise<void>;
}

const SUBNET = "198.18.0.0/17";
const ROUTER = "198.18.0.1";
const DNS = "198.18.0.53";

/** Kea DHCPv4: reservations only (no pool), memfile without persistence, WARN logs. */
export async function startKea(options: PeerOptions): Promise<Peer> {
  const { lab, ns, cpus, server, relay } = options;
  const config = {
    Dhcp4: {
      // UDP sockets: perfdhcp is a relay, so no raw socket is needed.
      "interfaces-config": { interfaces: [`srv0/${server}`], "dhcp-socket-type": "udp" },
      "lease-database": { type: "memfile", persist: false },
      "valid-lifetime": 3600,
      "host-reservation-identifiers": ["hw-address"],
      subnet4: [
        {
          id: 1,
          subnet: SUBNET,
          relay: { "ip-addresses": [relay] },
          "reservations-in-subnet": true,
          "reservations-out-of-pool": true,
          "option-data": [
            { name: "routers", data: ROUTER },
            { name: "domain-name-servers", data: DNS },
          ],
          reservations: options.reservations.map((r) => ({
            "hw-address": r.mac,
            "ip-address": r.ip,
          })),
        },
      ],
      loggers: [{ name: "kea-dhcp4", severity: "WARN", output_options: [{ output: "stdout" }] }],
    },
  };
  const file = join(lab.dir, "kea-dhcp4.json");
  await writeFile(file, JSON.stringify(config));
  const env = [`KEA_PIDFILE_DIR=${lab.dir}`, `KEA_LOCKFILE_DIR=${lab.dir}`];
  const proc = lab.spawn(ns, "kea", "taskset", [
    "-c",
    cpus,
    "env",
    ...env,
    "kea-dhcp4",
    "-c",
    file,
  ]);
  return { name: "kea", pid: proc.child.pid!, stop: () => lab.stop(proc) };
}

/** dnsmasq: static leases only, no ping, no lease file, quiet DHCP logs, high lease max. */
export async function startDnsmasq(options: PeerOptions): Promise<Peer> {
  const { lab, ns, cpus } = options;
  const hosts = join(lab.dir, "dnsmasq-hosts");
  await writeFile(hosts, `${options.reservations.map((r) => `${r.mac},${r.ip}`).join("\n")}\n`);
  const args = [
    "--keep-in-foreground",
    "--conf-file=/dev/null",
    "--port=0",
    "--user=root",
    `--pid-file=${join(lab.dir, "dnsmasq.pid")}`,
    "--log-facility=-",
    "--interface=srv0",
    "--dhcp-range=198.18.0.0,static,255.255.128.0",
    `--dhcp-hostsfile=${hosts}`,
    `--dhcp-option=3,${ROUTER}`,
    `--dhcp-option=6,${DNS}`,
    "--dhcp-lease-max=100000",
    "--no-ping",
    "--leasefile-ro",
    "--quiet-dhcp",
  ];
  const proc = lab.spawn(ns, "dnsmasq", "taskset", ["-c", cpus, "dnsmasq", ...args]);
  return { name: "dnsmasq", pid: proc.child.pid!, stop: () => lab.stop(proc) };
}

/**
 * The npm `dhcp` package's server (the Node.js peer): static bindings only, no logging. It
 * sends every reply to its `broadcast` setting on port 68 whatever the giaddr, so it is given
 * perfdhcp's address there and perfdhcp listens on 68 for it.
 */
export async function startNpmDhcp(options: PeerOptions): Promise<Peer> {
  const { lab, ns, cpus, server, relay } = options;
  const file = join(lab.dir, "npm-dhcp.json");
  const bindings = Object.fromEntries(options.reservations.map((r) => [r.mac, r.ip]));
  const config = {
    server,
    relay,
    netmask: "255.255.128.0",
    router: ROUTER,
    dns: DNS,
    leaseSeconds: 3600,
    range: ["198.18.0.2", "198.18.127.252"],
    bindings,
  };
  await writeFile(file, JSON.stringify(config));
  const script = fileURLToPath(new URL("./npm-dhcp-server.cjs", import.meta.url));
  const node = process.execPath;
  const proc = lab.spawn(ns, "npm-dhcp", "taskset", ["-c", cpus, node, script, file]);
  return { name: "npm-dhcp", pid: proc.child.pid!, perfdhcpPort: 68, stop: () => lab.stop(proc) };
}
