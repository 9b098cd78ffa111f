/**
 * The demo's local Kubernetes API server: the test harness's kube-apiserver and etcd on
 * 127.0.0.1 (binaries from scripts/test-cluster/build.sh), with the CRDs, the Multus and
 * KubeVirt fixture CRDs and the vm-dhcp identities' RBAC installed.
 *
 *   node --import tsx scripts/demo/cluster.ts <info.json>
 *
 * Writes the server address and a kubeconfig per identity (admin, controller, agent, webhook)
 * to <info.json> once ready, and runs until SIGTERM or SIGINT, then stops both servers and
 * removes their data.
 */
import { writeFile } from "node:fs/promises";
import { ensureBinaries } from "../../packages/core/test/cluster/binaries.js";
import { startTestCluster } from "../../packages/core/test/cluster/test-cluster.js";

const out = process.argv[2];
if (!out) throw new Error("usage: cluster.ts <info.json>");
const log = (line: string) => process.stderr.write(`${line}\n`);

const found = await ensureBinaries(log);
if (!found.ok) {
  log(`demo: cannot start the API server: ${found.reason}`);
  process.exit(2);
}
const cluster = await startTestCluster({ binaries: found.binaries, log });
const { server, caFile, kubeconfigs, dir } = cluster;
await writeFile(out, `${JSON.stringify({ server, caFile, kubeconfigs, dir }, null, 2)}\n`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  cluster.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      log(`demo: stopping the API server failed: ${String(error)}`);
      process.exit(1);
    },
  );
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
// Keeps the event loop alive until a signal arrives.
setInterval(() => {}, 60_000);
