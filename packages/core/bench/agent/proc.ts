/** CPU time and memory of a process, from /proc (Linux). */
import { readFile } from "node:fs/promises";
import type { Lab } from "../../test/netns/netns.js";

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/** User plus system CPU seconds the process has used so far. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
}

/** Resident set size in KiB. */
export async function rssKib(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? Number.NaN);
}

/** UDP receive-buffer overflows so far in a namespace: datagrams the kernel dropped. */
export async function udpReceiveBufferErrors(lab: Lab, ns: string): Promise<number> {
  const snmp = (await lab.exec(ns, "cat", ["/proc/net/snmp"])).stdout;
  const [names, values] = snmp.split("\n").filter((line) => line.startsWith("Udp:"));
  const index = (names ?? "").split(/\s+/).indexOf("RcvbufErrors");
  return Number((values ?? "").split(/\s+/)[index] ?? Number.NaN);
}
