/**
 * A real kube-apiserver and etcd on 127.0.0.1 for integration tests: no kubelet, scheduler or
 * controller-manager. What follows from that:
 * - nothing runs pods; a test that needs a ready pod writes the pod's status itself;
 * - a deleted namespace stays Terminating for ever (no namespace controller), so tests use
 *   fresh namespaces and the whole cluster is thrown away at the end;
 * - no garbage collector: owner references are stored but dependents are never deleted;
 * - the ServiceAccount admission plugin is off (no token controller makes `default`
 *   service accounts), so pods may name any service account.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { request as requestHttp } from "node:http";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ClusterBinaries, REPO_ROOT } from "./binaries.js";
import { generateCerts } from "./certs.js";
import { type IdentityName, newTokens, writeKubeconfigs, writeTokenFile } from "./identities.js";
import { kubectlAs, mustKubectl } from "./kubectl.js";
import { freePort } from "./ports.js";
import { type LoggedProcess, spawnLogged, stopProcess, tailLog } from "./process.js";

/** Everything a test needs to use the cluster; plain data, so it can cross to test workers. */
export interface TestClusterInfo {
  /** Temporary directory with certificates, kubeconfigs, logs and etcd data. */
  readonly dir: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  readonly caFile: string;
  readonly kubeconfigs: Readonly<Record<IdentityName, string>>;
  readonly tokens: Readonly<Record<IdentityName, string>>;
}

/** A running cluster. */
export interface TestCluster extends TestClusterInfo {
  /**
   * Stops the kube-apiserver process and leaves etcd running, for tests of what clients do
   * without the API server. Does nothing when it is already stopped.
   */
  stopApiServer(options?: StopApiServerOptions): Promise<void>;
  /**
   * Starts kube-apiserver again after `stopApiServer()`: same port, certificates, tokens and
   * flags, same etcd, so kubeconfigs and stored objects stay valid. Resolves once it is ready.
   * Another process may take the port while the server is down; the start then fails with the
   * server's log.
   */
  startApiServer(): Promise<void>;
  /** Stops the API server (if running) and etcd (SIGTERM, then SIGKILL) and removes `dir`. */
  stop(): Promise<void>;
}

/** How `TestCluster.stopApiServer()` ends the process. */
export interface StopApiServerOptions {
  /**
   * `SIGTERM` (the default) asks for a graceful shutdown: kube-apiserver stops listening at
   * once but, while a client holds a watch open, exits only when killed 10 s later. `SIGKILL`
   * ends it at once, as a crash would, dropping every connection.
   */
  readonly signal?: "SIGTERM" | "SIGKILL";
}

export interface StartOptions {
  readonly binaries: ClusterBinaries;
  readonly log?: (line: string) => void;
  /** Keep the temporary directory after stop, to read the logs. */
  readonly keepDir?: boolean;
}

