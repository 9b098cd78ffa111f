/**
 * tcpdump captures inside a lab namespace: what really went over an interface, read back
 * with tcpdump itself so tests assert on the wire rather than on the sender's intentions.
 */
import { join } from "node:path";
import { tailLog } from "../cluster/process.js";
import { type Lab, run } from "./netns.js";
import { poll } from "./poll.js";

const START_TIMEOUT_MS = 10_000;

/** A running capture. */
export interface Capture {
  /** Stops tcpdump, flushing the file. */
  stop(): Promise<void>;
  /** One line per packet (`tcpdump -nn -r`). */
  packets(): Promise<string[]>;
  /** Decoded packets (`tcpdump -nn -v -r`), e.g. to find DHCP message types. */
  decoded(): Promise<string>;
}

/** Starts `tcpdump -i <iface> <filter>` in `ns`; resolves once it is listening. */
export async function startCapture(
  lab: Lab,
  ns: string,
  iface: string,
  filter: string,
): Promise<Capture> {
  const name = `tcpdump-${ns}-${iface}`;
  const file = join(lab.dir, `${name}.pcap`);
  const proc = lab.spawn(ns, name, "tcpdump", [
    "-i",
    iface,
    "-nn",
    "--immediate-mode",
    "-U",
    "-w",
    file,
    filter,
  ]);
  await poll(`tcpdump on ${ns}/${iface}`, START_TIMEOUT_MS, async () =>
    (await tailLog(proc.logFile)).includes("listening on"),
  );
  const read = async (args: string[]) => {
    const result = await run("tcpdump", [...args, "-r", file]);
    if (result.code !== 0) throw new Error(`tcpdump -r ${file} failed: ${result.stderr}`);
    return result.stdout;
  };
  return {
    stop: () => lab.stop(proc),
    packets: async () => (await read(["-nn"])).split("\n").filter(Boolean),
    decoded: () => read(["-nn", "-v"]),
  };
}
