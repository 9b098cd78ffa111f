/**
 * The agent while the API server is down for 60 s: clients keep getting their leases
 * (renewals and a newcomer), `/readyz` says the watch is down on every look, and once the API
 * server is started again the watch comes back by itself and a pool change reaches the agent.
 * The kube-apiserver process is really killed (SIGKILL, as in a crash; etcd keeps running)
 * and later started on the same port, so this file runs a test cluster of its own (about 5 s
 * to start) rather than the shared one that other files use in parallel. The agent reaches
 * the API server through the forwarder of agent-process.ts, which passes the refused
 * connections on as closed ones.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { type ClusterBinaries, ensureBinaries } from "../cluster/binaries.js";
import { type Kubectl, kubectlAs } from "../cluster/kubectl.js";
import { startTestCluster, type TestCluster } from "../cluster/test-cluster.js";
import { createNamespace, describeWithCluster, testClusterState } from "../cluster/use-cluster.js";
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
/** Binaries for this file's own cluster, looked for only where the suite would run. */
const found =
  skipReason || testClusterState().status !== "ready" ? undefined : await ensureBinaries();

describeWithCluster("agent with the API server stopped", () => {
  if (skipReason) {
    console.warn(`agent outage: SKIPPED, ${skipReason}`);
    it.skip(`needs network namespaces and the clients (${skipReason})`, () => {});
    return;
  }
  if (found?.ok) {
    outage(found.binaries);
    return;
  }
  const reason = found?.reason ?? "no binaries";
  // As in global-setup.ts: a laptop may lack them, CI never may.
  if (process.env.CI === "true") {
    it("starts its own test cluster", () => {
      throw new Error(`CI needs the test cluster: ${reason}`);
    });
    return;
  }
  console.warn(`agent outage: SKIPPED, ${reason}`);
  it.skip(`needs its own test cluster (${reason})`, () => {});
});

interface ReadyBody {
  ready: boolean;
  checks: { watch: string; leases: number };
}

function outage(binaries: ClusterBinaries): void {
  let cluster: TestCluster;
  let lab: Lab;
  let net: VmNetwork;
  let pool: TestPool;
  let agent: AgentProcess;
  let renewer: DhcpClient;

  const readyz = async () => {
    const response = await agent.get("/readyz");
    return { status: response.status, body: JSON.parse(response.body) as ReadyBody };
  };
  const watchDown = ({ status, body }: { status: number; body: ReadyBody }) =>
    status === 503 && body.checks.watch === "disconnected" && body.checks.leases === 2;

  beforeAll(async () => {
    const keepDir = process.env.VM_DHCP_TEST_CLUSTER_KEEP === "1";
    cluster = await startTestCluster({ binaries, keepDir });
    const admin: Kubectl = kubectlAs(cluster, "admin");
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
    await agent?.close();
    await lab?.close({ keepDir: process.env.VM_DHCP_KEEP_LAB === "1" });
    await cluster?.stop();
  });

  it("keeps serving for 60 s with the API server stopped and says so on /readyz", async () => {
    const leasesAtStop = (await renewer.leases()).length;
    // Killed rather than stopped: a graceful stop keeps serving the agent's open watch for
    // 10 s before the harness kills it anyway.
    await cluster.stopApiServer({ signal: "SIGKILL" });
    const stoppedAt = Date.now();
    await poll("/readyz to report the lost watch", 10_000, async () => watchDown(await readyz()));

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

    // Until the API server is back, readiness must stay honest on every look.
    await poll("the end of the outage", OUTAGE_MS + 5_000, async () => {
      const answer = await readyz();
      if (!watchDown(answer)) {
        const seen = `${answer.status} ${JSON.stringify(answer.body.checks)}`;
        throw new PollAbort(`/readyz answered ${seen} during the outage`);
      }
      return Date.now() - stoppedAt >= OUTAGE_MS;
    });
    const renewals = (await renewer.leases()).slice(leasesAtStop);
    expect(renewals.length).toBeGreaterThanOrEqual(3);
    expect(renewals.every((lease) => lease.address === "203.0.113.11")).toBe(true);
    expect(await agent.log()).toContain("cannot watch the pool; serving the last known leases");

    await cluster.startApiServer();
    await agent.waitReady(20_000);
    await pool.allocate({ "203.0.113.13": LATER_MAC });
    await poll("a change after the outage", 10_000, async () => (await agent.leases())[LATER_MAC]);
  }, 120_000);
}
