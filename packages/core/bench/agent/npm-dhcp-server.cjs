// The npm `dhcp` package's server as a benchmark peer, with static MAC -> IP bindings only.
// Usage: node npm-dhcp-server.cjs <config.json>, where the file holds
// { server, relay, netmask, router, dns, leaseSeconds, range: [first, last], bindings }.
//
// That server always answers to its `broadcast` setting on port 68 and has no relay support,
// so the benchmark points `broadcast` at perfdhcp's address and runs perfdhcp on port 68.
"use strict";
const { readFileSync } = require("node:fs");
const dhcp = require("dhcp");

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
// The package reads MACs as upper-case hex pairs joined by '-'.
const bindings = {};
for (const [mac, ip] of Object.entries(config.bindings)) {
  bindings[mac.toUpperCase().replaceAll(":", "-")] = ip;
}

const server = dhcp.createServer({
  range: config.range,
  static: bindings,
  netmask: config.netmask,
  router: [config.router],
  dns: [config.dns],
  server: config.server,
  broadcast: config.relay,
  leaseTime: config.leaseSeconds,
});
let errors = 0;
// Without a listener, the first malformed packet would end the process.
server.on("error", () => void errors++);
server.listen(67, config.server);
process.on("SIGTERM", () => {
  process.stderr.write(`npm-dhcp: ${errors} errors\n`);
  process.exit(0);
});
