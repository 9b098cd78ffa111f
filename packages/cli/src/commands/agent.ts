import { Agent, type PoolRef, startHttpServer } from "@vm-dhcp/core";
import { Registry } from "prom-client";
import type { CommandModule } from "yargs";
import { envFlag, envText } from "../env.js";
import { loadKubeConfig } from "../kube-config.js";
import { createLogger } from "../logging.js";
import { runUntilSignal } from "../run-until-signal.js";

interface AgentArgs {
  name: string;
  "ippool-ref"?: string | undefined;
  nic: string;
  "dry-run": boolean;
  kubeconfig?: string | undefined;
  kubecontext?: string | undefined;
  "enable-cache-dump-api": boolean;
  "http-port": number;
  debug: boolean;
  trace: boolean;
}

/** `vm-dhcp agent`: the DHCP server of one IPPool (SPEC section 4). */
export const agentCommand: CommandModule<object, AgentArgs> = {
  command: "agent",
  describe: "serve DHCPv4 for one IPPool on the VM network",
  builder: (args) =>
    args
      .option("name", {
        type: "string",
        default: envText("AGENT_NAME") ?? "vm-dhcp-agent",
        describe: "agent name, shown in logs",
      })
      .option("ippool-ref", {
        type: "string",
        default: envText("IPPOOL_REF"),
        demandOption: !envText("IPPOOL_REF"),
        describe: "namespace/name of the IPPool to serve [env IPPOOL_REF]",
      })
      .option("nic", { type: "string", default: "eth1", describe: "interface of the VM network" })
      .option("dry-run", {
        type: "boolean",
        default: false,
        describe: "everything but the DHCP socket",
      })
      .option("kubeconfig", {
        type: "string",
        default: envText("KUBECONFIG"),
        describe: "kubeconfig file [env KUBECONFIG]",
      })
      .option("kubecontext", { type: "string", describe: "context of the kubeconfig to use" })
      .option("enable-cache-dump-api", {
        type: "boolean",
        default: false,
        describe: "serve /leases",
      })
      .option("http-port", {
        type: "number",
        default: 8080,
        describe: "port of /healthz, /readyz, /metrics",
      })
      .option("debug", {
        type: "boolean",
        default: envFlag("VM_DHCP_AGENT_DEBUG"),
        describe: "debug logs [env VM_DHCP_AGENT_DEBUG]",
      })
      .option("trace", {
        type: "boolean",
        default: envFlag("VM_DHCP_AGENT_TRACE"),
        describe: "trace logs [env VM_DHCP_AGENT_TRACE]",
      })
      .check((argv) => {
        parsePoolRef(argv["ippool-ref"]);
        return true;
      }),
  handler: async (argv) => {
    const logger = createLogger(argv, "agent");
    const registry = new Registry();
    const poolRef = parsePoolRef(argv["ippool-ref"]);
    const agent = new Agent({
      poolRef,
      kubeConfig: loadKubeConfig(argv),
      nic: argv.nic,
      dryRun: argv["dry-run"],
      logger,
      registry,
      // Building a debug line per packet costs even when the logger drops it.
      packetLogs: argv.debug || argv.trace,
    });
    const http = await startHttpServer({
      port: argv["http-port"],
      registry,
      readiness: () => agent.readiness(),
      logger,
      routes: argv["enable-cache-dump-api"]
        ? (app) => app.get("/leases", (_req, res) => void res.json(agent.leases()))
        : undefined,
    });
    logger.info("agent starting", {
      name: argv.name,
      pool: argv["ippool-ref"],
      nic: argv.nic,
      dryRun: argv["dry-run"],
    });
    await agent.start();
    await runUntilSignal(logger, async () => {
      await agent.stop();
      await http.close();
    });
  },
};

/** Parses `namespace/name`; the error names the flag and the value. */
export function parsePoolRef(text: string | undefined): PoolRef {
  const match = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/.exec(
    text ?? "",
  );
  if (!match) {
    throw new Error(
      `--ippool-ref=${JSON.stringify(text ?? "")}: expected namespace/name, e.g. default/net-a`,
    );
  }
  return { namespace: match[1]!, name: match[3]! };
}
