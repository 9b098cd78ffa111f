/**
 * `vm-dhcp agent` as a real process inside a lab namespace, fed by the test API server.
 *
 * The namespace has its own loopback, so the agent's kubeconfig (https://127.0.0.1:<port>)
 * reaches a forwarder inside the namespace, which crosses to the host over a unix socket; the
 * host half connects to the real API server. The same in-namespace forwarder exposes the
 * agent's HTTP port (/readyz, /metrics, /leases) to the test as a unix socket. Cutting the
 * host half (see forwarder.ts) takes the API server away from this agent only; the outage
 * test stops a dedicated API server instead (see outage.test.ts).
 */
import { readFile } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { REPO_ROOT } from "../cluster/binaries.js";
import type { LoggedProcess } from "../cluster/process.js";
import { tailLog } from "../cluster/process.js";
import type { TestClusterInfo } from "../cluster/test-cluster.js";
import { type Forwarder, READY_LINE, startForwarder } from "../netns/forwarder.js";
import type { Lab } from "../netns/netns.js";
import { PollAbort, poll } from "../netns/poll.js";

/** tsx's loader by path: `--import tsx` would resolve from whatever the cwd is. */
const TSX = join(REPO_ROOT, "node_modules", "tsx", "dist", "loader.mjs");
const CLI_MAIN = join(REPO_ROOT, "packages", "cli", "src", "main.ts");
const FORWARD_MAIN = join(REPO_ROOT, "packages", "core", "test", "netns", "forward-main.ts");
/** Makes tsx resolve workspace packages to their sources, as vitest does. */
const TSCONFIG = join(REPO_ROOT, "tsconfig.check.json");
const AGENT_HTTP_PORT = 8080;
const START_TIMEOUT_MS = 30_000;

/** Where the agent runs and what it serves. */
export interface AgentProcessOptions {
  lab: Lab;
  cluster: TestClusterInfo;
  /** Server namespace; the pool's server address must be on `nic` there. */
  ns: string;
  nic: string;
  poolRef: string;
  /** Per-packet debug logs; on by default, off for benchmarks. */
  debug?: boolean;
  /** CPUs to pin the agent to (`taskset -c`), for benchmarks. */
  cpus?: string;
  /**
   * A bundled CLI (esbuild.config.mjs --outfile) to run instead of the sources under tsx, so
   * memory and start-up are those of the shipped image, not of a TypeScript loader.
   */
  bundle?: string;
  /** Extra flags for node itself, e.g. `--trace-gc` (not all are allowed in NODE_OPTIONS). */
  nodeFlags?: string[];
}

/** An HTTP answer from the agent. */
export interface AgentHttpResponse {
  status: number;
  body: string;
}

/** A running agent and the forwarders around it. */
export class AgentProcess {
  readonly #options: AgentProcessOptions;
  readonly #apiForwarder: Forwarder;
  readonly #httpSocket: string;
  #proc: LoggedProcess | undefined;
  #starts = 0;

  private constructor(options: AgentProcessOptions, apiForwarder: Forwarder) {
    this.#options = options;
    this.#apiForwarder = apiForwarder;
    this.#httpSocket = join(options.lab.dir, "agent-http.sock");
  }

  /** Starts the forwarders and the agent; resolves once `/readyz` says ready. */
  static async start(options: AgentProcessOptions): Promise<AgentProcess> {
    const apiPort = Number(new URL(options.cluster.server).port);
    const apiSocket = join(options.lab.dir, "api.sock");
    const host = await startForwarder({ path: apiSocket }, { host: "127.0.0.1", port: apiPort });
    const agent = new AgentProcess(options, host);
    const inner = options.lab.spawn(options.ns, "forwarder", process.execPath, [
      "--import",
      TSX,
      FORWARD_MAIN,
      `tcp:127.0.0.1:${apiPort}=unix:${apiSocket}`,
      `unix:${agent.#httpSocket}=tcp:127.0.0.1:${AGENT_HTTP_PORT}`,
    ]);
    await poll("the in-namespace forwarder", START_TIMEOUT_MS, async () =>
      (await tailLog(inner.logFile)).includes(READY_LINE),
    );
    await agent.restart();
    return agent;
  }

