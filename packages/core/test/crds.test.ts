/**
 * The product CRDs (deploy/crds) against a real kube-apiserver: what a user sees from
 * `kubectl apply --server-side` for good and bad manifests. Needs the test cluster of
 * cluster/global-setup.ts; skips with the reason where it cannot run.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { type Kubectl, kubectlAs, mustKubectl } from "./cluster/kubectl.js";
import { createNamespace, describeWithCluster } from "./cluster/use-cluster.js";
import {
  exampleIpPool,
  exampleVmNetCfg,
  type IpPoolManifest,
  type VmNetCfgManifest,
} from "./fixtures/examples.js";

type Manifest = IpPoolManifest | VmNetCfgManifest;

describeWithCluster("CRDs on a real API server", (cluster) => {
  const admin: Kubectl = kubectlAs(cluster, "admin");
  let ns = "";
  let serial = 0;
  const uniqueName = (prefix: string) => `${prefix}-${++serial}`;

  /** `kubectl apply --server-side` (strict field validation is kubectl's default). */
  const apply = (manifest: Manifest | Record<string, unknown>) =>
    admin(
      ["apply", "--server-side", "--field-manager=crds-test", "-n", ns, "-f", "-"],
      JSON.stringify(manifest),
    );
  const getJson = async <T>(kind: string, name: string): Promise<T> =>
    JSON.parse(await mustKubectl(admin, ["get", kind, name, "-n", ns, "-o", "json"])) as T;

  /** Applies `manifest`, which must be rejected; returns what kubectl printed. */
  async function rejected(manifest: Manifest | Record<string, unknown>): Promise<string> {
    const result = await apply(manifest);
    expect(result.code, `apply should fail but printed: ${result.stdout}`).not.toBe(0);
    return result.stderr;
  }

  beforeAll(async () => {
    ns = await createNamespace(admin, "crds");
  });

  describe("the example manifests", () => {
    it("apply and read back unchanged: IPPool", async () => {
      const pool = exampleIpPool();
      const result = await apply(pool);
      expect(result.stderr).toBe("");
      expect(result.stdout).toContain("ippool.network.harvesterhci.io/net-48 serverside-applied");
      expect((await getJson<IpPoolManifest>("ippool", "net-48")).spec).toEqual(pool.spec);
    });

    it("apply and read back unchanged: VirtualMachineNetworkConfig", async () => {
      const config = exampleVmNetCfg();
      const result = await apply(config);
      expect(result.stderr).toBe("");
      expect((await getJson<VmNetCfgManifest>("vmnetcfg", "test-vm")).spec).toEqual(config.spec);
    });

    it("are found by short names and by the vm-dhcp category", async () => {
      for (const short of ["ippl", "ippls", "vmnetcfg", "vmnetcfgs", "vm-dhcp"]) {
        const out = await mustKubectl(admin, ["get", short, "-n", ns, "-o", "name"]);
        expect(out, short).toMatch(
          /(ippool|virtualmachinenetworkconfig)\.network\.harvesterhci\.io\//,
        );
      }
    });
  });

  describe("IPPool schema rejects on create", () => {
    const rows: { why: string; change: (p: IpPoolManifest) => void; message: string }[] = [
      {
        why: "a malformed serverIP",
        change: (p) => {
          p.spec.ipv4Config.serverIP = "192.168.48.777";
        },
        message: 'spec.ipv4Config.serverIP in body must be of type ipv4: "192.168.48.777"',
      },
      {
        why: "an IPv6 serverIP",
        change: (p) => {
          p.spec.ipv4Config.serverIP = "fd00::1";
        },
        message: 'spec.ipv4Config.serverIP in body must be of type ipv4: "fd00::1"',
      },
      {
        why: "leading zeros, which some parsers read as octal",
        change: (p) => {
          p.spec.ipv4Config.serverIP = "192.168.048.077";
        },
        message: "spec.ipv4Config.serverIP must not have leading zeros in an octet",
      },
      {
        why: "more than 3 DNS servers",
        change: (p) => {
          p.spec.ipv4Config.dns = ["1.1.1.1", "1.0.0.1", "8.8.8.8", "8.8.4.4"];
        },
        message: "spec.ipv4Config.dns: Too many: 4: must have at most 3 items",
      },
      {
        why: "a malformed DNS server",
        change: (p) => {
          p.spec.ipv4Config.dns = ["1.1.1.1", "dns.example"];
        },
        message: 'spec.ipv4Config.dns[1] in body must be of type ipv4: "dns.example"',
      },
      {
        why: "more than 4 NTP servers",
        change: (p) => {
          p.spec.ipv4Config.ntp = ["a.example", "b.example", "c.example", "d.example", "e.example"];
        },
        message: "spec.ipv4Config.ntp: Too many: 5: must have at most 4 items",
      },
      {
        why: "an IPv6 CIDR",
        change: (p) => {
          p.spec.ipv4Config.cidr = "fd00::/64";
        },
        message: "spec.ipv4Config.cidr must be an IPv4 CIDR such as 192.168.100.0/24",
      },
      {
        why: "a prefix longer than 32",
        change: (p) => {
          p.spec.ipv4Config.cidr = "192.168.48.0/33";
        },
        message: "spec.ipv4Config.cidr must be an IPv4 CIDR such as 192.168.100.0/24",
      },
      {
        why: "a range that ends before it starts (compared as numbers: .9 < .10)",
        change: (p) => {
          p.spec.ipv4Config.pool = { start: "192.168.48.10", end: "192.168.48.9" };
        },
        message: "spec.ipv4Config.pool.end must not be lower than spec.ipv4Config.pool.start",
      },
      {
        why: "a missing CIDR",
        change: (p) => {
          delete (p.spec.ipv4Config as { cidr?: string }).cidr;
        },
        message: "spec.ipv4Config.cidr: Required value",
      },
      {
        why: "a network name over 64 characters",
        change: (p) => {
          p.spec.networkName = `default/${"n".repeat(60)}`;
        },
        message: "spec.networkName: Too long: may not be more than 64 bytes",
      },
      {
        why: "a network name that is no NAD reference",
        change: (p) => {
          p.spec.networkName = "Default/Net_48";
        },
        message:
          "spec.networkName must be 'namespace/name' or 'name' of a NetworkAttachmentDefinition",
      },
      {
        why: "a malformed router",
        change: (p) => {
          p.spec.ipv4Config.router = "192.168.48.1/24";
        },
        message: 'spec.ipv4Config.router in body must be of type ipv4: "192.168.48.1/24"',
      },
      {
        why: "a zero lease time",
        change: (p) => {
          p.spec.ipv4Config.leaseTime = 0;
        },
        message: "spec.ipv4Config.leaseTime in body should be greater than or equal to 1",
      },
    ];

    it.each(rows)("$why", async ({ change, message }) => {
      const pool = exampleIpPool(uniqueName("bad"));
      change(pool);
      expect(await rejected(pool)).toContain(message);
    });

    it("accepts a range whose octets compare wrongly as text (.9 to .10)", async () => {
      const pool = exampleIpPool(uniqueName("text-order"));
      pool.spec.ipv4Config.pool = { start: "192.168.48.9", end: "192.168.48.10" };
      expect((await apply(pool)).stderr).toBe("");
    });
  });

  describe("IPPool schema rejects on update", () => {
    const rows: { why: string; change: (p: IpPoolManifest) => void; message: string }[] = [
      {
        why: "a changed CIDR",
        change: (p) => {
          p.spec.ipv4Config.cidr = "192.168.0.0/16";
        },
        message:
          'spec.ipv4Config.cidr: Invalid value: "string": ' +
          "spec.ipv4Config.cidr is immutable: create a new IPPool for another subnet",
      },
      {
        why: "a changed network",
        change: (p) => {
          p.spec.networkName = "default/net-49";
        },
        message: "spec.networkName is immutable",
      },
      {
        why: "a changed serverIP",
        change: (p) => {
          p.spec.ipv4Config.serverIP = "192.168.48.78";
        },
        message: "spec.ipv4Config.serverIP is immutable",
      },
      {
        why: "a changed range start",
        change: (p) => {
          p.spec.ipv4Config.pool.start = "192.168.48.82";
        },
        message: "spec.ipv4Config.pool.start is immutable",
      },
      {
        why: "a changed range end",
        change: (p) => {
          p.spec.ipv4Config.pool.end = "192.168.48.91";
        },
        message: "spec.ipv4Config.pool.end is immutable",
      },
      {
        why: "a changed exclude list",
        change: (p) => {
          p.spec.ipv4Config.pool.exclude = ["192.168.48.81"];
        },
        message: "spec.ipv4Config.pool.exclude is immutable",
      },
      {
        why: "a removed exclude list",
        change: (p) => {
          delete p.spec.ipv4Config.pool.exclude;
        },
        message: "spec.ipv4Config.pool.exclude is immutable: it can be neither added nor removed",
      },
      {
        why: "a changed router",
        change: (p) => {
          p.spec.ipv4Config.router = "192.168.48.254";
        },
        message: "spec.ipv4Config.router is immutable",
      },
      {
        why: "a removed router",
        change: (p) => {
          delete p.spec.ipv4Config.router;
        },
        message:
          'spec.ipv4Config.router: Invalid value: "object": ' +
          "spec.ipv4Config.router cannot be removed once set",
      },
    ];

    it.each(rows)("$why", async ({ change, message }) => {
      const pool = exampleIpPool(uniqueName("immutable"));
      expect((await apply(pool)).stderr).toBe("");
      change(pool);
      expect(await rejected(pool)).toContain(message);
    });

    it("rejects an exclude list added after creation", async () => {
      const pool = exampleIpPool(uniqueName("add-exclude"));
      delete pool.spec.ipv4Config.pool.exclude;
      expect((await apply(pool)).stderr).toBe("");
      pool.spec.ipv4Config.pool.exclude = ["192.168.48.85"];
      expect(await rejected(pool)).toContain(
        'spec.ipv4Config.pool.exclude: Invalid value: "object": ' +
          "spec.ipv4Config.pool.exclude is immutable: it can be neither added nor removed " +
          "after creation",
      );
    });

    it("rejects removing the router with a JSON patch too", async () => {
      const pool = exampleIpPool(uniqueName("patch-router"));
      expect((await apply(pool)).stderr).toBe("");
      const patch = '[{"op":"remove","path":"/spec/ipv4Config/router"}]';
      const result = await admin([
        "patch",
        "ippool",
        pool.metadata.name,
        "-n",
        ns,
        "--type=json",
        "-p",
        patch,
      ]);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain("spec.ipv4Config.router cannot be removed once set");
    });

    it("accepts a router added later, and changed DHCP options and pause", async () => {
      const pool = exampleIpPool(uniqueName("mutable"));
      delete pool.spec.ipv4Config.router;
      expect((await apply(pool)).stderr).toBe("");
      pool.spec.ipv4Config.router = "192.168.48.1";
      pool.spec.ipv4Config.dns = ["192.168.48.2", "192.168.48.4"];
      pool.spec.ipv4Config.leaseTime = 600;
      pool.spec.paused = true;
      expect((await apply(pool)).stderr).toBe("");
      expect((await getJson<IpPoolManifest>("ippool", pool.metadata.name)).spec).toEqual(pool.spec);
    });
  });

  describe("VirtualMachineNetworkConfig schema", () => {
    it("rejects more than 4 networkConfigs", async () => {
      const config = exampleVmNetCfg(uniqueName("vm"));
      const macs = ["01", "02", "03", "04", "05"].map((last) => `52:54:00:4a:1b:${last}`);
      config.spec.networkConfigs = macs.map((macAddress) => ({
        networkName: "net-48",
        macAddress,
      }));
      expect(await rejected(config)).toContain(
        "spec.networkConfigs: Too many: 5: must have at most 4 items",
      );
    });

    it("rejects the singular `networkConfig` on server-side apply, never prunes it", async () => {
      const { networkConfigs, ...spec } = exampleVmNetCfg().spec;
      const config = {
        ...exampleVmNetCfg(uniqueName("vm")),
        spec: { ...spec, networkConfig: networkConfigs },
      };
      expect(await rejected(config)).toContain(".spec.networkConfig: field not declared in schema");
    });

    it("rejects the singular `networkConfig` on kubectl create (strict)", async () => {
      const { networkConfigs, ...spec } = exampleVmNetCfg().spec;
      const config = {
        ...exampleVmNetCfg(uniqueName("vm")),
        spec: { ...spec, networkConfig: networkConfigs },
      };
      const result = await admin(["create", "-n", ns, "-f", "-"], JSON.stringify(config));
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('strict decoding error: unknown field "spec.networkConfig"');
    });

    it("rejects a MAC address over 17 characters and a malformed static address", async () => {
      const config = exampleVmNetCfg(uniqueName("vm"));
      config.spec.networkConfigs = [
        { networkName: "net-48", macAddress: "52:54:00:4a:1b:01:ff" },
        { networkName: "net-48", macAddress: "52:54:00:4a:1b:02", ipAddress: "192.168.48.300" },
      ];
      const stderr = await rejected(config);
      expect(stderr).toContain(
        "spec.networkConfigs[0].macAddress: Too long: may not be more than 17 bytes",
      );
      expect(stderr).toContain(
        'spec.networkConfigs[1].ipAddress in body must be of type ipv4: "192.168.48.300"',
      );
    });

    const MAC_MESSAGE =
      "spec.networkConfigs[].macAddress must be six hex pairs separated by ':' (or all by '-'), " +
      "such as 52:54:00:12:34:56";
    const NETWORK_MESSAGE =
      "spec.networkConfigs[].networkName must be 'namespace/name' or 'name' (in the VM's " +
      "namespace) of a NetworkAttachmentDefinition, in lower case";
    const nic = (macAddress: string, networkName = "default/net-48") => ({
      networkName,
      macAddress,
    });

    it.each<{ why: string; change: (c: VmNetCfgManifest) => void; message: string }>([
      {
        why: "a MAC with a non-hex digit (no webhook needed to refuse it)",
        change: (c) => {
          c.spec.networkConfigs = [nic("52:54:00:4a:1b:0g")];
        },
        message: `spec.networkConfigs[0].macAddress: Invalid value: "string": ${MAC_MESSAGE}`,
      },
      {
        why: "a MAC of five pairs",
        change: (c) => {
          c.spec.networkConfigs = [nic("52:54:00:4a:1b")];
        },
        message: `spec.networkConfigs[0].macAddress: Invalid value: "string": ${MAC_MESSAGE}`,
      },
      {
        why: "a MAC with mixed separators, which the controller cannot parse either",
        change: (c) => {
          c.spec.networkConfigs = [nic("52:54:00:4a:1b:01"), nic("52-54-00:4a:1b:02")];
        },
        message: `spec.networkConfigs[1].macAddress: Invalid value: "string": ${MAC_MESSAGE}`,
      },
      {
        why: "a network name that is no NAD reference",
        change: (c) => {
          c.spec.networkConfigs = [nic("52:54:00:4a:1b:01", "Default/Net_48")];
        },
        message: `spec.networkConfigs[0].networkName: Invalid value: "string": ${NETWORK_MESSAGE}`,
      },
      {
        why: "a network name over 64 characters",
        change: (c) => {
          c.spec.networkConfigs = [nic("52:54:00:4a:1b:01", `default/${"n".repeat(60)}`)];
        },
        message: "spec.networkConfigs[0].networkName: Too long: may not be more than 64 bytes",
      },
      {
        why: "a missing vmName",
        change: (c) => {
          delete (c.spec as { vmName?: string }).vmName;
        },
        message: "spec.vmName: Required value",
      },
      {
        why: "a vmName over 64 characters",
        change: (c) => {
          c.spec.vmName = "v".repeat(65);
        },
        message: "spec.vmName: Too long: may not be more than 64 bytes",
      },
    ])("rejects $why", async ({ change, message }) => {
      const config = exampleVmNetCfg(uniqueName("vm"));
      change(config);
      expect(await rejected(config)).toContain(message);
    });

    it("accepts the MAC forms the controller parses: upper case, '-' separators", async () => {
      const config = exampleVmNetCfg(uniqueName("vm"));
      config.spec.networkConfigs = [
        nic("52:54:00:4A:1B:01"),
        nic("52-54-00-4a-1b-02", "net-48"),
        nic("52:54:00:4a:1b:03", "default/net.48-b"),
      ];
      expect((await apply(config)).stderr).toBe("");
    });

    it("rejects a changed vmName", async () => {
      const config = exampleVmNetCfg(uniqueName("vm"));
      expect((await apply(config)).stderr).toBe("");
      config.spec.vmName = "another-vm";
      expect(await rejected(config)).toContain(
        "spec.vmName is immutable: create a new VirtualMachineNetworkConfig for another VM",
      );
    });
  });

  describe("printer columns", () => {
    /** The header and the row of `name` in `kubectl get <kind>`, split on runs of spaces. */
    async function table(kind: string, name: string): Promise<{ header: string[]; row: string[] }> {
      const out = await mustKubectl(admin, ["get", kind, "-n", ns]);
      const lines = out
        .trimEnd()
        .split("\n")
        .map((line) => line.trim().split(/\s{2,}/));
      const row = lines.find((cells) => cells[0] === name);
      return { header: lines[0] ?? [], row: row ?? [] };
    }

    it("ippools show NETWORK AVAILABLE USED REGISTERED CACHEREADY AGENTREADY AGE", async () => {
      const pool = exampleIpPool(uniqueName("columns"));
      expect((await apply(pool)).stderr).toBe("");
      const status = {
        status: {
          ipv4: { used: 3, available: 5 },
          conditions: [
            { type: "Registered", status: "True" },
            { type: "CacheReady", status: "False" },
            { type: "AgentReady", status: "Unknown" },
          ],
        },
      };
      await mustKubectl(admin, [
        "patch",
        "ippool",
        pool.metadata.name,
        "-n",
        ns,
        "--subresource=status",
        "--type=merge",
        "-p",
        JSON.stringify(status),
      ]);

      const { header, row } = await table("ippools", pool.metadata.name);
      expect(header).toEqual([
        "NAME",
        "NETWORK",
        "AVAILABLE",
        "USED",
        "REGISTERED",
        "CACHEREADY",
        "AGENTREADY",
        "AGE",
      ]);
      expect(row.slice(0, 7)).toEqual([
        pool.metadata.name,
        "default/net-48",
        "5",
        "3",
        "True",
        "False",
        "Unknown",
      ]);
    });

    it("vmnetcfgs show VMNAME ALLOCATED DISABLED INSYNCED AGE", async () => {
      const config = exampleVmNetCfg(uniqueName("vm"));
      expect((await apply(config)).stderr).toBe("");
      const status = {
        status: {
          conditions: [
            { type: "Allocated", status: "True" },
            { type: "Disabled", status: "False" },
            { type: "InSynced", status: "True" },
          ],
        },
      };
      await mustKubectl(admin, [
        "patch",
        "vmnetcfg",
        config.metadata.name,
        "-n",
        ns,
        "--subresource=status",
        "--type=merge",
        "-p",
        JSON.stringify(status),
      ]);

      const { header, row } = await table("vmnetcfgs", config.metadata.name);
      expect(header).toEqual(["NAME", "VMNAME", "ALLOCATED", "DISABLED", "INSYNCED", "AGE"]);
      expect(row.slice(0, 5)).toEqual([
        config.metadata.name,
        config.spec.vmName,
        "True",
        "False",
        "True",
      ]);
    });
  });
});
