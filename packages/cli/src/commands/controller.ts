import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import {
  Controller,
  DEFAULT_HTTP_PORT,
  DEFAULT_INIT_IMAGE,
  DEFAULT_LEADER_ELECTION_TIMING,
  DEFAULT_RESYNC_MS,
} from "@vm-dhcp/core";
import { Registry } from "prom-client";
import type { CommandModule } from "yargs";
import { type AgentPodFlags, agentPodPlacement } from "../agent-pod-flags.js";
import { envFlag, envText } from "../env.js";
import { checkImageReference } from "../image-ref.js";
import { loadKubeConfig } from "../kube-config.js";
import { createLogger } from "../logging.js";
import { runUntilSignal } from "../run-until-signal.js";

interface ControllerArgs extends AgentPodFlags {
  name: string;
  namespace: string;
  image?: string | undefined;
  "init-image": string;
  "service-account-name": string;
  agent: boolean;
  dhcp: boolean;
  "leader-election": boolean;
  "leader-election-identity"?: string | undefined;
  "lease-duration": number;
  "renew-deadline": number;
  "retry-period": number;
  "resync-period": number;
  "watch-namespace"?: string[] | undefined;
  "enable-cache-dump-api": boolean;
  "http-port": number;
  "bind-address": string;
  kubeconfig?: string | undefined;
  kubecontext?: string | undefined;
  debug: boolean;
  trace: boolean;
}

const seconds = (ms: number) => ms / 1000;

