import type { IpPool, IpPoolStatus } from "../api/types.js";

/** Changes of `status.ipv4.allocated`: IP -> new value, null to remove the entry. */
export type AllocatedChanges = Map<string, string | null>;

/** What one pool status write should bring about. */
export interface StatusChanges {
  allocated: AllocatedChanges;
  /** Counters of the dynamic range, when the pool's allocations are known. */
  counts?: { used: number; available: number };
  /** The status after every field mutation (conditions, agentPodRef); `ipv4` is ignored. */
  status: IpPoolStatus;
}

/** Status fields other than `ipv4` and `lastUpdate`, compared and patched as wholes. */
const WHOLE_FIELDS = ["conditions", "agentPodRef"] as const;

/**
 * The entries that turn `current` into `wanted`: changed or new entries with their value,
 * vanished entries with null.
 */
export function allocatedDiff(
  current: Readonly<Record<string, string>> | undefined,
  wanted: Readonly<Record<string, string>>,
): AllocatedChanges {
  const changes: AllocatedChanges = new Map();
  for (const [ip, value] of Object.entries(wanted)) {
    if (current?.[ip] !== value) changes.set(ip, value);
  }
  for (const ip of Object.keys(current ?? {})) {
    if (!(ip in wanted)) changes.set(ip, null);
  }
  return changes;
}

/**
 * The JSON merge patch (RFC 7386) of the status subresource that applies `changes` to `base`,
 * or undefined when `base` says it all already. The patch carries `base`'s resourceVersion,
 * which the API server checks: a pool changed since `base` was read is answered with 409, so a
 * write computed from an outdated view can never land.
 */
export function statusPatch(base: IpPool, changes: StatusChanges, now: Date): object | undefined {
  const status: Record<string, unknown> = {};
  const ipv4 = ipv4Patch(base.status, changes);
  if (ipv4) status.ipv4 = ipv4;
  for (const field of WHOLE_FIELDS) {
    const wanted = changes.status[field];
    if (!sameJson(wanted, base.status?.[field])) {
      status[field] = wanted ?? null;
    }
  }
  if (Object.keys(status).length === 0) return undefined;
  status.lastUpdate = now.toISOString();
  return { metadata: { resourceVersion: base.metadata.resourceVersion }, status };
}

function ipv4Patch(
  current: IpPoolStatus | undefined,
  changes: StatusChanges,
): Record<string, unknown> | undefined {
  const patch: Record<string, unknown> = {};
  const allocated: Record<string, string | null> = {};
  const existing = current?.ipv4?.allocated ?? {};
  for (const [ip, value] of changes.allocated) {
    if ((existing[ip] ?? null) !== value) allocated[ip] = value;
  }
  if (Object.keys(allocated).length > 0) patch.allocated = allocated;
  if (changes.counts) {
    if (current?.ipv4?.used !== changes.counts.used) patch.used = changes.counts.used;
    if (current?.ipv4?.available !== changes.counts.available) {
      patch.available = changes.counts.available;
    }
  }
  return Object.keys(patch).length > 0 ? patch : undefined;
}

/**
 * Deep equality of JSON values, whatever the order of object keys: objects read back from the
 * API server have their keys sorted, objects made here do not, and a difference in order only
 * must never cause a write (each write would cause the next one through the watch).
 */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)))
      : v,
  );
}
