/**
 * A broken admission rule: which field, what value it holds, and the rule it breaks, worded
 * so that the rendered text reads `spec.x: "value" must ...`. Every rejection of the webhook
 * is a list of these, so every message names the field, the value and the rule.
 */
export interface Violation {
  /** Path of the field, e.g. `spec.ipv4Config.serverIP` or `spec.networkConfigs[1].macAddress`. */
  readonly field: string;
  /** The value as the user wrote it. */
  readonly value: string;
  /** The rule, starting with a verb: "must lie inside spec.ipv4Config.cidr 10.0.0.0/24". */
  readonly rule: string;
}

/** `spec.x: "value" must ...`: one violation as users read it. */
export function formatViolation(violation: Violation): string {
  return `${violation.field}: ${JSON.stringify(violation.value)} ${violation.rule}`;
}

/**
 * The message of a rejection: `<subject>: <violation>; <violation>…`. Rules avoid `;` in their
 * own wording, so the separator stays unambiguous.
 */
export function formatViolations(subject: string, violations: readonly Violation[]): string {
  return `${subject}: ${violations.map(formatViolation).join("; ")}`;
}

/**
 * The violations of `next` that `previous` did not already have. An update is judged only by
 * what it makes worse (the API server ratchets CRD schema rules the same way since 1.30), so
 * a pool whose network was deleted under it can still be paused or have its options edited.
 */
export function newViolations(
  next: readonly Violation[],
  previous: readonly Violation[],
): Violation[] {
  const seen = new Set(previous.map(formatViolation));
  return next.filter((violation) => !seen.has(formatViolation(violation)));
}
