import { createSocket, type Socket } from "node:dgram";
import type { Destination } from "./responder.js";

/** Receives raw DHCP requests and sends raw replies; the agent's only contact with the wire. */
export interface Transport {
  /** Starts delivering datagrams to `onPacket`. */
  start(
    onPacket: (bytes: Buffer, from: Destination) => void,
    onError: (error: Error) => void,
  ): Promise<void>;
  send(bytes: Uint8Array, to: Destination): Promise<void>;
  close(): Promise<void>;
}

/**
 * DHCP over Node's dgram, which cannot bind to a device (no SO_BINDTODEVICE) nor tell on which
 * interface a datagram arrived. Two sockets make up for it:
 *
 * - one bound to 0.0.0.0:67 receives the clients' broadcasts;
 * - one bound to the server address (port 67) receives unicast renewals and relayed requests,
 *   and sends every reply. Linux routes a limited broadcast (255.255.255.255) sent from a
 *   socket bound to an address out of the interface that owns that address, so replies stay on
 *   the VM network even when the default route points at the pod network.
 */
export class UdpTransport implements Transport {
  readonly #serverAddress: string;
  readonly #port: number;
  #broadcastSocket: Socket | undefined;
  #serverSocket: Socket | undefined;

  constructor(serverAddress: string, port = 67) {
    this.#serverAddress = serverAddress;
    this.#port = port;
  }

  async start(
    onPacket: (bytes: Buffer, from: Destination) => void,
    onError: (error: Error) => void,
  ): Promise<void> {
    const deliver = (bytes: Buffer, info: { address: string; port: number }) =>
      onPacket(bytes, { address: info.address, port: info.port });
    this.#broadcastSocket = await bound("0.0.0.0", this.#port, deliver, onError);
    this.#serverSocket = await bound(this.#serverAddress, this.#port, deliver, onError);
    this.#serverSocket.setBroadcast(true);
  }

  send(bytes: Uint8Array, to: Destination): Promise<void> {
    const socket = this.#serverSocket;
    if (!socket) return Promise.reject(new Error("transport is not started"));
    return new Promise((resolve, reject) => {
      socket.send(bytes, to.port, to.address, (error) => (error ? reject(error) : resolve()));
    });
  }

  async close(): Promise<void> {
    await Promise.all([closeSocket(this.#broadcastSocket), closeSocket(this.#serverSocket)]);
    this.#broadcastSocket = undefined;
    this.#serverSocket = undefined;
  }
}

/**
 * Kernel receive buffer asked for each socket. Linux's default (about 208 KiB, a few hundred
 * DHCP datagrams) overflows during a garbage-collection pause or a scheduling stall under
 * load, and every datagram that does not fit is lost: measured in the benchmark as drops of
 * several percent at 2,000 exchanges/s. The kernel caps the value at net.core.rmem_max.
 */
export const RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

function bound(
  address: string,
  port: number,
  onMessage: (bytes: Buffer, info: { address: string; port: number }) => void,
  onError: (error: Error) => void,
): Promise<Socket> {
  const socket = createSocket({
    type: "udp4",
    reuseAddr: true,
    recvBufferSize: RECEIVE_BUFFER_BYTES,
  });
  socket.on("message", onMessage);
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.bind({ address, port, exclusive: true }, () => {
      socket.off("error", reject);
      // An error after binding must not crash the agent: report it and keep serving.
      socket.on("error", onError);
      resolve(socket);
    });
  });
}

function closeSocket(socket: Socket | undefined): Promise<void> {
  if (!socket) return Promise.resolve();
  return new Promise((resolve) => socket.close(() => resolve()));
}
