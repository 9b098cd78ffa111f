/**
 * The bundle as the image ships it: `node esbuild.config.mjs --outfile=<tmp>` must leave every
 * file the Dockerfile copies out of dist/ (a COPY of a missing file fails the image build;
 * esbuild writes the LEGAL.txt only while some dependency has legal comments). Prints the
 * bundle's size and the cold start of `node <bundle> --version`, as figures, not assertions.
 */
import { execFile } from "node:child_process";
import { readFile, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliBundle, cliEnv, removeCliBundle } from "./run-cli.js";

const DOCKERFILE = fileURLToPath(new URL("../../../Dockerfile", import.meta.url));
const COLD_STARTS = 5;

let bundle = "";

beforeAll(async () => {
  bundle = await cliBundle();
});

afterAll(async () => {
  await removeCliBundle();
});

/** The files the Dockerfile copies from the build stage's dist/ directory. */
async function copiedFromDist(): Promise<string[]> {
  const dockerfile = await readFile(DOCKERFILE, "utf8");
  const copies = dockerfile.split("\n").filter((line) => /^COPY --from=build /.test(line));
  return copies.flatMap((line) =>
    line
      .split(/\s+/)
      .filter((word) => word.startsWith("/src/dist/"))
      .map((path) => basename(path)),
  );
}

describe("the bundle", () => {
  it("holds every file the Dockerfile copies from dist/", async () => {
    const names = await copiedFromDist();
    expect(names).toEqual(["vm-dhcp.mjs", "vm-dhcp.mjs.map", "vm-dhcp.mjs.LEGAL.txt"]);
    for (const name of names) {
      const file = await stat(join(dirname(bundle), name)).catch(() => undefined);
      expect(file?.isFile(), `${name} next to the bundle`).toBe(true);
      expect(file?.size, `${name} is not empty`).toBeGreaterThan(0);
    }
  });

  it("reports its size and the cold start of --version", async () => {
    const { size } = await stat(bundle);
    const timesMs: number[] = [];
    for (let run = 0; run < COLD_STARTS; run++) {
      const started = performance.now();
      const { stdout } = await promisify(execFile)(process.execPath, [bundle, "--version"], {
        env: cliEnv(),
      });
      timesMs.push(performance.now() - started);
      expect(stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    }
    const medianMs = [...timesMs].sort((a, b) => a - b)[Math.floor(COLD_STARTS / 2)]!;
    const runs = timesMs.map((ms) => ms.toFixed(0)).join(", ");
    console.log(
      `vm-dhcp.mjs: ${(size / 1024).toFixed(0)} KiB (${size} bytes); ` +
        `node vm-dhcp.mjs --version: median ${medianMs.toFixed(0)} ms of ${COLD_STARTS} (${runs})`,
    );
  });
});
