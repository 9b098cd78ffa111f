/**
 * `node --import tsx forward-main.ts <listen>=<connect> ...`: the in-namespace half of a
 * forwarder (see forwarder.ts), run with `ip netns exec`. Prints "forwarding" once every
 * listener is up, and runs until killed.
 */
import { parseEndpoint, READY_LINE, startForwarder } from "./forwarder.js";

const pairs = process.argv.slice(2).map((arg) => {
  const [listen, target] = arg.split("=");
  if (!listen || !target) throw new Error(`expected <listen>=<connect>, got ${arg}`);
  return [parseEndpoint(listen), parseEndpoint(target)] as const;
});
await Promise.all(pairs.map(([listen, target]) => startForwarder(listen, target)));
process.stdout.write(`${READY_LINE}\n`);
process.on("SIGTERM", () => process.exit(0));
