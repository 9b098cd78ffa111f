/**
 * Stable codes of {@link IpamError}. They are part of the public API: callers switch on them,
 * so a code is never renamed or reused for another meaning.
 *
 * - `INVALID_ADDRESS`: a string is not a strict dotted-quad IPv4 address.
 * - `INVALID_CIDR`: a string is not a canonical `a.b.c.d/n` block.
 * - `INVALID_POOL`: a pool definition is rejected; `field` and `value` name the culprit.
 * - `INVALID_OWNER`: an owner is empty or spells one of the status marks.
 * - `INVALID_SNAPSHOT`: a status map cannot be restored; `rejected` lists every bad entry.
 * - `OUT_OF_RANGE`: the address is outside the CIDR, or is its network or broadcast address.
 * - `EXCLUDED`, `RESERVED`: the address is excluded, or held by the DHCP server or router.
 * - `ALREADY_ALLOCATED`: the address belongs to another owner, named in `owner`.
 * - `OWNER_HAS_ADDRESS`: the owner already holds another address, given in `value`.
 * - `EXHAUSTED`: no free address is left in the dynamic range.
 * - `NOT_ALLOCATED`: release of an owner or address that holds nothing.
 * - `UNKNOWN_POOL`, `POOL_EXISTS`: multi-pool lookups by key.
 */
export type IpamErrorCode =
  | "INVALID_ADDRESS"
  | "INVALID_CIDR"
  | "INVALID_POOL"
  | "INVALID_OWNER"
  | "INVALID_SNAPSHOT"
  | "OUT_OF_RANGE"
  | "EXCLUDED"
  | "RESERVED"
  | "ALREADY_ALLOCATED"
  | "OWNER_HAS_ADDRESS"
  | "EXHAUSTED"
  | "NOT_ALLOCATED"
  | "UNKNOWN_POOL"
  | "POOL_EXISTS";

/** One entry of a status map that {@link IpamError} `INVALID_SNAPSHOT` refused. */
export interface RejectedEntry {
  /** The key as found in the map (meant to be an IPv4 address). */
  readonly ip: string;
  /** The value as found in the map (an owner, or a mark). */
  readonly value: string;
  /** Why the entry cannot be honoured. */
  readonly error: IpamError;
}

/** Optional details of an {@link IpamError}; which ones are set depends on the code. */
export interface IpamErrorDetails {
  /** The input field at fault, e.g. `start` or `exclude[2]`. */
  readonly field?: string;
  /** The offending value as given, or the address an owner already holds. */
  readonly value?: string;
  /** The current owner of the address (`ALREADY_ALLOCATED`, `OWNER_HAS_ADDRESS`). */
  readonly owner?: string;
  /** Every refused entry (`INVALID_SNAPSHOT`). */
  readonly rejected?: readonly RejectedEntry[];
  /** The lower-level error, when one is wrapped. */
  readonly cause?: unknown;
}

/**
 * An expected failure of an IPAM operation: bad input, or a request the pool cannot grant.
 * Switch on `code`; the message is for humans and may change.
 */
export class IpamError extends Error {
  /** Stable machine-readable reason. */
  readonly code: IpamErrorCode;
  /** See {@link IpamErrorDetails.field}. */
  readonly field: string | undefined;
  /** See {@link IpamErrorDetails.value}. */
  readonly value: string | undefined;
  /** See {@link IpamErrorDetails.owner}. */
  readonly owner: string | undefined;
  /** See {@link IpamErrorDetails.rejected}. */
  readonly rejected: readonly RejectedEntry[] | undefined;

  constructor(code: IpamErrorCode, message: string, details: IpamErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "IpamError";
    this.code = code;
    this.field = details.field;
    this.value = details.value;
    this.owner = details.owner;
    this.rejected = details.rejected;
  }

  /** A plain object for structured logs: code, message and the details that are set. */
  toJSON(): Record<string, unknown> {
    const json: Record<string, unknown> = {
      name: this.name,
      code: this.code,
      message: this.message,
    };
    if (this.field !== undefined) json.field = this.field;
    if (this.value !== undefined) json.value = this.value;
    if (this.owner !== undefined) json.owner = this.owner;
    if (this.rejected !== undefined) json.rejected = this.rejected;
    return json;
  }
}

/**
 * A broken internal invariant of the allocator (a bug, never bad input). Kept apart from
 * {@link IpamError} so that callers do not mistake it for a refusal they can handle.
 */
export class IpamInvariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IpamInvariantError";
  }
}

/**
 * Outcome of a pool mutation: the value, or the {@link IpamError} explaining the refusal.
 * Mutations return it instead of throwing, because refusals such as `EXHAUSTED` are normal.
 */
export type IpamResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: IpamError };

/** Wraps a value as a successful {@link IpamResult}. */
export function succeed<T>(value: T): IpamResult<T> {
  return { ok: true, value };
}

/** Wraps an error as a failed {@link IpamResult}. */
export function fail<T>(error: IpamError): IpamResult<T> {
  return { ok: false, error };
}
