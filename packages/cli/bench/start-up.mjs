// Start-up benchmark of the shipped bundle: its size, and how long `node vm-dhcp.mjs --version`
// takes from a cold process, next to bare `node -e 0` in the same run (the floor any Node.js
// program pays). With and without --enable-source-maps, which the image sets. Prints figures;
// never fails on a time.
//
//   node packages/cli/bench/start-up.mjs [--runs=15]
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const runs = Number(process.argv.find((a) => a.startsWith("--runs="))?.slice(7) ?? 15);
const dir = mkdtempSync(join(tmpdir(), "vm-dhcp-start-up-"));
const bundle = join(dir, "vm-dhcp.mjs");

/** Median wall time in ms of `runs` cold processes of node with `args`. */
function medianMs(args) {
  const times = [];
  for (let run = 0; run < runs; run++) {
    const started = process.hrtime.bigint();
    execFileSync(process.execPath, args, { stdio: "ignore", env: { PATH: process.env.PATH } });
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

try {
  execFileSync(process.execPath, [
    join(root, "esbuild.config.mjs"),
    `--outfile=${bundle}`,
    "--quiet",
  ]);
  const floor = medianMs(["-e", "0"]);
  const plain = medianMs([bundle, "--version"]);
  const mapped = medianMs(["--enable-source-maps", bundle, "--version"]);
  const kib = (statSync(bundle).size / 1024).toFixed(0);
  console.log(`bundle: ${kib} KiB (node ${process.version}, median of ${runs} cold processes)`);
  console.log(`  node -e 0                                   ${floor.toFixed(0)} ms`);
  console.log(`  node vm-dhcp.mjs --version                  ${plain.toFixed(0)} ms`);
  console.log(`  node --enable-source-maps vm-dhcp.mjs ...   ${mapped.toFixed(0)} ms`);
  const ratio = (ms) => (ms / floor).toFixed(1);
  console.log(`ratio to bare node: ${ratio(plain)}x (${ratio(mapped)}x with source maps)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
