import { describe, expect, it } from "vitest";
import { parseNetworkName } from "./network-ref.js";

describe("parseNetworkName", () => {
  it.each([
    ["namespace/name", "vms/net-a", { namespace: "vms", name: "net-a" }],
    ["a bare name takes the default namespace", "net-a", { namespace: "dflt", name: "net-a" }],
    ["names may hold dots", "vms/net.a", { namespace: "vms", name: "net.a" }],
    ["upper case is no Kubernetes name", "VMs/net-a", undefined],
    ["two slashes", "a/b/c", undefined],
    ["an empty namespace", "/net-a", undefined],
    ["an empty name", "vms/", undefined],
    ["a dot in the namespace, which must be a DNS label", "v.ms/net-a", undefined],
  ])("%s: %s", (_why, text, expected) => {
    expect(parseNetworkName(text, "dflt")).toEqual(expected);
  });
});
