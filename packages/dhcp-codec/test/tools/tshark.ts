/**
 * Runs tshark (Wireshark's dissectors: an implementation of DHCP independent of ours) over a
 * pcap file and returns, per packet, the fields it decoded. PDML output is used because it
 * carries both a field's value and the text tshark shows for it (classless routes, for one,
 * have no value form other than raw bytes).
 */
import { spawnSync } from "node:child_process";

/** One dissected field: `show` is tshark's value, `showname` its display line. */
export interface DissectedField {
  name: string;
  show: string;
  showname: string;
  value: string;
}

const TSHARK_TIMEOUT_MS = 20_000;

/** Why tshark cannot be used here, or undefined when it can. */
export function tsharkUnavailableReason(): string | undefined {
  const probe = spawnSync("tshark", ["--version"], { encoding: "utf8" });
  if (probe.error) return `tshark not runnable (${probe.error.message}); apt-get install tshark`;
  if (probe.status !== 0) return `tshark --version exited with ${probe.status}`;
  return undefined;
}

const ENTITIES: Record<string, string> = {
  "&amp;": "&",
  "&lt;": "<",
  "&gt;": ">",
  "&quot;": '"',
  "&apos;": "'",
};

function unescapeXml(text: string): string {
  return text
    .replace(/&#x([0-9a-f]+);/gi, (_m, hex: string) =>
      String.fromCodePoint(Number.parseInt(hex, 16)),
    )
    .replace(/&#(\d+);/g, (_m, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&(amp|lt|gt|quot|apos);/g, (entity) => ENTITIES[entity] ?? entity);
}

function attribute(tag: string, name: string): string {
  const match = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return match ? unescapeXml(match[1] ?? "") : "";
}

function parsePacket(xml: string): DissectedField[] {
  const fields: DissectedField[] = [];
  for (const match of xml.matchAll(/<field\s[^>]*>/g)) {
    const tag = match[0];
    fields.push({
      name: attribute(tag, "name"),
      show: attribute(tag, "show"),
      showname: attribute(tag, "showname"),
      value: attribute(tag, "value"),
    });
  }
  return fields;
}

/** Dissects every packet of a pcap file; throws with tshark's stderr if it fails. */
export function dissect(pcapPath: string): DissectedField[][] {
  const result = spawnSync(
    "tshark",
    ["-n", "-o", "ip.check_checksum:TRUE", "-r", pcapPath, "-T", "pdml"],
    {
      encoding: "utf8",
      timeout: TSHARK_TIMEOUT_MS,
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  if (result.status !== 0) {
    throw new Error(`tshark failed (status ${result.status}): ${result.stderr}`);
  }
  return result.stdout.split("<packet>").slice(1).map(parsePacket);
}

/** Every `show` value of the named field in one packet, in wire order. */
export function shows(packet: readonly DissectedField[], name: string): string[] {
  return packet.filter((field) => field.name === name).map((field) => field.show);
}

/** The single `show` value of the named field; throws unless it occurs exactly once. */
export function show(packet: readonly DissectedField[], name: string): string {
  const values = shows(packet, name);
  if (values.length !== 1) {
    throw new Error(`expected one ${name} in the packet, tshark shows ${values.length}`);
  }
  return values[0]!;
}
