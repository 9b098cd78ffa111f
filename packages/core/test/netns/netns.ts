/**
 * Network namespaces for tests on a real wire: a `Lab` creates namespaces and veth pairs, runs
 * commands and long-lived processes inside them, and removes everything it made in `close()`,
 * also after a failed test. Namespace names are `<prefix>-<pid>-<suffix>`: two runs of the same
 * test file at once (a developer's and the whole suite's) never touch each other's, and a lab
 * sweeps only what runs whose process has died left behind.
 *
 * @example
 * ```ts
 * const lab = await Lab.create("vd-myarea-dhcp"); // in beforeAll
 * const [srv, vm] = [await lab.namespace("srv"), await lab.namespace("vm")];
 * await lab.veth({ ns: srv, name: "s0", address: "192.0.2.1/24" }, { ns: vm, name: "eth0" });
 * const client = await startClient(lab, "udhcpc", { ns: vm, iface: "eth0", name: "vm" });
 * await poll("a lease", 20_000, async () => (await client.leases())[0]);
 * await lab.close(); // in afterAll: processes, namespaces and links go
 * ```
 */

import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type CommandResult,
  type LoggedProcess,
  runCommand,
  spawnLogged,
  stopProcess,
} from "../cluster/process.js";

/** Grace before a process that ignores SIGTERM is killed. */
const STOP_GRACE_MS = 3_000;
/** Linux limit on interface names (IFNAMSIZ minus the terminating zero). */
const MAX_IFNAME = 15;

/** Why namespace tests cannot run here (not root, no `ip`, a tool missing), or undefined. */
export function netnsSkipReason(tools: readonly string[] = []): string | undefined {
  if (process.getuid?.() !== 0) return "needs root for network namespaces";
  for (const tool of ["ip", ...tools]) {
    if (!which(tool)) return `needs ${tool} on PATH`;
  }
  return undefined;
}

/** The full path of a command, or undefined when it is not installed. */
export function which(command: string): string | undefined {
  const dirs = (process.env.PATH ?? "").split(":").concat(["/usr/sbin", "/sbin"]);
  return dirs.map((dir) => join(dir, command)).find((path) => existsSync(path));
}

/** Runs a command to completion with stdin closed; never rejects on a non-zero exit. */
export function run(
  command: string,
  args: readonly string[],
  timeoutMs = 30_000,
): Promise<CommandResult> {
  return runCommand(command, args, { timeoutMs });
}

/** Namespaces, links and processes of one test file; see the module comment. */
export class Lab {
  /** Prefix of every namespace name, e.g. `vd-agent-e2e-1f3k` (the test prefix and our pid). */
  readonly prefix: string;
  /** Scratch directory for logs, hook outputs and sockets; removed by `close()`. */
  readonly dir: string;
  readonly #namespaces: string[] = [];
  readonly #processes: LoggedProcess[] = [];

  private constructor(prefix: string, dir: string) {
    this.prefix = prefix;
    this.dir = dir;
  }

  /** Creates a lab after removing the namespaces dead runs with this prefix left. */
  static async create(prefix: string): Promise<Lab> {
    const own = `${prefix}-${process.pid.toString(36)}`;
    const lab = new Lab(own, await mkdtemp(join(tmpdir(), `${prefix}-`)));
    for (const name of await listNamespaces()) {
      const pid = new RegExp(`^${prefix}-([0-9a-z]+)-`).exec(name)?.[1];
      if (pid && !isAlive(Number.parseInt(pid, 36))) await deleteNamespace(name);
    }
    return lab;
  }

  /** Creates namespace `<prefix>-<suffix>` with its loopback up; returns its name. */
  async namespace(suffix: string): Promise<string> {
    const name = `${this.prefix}-${suffix}`;
    await must("ip", ["netns", "add", name]);
    this.#namespaces.push(name);
    await this.ip(name, ["link", "set", "lo", "up"]);
    return name;
  }

  /** Runs `ip <args>` inside namespace `ns`; throws with stderr on failure. */
  ip(ns: string, args: readonly string[]): Promise<string> {
    return must("ip", ["-n", ns, ...args]);
  }

