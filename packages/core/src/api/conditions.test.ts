import { describe, expect, it } from "vitest";
import { getCondition, isConditionTrue, setCondition } from "./conditions.js";
import type { Condition } from "./types.js";

const t0 = new Date("2026-01-01T00:00:00Z");
const t1 = new Date("2026-01-01T00:05:00Z");

describe("setCondition", () => {
  it("adds a missing condition with both times set to now", () => {
    const list = setCondition([], { type: "Registered", status: "True", reason: "PodCreated" }, t0);
    expect(list).toEqual([
      {
        type: "Registered",
        status: "True",
        reason: "PodCreated",
        message: "",
        lastUpdateTime: t0.toISOString(),
        lastTransitionTime: t0.toISOString(),
      },
    ]);
  });

  it("returns the same array when nothing changes, so callers can skip the write", () => {
    const list = setCondition([], { type: "AgentReady", status: "False", message: "waiting" }, t0);
    expect(
      setCondition(list, { type: "AgentReady", status: "False", message: "waiting" }, t1),
    ).toBe(list);
  });

  it.each([
    ["a new message keeps the transition time", "False", t0],
    ["a status change moves the transition time", "True", t1],
  ] as const)("%s", (_why, status, transition) => {
    const list = setCondition([], { type: "CacheReady", status: "False", message: "a" }, t0);
    const [next] = setCondition(list, { type: "CacheReady", status, message: "b" }, t1);
    expect(next?.lastUpdateTime).toBe(t1.toISOString());
    expect(next?.lastTransitionTime).toBe(transition.toISOString());
  });

  it("replaces only the condition of the given type and keeps the order", () => {
    let list: Condition[] = [];
    list = setCondition(list, { type: "Registered", status: "True" }, t0);
    list = setCondition(list, { type: "Stopped", status: "False" }, t0);
    const before = list[1];
    list = setCondition(list, { type: "Registered", status: "False" }, t1);
    expect(list.map((c) => c.type)).toEqual(["Registered", "Stopped"]);
    expect(list[1]).toBe(before);
  });
});

describe("getCondition / isConditionTrue", () => {
  it.each([
    ["absent list", undefined, false],
    ["status False", [{ type: "Allocated", status: "False" }], false],
    ["status True", [{ type: "Allocated", status: "True" }], true],
  ] as const)("%s", (_why, conditions, expected) => {
    expect(isConditionTrue(conditions as Condition[] | undefined, "Allocated")).toBe(expected);
    expect(getCondition(conditions as Condition[] | undefined, "Allocated") !== undefined).toBe(
      conditions !== undefined,
    );
  });
});
