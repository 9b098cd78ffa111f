/**
 * The `vm-dhcp` binary as a process: help and version, `--role=<role>` as the command, bad
 * values rejected with exit code 2 and one line naming the flag, and the log format on a
 * pipe. Each case starts a Node process, so they run concurrently.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cliBundle,
  cliCommand,
  cliEnv,
  removeCliBundle,
  runCli,
  sourceCommand,
} from "./run-cli.js";

let dir = "";
let kubeconfig = "";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vm-dhcp-pkg-cli-"));
  kubeconfig = join(dir, "kubeconfig.json");
  // Port 9 on loopback: nothing listens, so the roles start and then retry quietly.
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "none", cluster: { server: "https://127.0.0.1:9" } }],
    users: [{ name: "none", user: { token: "none" } }],
    contexts: [{ name: "none", context: { cluster: "none", user: "none" } }],
    "current-context": "none",
  };
  await writeFile(kubeconfig, JSON.stringify(config));
  await cliBundle();
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  await removeCliBundle();
});

describe.concurrent("vm-dhcp", () => {
  it("prints its version, bundled and from source", async () => {
    const bundled = await runCli(["--version"]);
    expect(bundled).toEqual({ code: 0, stdout: "0.1.0\n", stderr: "" });
    const fromSource = await runCli([], {}, sourceCommand(["--version"]));
    expect(fromSource).toEqual(bundled);
  });

  it("runs a role from source as from the bundle", async () => {
    const args = ["--role=agent", "--ippool-ref=net-a"];
    const fromSource = await runCli([], {}, sourceCommand(args));
    expect(fromSource).toEqual(await runCli(args));
    expect(fromSource.code).toBe(2);
  });

  it("lists the three roles and the --role form in --help", async () => {
    const result = await runCli(["--help"]);
    expect(result.code).toBe(0);
    for (const role of ["agent", "controller", "webhook"]) {
      expect(result.stdout).toMatch(new RegExp(`^ {2}vm-dhcp ${role} `, "m"));
    }
    expect(result.stdout).toContain("vm-dhcp --role=<controller|agent|webhook> [options]");
  });

  it.each([
    { role: "controller", flag: "--service-account-name" },
    { role: "agent", flag: "--ippool-ref" },
    { role: "webhook", flag: "--https-port" },
  ])("shows the same $role help with --role=$role", async ({ role, flag }) => {
    const [byCommand, byRole] = await Promise.all([
      runCli([role, "--help"]),
      runCli([`--role=${role}`, "--help"]),
    ]);
    expect(byCommand.code).toBe(0);
    expect(byCommand.stdout).toContain(flag);
    expect(byRole).toEqual(byCommand);
  });
});

/** Every flag of SPEC sections 3 to 5, with its environment fallback where the SPEC names one. */
const SPEC_FLAGS: { role: string; flag: string; env?: string }[] = [
  { role: "controller", flag: "--name" },
  { role: "controller", flag: "--namespace", env: "AGENT_NAMESPACE" },
  { role: "controller", flag: "--image", env: "AGENT_IMAGE" },
  { role: "controller", flag: "--service-account-name", env: "AGENT_SERVICE_ACCOUNT_NAME" },
  // The agent pods' placement, which the chart sets from its values.
  { role: "controller", flag: "--agent-image-pull-secrets", env: "AGENT_IMAGE_PULL_SECRETS" },
  { role: "controller", flag: "--agent-resources", env: "AGENT_RESOURCES" },
  { role: "controller", flag: "--agent-tolerations", env: "AGENT_TOLERATIONS" },
  { role: "controller", flag: "--agent-node-selector", env: "AGENT_NODE_SELECTOR" },
  { role: "controller", flag: "--agent-priority-class-name", env: "AGENT_PRIORITY_CLASS_NAME" },
  { role: "controller", flag: "--no-agent" },
  { role: "controller", flag: "--no-dhcp" },
  { role: "controller", flag: "--no-leader-election" },
  { role: "controller", flag: "--enable-cache-dump-api" },
  { role: "controller", flag: "--debug", env: "VM_DHCP_CONTROLLER_DEBUG" },
  { role: "controller", flag: "--trace", env: "VM_DHCP_CONTROLLER_TRACE" },
  { role: "agent", flag: "--name" },
  { role: "agent", flag: "--ippool-ref", env: "IPPOOL_REF" },
  { role: "agent", flag: "--nic" },
  { role: "agent", flag: "--dry-run" },
  { role: "agent", flag: "--kubeconfig", env: "KUBECONFIG" },
  { role: "agent", flag: "--kubecontext" },
  { role: "agent", flag: "--enable-cache-dump-api" },
  { role: "agent", flag: "--debug", env: "VM_DHCP_AGENT_DEBUG" },
  { role: "agent", flag: "--trace", env: "VM_DHCP_AGENT_TRACE" },
  { role: "webhook", flag: "--https-port" },
  { role: "webhook", flag: "--service-cidr" },
];

