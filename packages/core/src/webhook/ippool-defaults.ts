import { formatCidr, formatIpv4, type Ipv4Cidr } from "@vm-dhcp/ipam";
import type { IpPool } from "../api/types.js";
import { addressOf } from "./addresses.js";
import { IPPOOL_FIELDS, poolCidr } from "./ippool-rules.js";
import type { Violation } from "./violation.js";

/** One RFC 6902 JSON Patch operation, as admission responses carry them. */
export interface JsonPatchOperation {
  readonly op: "add" | "replace" | "remove";
  readonly path: string;
  readonly value?: unknown;
}

/** What defaulting did: the patch, one warning per defaulted field, or why it could not. */
export interface Defaulting {
  readonly patch: JsonPatchOperation[];
  readonly warnings: string[];
  readonly violations: Violation[];
}

/**
 * Fills what an IPPool create may leave out (SPEC section 2): `pool.start` and `pool.end`
 * become the first and last usable addresses of the CIDR, and `serverIP` the lowest usable
 * address that is not the router, not excluded, not the range end and not an address a VM
 * holds or asks for (`taken`). Each defaulted field is reported as an admission warning,
 * which kubectl prints as `Warning: ...`; nothing is written into the object besides the
 * fields themselves.
 *
 * Runs before schema validation, so a CIDR it cannot read leaves everything to the schema
 * and the validating webhook. A server it cannot place is a violation.
 */
export function defaultIpPool(pool: IpPool, taken: ReadonlyMap<number, string>): Defaulting {
  const result: Defaulting = { patch: [], warnings: [], violations: [] };
  const config = pool.spec?.ipv4Config;
  const parsed = config?.cidr === undefined ? undefined : poolCidr(config.cidr);
  if (!config || !parsed || "violation" in parsed) return result;

  const end = defaultRange(config, parsed.cidr, result);
  if (config.serverIP === undefined) defaultServer(config, parsed.cidr, end, taken, result);
  return result;
}

type Config = IpPool["spec"]["ipv4Config"];

/** Fills `pool.start` and `pool.end`; returns the range end. */
function defaultRange(config: Config, cidr: Ipv4Cidr, result: Defaulting): string {
  const block = formatCidr(cidr);
  const start = config.pool?.start ?? formatIpv4(cidr.firstUsable);
  const end = config.pool?.end ?? formatIpv4(cidr.lastUsable);
  if (!config.pool) {
    result.patch.push({ op: "add", path: "/spec/ipv4Config/pool", value: { start, end } });
  } else {
    if (config.pool.start === undefined) {
      result.patch.push({ op: "add", path: "/spec/ipv4Config/pool/start", value: start });
    }
    if (config.pool.end === undefined) {
      result.patch.push({ op: "add", path: "/spec/ipv4Config/pool/end", value: end });
    }
  }
  if (config.pool?.start === undefined) {
    result.warnings.push(
      `${IPPOOL_FIELDS.start} set to ${start}, the first usable address of ${block}`,
    );
  }
  if (config.pool?.end === undefined) {
    result.warnings.push(`${IPPOOL_FIELDS.end} set to ${end}, the last usable address of ${block}`);
  }
  return end;
}

/** Fills `serverIP` with the lowest usable address nothing else has, or says why not. */
function defaultServer(
  config: Config,
  cidr: Ipv4Cidr,
  end: string,
  taken: ReadonlyMap<number, string>,
  result: Defaulting,
): void {
  const block = formatCidr(cidr);
  const blocked = new Set<number | undefined>([
    addressOf(config.router),
    addressOf(end),
    ...(config.pool?.exclude ?? []).map(addressOf),
    ...taken.keys(),
  ]);
  for (let address = cidr.firstUsable; address <= cidr.lastUsable; address++) {
    if (blocked.has(address)) continue;
    const serverIP = formatIpv4(address);
    result.patch.push({ op: "add", path: "/spec/ipv4Config/serverIP", value: serverIP });
    result.warnings.push(
      `${IPPOOL_FIELDS.serverIP} set to ${serverIP}, the first free address of ${block}`,
    );
    return;
  }
  const rule =
    `is not given and cannot be defaulted: every usable address of ${block} is the router, ` +
    "excluded, the range end or a VM's (set it explicitly)";
  result.violations.push({ field: IPPOOL_FIELDS.serverIP, value: "", rule });
}

/**
 * On update, puts back a defaulted field the request left out (a `kubectl replace` of the
 * original manifest, or any update built from it), with its stored value. These fields are
 * immutable, so the stored value is the only one the update could carry anyway. (A
 * server-side apply keeps them by itself: fields a webhook set belong to no field manager.)
 */
export function restoreIpPoolDefaults(pool: IpPool, old: IpPool): JsonPatchOperation[] {
  const config = pool.spec?.ipv4Config;
  const before = old.spec?.ipv4Config;
  if (!config || !before) return [];
  const patch: JsonPatchOperation[] = [];
  if (config.serverIP === undefined && before.serverIP !== undefined) {
    patch.push({ op: "add", path: "/spec/ipv4Config/serverIP", value: before.serverIP });
  }
  if (!config.pool && before.pool) {
    const { start, end } = before.pool;
    patch.push({ op: "add", path: "/spec/ipv4Config/pool", value: { start, end } });
  } else if (config.pool && before.pool) {
    for (const key of ["start", "end"] as const) {
      if (config.pool[key] === undefined && before.pool[key] !== undefined) {
        patch.push({ op: "add", path: `/spec/ipv4Config/pool/${key}`, value: before.pool[key] });
      }
    }
  }
  return patch;
}
