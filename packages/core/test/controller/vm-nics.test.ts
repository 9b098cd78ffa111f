import { describe, expect, it } from "vitest";
import { agentPodName, normalizeMac } from "../../src/controller/names.js";
import { vmNics } from "../../src/controller/vm-nics.js";
import { virtualMachine } from "./harness.js";

interface Row {
  why: string;
  nics: { name: string; network?: string; mac?: string }[];
  annotations: Record<string, string>;
  want: object[];
  problems: number;
}

describe("vmNics", () => {
  it.each<Row>([
    {
      why: "a spec MAC on a bare Multus name lives in the VM's namespace",
      nics: [{ name: "nic1", network: "net-a", mac: "52:54:00:AA:BB:01" }],
      annotations: {},
      want: [{ nic: "nic1", mac: "52:54:00:aa:bb:01", networkKey: "vms/net-a" }],
      problems: 0,
    },
    {
      why: "a namespaced Multus name is kept, the pod network skipped",
      nics: [
        { name: "default" },
        { name: "nic1", network: "other/net-b", mac: "52-54-00-aa-bb-02" },
      ],
      annotations: {},
      want: [{ nic: "nic1", mac: "52:54:00:aa:bb:02", networkKey: "other/net-b" }],
      problems: 0,
    },
    {
      why: "a MAC only in the annotation is used; a spec MAC wins over it",
      nics: [
        { name: "nic1", network: "net-a" },
        { name: "nic2", network: "net-a", mac: "52:54:00:aa:bb:04" },
      ],
      annotations: {
        "harvesterhci.io/mac-address": JSON.stringify({
          nic1: "52:54:00:aa:bb:03",
          nic2: "52:54:00:ff:ff:ff",
        }),
      },
      want: [
        { nic: "nic1", mac: "52:54:00:aa:bb:03", networkKey: "vms/net-a" },
        { nic: "nic2", mac: "52:54:00:aa:bb:04", networkKey: "vms/net-a" },
      ],
      problems: 0,
    },
    {
      why: "a malformed annotation is a problem, never a crash; other NICs still count",
      nics: [
        { name: "nic1", network: "net-a" },
        { name: "nic2", network: "net-a", mac: "52:54:00:aa:bb:05" },
      ],
      annotations: { "harvesterhci.io/mac-address": "[1, 2" },
      want: [{ nic: "nic2", mac: "52:54:00:aa:bb:05", networkKey: "vms/net-a" }],
      problems: 1,
    },
    {
      why: "a static-ip annotation sets the NIC's wanted address; a bad one is reported",
      nics: [
        { name: "nic1", network: "net-a", mac: "52:54:00:aa:bb:06" },
        { name: "nic2", network: "net-a", mac: "52:54:00:aa:bb:07" },
      ],
      annotations: {
        "static-ip.harvesterhci.io/nic1": "192.0.2.9",
        "static-ip.harvesterhci.io/nic2": "not-an-ip",
      },
      want: [
        { nic: "nic1", mac: "52:54:00:aa:bb:06", networkKey: "vms/net-a", ipAddress: "192.0.2.9" },
        { nic: "nic2", mac: "52:54:00:aa:bb:07", networkKey: "vms/net-a" },
      ],
      problems: 1,
    },
  ])("$why", ({ nics, annotations, want, problems }) => {
    const result = vmNics(virtualMachine("vms", "vm", nics, annotations));
    expect(result.nics).toEqual(want);
    expect(result.problems).toHaveLength(problems);
  });
});

describe("agentPodName", () => {
  it.each([
    { ns: "default", pool: "net-a", generation: 0, want: "default-net-a-agent" },
    { ns: "default", pool: "net-a", generation: 1, want: "default-net-a-agent-1" },
  ])("$ns/$pool generation $generation -> $want", ({ ns, pool, generation, want }) => {
    expect(agentPodName(ns, pool, generation)).toBe(want);
  });

  it("cuts long names to 63 characters and tells apart two that share a long prefix", () => {
    const a = agentPodName("harvester-public", `${"n".repeat(60)}-a`);
    const b = agentPodName("harvester-public", `${"n".repeat(60)}-b`);
    expect(a.length).toBeLessThanOrEqual(63);
    expect(a).toMatch(/^harvester-public-n+-[0-9a-f]{6}-agent$/);
    expect(a).not.toBe(b);
  });
});

describe("normalizeMac", () => {
  it.each([
    ["52:54:00:AA:BB:CC", "52:54:00:aa:bb:cc"],
    ["52-54-00-aa-bb-cc", "52:54:00:aa:bb:cc"],
    ["52:54-00:aa:bb:cc", undefined],
    ["52:54:00:aa:bb", undefined],
  ])("%s -> %s", (text, want) => {
    expect(normalizeMac(text)).toBe(want);
  });
});