describe("--help of each role", () => {
  const helps = new Map<string, Promise<string>>();
  /** The role's help with every run of white space made one space (yargs wraps lines). */
  const help = (role: string) => {
    if (!helps.has(role)) {
      helps.set(
        role,
        runCli([`--role=${role}`, "--help"]).then((r) => r.stdout.replace(/\s+/g, " ")),
      );
    }
    return helps.get(role)!;
  };

  it.each(SPEC_FLAGS)("$role documents $flag", async ({ role, flag, env }) => {
    const text = await help(role);
    // `--no-x` is documented inside the description of `--x`: "(--no-x: ...)".
    expect(text).toMatch(new RegExp(`(^|[ (])${flag}([ :)]|$)`));
    if (env) expect(text).toContain(`[env ${env}`);
  });
});

describe.concurrent("bad values exit 2 with one line that names the flag", () => {
  it.each([
    {
      why: "--ippool-ref without a slash",
      args: ["agent", "--ippool-ref=net-a"],
      line: 'vm-dhcp: --ippool-ref="net-a": expected namespace/name, e.g. default/net-a',
    },
    {
      why: "--ippool-ref without a slash, given as --role agent and spaces",
      args: ["--role", "agent", "--ippool-ref", "net-a"],
      line: 'vm-dhcp: --ippool-ref="net-a": expected namespace/name, e.g. default/net-a',
    },
    {
      why: "IPPOOL_REF without a slash",
      args: ["agent"],
      env: { IPPOOL_REF: "default" },
      line: 'vm-dhcp: --ippool-ref="default": expected namespace/name, e.g. default/net-a',
    },
    {
      why: "no --ippool-ref at all",
      args: ["agent"],
      line: "vm-dhcp: Missing required argument: ippool-ref",
    },
    {
      why: "an upper-case image repository",
      args: ["controller", "--image=Vm-Dhcp:0.1.0"],
      line:
        'vm-dhcp: --image="Vm-Dhcp:0.1.0": not an image reference; expected ' +
        "[registry/]repository[:tag][@digest], e.g. registry.example/vm-dhcp:0.1.0",
    },
    {
      why: "an image with two tags",
      args: ["controller", "--image=vm-dhcp:0.1:0"],
      line: 'vm-dhcp: --image="vm-dhcp:0.1:0": not an image reference;',
    },
    {
      why: "AGENT_IMAGE with no repository",
      args: ["controller"],
      env: { AGENT_IMAGE: ":latest" },
      line: 'vm-dhcp: --image=":latest": not an image reference;',
    },
    {
      why: "a malformed --init-image",
      args: ["controller", "--image=vm-dhcp:1", "--init-image=busy box"],
      line: 'vm-dhcp: --init-image="busy box": not an image reference;',
    },
    {
      why: "an --agent-resources that is not JSON",
      args: ["controller", "--image=vm-dhcp:1", "--agent-resources=cpu=10m"],
      line: 'vm-dhcp: --agent-resources="cpu=10m": not JSON (',
    },
    {
      why: "AGENT_TOLERATIONS with an unknown operator",
      args: ["controller", "--image=vm-dhcp:1"],
      env: { AGENT_TOLERATIONS: '[{"key":"a","operator":"In"}]' },
      line:
        'vm-dhcp: --agent-tolerations="[{\\"key\\":\\"a\\",\\"operator\\":\\"In\\"}]": ' +
        "toleration 0: operator must be Exists or Equal",
    },
    {
      why: "AGENT_NODE_SELECTOR with a value that is no string",
      args: ["controller", "--image=vm-dhcp:1"],
      env: { AGENT_NODE_SELECTOR: '{"dhcp":true}' },
      line: "vm-dhcp: --agent-node-selector=",
    },
    {
      why: "a pull secret that is no Secret name",
      args: ["controller", "--image=vm-dhcp:1", "--agent-image-pull-secrets=reg_cred"],
      line: 'vm-dhcp: --agent-image-pull-secrets="reg_cred": "reg_cred" is not a Secret name',
    },
    {
      why: "no agent image",
      args: ["controller"],
      line: "vm-dhcp: --image (or AGENT_IMAGE) is required unless --no-agent is given",
    },
    {
      why: "an unknown role",
      args: ["--role=dhcp-server"],
      line: 'vm-dhcp: --role="dhcp-server": expected one of controller, agent, webhook',
    },
    {
      why: "--role with no value",
      args: ["--role"],
      line: "vm-dhcp: --role: expected one of controller, agent, webhook",
    },
    {
      why: "a role that disagrees with the command",
      args: ["--role=agent", "controller"],
      line: 'vm-dhcp: --role="agent": the command says controller',
    },
    {
      why: "an unknown command",
      args: ["server"],
      line: "vm-dhcp: Unknown argument: server",
    },
    {
      why: "no command",
      args: [],
      line: "vm-dhcp: name a command; see --help",
    },
    {
      why: "an unknown flag",
      args: ["agent", "--ippool-ref=default/a", "--ippool=default/a"],
      line: "vm-dhcp: Unknown argument: ippool",
    },
    {
      why: "a certificate without its key",
      args: ["webhook", "--tls-cert-file=/tmp/cert.pem"],
      line: "vm-dhcp: --tls-cert-file and --tls-key-file go together",
    },
    {
      why: "no API server configured anywhere",
      args: ["--role=agent", "--ippool-ref=default/a", "--dry-run"],
      env: { HOME: "/nonexistent" },
      line:
        "vm-dhcp: no Kubernetes API server configured: pass --kubeconfig (or set KUBECONFIG), " +
        "or run in a pod",
    },
    {
      why: "a kubeconfig that is not there",
      args: ["controller", "--no-agent", "--kubeconfig=/nonexistent/config"],
      line: 'vm-dhcp: --kubeconfig="/nonexistent/config": no such file',
    },
    {
      why: "an unknown VM_DHCP_LOG_FORMAT",
      args: ["agent", "--ippool-ref=default/a", "--dry-run"],
      env: { VM_DHCP_LOG_FORMAT: "xml" },
      line: 'vm-dhcp: VM_DHCP_LOG_FORMAT="xml": use json or text',
    },
  ] as { why: string; args: string[]; env?: Record<string, string>; line: string }[])(
    "$why",
    async ({ args, env, line }) => {
      const result = await runCli(args, env);
      expect(result.stdout).toBe("");
      expect(result.stderr.split("\n")).toEqual([expect.stringContaining(line), ""]);
      expect(result.stderr.startsWith(line)).toBe(true);
      expect(result.code).toBe(2);
    },
  );
});

