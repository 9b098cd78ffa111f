/**
 * Vitest global setup: one test cluster for the whole run, shared by every integration test
 * file through `inject("testCluster")` (see use-cluster.ts). Set VM_DHCP_TEST_CLUSTER=off to
 * run without it; integration suites then skip and say why.
 */
import type { TestProject } from "vitest/node";
import { ensureBinaries } from "./binaries.js";
import { TEST_CLUSTER_KEY, type TestClusterState } from "./state.js";
import { startTestCluster, type TestCluster, type TestClusterInfo } from "./test-cluster.js";

let cluster: TestCluster | undefined;

async function start(): Promise<TestClusterState> {
  if (process.env.VM_DHCP_TEST_CLUSTER === "off") {
    return { status: "skipped", reason: "disabled by VM_DHCP_TEST_CLUSTER=off" };
  }
  const found = await ensureBinaries();
  if (!found.ok) {
    // A developer's laptop may lack Go or kubectl; CI never may: there a missing cluster
    // would turn every integration suite into a silent skip.
    if (process.env.CI === "true") {
      return { status: "failed", error: `CI needs the test cluster: ${found.reason}` };
    }
    return { status: "skipped", reason: found.reason };
  }
  try {
    cluster = await startTestCluster({
      binaries: found.binaries,
      keepDir: process.env.VM_DHCP_TEST_CLUSTER_KEEP === "1",
    });
    return { status: "ready", info: infoOf(cluster) };
  } catch (err) {
    return { status: "failed", error: (err as Error).message };
  }
}

/** The plain data of a cluster, without its methods: what can cross to test workers. */
function infoOf({ dir, server, caFile, kubeconfigs, tokens }: TestCluster): TestClusterInfo {
  return { dir, server, caFile, kubeconfigs, tokens };
}

export async function setup(project: TestProject): Promise<void> {
  const state = await start();
  if (state.status === "skipped") {
    console.warn(`test-cluster: integration tests will be SKIPPED: ${state.reason}`);
  } else if (state.status === "failed") {
    console.error(
      `test-cluster: the test cluster did not start; integration tests will fail:\n${state.error}`,
    );
  }
  project.provide(TEST_CLUSTER_KEY, state);
}

export async function teardown(): Promise<void> {
  const since = Date.now();
  await cluster?.stop();
  if (cluster) console.log(`test-cluster: stopped in ${((Date.now() - since) / 1000).toFixed(1)}s`);
  cluster = undefined;
}
