/**
 * Starts a test cluster by hand and keeps it until Ctrl-C:
 *   scripts/test-cluster/run.sh      (or: pnpm exec tsx packages/core/test/cluster/cli.ts)
 * Prints the kubeconfig of each identity. VM_DHCP_TEST_CLUSTER_KEEP=1 keeps the directory.
 */
import { ensureBinaries } from "./binaries.js";
import { IDENTITIES, IDENTITY_NAMES } from "./identities.js";
import { startTestCluster } from "./test-cluster.js";

async function main(): Promise<number> {
  const found = await ensureBinaries();
  if (!found.ok) {
    console.error(`test-cluster: cannot run here: ${found.reason}`);
    return 2;
  }
  const cluster = await startTestCluster({
    binaries: found.binaries,
    keepDir: process.env.VM_DHCP_TEST_CLUSTER_KEEP === "1",
  });
  console.log(`\nAPI server: ${cluster.server}\nDirectory:  ${cluster.dir}\nKubeconfigs:`);
  for (const name of IDENTITY_NAMES) {
    console.log(`  ${name.padEnd(10)} ${cluster.kubeconfigs[name]}  (${IDENTITIES[name].user})`);
  }
  console.log(`\nexport KUBECONFIG=${cluster.kubeconfigs.admin}\nPress Ctrl-C to stop.`);

  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  const since = Date.now();
  await cluster.stop();
  console.log(`\ntest-cluster: stopped in ${((Date.now() - since) / 1000).toFixed(1)}s`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