/** `vm-dhcp controller`: the control plane (SPEC section 3). */
export const controllerCommand: CommandModule<object, ControllerArgs> = {
  command: "controller",
  describe: "allocate addresses for VMs and run one DHCP agent per IPPool",
  builder: (args) =>
    args
      .option("name", {
        type: "string",
        default: "vm-dhcp-controller",
        describe: "controller name: the leader Lease and the source of Events",
      })
      .option("namespace", {
        type: "string",
        default: envText("AGENT_NAMESPACE") ?? "harvester-system",
        describe: "namespace of the agent pods and the Lease [env AGENT_NAMESPACE]",
      })
      .option("image", {
        type: "string",
        default: envText("AGENT_IMAGE"),
        describe: "image of the agent pods, repository:tag [env AGENT_IMAGE]",
      })
      .option("init-image", {
        type: "string",
        default: envText("AGENT_INIT_IMAGE") ?? DEFAULT_INIT_IMAGE,
        describe: "image of the agent pods' address step, with sh and ip [env AGENT_INIT_IMAGE]",
      })
      .option("service-account-name", {
        type: "string",
        default: envText("AGENT_SERVICE_ACCOUNT_NAME") ?? "vm-dhcp-agent",
        describe: "service account of the agent pods [env AGENT_SERVICE_ACCOUNT_NAME]",
      })
      .option("agent-image-pull-secrets", {
        type: "string",
        default: envText("AGENT_IMAGE_PULL_SECRETS"),
        describe: "Secrets the agent pods pull images with, a,b [env AGENT_IMAGE_PULL_SECRETS]",
      })
      .option("agent-resources", {
        type: "string",
        default: envText("AGENT_RESOURCES"),
        describe:
          'agent containers\' requests and limits, JSON: {"requests":{"cpu":"10m"}} ' +
          "[env AGENT_RESOURCES]",
      })
      .option("agent-tolerations", {
        type: "string",
        default: envText("AGENT_TOLERATIONS"),
        describe: "tolerations of the agent pods, a JSON list [env AGENT_TOLERATIONS]",
      })
      .option("agent-node-selector", {
        type: "string",
        default: envText("AGENT_NODE_SELECTOR"),
        describe:
          'node labels the agent pods also need, JSON: {"label":"value"}; added to the ' +
          "cluster network affinity [env AGENT_NODE_SELECTOR]",
      })
      .option("agent-priority-class-name", {
        type: "string",
        default: envText("AGENT_PRIORITY_CLASS_NAME"),
        describe: "PriorityClass of the agent pods [env AGENT_PRIORITY_CLASS_NAME]",
      })
      .option("agent", {
        type: "boolean",
        default: true,
        describe: "make agent pods (--no-agent: allocate only)",
      })
      .option("dhcp", {
        type: "boolean",
        default: true,
        describe: "agents serve DHCP (--no-dhcp: agents run with --dry-run)",
      })
      .option("leader-election", {
        type: "boolean",
        default: true,
        describe: "campaign for the Lease (--no-leader-election: lead at once)",
      })
      .option("leader-election-identity", {
        type: "string",
        default: envText("POD_NAME"),
        describe: "this replica in the Lease [env POD_NAME; default: host name and a suffix]",
      })
      .option("lease-duration", {
        type: "number",
        default: seconds(DEFAULT_LEADER_ELECTION_TIMING.leaseDurationMs),
        describe: "seconds a Lease holds without renewal",
      })
      .option("renew-deadline", {
        type: "number",
        default: seconds(DEFAULT_LEADER_ELECTION_TIMING.renewDeadlineMs),
        describe: "seconds the leader keeps acting without a renewal (< lease duration)",
      })
      .option("retry-period", {
        type: "number",
        default: seconds(DEFAULT_LEADER_ELECTION_TIMING.retryPeriodMs),
        describe: "seconds between Lease attempts",
      })
      .option("resync-period", {
        type: "number",
        default: seconds(DEFAULT_RESYNC_MS),
        describe: "seconds between full reconciles of every object (0: only on changes)",
      })
      .option("watch-namespace", {
        type: "string",
        array: true,
        describe: "serve only these namespaces (repeatable); default: all",
      })
      .option("enable-cache-dump-api", {
        type: "boolean",
        default: false,
        describe: "serve /ipams/<ns>/<name> and /caches/<ns>/<name>",
      })
      .option("http-port", {
        type: "number",
        default: DEFAULT_HTTP_PORT,
        describe: "port of /healthz, /readyz, /metrics",
      })
      .option("bind-address", {
        type: "string",
        default: "0.0.0.0",
        describe: "address the HTTP port listens on",
      })
      .option("kubeconfig", {
        type: "string",
        default: envText("KUBECONFIG"),
        describe: "kubeconfig file [env KUBECONFIG]",
      })
      .option("kubecontext", { type: "string", describe: "context of the kubeconfig to use" })
      .option("debug", {
        type: "boolean",
        default: envFlag("VM_DHCP_CONTROLLER_DEBUG"),
        describe: "debug logs [env VM_DHCP_CONTROLLER_DEBUG]",
      })
      .option("trace", {
        type: "boolean",
        default: envFlag("VM_DHCP_CONTROLLER_TRACE"),
        describe: "trace logs [env VM_DHCP_CONTROLLER_TRACE]",
      })
      .check((argv) => {
        checkControllerArgs(argv);
        return true;
      }),
  handler: async (argv) => {
    const logger = createLogger(argv, "controller");
    const identity = argv["leader-election-identity"] ?? defaultIdentity();
    const controller = new Controller({
      kubeConfig: loadKubeConfig(argv),
      name: argv.name,
      namespace: argv.namespace,
      agent: {
        image: argv.image ?? "",
        initImage: argv["init-image"],
        serviceAccountName: argv["service-account-name"],
        noDhcp: !argv.dhcp,
        ...agentPodPlacement(argv),
      },
      noAgent: !argv.agent,
      namespaces: argv["watch-namespace"],
      leaderElection: argv["leader-election"]
        ? {
            identity,
            leaseDurationMs: argv["lease-duration"] * 1000,
            renewDeadlineMs: argv["renew-deadline"] * 1000,
            retryPeriodMs: argv["retry-period"] * 1000,
          }
        : false,
      http: {
        port: argv["http-port"],
        host: argv["bind-address"],
        enableCacheDumpApi: argv["enable-cache-dump-api"],
      },
      resyncMs: argv["resync-period"] * 1000,
      logger,
      registry: new Registry(),
    });
    logger.info("controller starting", {
      name: argv.name,
      namespace: argv.namespace,
      image: argv.image,
      agent: argv.agent,
      dhcp: argv.dhcp,
      leaderElection: argv["leader-election"] ? identity : false,
    });
    await controller.start();
    await runUntilSignal(logger, () => controller.stop());
  },
};

/** Flag combinations that cannot work; each error names the flags and values. */
export function checkControllerArgs(argv: ControllerArgs): void {
  if (argv.agent && !argv.image) {
    throw new Error("--image (or AGENT_IMAGE) is required unless --no-agent is given");
  }
  if (argv.image) checkImageReference("--image", argv.image);
  checkImageReference("--init-image", argv["init-image"]);
  agentPodPlacement(argv);
  if (argv["leader-election"]) {
    const { "lease-duration": lease, "renew-deadline": renew, "retry-period": retry } = argv;
    if (!(retry > 0 && renew > retry && lease > renew)) {
      throw new Error(
        `--lease-duration=${lease} --renew-deadline=${renew} --retry-period=${retry}: ` +
          "need lease duration > renew deadline > retry period > 0",
      );
    }
  }
  if (!(argv["resync-period"] >= 0)) {
    throw new Error(`--resync-period=${argv["resync-period"]}: must be 0 or more seconds`);
  }
}

function defaultIdentity(): string {
  return `${hostname()}_${randomBytes(4).toString("hex")}`;
}