  /** The agent's process; a new one after each restart. */
  get proc(): LoggedProcess {
    if (!this.#proc) throw new Error("agent is not running");
    return this.#proc;
  }

  /** The host half of the API forwarder: `cut()` makes the API server unreachable. */
  get api(): Forwarder {
    return this.#apiForwarder;
  }

  /** Stops the agent if it runs, starts a new one and waits until it is ready. */
  async restart(): Promise<void> {
    if (this.#proc) await this.#options.lab.stop(this.#proc);
    this.#proc = spawnAgent(this.#options, `agent-${++this.#starts}`);
    await this.waitReady();
  }

  /** Polls `/readyz` until it answers 200. */
  async waitReady(timeoutMs = START_TIMEOUT_MS): Promise<void> {
    await poll("agent /readyz 200", timeoutMs, async () => {
      if (this.#proc && this.#proc.child.exitCode !== null) {
        throw new PollAbort(`agent exited:\n${await tailLog(this.#proc.logFile)}`);
      }
      return (await this.get("/readyz").catch(() => undefined))?.status === 200;
    });
  }

  /** GET on the agent's HTTP port, through the unix socket of the forwarder. */
  get(path: string): Promise<AgentHttpResponse> {
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: this.#httpSocket, path, timeout: 5_000 }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("timeout", () => req.destroy(new Error(`GET ${path} timed out`)));
      req.on("error", reject);
      req.end();
    });
  }

  /** `/leases`: MAC -> lease as the agent serves it now. */
  async leases(): Promise<Record<string, { address: string } & Record<string, unknown>>> {
    return JSON.parse((await this.get("/leases")).body);
  }

  /** The value of one sample of `/metrics` (0 when absent), e.g. `metric("x", {type: "ACK"})`. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    const text = (await this.get("/metrics")).body;
    const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
    for (const line of text.split("\n")) {
      if (!line.startsWith(name) || line.startsWith("#")) continue;
      const match = /^([a-z_]+)(\{([^}]*)\})? (\S+)$/.exec(line);
      if (!match || match[1] !== name) continue;
      const have = (match[3] ?? "").split(",");
      if (wanted.every((pair) => have.includes(pair))) return Number(match[4]);
    }
    return 0;
  }

  /** The whole log of the current agent process. */
  log(): Promise<string> {
    return readFile(this.proc.logFile, "utf8");
  }

  /** Stops the agent and the host forwarder (the lab stops the in-namespace one). */
  async close(): Promise<void> {
    if (this.#proc) await this.#options.lab.stop(this.#proc);
    await this.#apiForwarder.close();
  }
}

/**
 * Starts `vm-dhcp agent` in the namespace without waiting for it. The API forwarder of an
 * {@link AgentProcess} in the same namespace must be running; a second agent needs its own
 * `httpPort`.
 */
export function spawnAgent(
  options: AgentProcessOptions,
  name: string,
  httpPort = AGENT_HTTP_PORT,
): LoggedProcess {
  const { lab, ns, nic, poolRef, cluster, debug = true, cpus, bundle } = options;
  const pin = cpus ? ["taskset", "-c", cpus] : [];
  const fromSource = ["--import", TSX, CLI_MAIN];
  const [command, ...args] = [
    ...pin,
    "env",
    `TSX_TSCONFIG_PATH=${TSCONFIG}`,
    process.execPath,
    ...(options.nodeFlags ?? []),
    ...(bundle ? [bundle] : fromSource),
    "agent",
    `--ippool-ref=${poolRef}`,
    `--nic=${nic}`,
    `--kubeconfig=${cluster.kubeconfigs.agent}`,
    `--http-port=${httpPort}`,
    "--enable-cache-dump-api",
    ...(debug ? ["--debug"] : []),
  ];
  return lab.spawn(ns, name, command!, args);
}
