import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (pkg: string) =>
  fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

// Workspace packages resolve to their TypeScript sources, so tests never run against a stale build.
export default defineConfig({
  resolve: {
    alias: {
      "@vm-dhcp/dhcp-codec": src("dhcp-codec"),
      "@vm-dhcp/ipam": src("ipam"),
      "@vm-dhcp/core": src("core"),
    },
  },
  test: {
    include: ["packages/*/src/**/*.test.ts", "packages/*/test/**/*.test.ts"],
    // One real kube-apiserver + etcd for the whole run (VM_DHCP_TEST_CLUSTER=off skips it).
    globalSetup: ["packages/core/test/cluster/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 300_000,
    reporters: ["default"],
  },
});
