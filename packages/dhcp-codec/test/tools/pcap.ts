/**
 * A minimal libpcap writer for handing encoded DHCP payloads to tshark: one Ethernet/IPv4/UDP
 * frame per payload, classic pcap format (magic 0xa1b2c3d4, version 2.4, link type 1).
 * The IPv4 header checksum is computed; the UDP checksum is 0, which RFC 768 allows over IPv4
 * and which tshark reports as "not present" rather than wrong.
 */

const ETHERNET_HEADER_BYTES = 14;
const IPV4_HEADER_BYTES = 20;
const UDP_HEADER_BYTES = 8;
const LINKTYPE_ETHERNET = 1;
const SNAPLEN_BYTES = 65_535;

/** One UDP datagram to wrap in a frame. */
export interface UdpFrame {
  payload: Uint8Array;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  srcMac: string;
  dstMac: string;
}

function ipv4Bytes(address: string): number[] {
  const parts = address.split(".").map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`not an IPv4 address: ${address}`);
  }
  return parts;
}

function macBytes(mac: string): number[] {
  return mac.split(":").map((part) => Number.parseInt(part, 16));
}

function ipv4HeaderChecksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += header.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function frameBytes(frame: UdpFrame, ipId: number): Buffer {
  const udpLength = UDP_HEADER_BYTES + frame.payload.length;
  const ipLength = IPV4_HEADER_BYTES + udpLength;
  const out = Buffer.alloc(ETHERNET_HEADER_BYTES + ipLength);

  Buffer.from(macBytes(frame.dstMac)).copy(out, 0);
  Buffer.from(macBytes(frame.srcMac)).copy(out, 6);
  out.writeUInt16BE(0x0800, 12);

  const ip = out.subarray(ETHERNET_HEADER_BYTES, ETHERNET_HEADER_BYTES + IPV4_HEADER_BYTES);
  ip.writeUInt8(0x45, 0); // version 4, 5 words of header
  ip.writeUInt16BE(ipLength, 2);
  ip.writeUInt16BE(ipId, 4);
  ip.writeUInt8(64, 8); // TTL
  ip.writeUInt8(17, 9); // UDP
  Buffer.from(ipv4Bytes(frame.srcIp)).copy(ip, 12);
  Buffer.from(ipv4Bytes(frame.dstIp)).copy(ip, 16);
  ip.writeUInt16BE(ipv4HeaderChecksum(ip), 10);

  const udpOffset = ETHERNET_HEADER_BYTES + IPV4_HEADER_BYTES;
  out.writeUInt16BE(frame.srcPort, udpOffset);
  out.writeUInt16BE(frame.dstPort, udpOffset + 2);
  out.writeUInt16BE(udpLength, udpOffset + 4);
  Buffer.from(frame.payload).copy(out, udpOffset + UDP_HEADER_BYTES);
  return out;
}

/** Returns a complete pcap file holding one frame per datagram, one second apart. */
export function pcapFile(frames: readonly UdpFrame[]): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(SNAPLEN_BYTES, 16);
  header.writeUInt32LE(LINKTYPE_ETHERNET, 20);

  const records = frames.map((frame, index) => {
    const bytes = frameBytes(frame, index + 1);
    const record = Buffer.alloc(16);
    record.writeUInt32LE(index + 1, 0); // seconds since the epoch: only the order matters
    record.writeUInt32LE(bytes.length, 8);
    record.writeUInt32LE(bytes.length, 12);
    return Buffer.concat([record, bytes]);
  });
  return Buffer.concat([header, ...records]);
}
