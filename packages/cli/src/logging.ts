import type { Logger } from "@vm-dhcp/core";
import winston from "winston";

export interface LoggingFlags {
  debug: boolean;
  trace: boolean;
}

/**
 * The process logger: JSON lines in a cluster (or whenever stderr is not a terminal), so log
 * pipelines can parse them; readable `time level message key=value` text on a terminal.
 * `--trace` is winston's `silly` level, below `debug`.
 */
export function createLogger(flags: LoggingFlags, role: string): Logger {
  const level = flags.trace ? "silly" : flags.debug ? "debug" : "info";
  const human = process.stderr.isTTY && !process.env.KUBERNETES_SERVICE_HOST;
  const format = human
    ? winston.format.combine(winston.format.timestamp(), winston.format.printf(textLine))
    : winston.format.combine(winston.format.timestamp(), winston.format.json());
  return winston.createLogger({
    level,
    defaultMeta: { role },
    format,
    // All levels to stderr: stdout stays free for command output such as `decode`.
    transports: [
      new winston.transports.Console({ stderrLevels: Object.keys(winston.config.npm.levels) }),
    ],
  });
}

function textLine(info: winston.Logform.TransformableInfo): string {
  const { timestamp, level, message, role: _role, ...fields } = info;
  const pairs = Object.entries(fields)
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(" ");
  return `${String(timestamp)} ${level.toUpperCase().padEnd(5)} ${String(message)}${pairs ? ` ${pairs}` : ""}`;
}
