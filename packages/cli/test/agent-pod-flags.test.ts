import { describe, expect, it } from "vitest";
import {
  agentPodPlacement,
  parseNodeSelector,
  parsePullSecrets,
  parseResources,
  parseTolerations,
} from "../src/agent-pod-flags.js";

describe("agentPodPlacement", () => {
  it("sets nothing when no flag is given", () => {
    expect(agentPodPlacement({})).toEqual({});
  });

  it("parses every flag as the chart's environment writes it", () => {
    expect(
      agentPodPlacement({
        "agent-image-pull-secrets": "regcred,mirror",
        "agent-resources": '{"limits":{"memory":"256Mi"},"requests":{"cpu":"10m"}}',
        "agent-tolerations": '[{"effect":"NoSchedule","key":"dedicated","operator":"Exists"}]',
        "agent-node-selector": '{"kubernetes.io/os":"linux"}',
        "agent-priority-class-name": "system-cluster-critical",
      }),
    ).toEqual({
      imagePullSecrets: ["regcred", "mirror"],
      resources: { limits: { memory: "256Mi" }, requests: { cpu: "10m" } },
      tolerations: [{ effect: "NoSchedule", key: "dedicated", operator: "Exists" }],
      nodeSelector: { "kubernetes.io/os": "linux" },
      priorityClassName: "system-cluster-critical",
    });
  });

  it("adds up pull secrets given twice; other flags given twice take the last", () => {
    expect(
      agentPodPlacement({
        "agent-image-pull-secrets": ["regcred", "mirror"],
        "agent-node-selector": ['{"zone":"a"}', '{"zone":"b"}'],
      }),
    ).toEqual({ imagePullSecrets: ["regcred", "mirror"], nodeSelector: { zone: "b" } });
  });

  it("rejects a priority class that is no object name", () => {
    expect(() => agentPodPlacement({ "agent-priority-class-name": "High" })).toThrow(
      '--agent-priority-class-name="High": "High" is not a PriorityClass name',
    );
  });
});

describe("parsePullSecrets", () => {
  it.each([
    { why: "one name", text: "regcred", names: ["regcred"] },
    { why: "blanks around commas", text: " regcred , mirror ", names: ["regcred", "mirror"] },
    { why: "an empty list (the chart's default)", text: "", names: [] },
    {
      why: "dots are allowed in Secret names",
      text: "registry.example",
      names: ["registry.example"],
    },
  ])("accepts $why", ({ text, names }) => {
    expect(parsePullSecrets(text)).toEqual(names);
  });

  it("names the flag, the value and the bad name", () => {
    expect(() => parsePullSecrets("regcred,Reg_Cred")).toThrow(
      '--agent-image-pull-secrets="regcred,Reg_Cred": "Reg_Cred" is not a Secret name',
    );
  });
});

describe("parseResources", () => {
  it.each([
    { why: "binary and decimal suffixes", amount: "64Mi", quantity: "64Mi" },
    { why: "millicores", amount: "250m", quantity: "250m" },
    { why: "an exponent", amount: "1e3", quantity: "1e3" },
    { why: "a JSON number, kept as the API server reads it", amount: 0.5, quantity: "0.5" },
  ])("accepts $why", ({ amount, quantity }) => {
    expect(parseResources(JSON.stringify({ requests: { cpu: amount } }))).toEqual({
      requests: { cpu: quantity },
    });
  });

  it.each([
    { why: "no JSON", text: "cpu=10m", problem: "not JSON (" },
    { why: "a list", text: "[]", problem: "expected a JSON object" },
    { why: "a misspelt field", text: '{"request":{}}', problem: 'unknown field "request"' },
    {
      why: "a unit the API server does not know (K, not k or Ki)",
      text: '{"limits":{"memory":"64K"}}',
      problem: 'limits.memory: "64K" is not a quantity',
    },
    {
      why: "a negative amount",
      text: '{"requests":{"cpu":"-1"}}',
      problem: 'requests.cpu: "-1" is not a quantity',
    },
  ])("rejects $why, naming the flag and the value", ({ text, problem }) => {
    expect(() => parseResources(text)).toThrow(
      `--agent-resources=${JSON.stringify(text)}: ${problem}`,
    );
  });

  it("explains itself in one line, with an example", () => {
    let message = "";
    try {
      parseResources("{");
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message.split("\n")).toHaveLength(1);
    expect(message).toContain('e.g. {"requests":');
  });
});

describe("parseTolerations", () => {
  it("accepts what the API server accepts", () => {
    const tolerations = [
      { operator: "Exists" },
      { key: "dedicated", operator: "Equal", value: "dhcp", effect: "NoSchedule" },
      { key: "node.kubernetes.io/unreachable", effect: "NoExecute", tolerationSeconds: 30 },
    ];
    expect(parseTolerations(JSON.stringify(tolerations))).toEqual(tolerations);
  });

  it.each([
    { why: "an object instead of a list", text: "{}", problem: "expected a JSON list" },
    {
      why: "an unknown operator",
      text: '[{"key":"a","operator":"In"}]',
      problem: "toleration 0: operator must be Exists or Equal",
    },
    {
      why: "a value with Exists",
      text: '[{"key":"a","operator":"Exists","value":"b"}]',
      problem: "toleration 0: an Exists toleration takes no value",
    },
    {
      why: "Equal without a key",
      text: '[{"operator":"Exists"},{"value":"b"}]',
      problem: "toleration 1: an Equal toleration needs a key",
    },
    {
      why: "an unknown effect",
      text: '[{"key":"a","effect":"NoExec"}]',
      problem: "toleration 0: effect must be NoSchedule, PreferNoSchedule or NoExecute",
    },
    {
      why: "tolerationSeconds without NoExecute",
      text: '[{"key":"a","tolerationSeconds":30}]',
      problem: "toleration 0: tolerationSeconds goes with effect NoExecute only",
    },
    {
      why: "a misspelt field",
      text: '[{"keys":"a"}]',
      problem: 'toleration 0: unknown field "keys"',
    },
  ])("rejects $why", ({ text, problem }) => {
    expect(() => parseTolerations(text)).toThrow(
      `--agent-tolerations=${JSON.stringify(text)}: ${problem}`,
    );
  });
});

describe("parseNodeSelector", () => {
  it("accepts a map of labels", () => {
    expect(parseNodeSelector('{"kubernetes.io/os":"linux","zone":"a"}')).toEqual({
      "kubernetes.io/os": "linux",
      zone: "a",
    });
  });

  it.each([
    { why: "a list", text: '["zone=a"]', problem: "expected a JSON object of node labels" },
    {
      why: "a value that is no string",
      text: '{"dhcp":true}',
      problem: "dhcp: the value must be a string",
    },
  ])("rejects $why", ({ text, problem }) => {
    expect(() => parseNodeSelector(text)).toThrow(
      `--agent-node-selector=${JSON.stringify(text)}: ${problem}`,
    );
  });
});
