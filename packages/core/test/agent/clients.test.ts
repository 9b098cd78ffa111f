/**
 * The agent end to end: `vm-dhcp agent` as a real process in a server namespace, fed by the
 * real test API server, answering real dhclient, udhcpc and dhcpcd processes, each in its own
 * namespace. The server namespace also has a pod-network interface holding the default route,
 * as an agent pod has, and captures on both interfaces show where replies leave.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Kubectl, kubectlAs } from "../cluster/kubectl.js";
import type { TestClusterInfo } from "../cluster/test-cluster.js";
import { createNamespace, describeWithCluster } from "../cluster/use-cluster.js";
import { type Capture, startCapture } from "../netns/capture.js";
import {
  CLIENT_BINARIES,
  type DhcpClient,
  dhclientLeaseFile,
  type ReceivedLease,
  releaseDhclient,
  startClient,
} from "../netns/clients.js";
import { Lab, netnsSkipReason, which } from "../netns/netns.js";
import { poll } from "../netns/poll.js";
import { AgentProcess, spawnAgent } from "./agent-process.js";
import {
  buildVmNetwork,
  type Ipv4Config,
  POD_NIC,
  TestPool,
  VM_NIC,
  type VmNetwork,
} from "./vm-network.js";

const SERVER = "192.0.2.2";
/** Short, so every client renews (T1 = 12 s) while the suite runs. */
const LEASE_SECONDS = 24;
const CONFIG: Ipv4Config = {
  cidr: "192.0.2.0/24",
  serverIP: SERVER,
  pool: { start: "192.0.2.10", end: "192.0.2.200" },
  router: "192.0.2.1",
  dns: ["192.0.2.53", "192.0.2.54"],
  domainName: "vm.example",
  domainSearch: ["vm.example", "example"],
  // A host name too: the agent resolves it (here from /etc/hosts, so no DNS traffic leaves).
  ntp: ["192.0.2.123", "localhost"],
  leaseTime: LEASE_SECONDS,
};
const NTP_ADDRESSES = ["192.0.2.123", "127.0.0.1"];
const MACS = {
  dhclient: "52:54:00:00:02:11",
  udhcpc: "52:54:00:00:02:12",
  dhcpcd: "52:54:00:00:02:13",
  nak: "52:54:00:00:02:14",
  late: "52:54:00:00:02:15",
  relay: "52:54:00:00:02:16",
} as const;
/** The address of the relay namespace, which perfdhcp sends as giaddr. */
const RELAY = "192.0.2.250";
const ADDRESSES = {
  dhclient: "192.0.2.11",
  udhcpc: "192.0.2.12",
  dhcpcd: "192.0.2.13",
  nak: "192.0.2.14",
} as const;
const LEASE_TIMEOUT_MS = 20_000;

/** What every client must have been told, apart from its address. */
function expectedLease(address: string): Omit<ReceivedLease, "reason"> {
  return {
    address,
    mask: "255.255.255.0",
    routers: ["192.0.2.1"],
    dns: ["192.0.2.53", "192.0.2.54"],
    domain: "vm.example",
    search: ["vm.example", "example"],
    ntp: NTP_ADDRESSES,
    leaseSeconds: LEASE_SECONDS,
  };
}

const skipReason = netnsSkipReason([...Object.values(CLIENT_BINARIES), "tcpdump"]);

describeWithCluster("agent end to end with real DHCP clients", (cluster) => {
  if (skipReason) {
    console.warn(`agent end to end: SKIPPED, ${skipReason}`);
    it.skip(`needs network namespaces and the clients (${skipReason})`, () => {});
    return;
  }
  endToEnd(cluster);
});

