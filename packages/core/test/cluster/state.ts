import type { TestClusterInfo } from "./test-cluster.js";

/** What the global setup hands to test files: a cluster, or why there is none. */
export type TestClusterState =
  | { readonly status: "ready"; readonly info: TestClusterInfo }
  /** The cluster cannot run on this machine; integration suites skip with this reason. */
  | { readonly status: "skipped"; readonly reason: string }
  /** The binaries exist but the cluster did not start: a real failure, reported by a test. */
  | { readonly status: "failed"; readonly error: string };

/** Key under which global-setup.ts provides the state (vitest `provide`/`inject`). */
export const TEST_CLUSTER_KEY = "testCluster";

declare module "vitest" {
  export interface ProvidedContext {
    testCluster: TestClusterState;
  }
}
