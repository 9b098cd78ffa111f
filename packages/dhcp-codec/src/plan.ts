import { OptionCode } from "./constants.js";
import { DhcpEncodeError, invalidValue } from "./errors.js";
import { bytesCodec, requireBytes } from "./options/bytes.js";
import type { OptionCodec } from "./options/codec.js";
import { type KeyedOptionSpec, OPTION_BY_CODE, OPTION_LIST } from "./options/table.js";
import { requireInteger } from "./options/uint.js";
import type { DhcpOptions, RawOption } from "./types.js";

/**
 * One option ready to place: its code, error name, value length, codec and value. `length`
 * comes from the codec's `encodedLength`, so `value` is checked and is written as it is.
 */
export interface PlannedOption {
  readonly code: number;
  readonly field: string;
  readonly length: number;
  readonly codec: OptionCodec<unknown>;
  readonly value: unknown;
}

/** Typed options in emission order: 53 and 52 first, 82 held back for the very end. */
const LEADING = [OptionCode.DhcpMessageType, OptionCode.OptionOverload] as const;
const LEADING_SPECS: readonly KeyedOptionSpec[] = LEADING.map(
  (code) => OPTION_BY_CODE[code],
).filter((spec) => spec !== undefined);
/** The typed options a preferred order may move: all but 53, 52 and 82, by code. */
const MOVABLE: readonly KeyedOptionSpec[] = OPTION_LIST.filter(
  (spec) =>
    !(LEADING as readonly number[]).includes(spec.code) &&
    spec.code !== OptionCode.RelayAgentInformation,
);
const MOVABLE_CODES = new Set(MOVABLE.map((spec) => spec.code));
const TYPED_ORDER: readonly KeyedOptionSpec[] = [...LEADING_SPECS, ...MOVABLE];
const RELAY_AGENT = OPTION_BY_CODE[OptionCode.RelayAgentInformation];

/**
 * Validates the options of a message and lists them in the order {@link encode} writes
 * them: message type first (RFC 2131 §4.1 does not require it, but many clients and relays
 * look there first), overload next so it lands in the options field (RFC 2131 §4.1), then
 * the typed options of `preferred` in its order (RFC 2132 §9.8), then the rest by code, then
 * unknown options as given, then relay agent information last (RFC 3046 §2.1). Throws
 * `DhcpEncodeError` for a value that cannot be written.
 */
export function planOptions(
  options: DhcpOptions,
  preferred: readonly number[] = [],
): PlannedOption[] {
  if (typeof options !== "object" || options === null) {
    throw invalidValue("options", "expected an object");
  }
  const planned: PlannedOption[] = [];
  for (const spec of typedOrder(preferred)) addTyped(planned, spec, options);
  addUnknown(planned, options.unknown);
  if (RELAY_AGENT) addTyped(planned, RELAY_AGENT, options);
  return planned;
}

/** {@link TYPED_ORDER} with the typed codes of `preferred` moved up behind 53 and 52. */
function typedOrder(preferred: readonly number[]): readonly KeyedOptionSpec[] {
  if (preferred.length === 0) return TYPED_ORDER;
  const first = new Set<KeyedOptionSpec>();
  for (const code of preferred) {
    const spec = MOVABLE_CODES.has(code) ? OPTION_BY_CODE[code] : undefined;
    if (spec) first.add(spec);
  }
  if (first.size === 0) return TYPED_ORDER;
  return [...LEADING_SPECS, ...first, ...MOVABLE.filter((spec) => !first.has(spec))];
}

function addTyped(planned: PlannedOption[], spec: KeyedOptionSpec, options: DhcpOptions) {
  const value = options[spec.key];
  if (value === undefined) return;
  const length = spec.codec.encodedLength(value, spec.field);
  planned.push({ code: spec.code, field: spec.field, length, codec: spec.codec, value });
}

/** Adds raw options, refusing codes that would merge with another option on the wire. */
function addUnknown(planned: PlannedOption[], unknown: RawOption[] | undefined) {
  if (unknown === undefined) return;
  if (!Array.isArray(unknown)) throw invalidValue("options.unknown", "expected an array");
  const seen = new Set<number>();
  for (const option of unknown) {
    const code = requireInteger(option?.code, 1, 254, "options.unknown code");
    const field = `option ${code} (unknown)`;
    if (OPTION_BY_CODE[code] || seen.has(code)) throw duplicate(code, field);
    seen.add(code);
    const data = requireBytes(option.data, field);
    planned.push({ code, field, length: data.length, codec: bytesCodec, value: data });
  }
}

function duplicate(code: number, field: string): DhcpEncodeError {
  const typed = OPTION_BY_CODE[code];
  const reason = typed
    ? `option ${code} has the typed field "${typed.key}"; set that instead`
    : `option ${code} is listed twice; instances of one code merge on the wire (RFC 3396)`;
  return new DhcpEncodeError("DUPLICATE_OPTION", field, reason);
}
