import { readFile } from "node:fs/promises";
import { DhcpDecodeError, decode, formatMac, MessageType } from "@vm-dhcp/dhcp-codec";
import type { CommandModule } from "yargs";

interface DecodeArgs {
  packet: string;
}

/**
 * `vm-dhcp decode <packet>`: prints a DHCP message as JSON. The packet is a file holding the
 * raw UDP payload, or a hex string. Meant for operators reading captures and for bug reports.
 */
export function decodeCommand(
  setExitCode: (code: number) => void,
): CommandModule<object, DecodeArgs> {
  return {
    command: "decode <packet>",
    describe: "decode a DHCPv4 packet (a file of raw UDP payload bytes, or hex) and print it",
    builder: (args) =>
      args.positional("packet", { type: "string", demandOption: true, describe: "file or hex" }),
    handler: async ({ packet }) => {
      const bytes = await readPacket(packet);
      try {
        process.stdout.write(`${JSON.stringify(describeMessage(bytes), jsonBytes, 2)}\n`);
      } catch (error) {
        if (!(error instanceof DhcpDecodeError)) throw error;
        process.stderr.write(`vm-dhcp: ${packet}: ${error.message}\n`);
        setExitCode(1);
      }
    },
  };
}

async function readPacket(packet: string): Promise<Uint8Array> {
  const hex = packet.replace(/[\s:]/g, "");
  if (/^([0-9a-f]{2})+$/i.test(hex) && hex.length >= 480) return Buffer.from(hex, "hex");
  return readFile(packet);
}

function describeMessage(bytes: Uint8Array) {
  const message = decode(bytes);
  const type = message.options.messageType;
  return {
    messageType: type === undefined ? "BOOTP" : (MessageType[type] ?? type),
    clientMac: formatMac(message.chaddr, message.hlen),
    ...message,
  };
}

/**
 * JSON replacer that shows bytes as hex rather than as objects of indexes. A Buffer has
 * already been turned into `{ type: "Buffer", data }` by its toJSON when the replacer sees it.
 */
function jsonBytes(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString("hex");
  if (isBufferJson(value)) return Buffer.from(value.data).toString("hex");
  return value;
}

function isBufferJson(value: unknown): value is { type: "Buffer"; data: number[] } {
  return (
    typeof value === "object" && value !== null && (value as { type?: unknown }).type === "Buffer"
  );
}