function endToEnd(cluster: TestClusterInfo): void {
  const admin: Kubectl = kubectlAs(cluster, "admin");
  let lab: Lab;
  let net: VmNetwork;
  let pool: TestPool;
  let agent: AgentProcess;
  let captures: { vm: Capture; pod: Capture };
  const running: Record<string, DhcpClient> = {};

  const client = (name: keyof typeof MACS) => net.clients[name]!;
  /** The first lease a client bound whose reason is in `reasons`, polled for. */
  const leaseOf = (c: DhcpClient, reasons: string[], after = 0) =>
    poll(`${c.kind} lease (${reasons.join("/")})`, LEASE_TIMEOUT_MS, async () =>
      (await c.leases()).slice(after).find((lease) => reasons.includes(lease.reason)),
    );

  beforeAll(async () => {
    lab = await Lab.create("vd-agent-e2e");
    const ns = await createNamespace(admin, "agent-e2e");
    pool = new TestPool(admin, ns, "vmnet");
    await pool.apply(CONFIG);
    await pool.allocate({
      [ADDRESSES.dhclient]: MACS.dhclient,
      [ADDRESSES.udhcpc]: MACS.udhcpc,
      [ADDRESSES.dhcpcd]: MACS.dhcpcd,
      [ADDRESSES.nak]: MACS.nak,
      "192.0.2.10": "RESERVED",
    });
    net = await buildVmNetwork(lab, {
      serverCidr: `${SERVER}/24`,
      clients: MACS,
      podNetwork: { server: "198.51.100.2", gateway: "198.51.100.1", prefix: 24 },
    });
    const dhcp = "udp port 67 or udp port 68";
    captures = {
      vm: await startCapture(lab, net.server, VM_NIC, dhcp),
      pod: await startCapture(lab, net.server, POD_NIC, dhcp),
    };
    agent = await AgentProcess.start({
      lab,
      cluster,
      ns: net.server,
      nic: VM_NIC,
      poolRef: pool.ref,
    });
    // Host names resolve in the background, after the agent is ready: wait for the answer.
    await poll("the NTP host name resolved", 10_000, async () => {
      const lease = (await agent.leases())[MACS.dhclient];
      return String(lease?.ntpServers) === String(NTP_ADDRESSES);
    });
  });

  afterAll(async () => {
    await agent?.close();
    await lab?.close({ keepDir: process.env.VM_DHCP_KEEP_LAB === "1" });
  });

  describe("serving real clients", () => {
    it("gives dhclient, udhcpc and dhcpcd their address and every configured option", async () => {
      for (const kind of ["dhclient", "udhcpc", "dhcpcd"] as const) {
        const host = client(kind);
        running[kind] = await startClient(lab, kind, { ...host, name: kind });
      }
      for (const kind of ["dhclient", "udhcpc", "dhcpcd"] as const) {
        const { reason: _reason, ...lease } = await leaseOf(running[kind]!, ["bound"]);
        expect(lease, kind).toEqual(expectedLease(ADDRESSES[kind]));
      }
    });

    it("renews: each client is acknowledged again at T1 with the same address", async () => {
      for (const kind of ["dhclient", "udhcpc", "dhcpcd"] as const) {
        const renewed = await leaseOf(running[kind]!, ["renew"]);
        expect(renewed.address, kind).toBe(ADDRESSES[kind]);
      }
    }, 40_000);

    it("records `dhclient -r` as a release", async () => {
      const before = await agent.metric("vmdhcpagent_client_notices_total", { kind: "release" });
      const host = client("dhclient");
      const result = await releaseDhclient(lab, running.dhclient!, host.ns, host.iface);
      expect(result.code, result.stderr).toBe(0);
      await poll(
        "the release metric",
        5_000,
        async () =>
          (await agent.metric("vmdhcpagent_client_notices_total", { kind: "release" })) > before,
      );
      expect(await agent.log()).toContain('"message":"client released its lease"');
    });

    it("NAKs a client asking for a wrong address, which then gets the right one", async () => {
      const host = client("nak");
      const naks = await agent.metric("vmdhcpagent_packets_sent_total", { type: "NAK" });
      const wrong = dhclientLeaseFile(host.iface, "192.0.2.99", SERVER);
      const nak = await startClient(lab, "dhclient", {
        ...host,
        name: "dhclient-nak",
        dhclientLeaseFile: wrong,
      });
      const lease = await leaseOf(nak, ["bound"]);
      expect(lease.address).toBe(ADDRESSES.nak);
      expect(await agent.metric("vmdhcpagent_packets_sent_total", { type: "NAK" })).toBe(naks + 1);
      await lab.stop(nak.proc);
    });

    it("answers by MAC, not by client identifier: a clone with another's identifier", async () => {
      // The "nak" host sends dhclient's identifier (type 1 + its MAC), as a cloned VM would.
      const clientId = `0x3d:01${MACS.dhclient.replaceAll(":", "")}`;
      const clone = await startClient(lab, "udhcpc", {
        ...client("nak"),
        name: "clone",
        once: true,
        extraArgs: ["-x", clientId],
      });
      expect((await leaseOf(clone, ["bound"])).address).toBe(ADDRESSES.nak);
    });

    it("acknowledges dhcpcd's INFORM with the options and no lease time", async () => {
      const inform = await startClient(lab, "dhcpcd", {
        ...client("nak"),
        name: "inform",
        once: true,
        extraArgs: ["-s", `${ADDRESSES.nak}/24`],
      });
      const { reason, ...lease } = await leaseOf(inform, ["inform"]);
      expect(lease).toEqual({ ...expectedLease(ADDRESSES.nak), leaseSeconds: Number.NaN });
    });

    it("does not answer a MAC the pool has not allocated", async () => {
      const dropped = () =>
        agent.metric("vmdhcpagent_requests_dropped_total", {
          reason: "unknown-client",
        });
      const before = await dropped();
      const unknown = await startClient(lab, "udhcpc", {
        ...client("late"),
        name: "unknown",
        once: true,
      });
      expect(await unknown.proc.exited).not.toBe(0);
      expect(await unknown.leases()).toEqual([]);
      expect(await dropped()).toBeGreaterThan(before);
      // Logged at debug level only: unknown MACs are the normal noise of a shared network.
      const entries = (await agent.log()).split("\n").flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
      expect(entries).toContainEqual(
        expect.objectContaining({
          level: "debug",
          message: "request not answered",
          mac: MACS.late,
          reason: "unknown-client",
        }),
      );
    });
  });

  describe("following the pool through the API, without a restart", () => {
    const once = async (name: string) => {
      const run = await startClient(lab, "udhcpc", { ...client("late"), name, once: true });
      await run.proc.exited;
      return (await run.leases())[0];
    };

    it("serves a lease added to status.ipv4.allocated", async () => {
      const pid = agent.proc.child.pid;
      await pool.allocate({ "192.0.2.15": MACS.late });
      await poll("the new lease in /leases", 10_000, async () => (await agent.leases())[MACS.late]);
      expect((await once("added"))?.address).toBe("192.0.2.15");
      expect(agent.proc.child.pid).toBe(pid);
    });

    it("serves a changed address and changed options", async () => {
      await pool.allocate({ "192.0.2.15": null, "192.0.2.16": MACS.late });
      await pool.patchConfig({ dns: ["192.0.2.55"] });
      await poll("the changed lease", 10_000, async () => {
        const lease = (await agent.leases())[MACS.late];
        return lease?.address === "192.0.2.16" && String(lease.dnsServers) === "192.0.2.55";
      });
      const lease = await once("changed");
      expect(lease?.address).toBe("192.0.2.16");
      expect(lease?.dns).toEqual(["192.0.2.55"]);
    });

    it("stops serving a removed lease", async () => {
      await pool.allocate({ "192.0.2.16": null });
      await poll("the lease gone", 10_000, async () => !(await agent.leases())[MACS.late]);
      expect(await once("removed")).toBeUndefined();
    });
  });

  describe("restarting the agent", () => {
    it("gives the same answers after a restart", async () => {
      const before = await agent.leases();
      const udhcpcLeases = (await running.udhcpc!.leases()).length;
      await agent.restart();
      expect(await agent.leases()).toEqual(before);
      // The running udhcpc renews with the new process and keeps its address.
      const renewed = await leaseOf(running.udhcpc!, ["renew"], udhcpcLeases);
      expect(renewed.address).toBe(ADDRESSES.udhcpc);
      const fresh = await startClient(lab, "dhcpcd", {
        ...client("nak"),
        name: "after-restart",
        once: true,
      });
      expect((await leaseOf(fresh, ["bound"])).address).toBe(ADDRESSES.nak);
    }, 40_000);
  });

  describe("behind a relay", () => {
    const why = which("perfdhcp") ? undefined : "needs perfdhcp (Debian kea-admin)";
    if (why) console.warn(`agent relay test: SKIPPED, ${why}`);
    it.skipIf(why !== undefined)(
      `answers a relay (giaddr) on port 67${why ? ` (${why})` : ""}`,
      async () => {
        // perfdhcp plays the relay: it sends from RELAY:67 with giaddr = RELAY, as a relay would.
        const host = client("relay");
        await lab.ip(host.ns, ["addr", "add", `${RELAY}/24`, "dev", host.iface]);
        const macs = join(lab.dir, "relay-macs");
        await writeFile(macs, `${MACS.dhcpcd}\n`);
        // Bounded: 5 exchanges at 5/s, then 1 s (-W, in us) for the last answers.
        const bounds = ["-n", "5", "-r", "5", "-W", "1000000"];
        const perf = ["perfdhcp", "-4", ...bounds, "-M", macs, "-l", RELAY, SERVER];
        const result = await lab.exec(host.ns, "timeout", ["10", ...perf]);
        const acks = /REQUEST-ACK\*+\nsent packets: \d+\nreceived packets: (\d+)/.exec(
          result.stdout,
        );
        expect(Number(acks?.[1]), result.stdout).toBe(5);
      },
    );
  });

  describe("with a default route on another interface", () => {
    it("does not serve when the server address is not on --nic", async () => {
      const options = { lab, cluster, ns: net.server, nic: POD_NIC, poolRef: pool.ref };
      const wrong = spawnAgent(options, "agent-wrong-nic", 8081);
      const log = () => readFile(wrong.logFile, "utf8");
      await poll("the misconfiguration in the log", 20_000, async () =>
        (await log()).includes("the server address is not on --nic; not serving DHCP"),
      );
      await lab.stop(wrong);
      expect(await log()).not.toContain('"message":"serving DHCP"');
    });

    it("sends every reply out of --nic, none out of the pod interface", async () => {
      await captures.vm.stop();
      await captures.pod.stop();
      const vm = await captures.vm.packets();
      expect(vm.filter((line) => line.includes(`${SERVER}.67 >`)).length).toBeGreaterThan(10);
      expect(await captures.pod.packets()).toEqual([]);
      if (which("perfdhcp")) expect(vm.some((line) => line.includes(`> ${RELAY}.67:`))).toBe(true);
      const decoded = await captures.vm.decoded();
      for (const type of ["Offer", "ACK", "NACK"])
        expect(decoded).toContain(`DHCP-Message (53), length 1: ${type}`);
    });
  });
}
