/**
 * helm for the chart tests: built once from Go modules by scripts/test-cluster/build-helm.sh
 * (nothing to do when its stamp matches), then run with the chart's path and values.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { loadAllYaml } from "@kubernetes/client-node";
import { describe, it } from "vitest";
import { BIN_DIR, REPO_ROOT } from "../cluster/binaries.js";
import { type CommandResult, runCommand } from "../cluster/process.js";

/** The chart under test. */
export const CHART_DIR = join(REPO_ROOT, "deploy", "charts", "vm-dhcp");

/** A rendered Kubernetes object, loosely typed: tests read the fields they check. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // biome-ignore lint/suspicious/noExplicitAny: rendered objects of many kinds
  [field: string]: any;
}

/** helm found or built, or why not (the tests then skip with this reason). */
export type HelmResult = { ok: true; helm: string } | { ok: false; reason: string };

/** Runs build-helm.sh (a no-op once built) and returns the binary, or why there is none. */
export async function ensureHelm(): Promise<HelmResult> {
  if (process.platform !== "linux") return { ok: false, reason: "helm is built on Linux only" };
  const script = join(REPO_ROOT, "scripts", "test-cluster", "build-helm.sh");
  const code = await new Promise<number>((resolve) => {
    const child = spawn("bash", [script], { stdio: ["ignore", "ignore", "inherit"] });
    child.once("error", () => resolve(127));
    child.once("exit", (exit) => resolve(exit ?? 1));
  });
  if (code === 2) return { ok: false, reason: "Go is not installed, so helm cannot be built" };
  if (code !== 0) return { ok: false, reason: `build-helm.sh failed (exit ${code})` };
  return { ok: true, helm: join(BIN_DIR, "helm") };
}

/**
 * `describe` for suites that need helm. Where helm cannot be had, the suite is one skipped
 * test whose name gives the reason (also printed); in CI (CI=true), which always has Go, one
 * failing test instead, so a broken helm build cannot pass as a skip.
 */
export function describeWithHelm(
  name: string,
  found: HelmResult,
  body: (helm: string) => void,
): void {
  if (found.ok) {
    describe(name, () => body(found.helm));
  } else if (process.env.CI === "true") {
    describe(name, () => {
      it("has helm", () => {
        throw new Error(`CI needs helm: ${found.reason}`);
      });
    });
  } else {
    console.warn(`${name}: SKIPPED, ${found.reason}`);
    describe.skip(name, () => {
      it(`needs helm (${found.reason})`, () => {});
    });
  }
}

/**
 * helm's note that a file of the chart is a symbolic link: the chart's crds/ links to
 * deploy/crds so that the CRDs have one source; helm reads the target and says so.
 */
const SYMLINK_NOTE = /found symbolic link in path/;

/** Runs helm; stderr loses the symbolic-link notes so tests can expect it to be empty. */
export async function runHelm(helm: string, args: readonly string[]): Promise<CommandResult> {
  const result = await runCommand(helm, args, { timeoutMs: 60_000 });
  const stderr = result.stderr
    .split("\n")
    .filter((line) => line && !SYMLINK_NOTE.test(line))
    .join("\n");
  return { ...result, stderr };
}

/** `helm template <release> <chart>` with `--set` pairs; throws with helm's error. */
export async function renderChart(
  helm: string,
  release: string,
  namespace: string,
  extra: readonly string[] = [],
): Promise<string> {
  const result = await runHelm(helm, ["template", release, CHART_DIR, "-n", namespace, ...extra]);
  if (result.code !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  return result.stdout;
}

/** Parses rendered YAML into objects, dropping empty documents. */
export function parseManifests(yaml: string): Manifest[] {
  return (loadAllYaml(yaml) as (Manifest | null)[]).filter((doc): doc is Manifest => !!doc);
}

/** The one object of `kind` named `name`; throws listing what there is otherwise. */
export function findManifest(manifests: readonly Manifest[], kind: string, name: string) {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (!found) {
    const have = manifests.map((m) => `${m.kind}/${m.metadata.name}`).join(", ");
    throw new Error(`no ${kind}/${name} among ${have}`);
  }
  return found;
}
