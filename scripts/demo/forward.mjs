// A byte pipe for the demo: `node forward.mjs <listen> <connect>`, where each endpoint is
// tcp:HOST:PORT or unix:PATH. Every accepted connection is piped to a new connection to the
// target. The demo runs one half inside the agent's network namespace (listening on that
// namespace's 127.0.0.1) and one on the host, joined by a unix socket that both can see, so
// the agent reaches the API server on the host's loopback. Prints "forwarding" when ready.
import { rmSync } from "node:fs";
import { connect, createServer } from "node:net";

/** tcp:HOST:PORT or unix:PATH as net.listen/net.connect options. */
function endpoint(text) {
  const tcp = /^tcp:([^:]+):(\d+)$/.exec(text);
  if (tcp) return { host: tcp[1], port: Number(tcp[2]) };
  if (text.startsWith("unix:")) return { path: text.slice(5) };
  throw new Error(`expected tcp:HOST:PORT or unix:PATH, got ${text}`);
}

const [listen, target] = process.argv.slice(2).map(endpoint);
if (!listen || !target) throw new Error("usage: forward.mjs <listen> <connect>");
if (listen.path) rmSync(listen.path, { force: true });

const server = createServer((client) => {
  const upstream = connect(target);
  client.pipe(upstream).pipe(client);
  // Either side failing ends both; the peer sees a closed connection, as with a proxy.
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.once("error", close).once("close", close);
  upstream.once("error", close).once("close", close);
});
server.listen(listen, () => process.stdout.write("forwarding\n"));
process.once("SIGTERM", () => server.close(() => process.exit(0)));
