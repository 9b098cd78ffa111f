import { spawn } from "node:child_process";
import { access, constants } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Root of the repository, found from this file's place in it. */
export const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

/** Where build.sh leaves kube-apiserver and etcd (overridable for a shared cache). */
export const BIN_DIR =
  process.env.TEST_CLUSTER_CACHE !== undefined
    ? join(process.env.TEST_CLUSTER_CACHE, "bin")
    : join(REPO_ROOT, ".cache", "test-cluster", "bin");

/** Paths of the binaries the cluster runs. */
export interface ClusterBinaries {
  readonly etcd: string;
  readonly kubeApiserver: string;
  readonly kubectl: string;
}

/** Binaries found, or why the cluster cannot run here (tests then skip with this reason). */
export type BinariesResult =
  | { readonly ok: true; readonly binaries: ClusterBinaries }
  | { readonly ok: false; readonly reason: string };

async function onPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? "").split(":").filter(Boolean)) {
    const candidate = join(dir, name);
    const found = await access(candidate, constants.X_OK).then(
      () => true,
      () => false,
    );
    if (found) return candidate;
  }
  return undefined;
}

function runBuildScript(log: (line: string) => void): Promise<number> {
  const script = join(REPO_ROOT, "scripts", "test-cluster", "build.sh");
  return new Promise((resolve) => {
    // The Go build prints to stderr; pass it through so a long first build shows progress.
    const child = spawn("bash", [script], { stdio: ["ignore", "inherit", "inherit"] });
    child.once("error", (err) => {
      log(`test-cluster: cannot run ${script}: ${err.message}`);
      resolve(127);
    });
    child.once("exit", (code) => resolve(code ?? 1));
  });
}

/**
 * Makes sure the pinned kube-apiserver and etcd exist, building them on first use (many
 * minutes; later calls return at once), and that openssl and kubectl are installed.
 */
export async function ensureBinaries(
  log: (line: string) => void = console.log,
): Promise<BinariesResult> {
  if (process.platform !== "linux") {
    return {
      ok: false,
      reason: `the test cluster runs on Linux only (this is ${process.platform})`,
    };
  }
  for (const tool of ["openssl", "kubectl", "bash"]) {
    if (!(await onPath(tool))) return { ok: false, reason: `${tool} is not installed` };
  }

  const started = Date.now();
  const code = await runBuildScript(log);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (code !== 0) {
    const why = code === 2 ? "Go is not installed" : `exit ${code}, see its output above`;
    return { ok: false, reason: `scripts/test-cluster/build.sh failed (${why})` };
  }
  log(`test-cluster: binaries ready in ${seconds}s`);
  return {
    ok: true,
    binaries: {
      etcd: join(BIN_DIR, "etcd"),
      kubeApiserver: join(BIN_DIR, "kube-apiserver"),
      kubectl: (await onPath("kubectl")) ?? "kubectl",
    },
  };
}
