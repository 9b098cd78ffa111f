import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadKubeConfig } from "../src/kube-config.js";

/** A kubeconfig with one context per server, the first one current. */
const kubeconfig = (servers: Record<string, string>) => {
  const names = Object.keys(servers);
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: names.map((name) => ({ name, cluster: { server: servers[name] } })),
    users: names.map((name) => ({ name, user: { token: "t" } })),
    contexts: names.map((name) => ({ name, context: { cluster: name, user: name } })),
    "current-context": names[0],
  });
};

describe("loadKubeConfig", () => {
  let dir = "";
  let nowhere = {} as { home: string; serviceAccountToken: string };
  const file = (name: string) => join(dir, name);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "vm-dhcp-pkg-kubeconfig-"));
    nowhere = { home: file("empty-home"), serviceAccountToken: file("no-token") };
    await writeFile(file("a.json"), kubeconfig({ a: "https://192.0.2.1:6443" }));
    await writeFile(file("b.json"), kubeconfig({ b: "https://192.0.2.2:6443" }));
    await mkdir(file("home/.kube"), { recursive: true });
    await writeFile(file("home/.kube/config"), kubeconfig({ home: "https://192.0.2.3:6443" }));
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const server = (config: ReturnType<typeof loadKubeConfig>) => config.getCurrentCluster()?.server;

  it("reads --kubeconfig before ~/.kube/config", () => {
    const config = loadKubeConfig({ kubeconfig: file("a.json") }, { home: file("home") });
    expect(server(config)).toBe("https://192.0.2.1:6443");
  });

  it("merges a KUBECONFIG-style list, the first file's context current", () => {
    const list = `${file("a.json")}:${file("b.json")}`;
    const config = loadKubeConfig({ kubeconfig: list, kubecontext: "b" }, nowhere);
    expect(server(config)).toBe("https://192.0.2.2:6443");
  });

  it("falls back to ~/.kube/config", () => {
    expect(server(loadKubeConfig({}, { ...nowhere, home: file("home") }))).toBe(
      "https://192.0.2.3:6443",
    );
  });

  it.each([
    {
      why: "nothing is configured (no silent http://localhost:8080)",
      flags: {},
      error: "no Kubernetes API server configured: pass --kubeconfig (or set KUBECONFIG), or run",
    },
    {
      why: "the file does not exist",
      flags: { kubeconfig: "/nonexistent/kubeconfig" },
      error: '--kubeconfig="/nonexistent/kubeconfig": no such file',
    },
    {
      why: "the context does not exist",
      flags: { kubeconfig: "A", kubecontext: "prod" },
      error: '--kubecontext="prod": no such context (a)',
    },
  ])("fails with one line when $why", ({ flags, error }) => {
    const resolved = { ...flags, kubeconfig: flags.kubeconfig?.replace("A", file("a.json")) };
    expect(() => loadKubeConfig(resolved, nowhere)).toThrow(error);
  });
});