const CRD_DIRS = [
  join(REPO_ROOT, "deploy", "crds"),
  join(REPO_ROOT, "packages", "core", "test", "fixtures", "crds"),
];
const BASE_RBAC = join(REPO_ROOT, "packages", "core", "test", "fixtures", "rbac", "base-rbac.yaml");
const GROUP_VERSION_PLURAL = "{.spec.group}/{.spec.versions[0].name}/{.spec.names.plural}";
const APISERVER = "kube-apiserver";
const READY_TIMEOUT_MS = 90_000;
/** How long a process may take to exit after SIGTERM (see StopApiServerOptions). */
const STOP_GRACE_MS = 10_000;
const POLL_MS = 100;

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)}s`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** GET over HTTPS (or HTTP) with an optional CA and token; resolves to status and body. */
function httpGet(
  url: string,
  ca?: Buffer,
  token?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
    const req = (url.startsWith("https:") ? request : requestHttp)(
      url,
      { ca, headers, timeout: 5_000 },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.once("timeout", () => req.destroy(new Error("timeout")));
    req.once("error", reject);
    req.end();
  });
}

/** Polls `check` until it returns true; fails early when `proc` exits. */
async function waitFor(
  what: string,
  proc: LoggedProcess,
  check: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exited: number | string | undefined;
  void proc.exited.then((code) => {
    exited = code;
  });
  while (Date.now() < deadline) {
    if (exited !== undefined) {
      throw new Error(
        `${proc.name} exited (${exited}) before ${what}:\n${await tailLog(proc.logFile)}`,
      );
    }
    if (await check().catch(() => false)) return;
    await sleep(POLL_MS);
  }
  throw new Error(`${what}: not within ${READY_TIMEOUT_MS} ms:\n${await tailLog(proc.logFile)}`);
}

async function startEtcd(
  binary: string,
  dir: string,
): Promise<{ proc: LoggedProcess; url: string }> {
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const proc = spawnLogged(
    "etcd",
    binary,
    [
      `--data-dir=${join(dir, "etcd-data")}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=default=${peer}`,
      // Test data is thrown away: skip fsync, the slowest part of every write.
      "--unsafe-no-fsync",
      "--log-level=warn",
    ],
    join(dir, "etcd.log"),
  );
  await waitFor("etcd is healthy", proc, async () => {
    const { status, body } = await httpGet(`${url}/health`);
    return status === 200 && body.includes('"health":"true"');
  });
  return { proc, url };
}

/** How kube-apiserver runs: fixed at the first start and reused by every restart. */
interface ApiserverLaunch {
  readonly binary: string;
  readonly args: readonly string[];
  readonly logFile: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  readonly caFile: string;
  readonly adminToken: string;
}

/** Writes the certificates and token file and chooses the port, without starting anything. */
async function prepareApiserver(
  binary: string,
  dir: string,
  etcdUrl: string,
  tokens: Record<IdentityName, string>,
): Promise<ApiserverLaunch> {
  const certs = await generateCerts(dir);
  const tokenFile = join(dir, "tokens.csv");
  await writeTokenFile(tokenFile, tokens);
  const port = await freePort();
  const args = [
    `--etcd-servers=${etcdUrl}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    `--secure-port=${port}`,
    `--cert-dir=${join(dir, "apiserver-certs")}`,
    `--tls-cert-file=${certs.serverCert}`,
    `--tls-private-key-file=${certs.serverKey}`,
    `--client-ca-file=${certs.caCert}`,
    `--token-auth-file=${tokenFile}`,
    "--authorization-mode=RBAC",
    "--anonymous-auth=false",
    `--service-account-key-file=${certs.serviceAccountPub}`,
    `--service-account-signing-key-file=${certs.serviceAccountKey}`,
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    // Allocation only: no traffic goes to this range (there is no proxy or kubelet).
    "--service-cluster-ip-range=10.96.0.0/24",
    // No token controller creates `default` service accounts, so this plugin would reject
    // every pod in a fresh namespace.
    "--disable-admission-plugins=ServiceAccount",
    // No controller-manager: do not publish 127.0.0.1 as the `kubernetes` service endpoint.
    "--endpoint-reconciler-type=none",
    "--allow-privileged=true",
    "--enable-priority-and-fairness=false",
    "--profiling=false",
    "--v=1",
  ];
  return {
    binary,
    args,
    // Appended to by every start, so a restart keeps the earlier run's log.
    logFile: join(dir, "kube-apiserver.log"),
    server: `https://127.0.0.1:${port}`,
    caFile: certs.caCert,
    adminToken: tokens.admin,
  };
}

/**
 * Starts kube-apiserver and resolves once it is ready. `track` gets the process as soon as it
 * is spawned, so that a start which fails or times out is still stopped with the rest.
 */
async function runApiserver(
  launch: ApiserverLaunch,
  track: (proc: LoggedProcess) => void,
): Promise<void> {
  const proc = spawnLogged(APISERVER, launch.binary, launch.args, launch.logFile);
  track(proc);
  const ca = readFileSync(launch.caFile);
  await waitFor("kube-apiserver is ready", proc, async () => {
    const { status } = await httpGet(`${launch.server}/readyz`, ca, launch.adminToken);
    return status === 200;
  });
}

const APPLY = ["apply", "--server-side", "--field-manager=vm-dhcp-test-harness"];

/** Polls a list URL of a new resource until the API server serves it. */
async function waitServed(info: TestClusterInfo, ca: Buffer, path: string): Promise<void> {
  const url = `${info.server}/apis/${path}?limit=1`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const status = () =>
    httpGet(url, ca, info.tokens.admin).then(
      (res) => res.status,
      () => 0,
    );
  while ((await status()) !== 200) {
    if (Date.now() > deadline) throw new Error(`${path} not served after ${READY_TIMEOUT_MS} ms`);
    await sleep(POLL_MS);
  }
}

/** Installs the product and fixture CRDs and the base RBAC, and waits until all are served. */
async function installBaseObjects(info: TestClusterInfo): Promise<void> {
  const kubectl = kubectlAs(info, "admin");
  const files = CRD_DIRS.flatMap((dir) => ["-f", dir]);
  const applied = await mustKubectl(kubectl, [...APPLY, ...files, "-o", "name"]);
  const crds = applied.split("\n").filter((line) => line.startsWith("customresourcedefinition"));
  await mustKubectl(kubectl, ["wait", "--for=condition=Established", "--timeout=60s", ...crds]);

  // Established is set a moment before the new resource is served; wait for that too.
  const jsonpath = `jsonpath={range .items[*]}${GROUP_VERSION_PLURAL}{"\\n"}{end}`;
  const paths = await mustKubectl(kubectl, ["get", ...crds, "-o", jsonpath]);
  const ca = readFileSync(info.caFile);
  for (const path of paths.split("\n").filter(Boolean)) await waitServed(info, ca, path);

  await mustKubectl(kubectl, [...APPLY, "-f", BASE_RBAC]);
}

