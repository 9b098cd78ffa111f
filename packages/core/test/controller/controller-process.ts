/**
 * `vm-dhcp controller` as a child process, run from source under the controller identity's
 * kubeconfig, so a test can SIGKILL it in the middle of its work.
 */
import { join } from "node:path";
import { REPO_ROOT } from "../cluster/binaries.js";
import { freePort } from "../cluster/ports.js";
import { type LoggedProcess, spawnLogged, tailLog } from "../cluster/process.js";
import type { TestClusterInfo } from "../cluster/test-cluster.js";

const MAIN = join(REPO_ROOT, "packages", "cli", "src", "main.ts");

export interface ControllerProcess extends LoggedProcess {
  httpPort: number;
}

/** Starts a controller serving `ns` (also its own namespace), with `extra` flags. */
export async function spawnController(
  cluster: TestClusterInfo,
  ns: string,
  label: string,
  extra: readonly string[] = [],
): Promise<ControllerProcess> {
  const httpPort = await freePort();
  const args = [
    "--import",
    "tsx",
    MAIN,
    "controller",
    `--kubeconfig=${cluster.kubeconfigs.controller}`,
    `--namespace=${ns}`,
    `--watch-namespace=${ns}`,
    `--http-port=${httpPort}`,
    "--no-agent",
    "--debug",
    ...extra,
  ];
  const proc = spawnLogged(
    `controller ${label}`,
    process.execPath,
    args,
    logFile(cluster, ns, label),
  );
  return { ...proc, httpPort };
}

function logFile(cluster: TestClusterInfo, ns: string, label: string): string {
  return join(cluster.dir, `controller-${ns}-${label}.log`);
}

/** SIGKILL, and wait until the process is gone. */
export async function kill(proc: LoggedProcess): Promise<void> {
  if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill("SIGKILL");
  await proc.exited;
}

/** The end of a controller's log, for a failing assertion's message. */
export function logTail(proc: LoggedProcess): Promise<string> {
  return tailLog(proc.logFile, 40);
}
