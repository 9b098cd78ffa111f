import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";

/** The identities of the test cluster, each with its own token and kubeconfig. */
export type IdentityName = "admin" | "controller" | "agent" | "webhook";

/** Namespace of the vm-dhcp service accounts, as in the Helm install (SPEC section 7). */
export const SYSTEM_NAMESPACE = "harvester-system";

const serviceAccount = (name: string) => ({
  user: `system:serviceaccount:${SYSTEM_NAMESPACE}:${name}`,
  groups: ["system:serviceaccounts", `system:serviceaccounts:${SYSTEM_NAMESPACE}`],
});

/**
 * User and groups of each identity. The vm-dhcp roles authenticate with static tokens under
 * their service-account user names, so RBAC bindings to `kind: ServiceAccount` subjects (as
 * the Helm chart writes them) apply to them unchanged; no token controller is needed.
 */
export const IDENTITIES: Readonly<Record<IdentityName, { user: string; groups: string[] }>> = {
  admin: { user: "vm-dhcp-test-admin", groups: ["system:masters"] },
  controller: serviceAccount("vm-dhcp-controller"),
  agent: serviceAccount("vm-dhcp-agent"),
  webhook: serviceAccount("vm-dhcp-webhook"),
};

export const IDENTITY_NAMES = Object.keys(IDENTITIES) as IdentityName[];

/** A fresh random bearer token per identity. */
export function newTokens(): Record<IdentityName, string> {
  const entries = IDENTITY_NAMES.map((name) => [name, randomBytes(24).toString("hex")] as const);
  return Object.fromEntries(entries) as Record<IdentityName, string>;
}

/** Writes the `--token-auth-file` CSV: token,user,uid,"group1,group2". */
export async function writeTokenFile(
  path: string,
  tokens: Record<IdentityName, string>,
): Promise<void> {
  const lines = IDENTITY_NAMES.map((name) => {
    const { user, groups } = IDENTITIES[name];
    return `${tokens[name]},${user},${user},"${groups.join(",")}"`;
  });
  await writeFile(path, `${lines.join("\n")}\n`, { mode: 0o600 });
}

/** Writes one kubeconfig per identity into `dir` (JSON, which kubectl reads as YAML). */
export async function writeKubeconfigs(
  dir: string,
  server: string,
  caFile: string,
  tokens: Record<IdentityName, string>,
): Promise<Record<IdentityName, string>> {
  const paths = {} as Record<IdentityName, string>;
  for (const name of IDENTITY_NAMES) {
    const config = {
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "vm-dhcp-test", cluster: { server, "certificate-authority": caFile } }],
      users: [{ name, user: { token: tokens[name] } }],
      contexts: [{ name, context: { cluster: "vm-dhcp-test", user: name, namespace: "default" } }],
      "current-context": name,
    };
    paths[name] = join(dir, `kubeconfig-${name}.yaml`);
    await writeFile(paths[name], `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  }
  return paths;
}
