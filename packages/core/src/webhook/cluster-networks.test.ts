import { formatCidr, parseCidr } from "@vm-dhcp/ipam";
import { describe, expect, it } from "vitest";
import { parseNodeArgs, resolveClusterNetworks } from "./cluster-networks.js";

const text = (blocks: { network: number; prefix: number }[] | undefined) =>
  blocks?.map((block) => formatCidr(block as Parameters<typeof formatCidr>[0]));

describe("parseNodeArgs", () => {
  it.each([
    [
      "flags followed by their values, as rke2 writes them",
      '["server","--cluster-cidr","10.52.0.0/16","--service-cidr","10.53.0.0/16"]',
      { service: ["10.53.0.0/16"], cluster: ["10.52.0.0/16"] },
    ],
    [
      "the --flag=value form",
      '["server","--service-cidr=10.43.0.0/16"]',
      { service: ["10.43.0.0/16"], cluster: [] },
    ],
    [
      "dual stack: the IPv6 block is skipped",
      '["--cluster-cidr","10.42.0.0/16,fd00:42::/56"]',
      { service: [], cluster: ["10.42.0.0/16"] },
    ],
    [
      "host bits are dropped, not refused",
      '["--service-cidr","10.53.1.1/16"]',
      { service: ["10.53.0.0/16"], cluster: [] },
    ],
    [
      "an agent's arguments name neither",
      '["agent","--node-ip","10.0.0.5"]',
      { service: [], cluster: [] },
    ],
    ["a flag at the end with no value", '["--service-cidr"]', { service: [], cluster: [] }],
  ])("%s", (_why, annotation, expected) => {
    const found = parseNodeArgs(annotation);
    expect({ service: text(found?.service), cluster: text(found?.cluster) }).toEqual(expected);
  });

  it.each([
    ["no annotation", undefined],
    ["not JSON", "--service-cidr 10.53.0.0/16"],
    ["JSON but not a list", '{"service-cidr":"10.53.0.0/16"}'],
    ["a list with non-strings", '["--service-cidr",42]'],
  ])("is undefined for %s", (_why, annotation) => {
    expect(parseNodeArgs(annotation)).toBeUndefined();
  });
});

describe("resolveClusterNetworks", () => {
  const fallback = { service: parseCidr("10.53.0.0/16"), cluster: parseCidr("10.52.0.0/16") };
  const describeNetworks = (networks: ReturnType<typeof resolveClusterNetworks>) =>
    networks.map((n) => `${n.kind} ${formatCidr(n.cidr)} ${n.source}`);

  it("falls back to the flags when no node says anything", () => {
    expect(
      describeNetworks(resolveClusterNetworks([{ node: "n1", annotation: undefined }], fallback)),
    ).toEqual([
      "service 10.53.0.0/16 flag --service-cidr",
      "cluster 10.52.0.0/16 flag --cluster-cidr",
    ]);
  });

  it("prefers the nodes per kind, naming the first node that says it, without duplicates", () => {
    const nodes = [
      { node: "n2", annotation: '["--service-cidr","10.43.0.0/16"]' },
      { node: "n1", annotation: '["--service-cidr","10.43.0.0/16"]' },
      { node: "n3", annotation: '["--service-cidr","10.44.0.0/16"]' },
    ];
    expect(describeNetworks(resolveClusterNetworks(nodes, fallback))).toEqual([
      "service 10.43.0.0/16 node n1 annotation rke2.io/node-args",
      "service 10.44.0.0/16 node n3 annotation rke2.io/node-args",
      "cluster 10.52.0.0/16 flag --cluster-cidr",
    ]);
  });
});