  /**
   * Connects two namespaces with a veth pair, brings both ends up and optionally gives each an
   * address (`a.b.c.d/len`). `a.bridge` enslaves the first end to a bridge instead.
   */
  async veth(a: VethEnd, b: VethEnd): Promise<void> {
    for (const end of [a, b]) {
      if (end.name.length > MAX_IFNAME) throw new Error(`interface name too long: ${end.name}`);
    }
    // Both ends are created inside their namespaces: names may clash with host interfaces.
    const peer = ["peer", "name", b.name, "netns", b.ns];
    await must("ip", ["link", "add", a.name, "netns", a.ns, "type", "veth", ...peer]);
    for (const end of [a, b]) await this.#configure(end);
  }

  /** Creates a bridge in `ns`, up, with an optional address. */
  async bridge(ns: string, name: string, address?: string): Promise<void> {
    await this.ip(ns, ["link", "add", name, "type", "bridge", "forward_delay", "0"]);
    await this.#configure({ ns, name, ...(address ? { address } : {}) });
  }

  /** Runs a command to completion inside `ns`. */
  exec(ns: string, command: string, args: readonly string[], timeoutMs = 30_000) {
    return run("ip", ["netns", "exec", ns, command, ...args], timeoutMs);
  }

  /**
   * Starts a long-lived process inside `ns`, output to `<dir>/<name>.log`; `close()` stops it
   * if the test did not. `ip netns exec` execs the command, so the pid is the command's own.
   */
  spawn(ns: string, name: string, command: string, args: readonly string[]): LoggedProcess {
    const proc = spawnLogged(
      name,
      "ip",
      ["netns", "exec", ns, command, ...args],
      join(this.dir, `${name}.log`),
    );
    this.#processes.push(proc);
    return proc;
  }

  /** Stops a process started by `spawn`: SIGTERM, then SIGKILL. */
  async stop(proc: LoggedProcess): Promise<void> {
    await stopProcess(proc, STOP_GRACE_MS);
  }

  /** Stops every process and deletes every namespace (with their links); keeps `dir` if asked. */
  async close({ keepDir = false } = {}): Promise<void> {
    await Promise.all(this.#processes.map((proc) => stopProcess(proc, STOP_GRACE_MS)));
    for (const name of this.#namespaces.splice(0)) await deleteNamespace(name);
    if (!keepDir) await rm(this.dir, { recursive: true, force: true });
  }

  async #configure(end: VethEnd): Promise<void> {
    if (end.mac) await this.ip(end.ns, ["link", "set", end.name, "address", end.mac]);
    if (end.bridge) await this.ip(end.ns, ["link", "set", end.name, "master", end.bridge]);
    if (end.address) await this.ip(end.ns, ["addr", "add", end.address, "dev", end.name]);
    await this.ip(end.ns, ["link", "set", end.name, "up"]);
  }
}

/** One end of a veth pair. */
export interface VethEnd {
  ns: string;
  name: string;
  /** `a.b.c.d/len` */
  address?: string;
  mac?: string;
  /** A bridge in the same namespace to attach this end to. */
  bridge?: string;
}

async function must(command: string, args: readonly string[]): Promise<string> {
  const result = await run(command, args);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed (exit ${result.code}): ${result.stderr}`);
  }
  return result.stdout;
}

async function listNamespaces(): Promise<string[]> {
  const result = await run("ip", ["netns", "list"]);
  return result.stdout
    .split("\n")
    .map((line) => line.split(" ")[0] ?? "")
    .filter(Boolean);
}

/** Kills what still runs in a namespace, then deletes it (its veth ends go with it). */
async function deleteNamespace(name: string): Promise<void> {
  const pids = await run("ip", ["netns", "pids", name]);
  for (const pid of pids.stdout.split("\n").filter(Boolean)) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // Already gone: nothing to do.
    }
  }
  await run("ip", ["netns", "delete", name]);
}

/** Whether a process exists (signal 0 checks without sending anything). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
