import type { Condition, ConditionStatus } from "./types.js";

/** What a caller wants a condition to say; times are filled in by {@link setCondition}. */
export interface ConditionUpdate<Type extends string> {
  type: Type;
  status: ConditionStatus;
  reason?: string;
  message?: string;
}

/** Returns the condition of `type`, if present. */
export function getCondition<Type extends string>(
  conditions: readonly Condition<Type>[] | undefined,
  type: Type,
): Condition<Type> | undefined {
  return conditions?.find((condition) => condition.type === type);
}

/** True when the condition of `type` is present with status `True`. */
export function isConditionTrue<Type extends string>(
  conditions: readonly Condition<Type>[] | undefined,
  type: Type,
): boolean {
  return getCondition(conditions, type)?.status === "True";
}

/**
 * Returns a new condition list with `update` applied; the input is not modified.
 *
 * `lastTransitionTime` moves only when the status changes, so operators can see how long a
 * pool has been not ready. `lastUpdateTime` moves when anything the condition says changes.
 * When nothing changes the same array is returned, which lets callers skip a status write by
 * comparing identity.
 */
export function setCondition<Type extends string>(
  conditions: readonly Condition<Type>[] | undefined,
  update: ConditionUpdate<Type>,
  now: Date,
): Condition<Type>[] {
  const list = conditions ?? [];
  const current = getCondition(list, update.type);
  const reason = update.reason ?? "";
  const message = update.message ?? "";
  if (
    current &&
    current.status === update.status &&
    (current.reason ?? "") === reason &&
    (current.message ?? "") === message
  ) {
    return list as Condition<Type>[];
  }

  const stamp = now.toISOString();
  const next: Condition<Type> = {
    type: update.type,
    status: update.status,
    reason,
    message,
    lastUpdateTime: stamp,
    lastTransitionTime:
      current && current.status === update.status ? current.lastTransitionTime : stamp,
  };
  return current
    ? list.map((condition) => (condition.type === update.type ? next : condition))
    : [...list, next];
}
