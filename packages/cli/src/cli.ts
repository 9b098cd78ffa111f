import yargs from "yargs";
import { decodeCommand } from "./commands/decode.js";

/** The version stamped into the bundle at build time, or the package version in development. */
const VERSION = process.env.VM_DHCP_VERSION ?? "0.1.0";

/**
 * Parses `argv` and runs the chosen command. Returns the process exit code instead of
 * exiting, so tests can drive the CLI in-process.
 */
export async function runCli(argv: string[]): Promise<number> {
  let exitCode = 0;
  await yargs(argv)
    .scriptName("vm-dhcp")
    .usage("$0 <command> [options]")
    .command(decodeCommand((code) => (exitCode = code)))
    .demandCommand(1, "name a command; see --help")
    .strict()
    .version(VERSION)
    .help()
    .wrap(100)
    .fail((message, error) => {
      process.stderr.write(`vm-dhcp: ${message ?? error?.message}\n`);
      exitCode = 2;
    })
    .parseAsync();
  return exitCode;
}
