import yargs from "yargs";
import { agentCommand } from "./commands/agent.js";
import { controllerCommand } from "./commands/controller.js";
import { decodeCommand } from "./commands/decode.js";
import { webhookCommand } from "./commands/webhook.js";
import { roleToCommand } from "./role.js";

/** The version stamped into the bundle at build time, or the package version in development. */
const VERSION = process.env.VM_DHCP_VERSION ?? "0.1.0";

/**
 * Parses `argv` and runs the chosen command. Returns the process exit code instead of
 * exiting, so tests can drive the CLI in-process.
 */
export async function runCli(argv: string[]): Promise<number> {
  let exitCode = 0;
  try {
    // `--role=<role>` is the command by another name (SPEC section 1).
    await yargs(roleToCommand(argv))
      .scriptName("vm-dhcp")
      .usage("$0 <command> [options]\n$0 --role=<controller|agent|webhook> [options]")
      .command(agentCommand)
      .command(controllerCommand)
      .command(decodeCommand((code) => (exitCode = code)))
      .command(webhookCommand)
      .demandCommand(1, "name a command; see --help")
      .strict()
      .version(VERSION)
      .help()
      .wrap(100)
      // Throw instead of printing usage: a bad flag gets one clear line and exit code 2.
      .fail(false)
      .parseAsync();
  } catch (error) {
    process.stderr.write(`vm-dhcp: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  return exitCode;
}
