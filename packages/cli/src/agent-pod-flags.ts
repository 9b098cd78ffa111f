/*
 * The controller's flags for the agent pods' pull secrets, resources, tolerations, node
 * selector and priority class. The chart sets them through the environment as JSON (or a
 * comma list); each is checked at start, so a typo fails with the flag named instead of as
 * an agent pod the API server refuses on every reconcile.
 */
import type { AgentPodSettings } from "@vm-dhcp/core";

/**
 * The flags as yargs hands them over: text, from the command line or the environment, or a
 * list of texts when a flag is given more than once.
 */
export interface AgentPodFlags {
  "agent-image-pull-secrets"?: string | string[] | undefined;
  "agent-resources"?: string | string[] | undefined;
  "agent-tolerations"?: string | string[] | undefined;
  "agent-node-selector"?: string | string[] | undefined;
  "agent-priority-class-name"?: string | string[] | undefined;
}

/** What the flags set on every agent pod. */
export type AgentPodPlacement = Pick<
  AgentPodSettings,
  "imagePullSecrets" | "resources" | "tolerations" | "nodeSelector" | "priorityClassName"
>;

/** A Secret or PriorityClass name: a lower-case DNS subdomain of at most 253 characters. */
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const MAX_SUBDOMAIN_LENGTH = 253;
/**
 * A resource quantity as the API server parses it, without a sign: a decimal number and a
 * binary (Ki..Ei), decimal (n, u, m, k, M..E) or exponent (e3, E-2) suffix.
 */
