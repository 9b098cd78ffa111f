/**
 * The agent while the API server is unreachable for 60 s: clients keep getting their leases
 * (renewals and a newcomer), `/readyz` says the watch is down for as long as it is, and the
 * watch comes back by itself. The outage is made by cutting the host half of the agent's API
 * forwarder (see agent-process.ts): the agent loses every connection to the API server and
 * every new one is closed at once, while the API server itself keeps serving other test files.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { type Kubectl, kubectlAs } from "../cluster/kubectl.js";
import type { TestClusterInfo } from "../cluster/test-cluster.js";
import { createNamespace, describeWithCluster } from "../cluster/use-cluster.js";
import { type DhcpClient, startClient } from "../netns/clients.js";
import { Lab, netnsSkipReason } from "../netns/netns.js";
import { PollAbort, poll } from "../netns/poll.js";
import { AgentProcess } from "./agent-process.js";
import { buildVmNetwork, TestPool, VM_NIC, type VmNetwork } from "./vm-network.js";

const OUTAGE_MS = 60_000;
const SERVER = "203.0.113.2";
/** T1 = 10 s: the running client renews several times during the outage. */
const LEASE_SECONDS = 20;
const MACS = {
  renewer: "52:54:00:00:71:01",
  newcomer: "52:54:00:00:71:02",
} as const;
/** A MAC allocated after the outage, to show the watch is back. */
const LATER_MAC = "52:54:00:00:71:03";

const skipReason = netnsSkipReason(["udhcpc", "dhclient"]);

describeWithCluster("agent with the API server unreachable", (cluster) => {
  if (skipReason) {
    console.warn(`agent outage: SKIPPED, ${skipReason}`);
    it.skip(`needs network namespaces and the clients (${skipReason})`, () => {});
    return;
  }
  outage(cluster);
});

interface ReadyBody {
  ready: boolean;
  checks: { watch: string; leases: number };
}

function outage(cluster: TestClusterInfo): void {
  const admin: Kubectl = kubectlAs(cluster, "admin");
  let lab: Lab;
  let net: VmNetwork;
  let pool: TestPool;
  let agent: AgentProcess;
  let renewer: DhcpClient;

  const readyz = async () => {
    const response = await agent.get("/readyz");
    return { status: response.status, body: JSON.parse(response.body) as ReadyBody };
  };

  beforeAll(async () => {
    lab = await Lab.create("vd-agent-out");
    pool = new TestPool(admin, await createNamespace(admin, "agent-outage"), "vmnet");
    await pool.apply({
      cidr: "203.0.113.0/24",
      serverIP: SERVER,
      pool: { start: "203.0.113.10", end: "203.0.113.100" },
      router: "203.0.113.1",
      dns: ["203.0.113.53"],
      leaseTime: LEASE_SECONDS,
    });
    await pool.allocate({ "203.0.113.11": MACS.renewer, "203.0.113.12": MACS.newcomer });
    net = await buildVmNetwork(lab, { serverCidr: `${SERVER}/24`, clients: MACS });
    agent = await AgentProcess.start({
      lab,
      cluster,
      ns: net.server,
      nic: VM_NIC,
      poolRef: pool.ref,
    });
    renewer = await startClient(lab, "udhcpc", { ...net.clients.renewer!, name: "renewer" });
    await poll("the renewer's first lease", 20_000, async () => (await renewer.leases())[0]);
  });

  afterAll(async () => {
    agent?.api.restore();
    await agent?.close();
    await lab?.close({ keepDir: process.env.VM_DHCP_KEEP_LAB === "1" });
  });

  it("keeps serving for 60 s without the API server and says so on /readyz", async () => {
    const cutAt = Date.now();
    const leasesAtCut = (await renewer.leases()).length;
    agent.api.cut();
    await poll("/readyz to report the lost watch", 10_000, async () => {
      const { status, body } = await readyz();
      return status === 503 && body.checks.watch === "disconnected" && body.checks.leases === 2;
    });

    const newcomer = await startClient(lab, "dhclient", {
      ...net.clients.newcomer!,
      name: "newcomer",
      once: true,
    });
    const lease = await poll(
      "the newcomer's lease",
      20_000,
      async () => (await newcomer.leases())[0],
    );
    expect(lease.address).toBe("203.0.113.12");
    await lab.stop(newcomer.proc);

    // Until the outage ends, readiness must stay honest on every look.
    await poll("the end of the outage", OUTAGE_MS + 5_000, async () => {
      const { status } = await readyz();
      if (status !== 503) throw new PollAbort(`/readyz answered ${status} during the outage`);
      return Date.now() - cutAt >= OUTAGE_MS;
    });
    const renewals = (await renewer.leases()).slice(leasesAtCut);
    expect(renewals.length).toBeGreaterThanOrEqual(3);
    expect(renewals.every((lease) => lease.address === "203.0.113.11")).toBe(true);
    expect(await agent.log()).toContain("lost the API server; serving the last known leases");

    agent.api.restore();
    await agent.waitReady(20_000);
    await pool.allocate({ "203.0.113.13": LATER_MAC });
    await poll("a change after the outage", 10_000, async () => (await agent.leases())[LATER_MAC]);
  }, 120_000);
}
