/**
 * Runs the `vm-dhcp` CLI the way users do: a Node process on the bundle that ships in the
 * image (built here from the sources by esbuild.config.mjs, in about a second, so it is never
 * stale), stdin closed, output captured. The environment is the test's own minus every
 * variable the CLI reads, so a developer's KUBECONFIG or AGENT_IMAGE cannot change the
 * outcome. `sourceCommand` runs packages/cli/src/main.ts with tsx instead.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const TSX = `${REPO_ROOT}node_modules/tsx/dist/loader.mjs`;
const MAIN = `${REPO_ROOT}packages/cli/src/main.ts`;
const TSCONFIG = `${REPO_ROOT}tsconfig.check.json`;
const ESBUILD_CONFIG = `${REPO_ROOT}esbuild.config.mjs`;
const RUN_TIMEOUT_MS = 20_000;

let bundle: Promise<string> | undefined;

/** Builds the bundle once per test file, into a temporary directory; resolves to its path. */
export function cliBundle(): Promise<string> {
  bundle ??= (async () => {
    const outfile = join(await mkdtemp(join(tmpdir(), "vm-dhcp-pkg-bundle-")), "vm-dhcp.mjs");
    await promisify(execFile)(process.execPath, [
      ESBUILD_CONFIG,
      `--outfile=${outfile}`,
      "--quiet",
    ]);
    return outfile;
  })();
  return bundle;
}

/** Removes the bundle built by {@link cliBundle}, if any; call it in `afterAll`. */
export async function removeCliBundle(): Promise<void> {
  if (!bundle) return;
  const outfile = await bundle.catch(() => undefined);
  bundle = undefined;
  if (outfile) await rm(dirname(outfile), { recursive: true, force: true });
}

/** Variables the CLI reads as fallbacks; none may leak in from the test's environment. */
const CLI_VARIABLES = [
  "KUBECONFIG",
  "KUBERNETES_SERVICE_HOST",
  "IPPOOL_REF",
  "AGENT_NAME",
  "AGENT_NAMESPACE",
  "AGENT_IMAGE",
  "AGENT_INIT_IMAGE",
  "AGENT_SERVICE_ACCOUNT_NAME",
  "AGENT_IMAGE_PULL_SECRETS",
  "AGENT_RESOURCES",
  "AGENT_TOLERATIONS",
  "AGENT_NODE_SELECTOR",
  "AGENT_PRIORITY_CLASS_NAME",
  "POD_NAME",
  "WEBHOOK_NAME",
  "WEBHOOK_NAMESPACE",
  "VM_DHCP_LOG_FORMAT",
  "VM_DHCP_VERSION",
];

/** What a finished CLI process left. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The test environment without the CLI's variables, plus `env`. */
export function cliEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env, TSX_TSCONFIG_PATH: TSCONFIG };
  for (const name of CLI_VARIABLES) delete base[name];
  for (const name of Object.keys(base)) if (name.startsWith("VM_DHCP_")) delete base[name];
  return { ...base, ...env };
}

/** The argv that starts the bundled CLI, for spawn. */
export async function cliCommand(args: readonly string[]): Promise<[string, string[]]> {
  return [process.execPath, [await cliBundle(), ...args]];
}

/** The argv that starts the CLI from its TypeScript sources with tsx, for spawn. */
export function sourceCommand(args: readonly string[]): [string, string[]] {
  return [process.execPath, ["--import", TSX, MAIN, ...args]];
}

/** Runs the CLI (the bundle, or `command` when given) to completion; killed after 20 s. */
export async function runCli(
  args: readonly string[],
  env: Record<string, string> = {},
  command?: [string, string[]],
): Promise<CliResult> {
  const [file, argv] = command ?? (await cliCommand(args));
  return new Promise<CliResult>((resolve, reject) => {
    const child = spawn(file, argv, {
      env: cliEnv(env),
      stdio: ["ignore", "pipe", "pipe"],
      timeout: RUN_TIMEOUT_MS,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}
