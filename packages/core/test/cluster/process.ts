import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";

/** A child process whose output goes to a log file, kept for error reports. */
export interface LoggedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** Resolves with the exit code (or the signal name) once the process has ended. */
  readonly exited: Promise<number | string>;
}

/** Starts `command` with stdout and stderr appended to `logFile`. */
export function spawnLogged(
  name: string,
  command: string,
  args: readonly string[],
  logFile: string,
): LoggedProcess {
  const log = createWriteStream(logFile, { flags: "a" });
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<number | string>((resolve) => {
    child.once("error", (err) => {
      log.end(`\n[spawn error] ${err.message}\n`);
      resolve(`spawn error: ${err.message}`);
    });
    child.once("exit", (code, signal) => {
      // Let the pipes drain before closing the log.
      setImmediate(() => log.end());
      resolve(code ?? signal ?? "unknown");
    });
  });
  return { name, child, logFile, exited };
}

/**
 * Stops a process: SIGTERM, then SIGKILL once `graceMs` has passed. Resolves when it has
 * exited, with true when it stopped within the grace period.
 */
export async function stopProcess(proc: LoggedProcess, graceMs: number): Promise<boolean> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return true;
  proc.child.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), graceMs);
  });
  const graceful = await Promise.race([proc.exited.then(() => true as const), timedOut]);
  clearTimeout(timer);
  if (!graceful) {
    proc.child.kill("SIGKILL");
    await proc.exited;
  }
  return graceful;
}

/** The last `lines` lines of a log file, for error messages. */
export async function tailLog(logFile: string, lines = 30): Promise<string> {
  const text = await readFile(logFile, "utf8").catch(() => "");
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/** Result of a finished command. */
export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command to completion, feeding `stdin` when given (stdin is closed otherwise); never
 * rejects on a non-zero exit.
 */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { stdin?: string; env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: [options.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
      env: options.env ?? process.env,
      cwd: options.cwd,
      timeout: options.timeoutMs,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr!.on("data", (chunk: Buffer) => err.push(chunk));
    child.once("error", reject);
    child.once("close", (code, signal) => {
      const stderr = Buffer.concat(err).toString("utf8");
      resolve({
        code: code ?? 128,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: signal ? `${stderr}\n[killed by ${signal}]` : stderr,
      });
    });
    // A command that exits without reading stdin closes the pipe first (EPIPE); its exit
    // code says what happened, so the write error is not worth crashing the run for.
    child.stdin?.once("error", () => {});
    child.stdin?.end(options.stdin);
  });
}
