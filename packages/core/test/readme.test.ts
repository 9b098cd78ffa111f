/**
 * The manifests of the README's usage section against the real API server: every YAML block
 * must pass the CRDs' schemas and CEL rules (`kubectl apply --server-side --dry-run=server`,
 * strict field validation), so the front door never shows a manifest a user cannot apply.
 */
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { REPO_ROOT } from "./cluster/binaries.js";
import { kubectlAs } from "./cluster/kubectl.js";
import { describeWithCluster } from "./cluster/use-cluster.js";

/** The fenced ```yaml blocks of a Markdown text, in order. */
function yamlBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

const readme = readFileSync(`${REPO_ROOT}/README.md`, "utf8");
const blocks = yamlBlocks(readme);

describeWithCluster("README manifests", (cluster) => {
  const admin = kubectlAs(cluster, "admin");

  it("has the usage manifests: IPPool, VirtualMachine, VirtualMachineNetworkConfig", () => {
    const kinds = blocks.map((block) => /^kind: (\S+)$/m.exec(block)?.[1]);
    expect(kinds).toEqual(["IPPool", "VirtualMachine", "VirtualMachineNetworkConfig"]);
  });

  it.each(blocks.map((block) => [/^kind: (\S+)$/m.exec(block)?.[1], block]))(
    "%s applies on the server (schema, CEL, strict fields)",
    async (_kind, block) => {
      const args = [
        "apply",
        "--server-side",
        "--dry-run=server",
        "--field-manager=readme",
        "-f",
        "-",
      ];
      const result = await admin(args, block);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/serverside-applied \(server dry run\)/);
    },
  );
});
