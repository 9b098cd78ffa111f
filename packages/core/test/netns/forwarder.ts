/**
 * A TCP/unix-socket forwarder for reaching across network namespaces. A namespace has its own
 * loopback, but filesystem paths are shared: a forwarder inside the namespace listens on its
 * 127.0.0.1:<port> and connects to a unix socket, and one on the host listens on that unix
 * socket and connects to the host's 127.0.0.1:<port>. TLS passes through untouched, so a
 * server certificate for 127.0.0.1 stays valid on both sides.
 *
 * `cut()` on the host side makes the far server unreachable for everything behind it (open
 * connections are destroyed, new ones are closed at once) without touching the server itself.
 */
import { once } from "node:events";
import { rm } from "node:fs/promises";
import { connect, createServer, type Server, type Socket } from "node:net";

/** Printed on stdout by forward-main.ts once all its listeners are up. */
export const READY_LINE = "forwarding";

/** A TCP address or a unix socket path. */
export type Endpoint = { host: string; port: number } | { path: string };

/** A running forwarder. */
export interface Forwarder {
  /** Destroys every open connection and refuses new ones until `restore()`. */
  cut(): void;
  restore(): void;
  /** Connections being forwarded now. */
  readonly open: number;
  close(): Promise<void>;
}

/** Parses `tcp:<host>:<port>` or `unix:<path>`. */
export function parseEndpoint(text: string): Endpoint {
  const tcp = /^tcp:([^:]+):(\d+)$/.exec(text);
  if (tcp) return { host: tcp[1]!, port: Number(tcp[2]) };
  if (text.startsWith("unix:")) return { path: text.slice("unix:".length) };
  throw new Error(`not an endpoint (tcp:<host>:<port> or unix:<path>): ${text}`);
}

/** Listens on `from` and pipes every connection to a fresh connection to `to`. */
export async function startForwarder(from: Endpoint, to: Endpoint): Promise<Forwarder> {
  const sockets = new Set<Socket>();
  let cut = false;
  const server: Server = createServer((incoming) => {
    if (cut) {
      incoming.destroy();
      return;
    }
    const outgoing = connect(to);
    for (const socket of [incoming, outgoing]) {
      sockets.add(socket);
      // Either side failing ends both, as a broken path would.
      socket.on("error", () => undefined);
      socket.on("close", () => {
        sockets.delete(socket);
        incoming.destroy();
        outgoing.destroy();
      });
    }
    incoming.pipe(outgoing);
    outgoing.pipe(incoming);
  });
  if ("path" in from) await rm(from.path, { force: true });
  server.listen(from);
  await once(server, "listening");

  return {
    cut() {
      cut = true;
      for (const socket of sockets) socket.destroy();
    },
    restore() {
      cut = false;
    },
    get open() {
      return sockets.size / 2;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
