/** One bounded perfdhcp run and what it printed, parsed. */
import type { Lab } from "../../test/netns/netns.js";

/** Exit wait for in-flight answers after the last request (perfdhcp -W, microseconds). */
const EXIT_WAIT_US = 500_000;

/** Where and how hard to run perfdhcp. */
export interface PerfOptions {
  lab: Lab;
  ns: string;
  /** The client MACs to use, one a line (perfdhcp -M). */
  macFile: string;
  server: string;
  /** perfdhcp's own address: the relay address (giaddr) it sends from. */
  relay: string;
  cpus: string;
  /** perfdhcp's local port (-L); 67, a relay's, by default. */
  localPort?: number;
  /** Offered DORA exchanges per second (-r) and for how long (-p). */
  rate: number;
  seconds: number;
  /** Collect per-exchange timers (-x t) for latency percentiles. */
  timers?: boolean;
}

/** Percentiles in milliseconds. */
export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** What a run achieved. */
export interface PerfResult {
  exchangesPerSecond: number;
  /** The larger drop ratio of DISCOVER-OFFER and REQUEST-ACK. */
  dropPercent: number;
  acks: number;
  /** Of the REQUEST-ACK and DISCOVER-OFFER exchanges (NaN without `timers`). */
  latency: { discoverOffer: Percentiles; requestAck: Percentiles };
}

/** Runs perfdhcp once, bounded by -r, -p and a `timeout`. */
export async function perfdhcp(options: PerfOptions): Promise<PerfResult> {
  const { lab, ns, rate, seconds } = options;
  const args = [
    String(seconds + 15),
    "taskset",
    ...["-c", options.cpus, "perfdhcp", "-4", "-r", String(rate), "-p", String(seconds)],
    ...["-M", options.macFile, "-l", options.relay, "-W", String(EXIT_WAIT_US)],
    ...(options.localPort ? ["-L", String(options.localPort)] : []),
    ...(options.timers ? ["-x", "t"] : []),
    options.server,
  ];
  const result = await lab.exec(ns, "timeout", args, (seconds + 20) * 1000);
  return parse(result.stdout);
}

/** Parses perfdhcp's report (Kea 2.2 wording). */
export function parse(text: string): PerfResult {
  const sections = sectionsOf(text);
  const number = (section: string, label: string) =>
    Number(new RegExp(`^${label}: ([-\\d.]+)`, "m").exec(sections[section] ?? "")?.[1] ?? 0);
  const drops = ["DISCOVER-OFFER", "REQUEST-ACK"].map((exchange) => {
    const sent = number(`Statistics for: ${exchange}`, "sent packets");
    const received = number(`Statistics for: ${exchange}`, "received packets");
    return sent > 0 ? (100 * (sent - received)) / sent : 100;
  });
  return {
    exchangesPerSecond: Number(/^Rate: ([\d.]+)/m.exec(text)?.[1] ?? 0),
    dropPercent: Math.max(...drops),
    acks: number("Statistics for: REQUEST-ACK", "received packets"),
    latency: {
      discoverOffer: percentiles(sections["Timestamps for packets: DISCOVER-OFFER"]),
      requestAck: percentiles(sections["Timestamps for packets: REQUEST-ACK"]),
    },
  };
}

/** Splits the report at its `***Title***` lines. */
function sectionsOf(text: string): Record<string, string> {
  const sections: Record<string, string> = {};
  let title = "";
  for (const line of text.split("\n")) {
    const heading = /^\*\*\*(.+)\*\*\*$/.exec(line);
    if (heading) title = heading[1]!;
    else sections[title] = `${sections[title] ?? ""}${line}\n`;
  }
  return sections;
}

/** Percentiles of the `sent / received: <s> / <s>` lines of a timestamp section. */
function percentiles(section: string | undefined): Percentiles {
  const delays = [...(section ?? "").matchAll(/sent \/ received: ([\d.]+) \/ ([\d.]+)/g)]
    .map((m) => (Number(m[2]) - Number(m[1])) * 1000)
    .sort((a, b) => a - b);
  const at = (q: number) => delays[Math.min(delays.length - 1, Math.floor(q * delays.length))];
  return {
    p50: at(0.5) ?? Number.NaN,
    p90: at(0.9) ?? Number.NaN,
    p99: at(0.99) ?? Number.NaN,
    max: delays.at(-1) ?? Number.NaN,
  };
}
