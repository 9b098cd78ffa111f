import { describe, expect, it } from "vitest";
import type { NetworkConfigStatus, VmNetCfg } from "../../src/api/types.js";
import {
  leavingEntries,
  type PoolHolds,
  rememberedResults,
  wantedNics,
} from "../../src/controller/vmnetcfg-plan.js";

const MAC_A = "52:54:00:aa:00:01";
const MAC_B = "52:54:00:aa:00:02";

/** A vmnetcfg in `vms` naming `macs` on `net-a`, with the status entries given. */
function config(macs: string[], status: NetworkConfigStatus[], paused = false): VmNetCfg {
  return {
    metadata: { namespace: "vms", name: "vm1" },
    spec: {
      vmName: "vm1",
      paused,
      networkConfigs: macs.map((macAddress) => ({ networkName: "net-a", macAddress })),
    },
    status: { networkConfigs: status },
  };
}

function entry(
  macAddress: string,
  state: NetworkConfigStatus["state"],
  allocatedIPAddress?: string,
): NetworkConfigStatus {
  return {
    networkName: "net-a",
    macAddress,
    state,
    ...(allocatedIPAddress ? { allocatedIPAddress } : {}),
  };
}

/** A pool that records exactly these MAC -> IP pairs. */
function poolRecording(pairs: Record<string, string>): PoolHolds {
  return (e) => !!e.allocatedIPAddress && pairs[e.macAddress] === e.allocatedIPAddress;
}

interface Row {
  why: string;
  cfg: VmNetCfg;
  pool: Record<string, string>;
  /** MACs of the entries expected to be released. */
  leaving: string[];
}

describe("leavingEntries", () => {
  it.each<Row>([
    {
      why: "paused: an Allocated entry leaves",
      cfg: config([MAC_A], [entry(MAC_A, "Allocated", "192.0.2.10")], true),
      pool: { [MAC_A]: "192.0.2.10" },
      leaving: [MAC_A],
    },
    {
      why: "paused: a Pending entry whose release failed after the mark leaves again",
      cfg: config([MAC_A], [entry(MAC_A, "Pending", "192.0.2.10")], true),
      pool: { [MAC_A]: "192.0.2.10" },
      leaving: [MAC_A],
    },
    {
      why: "paused: a Pending entry the pool no longer records is done (released)",
      cfg: config([MAC_A], [entry(MAC_A, "Pending", "192.0.2.10")], true),
      pool: {},
      leaving: [],
    },
    {
      why: "paused: a Pending entry whose MAC now holds another address is not ours to free",
      cfg: config([MAC_A], [entry(MAC_A, "Pending", "192.0.2.10")], true),
      pool: { [MAC_A]: "192.0.2.11" },
      leaving: [],
    },
    {
      why: "paused: a Pending entry without an address has nothing to release",
      cfg: config([MAC_A], [entry(MAC_A, "Pending")], true),
      pool: { [MAC_A]: "192.0.2.10" },
      leaving: [],
    },
    {
      why: "running: a NIC still in the spec stays, whatever its state",
      cfg: config([MAC_A], [entry(MAC_A, "Allocated", "192.0.2.10")]),
      pool: { [MAC_A]: "192.0.2.10" },
      leaving: [],
    },
    {
      why: "running: a NIC that left the spec leaves, Allocated or Stale",
      cfg: config(
        [MAC_A],
        [entry(MAC_A, "Allocated", "192.0.2.10"), entry(MAC_B, "Stale", "192.0.2.11")],
      ),
      pool: { [MAC_A]: "192.0.2.10", [MAC_B]: "192.0.2.11" },
      leaving: [MAC_B],
    },
    {
      why: "running: a NIC that left the spec while Pending leaves if the pool still has it",
      cfg: config([MAC_A], [entry(MAC_B, "Pending", "192.0.2.11")]),
      pool: { [MAC_B]: "192.0.2.11" },
      leaving: [MAC_B],
    },
  ])("$why", ({ cfg, pool, leaving }) => {
    const { nics } = wantedNics(cfg);
    const found = leavingEntries(cfg, nics, poolRecording(pool));
    expect(found.map((e) => e.macAddress)).toEqual(leaving);
  });

  it("asks the pool only about Pending entries", () => {
    const cfg = config(
      [MAC_A, MAC_B],
      [entry(MAC_A, "Allocated", "192.0.2.10"), entry(MAC_B, "Pending", "192.0.2.11")],
      true,
    );
    const asked: string[] = [];
    leavingEntries(cfg, wantedNics(cfg).nics, (e) => {
      asked.push(e.macAddress);
      return true;
    });
    expect(asked).toEqual([MAC_B]);
  });
});

describe("rememberedResults", () => {
  it("keeps each NIC's address, Pending, across a pause", () => {
    const cfg = config([MAC_A, MAC_B], [entry(MAC_A, "Pending", "192.0.2.10")], true);
    expect(rememberedResults(cfg, wantedNics(cfg).nics)).toEqual([
      { networkName: "net-a", mac: MAC_A, state: "Pending", ip: "192.0.2.10" },
      { networkName: "net-a", mac: MAC_B, state: "Pending" },
    ]);
  });
});
