import { randomBytes } from "node:crypto";
import { describe, inject, it } from "vitest";
import { type Kubectl, mustKubectl } from "./kubectl.js";
import { TEST_CLUSTER_KEY, type TestClusterState } from "./state.js";
import type { TestClusterInfo } from "./test-cluster.js";

const NOT_WIRED =
  "no test cluster was provided: add packages/core/test/cluster/global-setup.ts to the " +
  "vitest globalSetup";

/** The state provided by global-setup.ts, or "skipped" when that setup is not configured. */
export function testClusterState(): TestClusterState {
  return inject(TEST_CLUSTER_KEY) ?? { status: "skipped", reason: NOT_WIRED };
}

/**
 * `describe` for suites that need the test cluster. Where it cannot run, the suite shows as
 * one skipped test whose name gives the reason (also printed); where it failed to start, as
 * one failing test with the error. `body` runs only with a ready cluster.
 */
export function describeWithCluster(name: string, body: (cluster: TestClusterInfo) => void): void {
  const state = testClusterState();
  if (state.status === "ready") {
    describe(name, () => body(state.info));
  } else if (state.status === "skipped") {
    console.warn(`${name}: SKIPPED, ${state.reason}`);
    describe.skip(name, () => {
      it(`needs the test cluster (${state.reason})`, () => {});
    });
  } else {
    describe(name, () => {
      it("starts the test cluster", () => {
        throw new Error(`the test cluster did not start:\n${state.error}`);
      });
    });
  }
}

/** Creates a namespace `<prefix>-<random>` for one test file and returns its name. */
export async function createNamespace(admin: Kubectl, prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString("hex")}`;
  await mustKubectl(admin, ["create", "namespace", name]);
  return name;
}
