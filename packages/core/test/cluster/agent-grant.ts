/**
 * The read access the controller gives an agent to its own pool, made by hand for tests and
 * tools that run an agent with no controller serving its pool. It is the product's own grant
 * (src/controller/agent-access.ts), bound to the test cluster's agent identity.
 */
import type { IpPool } from "../../src/api/types.js";
import { agentRole, agentRoleBinding } from "../../src/controller/agent-access.js";
import { SYSTEM_NAMESPACE } from "./identities.js";
import { type Kubectl, mustKubectl } from "./kubectl.js";

/** The service account the test cluster's `agent` identity authenticates as. */
export const AGENT_ACCOUNT = { namespace: SYSTEM_NAMESPACE, serviceAccountName: "vm-dhcp-agent" };

/** Lets the `agent` identity read the pool `namespace/name`, which must exist. */
export async function grantAgentRead(admin: Kubectl, namespace: string, name: string) {
  const pool = JSON.parse(
    await mustKubectl(admin, ["get", "ippool", name, "-n", namespace, "-o", "json"]),
  ) as IpPool;
  const items = [agentRole(pool), agentRoleBinding(pool, AGENT_ACCOUNT)];
  const list = JSON.stringify({ apiVersion: "v1", kind: "List", items });
  await mustKubectl(
    admin,
    ["apply", "--server-side", "--field-manager=vm-dhcp-test", "-f", "-"],
    list,
  );
}
