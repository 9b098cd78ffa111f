/**
 * The bundle as the image ships it: `node esbuild.config.mjs --outfile=<tmp>` must leave every
 * file the Dockerfile copies out of dist/ (a COPY of a missing file fails the image build;
 * esbuild writes the LEGAL.txt only while some dependency has legal comments). Its size and
 * start-up time are figures of packages/cli/bench/start-up.mjs, not assertions.
 */
import { readFile, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cliBundle, removeCliBundle } from "./run-cli.js";

const DOCKERFILE = fileURLToPath(new URL("../../../Dockerfile", import.meta.url));

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
});
