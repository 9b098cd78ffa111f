import { join } from "node:path";
import type { IdentityName } from "./identities.js";
import { type CommandResult, runCommand } from "./process.js";

/** What a test needs to reach the cluster: the kubeconfig of each identity and its directory. */
export interface ClusterAccess {
  readonly dir: string;
  readonly kubeconfigs: Readonly<Record<IdentityName, string>>;
}

/** Runs kubectl as one identity of the cluster. */
export type Kubectl = (args: readonly string[], stdin?: string) => Promise<CommandResult>;

/**
 * kubectl bound to one identity. Its discovery cache lives in the cluster's directory, so a
 * cache left by an earlier cluster on the same port can never hide freshly installed CRDs.
 */
export function kubectlAs(cluster: ClusterAccess, identity: IdentityName): Kubectl {
  const base = [
    `--kubeconfig=${cluster.kubeconfigs[identity]}`,
    `--cache-dir=${join(cluster.dir, "kubectl-cache", identity)}`,
  ];
  return (args, stdin) =>
    runCommand("kubectl", [...base, ...args], {
      stdin,
      timeoutMs: 60_000,
      env: { ...process.env, KUBECONFIG: cluster.kubeconfigs[identity] },
    });
}

/** Like `kubectlAs(...)(args)`, but throws with kubectl's stderr when it fails. */
export async function mustKubectl(
  kubectl: Kubectl,
  args: readonly string[],
  stdin?: string,
): Promise<string> {
  const result = await kubectl(args, stdin);
  if (result.code !== 0) {
    throw new Error(`kubectl ${args.join(" ")} failed (exit ${result.code}): ${result.stderr}`);
  }
  return result.stdout;
}
