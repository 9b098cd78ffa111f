import { describe, expect, it } from "vitest";
import { formatViolations, newViolations, type Violation } from "./violation.js";

const a: Violation = { field: "spec.a", value: "1", rule: "must be 2" };
const b: Violation = { field: "spec.b", value: "x", rule: "must be y" };

describe("formatViolations", () => {
  it("names the subject, then each field, value and rule, separated by semicolons", () => {
    expect(formatViolations("IPPool vms/net-a is invalid", [a, b])).toBe(
      'IPPool vms/net-a is invalid: spec.a: "1" must be 2; spec.b: "x" must be y',
    );
  });
});

describe("newViolations", () => {
  it.each([
    ["a create has nothing to compare with", [a, b], [], [a, b]],
    ["a violation the old object had is not held against the update", [a, b], [a], [b]],
    [
      "the same field breaking another rule is new",
      [{ ...a, rule: "must be 3" }],
      [a],
      [{ ...a, rule: "must be 3" }],
    ],
    ["fixing a violation leaves nothing", [], [a], []],
  ])("%s", (_why, next, previous, expected) => {
    expect(newViolations(next, previous)).toEqual(expected);
  });
});