const QUANTITY = /^(\d+(\.\d*)?|\.\d+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$/;
const TOLERATION_FIELDS = new Set(["key", "operator", "value", "effect", "tolerationSeconds"]);
const TOLERATION_OPERATORS = new Set(["Exists", "Equal"]);
const TAINT_EFFECTS = new Set(["NoSchedule", "PreferNoSchedule", "NoExecute"]);

const RESOURCES_EXAMPLE = '{"requests":{"cpu":"10m","memory":"64Mi"},"limits":{"memory":"256Mi"}}';
const TOLERATIONS_EXAMPLE = '[{"key":"dedicated","operator":"Exists","effect":"NoSchedule"}]';
const NODE_SELECTOR_EXAMPLE = '{"kubernetes.io/os":"linux"}';

/** A bad flag value: the message names the flag and quotes the value, on one line. */
class FlagError extends Error {
  constructor(flag: string, text: string, problem: string) {
    super(`${flag}=${JSON.stringify(text)}: ${problem}`);
    this.name = "FlagError";
  }
}

/** Parses and checks every agent pod flag; throws one line naming the flag and its value. */
export function agentPodPlacement(argv: AgentPodFlags): AgentPodPlacement {
  const placement: AgentPodPlacement = {};
  // A flag given twice reaches us as a list: pull secrets add up, the others take the last.
  const secrets = joined(argv["agent-image-pull-secrets"]);
  if (secrets !== undefined) placement.imagePullSecrets = parsePullSecrets(secrets);
  const resources = last(argv["agent-resources"]);
  if (resources !== undefined) placement.resources = parseResources(resources);
  const tolerations = last(argv["agent-tolerations"]);
  if (tolerations !== undefined) placement.tolerations = parseTolerations(tolerations);
  const selector = last(argv["agent-node-selector"]);
  if (selector !== undefined) placement.nodeSelector = parseNodeSelector(selector);
  const priorityClass = last(argv["agent-priority-class-name"]);
  if (priorityClass) {
    checkName("--agent-priority-class-name", priorityClass, priorityClass, "PriorityClass");
    placement.priorityClassName = priorityClass;
  }
  return placement;
}

/** `regcred,mirror`: Secret names, commas between, blanks ignored. */
export function parsePullSecrets(text: string): string[] {
  const names = text
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  for (const name of names) checkName("--agent-image-pull-secrets", text, name, "Secret");
  return names;
}

/** `{"requests":{...},"limits":{...}}`, each a map of resource name to quantity. */
export function parseResources(text: string): NonNullable<AgentPodSettings["resources"]> {
  const flag = "--agent-resources";
  const value = parseJson(flag, text, RESOURCES_EXAMPLE);
  const fail = (problem: string) =>
    new FlagError(flag, text, `${problem}; e.g. ${RESOURCES_EXAMPLE}`);
  if (!isPlainObject(value)) throw fail("expected a JSON object");
  const resources: Record<string, Record<string, string>> = {};
  for (const [field, amounts] of Object.entries(value)) {
    if (field !== "requests" && field !== "limits") {
      throw fail(`unknown field ${JSON.stringify(field)}, expected requests and limits`);
    }
    if (!isPlainObject(amounts)) throw fail(`${field} must be an object`);
    resources[field] = {};
    for (const [resource, amount] of Object.entries(amounts)) {
      const quantity = typeof amount === "number" ? String(amount) : amount;
      if (typeof quantity !== "string" || !QUANTITY.test(quantity) || resource === "") {
        throw fail(`${field}.${resource}: ${JSON.stringify(amount)} is not a quantity`);
      }
      resources[field][resource] = quantity;
    }
  }
  return resources;
}

/** `[{"key":...,"operator":...,"value":...,"effect":...,"tolerationSeconds":...}]`. */
export function parseTolerations(text: string): NonNullable<AgentPodSettings["tolerations"]> {
  const flag = "--agent-tolerations";
  const value = parseJson(flag, text, TOLERATIONS_EXAMPLE);
  const fail = (problem: string) =>
    new FlagError(flag, text, `${problem}; e.g. ${TOLERATIONS_EXAMPLE}`);
  if (!Array.isArray(value)) throw fail("expected a JSON list of tolerations");
  return value.map((item, index) => {
    const problem = tolerationProblem(item);
    if (problem) throw fail(`toleration ${index}: ${problem}`);
    return item as NonNullable<AgentPodSettings["tolerations"]>[number];
  });
}

/** `{"label":"value",...}`: node labels, string values only. */
export function parseNodeSelector(text: string): Record<string, string> {
  const flag = "--agent-node-selector";
  const value = parseJson(flag, text, NODE_SELECTOR_EXAMPLE);
  const fail = (problem: string) =>
    new FlagError(flag, text, `${problem}; e.g. ${NODE_SELECTOR_EXAMPLE}`);
  if (!isPlainObject(value)) throw fail("expected a JSON object of node labels");
  for (const [label, wanted] of Object.entries(value)) {
    if (label === "") throw fail("a label name is empty");
    if (typeof wanted !== "string") throw fail(`${label}: the value must be a string`);
  }
  return value as Record<string, string>;
}

/** Why `item` is no toleration the API server accepts, or undefined. */
function tolerationProblem(item: unknown): string | undefined {
  if (!isPlainObject(item)) return "expected an object";
  const unknown = Object.keys(item).find((field) => !TOLERATION_FIELDS.has(field));
  if (unknown !== undefined) return `unknown field ${JSON.stringify(unknown)}`;
  const { key, operator = "Equal", value, effect, tolerationSeconds } = item;
  for (const [field, text] of Object.entries({ key, operator, value, effect })) {
    if (text !== undefined && typeof text !== "string") return `${field} must be a string`;
  }
  if (!TOLERATION_OPERATORS.has(operator as string)) return "operator must be Exists or Equal";
  if (operator === "Exists" && value) return "an Exists toleration takes no value";
  if (operator === "Equal" && !key) return "an Equal toleration needs a key";
  if (effect && !TAINT_EFFECTS.has(effect as string)) {
    return "effect must be NoSchedule, PreferNoSchedule or NoExecute";
  }
  if (tolerationSeconds !== undefined) {
    if (!Number.isInteger(tolerationSeconds)) return "tolerationSeconds must be a whole number";
    if (effect !== "NoExecute") return "tolerationSeconds goes with effect NoExecute only";
  }
  return undefined;
}

function joined(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(",") : value;
}

function last(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.at(-1) : value;
}

function parseJson(flag: string, text: string, example: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = (error as Error).message.split("\n")[0];
    throw new FlagError(flag, text, `not JSON (${reason}); e.g. ${example}`);
  }
}

function checkName(flag: string, text: string, name: string, kind: string): void {
  if (name.length <= MAX_SUBDOMAIN_LENGTH && DNS_SUBDOMAIN.test(name)) return;
  const problem =
    `${JSON.stringify(name)} is not a ${kind} name ` +
    "(lower-case letters, digits, '-' and '.', at most 253)";
  throw new FlagError(flag, text, problem);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