async function stopAll(
  procs: readonly LoggedProcess[],
  log: (line: string) => void,
): Promise<void> {
  // API server first, so it does not log etcd connection errors while shutting down.
  for (const proc of [...procs].reverse()) {
    const graceful = await stopProcess(proc, STOP_GRACE_MS);
    if (!graceful)
      log(`test-cluster: ${proc.name} ignored SIGTERM for ${STOP_GRACE_MS} ms, killed`);
  }
}

/** Kills the children synchronously if the parent exits without calling stop(). */
function killOnExit(procs: readonly LoggedProcess[]): () => void {
  const kill = () => {
    for (const proc of procs) proc.child.kill("SIGKILL");
  };
  process.once("exit", kill);
  return () => process.off("exit", kill);
}

async function startOnce(
  options: StartOptions,
  dir: string,
  procs: LoggedProcess[],
): Promise<{ info: TestClusterInfo; launch: ApiserverLaunch }> {
  const log = options.log ?? console.log;
  let since = Date.now();
  const etcd = await startEtcd(options.binaries.etcd, dir);
  procs.push(etcd.proc);
  log(`test-cluster: etcd ready at ${etcd.url} in ${seconds(since)}`);

  since = Date.now();
  const tokens = newTokens();
  const launch = await prepareApiserver(options.binaries.kubeApiserver, dir, etcd.url, tokens);
  await runApiserver(launch, (proc) => procs.push(proc));
  log(`test-cluster: kube-apiserver ready at ${launch.server} in ${seconds(since)}`);

  since = Date.now();
  const kubeconfigs = await writeKubeconfigs(dir, launch.server, launch.caFile, tokens);
  const info: TestClusterInfo = {
    dir,
    server: launch.server,
    caFile: launch.caFile,
    kubeconfigs,
    tokens,
  };
  await installBaseObjects(info);
  log(`test-cluster: CRDs and base RBAC installed in ${seconds(since)}`);
  return { info, launch };
}

/**
 * Stopping and restarting kube-apiserver. `procs` always holds the processes running now, in
 * start order, so that stop() and the exit hook reach whichever API server is current.
 */
function apiserverControls(
  launch: ApiserverLaunch,
  procs: LoggedProcess[],
  log: (line: string) => void,
): Pick<TestCluster, "stopApiServer" | "startApiServer"> {
  const stopApiServer = async ({ signal = "SIGTERM" }: StopApiServerOptions = {}) => {
    const proc = procs.find((each) => each.name === APISERVER);
    if (!proc) return;
    if (signal === "SIGKILL") proc.child.kill("SIGKILL");
    await stopAll([proc], log);
    procs.splice(procs.indexOf(proc), 1);
    log(`test-cluster: kube-apiserver stopped (${signal})`);
  };
  const startApiServer = async () => {
    if (procs.some((each) => each.name === APISERVER)) {
      throw new Error("kube-apiserver is already running: call stopApiServer() first");
    }
    const since = Date.now();
    try {
      await runApiserver(launch, (proc) => procs.push(proc));
    } catch (err) {
      await stopApiServer();
      throw err;
    }
    log(`test-cluster: kube-apiserver ready again at ${launch.server} in ${seconds(since)}`);
  };
  return { stopApiServer, startApiServer };
}

/**
 * Starts etcd and kube-apiserver in a new temporary directory, installs the CRDs and base
 * RBAC, and resolves once everything is served. A start that fails (a port taken between
 * choosing and binding it, say) is retried once with new ports.
 *
 * @example
 * const found = await ensureBinaries();
 * if (found.ok) {
 *   const cluster = await startTestCluster({ binaries: found.binaries });
 *   // ... kubectl --kubeconfig cluster.kubeconfigs.admin get ippools -A
 *   await cluster.stop();
 * }
 */
export async function startTestCluster(options: StartOptions): Promise<TestCluster> {
  const log = options.log ?? console.log;
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    const dir = await mkdtemp(join(tmpdir(), "vm-dhcp-cluster-"));
    const procs: LoggedProcess[] = [];
    const forget = killOnExit(procs);
    const stop = async () => {
      await stopAll(procs, log);
      forget();
      if (options.keepDir) log(`test-cluster: kept ${dir}`);
      else await rm(dir, { recursive: true, force: true });
    };
    try {
      const { info, launch } = await startOnce(options, dir, procs);
      log(`test-cluster: cluster ready in ${seconds(started)}`);
      return { ...info, ...apiserverControls(launch, procs, log), stop };
    } catch (err) {
      await stop();
      if (attempt >= 2) throw err;
      log(`test-cluster: start failed, retrying once: ${(err as Error).message.split("\n")[0]}`);
    }
  }
}
