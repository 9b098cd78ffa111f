#!/usr/bin/env node
/**
 * The `vm-dhcp` binary: one executable for every role of the project.
 *
 * @example
 * ```sh
 * vm-dhcp decode packages/dhcp-codec/test/fixtures/dhclient-discover.bin
 * ```
 */
import { runCli } from "./cli.js";

process.exitCode = await runCli(process.argv.slice(2));
