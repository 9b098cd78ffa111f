import { describe, expect, it } from "vitest";
import { OptionCode } from "../constants.js";
import { OPTION_BY_CODE, OPTION_LIST, OPTION_SPECS, optionLabel } from "./table.js";

describe("OPTION_SPECS", () => {
  it("gives every typed field its own code", () => {
    const codes = OPTION_LIST.map((spec) => spec.code);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it("uses only codes named in OptionCode, never Pad or End", () => {
    const named = new Set<number>(Object.values(OptionCode));
    for (const spec of OPTION_LIST) {
      expect(named.has(spec.code), `${spec.key}`).toBe(true);
      expect([OptionCode.Pad, OptionCode.End]).not.toContain(spec.code);
    }
  });

  it.each([
    ["lease time", "leaseTimeSeconds", OptionCode.IpAddressLeaseTime],
    ["message type", "messageType", OptionCode.DhcpMessageType],
    ["classless routes", "classlessStaticRoutes", OptionCode.ClasslessStaticRoute],
  ] as const)("maps %s to its RFC code", (_why, key, code) => {
    expect(OPTION_SPECS[key].code).toBe(code);
  });
});

describe("OPTION_BY_CODE", () => {
  it("dispatches every listed code and nothing else", () => {
    const listed = OPTION_BY_CODE.filter((spec) => spec !== undefined);
    expect(listed).toHaveLength(OPTION_LIST.length);
    expect(OPTION_BY_CODE[OptionCode.Router]?.key).toBe("routers");
    expect(OPTION_BY_CODE[250]).toBeUndefined();
  });
});

describe("optionLabel", () => {
  it.each([
    ["a typed option", 51, "lease time"],
    ["an option kept raw", 250, "unknown"],
  ])("names %s", (_why, code, label) => {
    expect(optionLabel(code)).toBe(label);
  });
});
