// Runs every package's benchmark script in turn. Benchmarks print figures and ratios against a
// peer implementation measured in the same run; they never fail on a time.
import { spawnSync } from "node:child_process";

const packages = ["@vm-dhcp/dhcp-codec", "@vm-dhcp/ipam", "@vm-dhcp/cli", "@vm-dhcp/core"];
for (const name of packages) {
  process.stdout.write(`\n## ${name}\n`);
  const run = spawnSync("pnpm", ["--filter", name, "run", "bench"], { stdio: "inherit" });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
