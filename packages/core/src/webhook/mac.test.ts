import { describe, expect, it } from "vitest";
import { macProblem, normalizeMac } from "./mac.js";

describe("macProblem", () => {
  it.each([
    ["a locally administered KubeVirt MAC", "52:54:00:12:34:56", undefined],
    ["upper case: the agent compares in lower case", "52:54:00:AB:CD:EF", undefined],
    ["hyphens would never match a chaddr written with colons", "52-54-00-12-34-56", "malformed"],
    ["Cisco dotted form", "5254.0012.3456", "malformed"],
    ["five octets", "52:54:00:12:34", "malformed"],
    ["seven octets", "52:54:00:12:34:56:78", "malformed"],
    ["single-digit octets", "52:54:0:12:34:56", "malformed"],
    ["a non-hex digit", "52:54:00:12:34:5g", "malformed"],
    ["broadcast", "ff:ff:ff:ff:ff:ff", "multicast"],
    ["an IPv4 multicast MAC", "01:00:5e:00:00:01", "multicast"],
    ["all zeros", "00:00:00:00:00:00", "zero"],
  ])("%s: %s", (_why, mac, expected) => {
    expect(macProblem(mac)).toBe(expected);
  });
});

describe("normalizeMac", () => {
  it("lower-cases so duplicates are found whatever the case", () => {
    expect(normalizeMac("52:54:00:AB:CD:EF")).toBe("52:54:00:ab:cd:ef");
  });
});