describe("logs", () => {
  it.each<{ format: string; env: Record<string, string> }>([
    { format: "json (stderr is a pipe)", env: {} },
    { format: "text (VM_DHCP_LOG_FORMAT=text)", env: { VM_DHCP_LOG_FORMAT: "text" } },
  ])("writes the role's start as $format", async ({ env }) => {
    const port = await freePort();
    const args = ["--role=agent", "--ippool-ref=default/net-a", "--dry-run"];
    const line = await logLine(
      [...args, `--kubeconfig=${kubeconfig}`, `--http-port=${port}`],
      env,
      "agent starting",
    );
    if (env.VM_DHCP_LOG_FORMAT === "text") {
      const fields = "name=vm-dhcp-agent pool=default/net-a nic=eth1 dryRun=true";
      expect(line).toMatch(/^\d{4}-\d\d-\d\dT\S+Z INFO {2}agent starting /);
      expect(line.endsWith(` agent starting ${fields}`)).toBe(true);
    } else {
      expect(JSON.parse(line)).toEqual({
        level: "info",
        message: "agent starting",
        role: "agent",
        name: "vm-dhcp-agent",
        pool: "default/net-a",
        nic: "eth1",
        dryRun: true,
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });
    }
  });
});

/** Starts the CLI, returns the first line with `message` it logs to stderr, and kills it. */
async function logLine(
  args: string[],
  env: Record<string, string>,
  message: string,
): Promise<string> {
  const [command, argv] = await cliCommand(args);
  const child = spawn(command, argv, { env: cliEnv(env), stdio: ["ignore", "ignore", "pipe"] });
  return new Promise((resolve, reject) => {
    let stderr = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no log line within 20 s: ${stderr}`));
    }, 20_000);
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      const line = stderr.split("\n").find((l) => l.includes(message));
      if (line === undefined) return;
      clearTimeout(timer);
      child.kill("SIGTERM");
      resolve(line);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before logging ${message}: ${stderr}`));
    });
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}
