import { once } from "node:events";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { LEASED, MAC, poolWith, SERVER } from "../../test/agent/fixtures.js";
import type { IpPool } from "../api/types.js";
import { silentLogger } from "../logger.js";
import { Agent } from "./agent.js";
import { DEFAULT_LEASE_SECONDS } from "./lease-store.js";

const POOL = poolWith({ domainSearch: ["vm.example"] });

/**
 * A stand-in API server: answers every list with `POOL` and holds watches open, so a test can
 * push events down them. Records each request's URL.
 */
class FakeApiServer {
  readonly requests: URL[] = [];
  readonly #watches: ServerResponse[] = [];
  readonly #server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://fake");
    this.requests.push(url);
    response.writeHead(200, { "content-type": "application/json" });
    if (url.searchParams.get("watch") === "true") {
      response.flushHeaders();
      this.#watches.push(response);
      return;
    }
    const list = { kind: "IPPoolList", metadata: { resourceVersion: "1" }, items: [POOL] };
    response.end(JSON.stringify(list));
  });

  async start(): Promise<KubeConfig> {
    this.#server.listen(0, "127.0.0.1");
    await once(this.#server, "listening");
    const { port } = this.#server.address() as AddressInfo;
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: "fake", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: "fake" }],
      contexts: [{ name: "fake", cluster: "fake", user: "fake" }],
      currentContext: "fake",
    });
    return kubeConfig;
  }

  /** Sends one watch event to every open watch. */
  push(type: "MODIFIED", object: IpPool): void {
    for (const watch of this.#watches) watch.write(`${JSON.stringify({ type, object })}\n`);
  }

  async close(): Promise<void> {
    for (const watch of this.#watches) watch.end();
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, "close");
  }
}

let api: FakeApiServer | undefined;
let agent: Agent | undefined;

afterEach(async () => {
  await agent?.stop();
  await api?.close();
  agent = undefined;
  api = undefined;
});

async function startAgent(): Promise<{ agent: Agent; api: FakeApiServer }> {
  api = new FakeApiServer();
  const kubeConfig = await api.start();
  agent = new Agent({
    poolRef: { namespace: "default", name: "net-a" },
    kubeConfig,
    nic: "eth1",
    dryRun: true,
    logger: silentLogger,
    registry: new Registry(),
  });
  await agent.start();
  return { agent, api };
}

describe("Agent", () => {
  it("lists only its own pool: the list carries the watch's field selector", async () => {
    const { api } = await startAgent();
    const lists = api.requests.filter((url) => url.searchParams.get("watch") !== "true");
    expect(lists.map((url) => url.pathname)).toEqual([
      "/apis/network.harvesterhci.io/v1alpha1/namespaces/default/ippools",
    ]);
    expect(lists[0]?.searchParams.get("fieldSelector")).toBe("metadata.name=net-a");
  });

  it("dumps each lease as its address and the options clients get, nothing else", async () => {
    const { agent } = await startAgent();
    expect(agent.leases()).toEqual({
      [MAC]: {
        address: LEASED,
        serverAddress: SERVER,
        subnetMask: "255.255.255.0",
        broadcastAddress: "192.0.2.255",
        routers: [],
        dnsServers: [],
        domainSearch: ["vm.example"],
        ntpServers: [],
        leaseSeconds: DEFAULT_LEASE_SECONDS,
      },
    });
  });

  it("keeps the last good leases, reports `config`, on an option it cannot encode", async () => {
    const { agent, api } = await startAgent();
    expect(agent.lease(MAC)?.options.domainSearch).toEqual(["vm.example"]);

    const bad = structuredClone(POOL);
    bad.metadata.resourceVersion = "2";
    bad.spec.ipv4Config.domainSearch = ["a..b"];
    bad.status = { ipv4: { allocated: { "192.0.2.11": MAC } } };
    await expect.poll(() => api.requests.some((url) => url.searchParams.has("watch"))).toBe(true);
    api.push("MODIFIED", bad);

    await expect.poll(() => agent.readiness().checks.config).toMatch(/INVALID_VALUE/);
    expect(agent.readiness().ready).toBe(false);
    expect(agent.lease(MAC)).toMatchObject({ address: LEASED });
  });
});
