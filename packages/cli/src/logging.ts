import type { Writable } from "node:stream";
import type { Logger } from "@vm-dhcp/core";
import winston from "winston";

/** The log-level flags every role has (`--debug`, `--trace`). */
export interface LoggingFlags {
  debug: boolean;
  trace: boolean;
}

/** `json`: one JSON object a line; `text`: `time LEVEL message key=value ...`. */
export type LogFormat = "json" | "text";

/** Where the process logger writes, and what decides its format; the process by default. */
export interface LogOutput {
  /** Defaults to stderr, so stdout stays free for command output such as `decode`. */
  stream?: Writable;
  isTTY?: boolean;
  env?: NodeJS.ProcessEnv;
}

/**
 * The format of the process logs: `VM_DHCP_LOG_FORMAT` (json or text) when set; else JSON
 * in a cluster (`KUBERNETES_SERVICE_HOST` is set) or whenever the output is not a terminal,
 * so log pipelines can parse every line; readable text on a terminal.
 */
export function logFormat(isTTY: boolean, env: NodeJS.ProcessEnv): LogFormat {
  const chosen = env.VM_DHCP_LOG_FORMAT;
  if (chosen === "json" || chosen === "text") return chosen;
  if (chosen) throw new Error(`VM_DHCP_LOG_FORMAT=${JSON.stringify(chosen)}: use json or text`);
  return isTTY && !env.KUBERNETES_SERVICE_HOST ? "text" : "json";
}

/**
 * The process logger of one role, at `info`, or `debug` with `--debug`, or winston's `silly`
 * (below debug) with `--trace`. Every line carries the role.
 */
export function createLogger(
  flags: LoggingFlags,
  role: string,
  output: LogOutput = {},
): Logger & Pick<winston.Logger, "silly"> {
  const level = flags.trace ? "silly" : flags.debug ? "debug" : "info";
  const isTTY = output.isTTY ?? Boolean(process.stderr.isTTY);
  const format = logFormat(isTTY, output.env ?? process.env);
  const shape =
    format === "text"
      ? winston.format.combine(winston.format.timestamp(), winston.format.printf(textLine))
      : winston.format.combine(winston.format.timestamp(), winston.format.json());
  const transport = output.stream
    ? new winston.transports.Stream({ stream: output.stream })
    : new winston.transports.Console({ stderrLevels: Object.keys(winston.config.npm.levels) });
  return winston.createLogger({
    level,
    defaultMeta: { role },
    format: shape,
    transports: [transport],
  });
}

/** Level names as operators know them: winston's `silly` is our `--trace`. */
const LEVEL_LABELS: Record<string, string> = { silly: "TRACE", verbose: "VERB" };

function textLine(info: winston.Logform.TransformableInfo): string {
  const { timestamp, level, message, role: _role, ...fields } = info;
  const label = (LEVEL_LABELS[level] ?? level.toUpperCase()).padEnd(5);
  const pairs = Object.entries(fields)
    .map(([key, value]) => `${key}=${fieldText(value)}`)
    .join(" ");
  const head = `${String(timestamp)} ${label} ${String(message)}`;
  return pairs ? `${head} ${pairs}` : head;
}

/** A field value as one token: plain words bare, anything with spaces or quotes as JSON. */
function fieldText(value: unknown): string {
  if (typeof value === "string" && /^[^\s"=]*$/.test(value) && value !== "") return value;
  return JSON.stringify(value) ?? String(value);
}
