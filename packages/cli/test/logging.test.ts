import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, logFormat } from "../src/logging.js";

/** A logger of `flags` writing to memory, and the lines it wrote so far. */
function capture(flags: { debug: boolean; trace: boolean }, env: NodeJS.ProcessEnv) {
  const stream = new PassThrough();
  let text = "";
  stream.setEncoding("utf8").on("data", (chunk: string) => {
    text += chunk;
  });
  const logger = createLogger(flags, "agent", { stream, isTTY: true, env });
  return { logger, lines: () => text.split("\n").filter(Boolean) };
}

/** Lets the logger's stream deliver what was written. */
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe("logFormat", () => {
  it.each([
    { why: "a terminal", tty: true, env: {}, format: "text" },
    { why: "a pipe or file", tty: false, env: {}, format: "json" },
    {
      why: "a pod, even with a terminal attached",
      tty: true,
      env: { KUBERNETES_SERVICE_HOST: "10.53.0.1" },
      format: "json",
    },
    {
      why: "chosen json on a terminal",
      tty: true,
      env: { VM_DHCP_LOG_FORMAT: "json" },
      format: "json",
    },
    {
      why: "chosen text on a pipe",
      tty: false,
      env: { VM_DHCP_LOG_FORMAT: "text" },
      format: "text",
    },
  ])("is $format on $why", ({ tty, env, format }) => {
    expect(logFormat(tty, env)).toBe(format);
  });

  it("rejects an unknown choice, naming the variable", () => {
    expect(() => logFormat(true, { VM_DHCP_LOG_FORMAT: "yaml" })).toThrow(
      'VM_DHCP_LOG_FORMAT="yaml": use json or text',
    );
  });
});

describe("createLogger", () => {
  it.each([
    { flags: { debug: false, trace: false }, shown: ["info", "warn"] },
    { flags: { debug: true, trace: false }, shown: ["debug", "info", "warn"] },
    { flags: { debug: false, trace: true }, shown: ["trace", "debug", "info", "warn"] },
    { flags: { debug: true, trace: true }, shown: ["trace", "debug", "info", "warn"] },
  ])("shows $shown with $flags", async ({ flags, shown }) => {
    const { logger, lines } = capture(flags, { VM_DHCP_LOG_FORMAT: "json" });
    logger.silly("at trace");
    logger.debug("at debug");
    logger.info("at info");
    logger.warn("at warn");
    await flush();
    const levels = lines().map((line) => JSON.parse(line).level as string);
    expect(levels.map((level) => (level === "silly" ? "trace" : level))).toEqual(shown);
  });

  it("writes JSON with the role, the constant message and the fields apart", async () => {
    const { logger, lines } = capture(
      { debug: false, trace: false },
      { VM_DHCP_LOG_FORMAT: "json" },
    );
    logger.info("lease granted", { mac: "52:54:00:00:00:01", ip: "192.0.2.10", xid: 7 });
    await flush();
    expect(JSON.parse(lines()[0]!)).toEqual({
      level: "info",
      message: "lease granted",
      role: "agent",
      mac: "52:54:00:00:00:01",
      ip: "192.0.2.10",
      xid: 7,
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/),
    });
  });

  it("writes text as time, level, message and key=value, quoting values with spaces", async () => {
    const { logger, lines } = capture({ debug: false, trace: true }, {});
    logger.warn("pool unusable", { pool: "default/a", err: 'bad "cidr" value', count: 2 });
    logger.silly("packet");
    await flush();
    const [warn, trace] = lines();
    expect(warn).toMatch(
      /^\S+Z WARN {2}pool unusable pool=default\/a err="bad \\"cidr\\" value" count=2$/,
    );
    expect(trace).toMatch(/^\S+Z TRACE packet$/);
  });
});
