/**
 * Runs `vm-dhcp webhook` from source as a child process, the way a pod runs it: its own
 * kubeconfig (the webhook identity, so real RBAC applies), its own ports on 127.0.0.1, and
 * the probes on the HTTP port to know when it is up.
 */
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { connect } from "node:tls";
import { REPO_ROOT } from "../cluster/binaries.js";
import {
  type CommandResult,
  type LoggedProcess,
  runCommand,
  stopProcess,
  tailLog,
} from "../cluster/process.js";

const CLI = join(REPO_ROOT, "packages", "cli", "src", "main.ts");
/**
 * Its `paths` map the workspace packages to their TypeScript sources. Without it the CLI
 * would import `@vm-dhcp/core` from its last build (`dist`), and test a stale webhook.
 */
const SOURCE_TSCONFIG = join(REPO_ROOT, "tsconfig.check.json");
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;
const POLL_MS = 100;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A running webhook process. */
export interface WebhookProcess {
  readonly proc: LoggedProcess;
  readonly httpsPort: number;
  readonly httpPort: number;
  /** The body of the last `/readyz` answer: the readiness checks, `tls` among them. */
  readonly readiness: { ready: boolean; checks: Record<string, unknown> };
  stop(): Promise<void>;
}

/** How to start one webhook process. */
export interface WebhookProcessOptions {
  readonly kubeconfig: string;
  readonly httpsPort: number;
  readonly httpPort: number;
  /** Further `vm-dhcp webhook` flags. */
  readonly args: readonly string[];
  readonly logFile: string;
}

function cliArgs(options: Omit<WebhookProcessOptions, "logFile">): string[] {
  return [
    "--import",
    "tsx",
    CLI,
    "webhook",
    `--kubeconfig=${options.kubeconfig}`,
    "--bind-address=127.0.0.1",
    `--https-port=${options.httpsPort}`,
    `--http-port=${options.httpPort}`,
    ...options.args,
  ];
}

function startLogged(options: WebhookProcessOptions): LoggedProcess {
  const log = createWriteStream(options.logFile, { flags: "a" });
  const child = spawn(process.execPath, cliArgs(options), {
    cwd: REPO_ROOT,
    env: { ...process.env, TSX_TSCONFIG_PATH: SOURCE_TSCONFIG },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<number | string>((resolve) => {
    child.once("error", (err) => resolve(`spawn error: ${err.message}`));
    child.once("exit", (code, signal) => {
      setImmediate(() => log.end());
      resolve(code ?? signal ?? "unknown");
    });
  });
  return { name: "vm-dhcp webhook", child, logFile: options.logFile, exited };
}

/** GET http://127.0.0.1:`port``path`: status and body. */
export function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, timeout: 2_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.once("timeout", () => req.destroy(new Error("timeout")));
    req.once("error", reject);
    req.end();
  });
}

/** Starts the webhook and resolves once `/readyz` answers 200 (it has registered itself). */
export async function startWebhookProcess(options: WebhookProcessOptions): Promise<WebhookProcess> {
  const proc = startLogged(options);
  let exited: number | string | undefined;
  void proc.exited.then((code) => {
    exited = code;
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited !== undefined) {
      throw new Error(
        `the webhook exited (${exited}) before ready:\n${await tailLog(proc.logFile)}`,
      );
    }
    const answer = await httpGet(options.httpPort, "/readyz").catch(() => undefined);
    if (answer?.status === 200) {
      return {
        proc,
        httpsPort: options.httpsPort,
        httpPort: options.httpPort,
        readiness: JSON.parse(answer.body),
        stop: async () => {
          await stopProcess(proc, STOP_GRACE_MS);
        },
      };
    }
    await sleep(POLL_MS);
  }
  await stopProcess(proc, STOP_GRACE_MS);
  throw new Error(
    `the webhook was not ready in ${READY_TIMEOUT_MS} ms:\n${await tailLog(proc.logFile)}`,
  );
}

/** Runs the webhook until it exits by itself (within `timeoutMs`), for start failures. */
export function runWebhookToExit(
  options: Omit<WebhookProcessOptions, "logFile">,
  timeoutMs = READY_TIMEOUT_MS,
): Promise<CommandResult> {
  return runCommand(process.execPath, cliArgs(options), {
    cwd: REPO_ROOT,
    env: { ...process.env, TSX_TSCONFIG_PATH: SOURCE_TSCONFIG },
    timeoutMs,
  });
}

/** The certificate served on 127.0.0.1:`port`, as DER, read without trusting it. */
export function servedCertificate(port: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      const der = socket.getPeerCertificate().raw;
      socket.end();
      resolve(der);
    });
    socket.once("error", reject);
  });
}
