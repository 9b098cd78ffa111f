import { Agent, request as httpsRequest, type RequestOptions } from "node:https";
import { ApiException, type KubeConfig } from "@kubernetes/client-node";

/** One finished API call, for metrics and write counting. */
export interface ApiCall {
  /** HTTP method: GET, POST, PUT, PATCH, DELETE. */
  verb: string;
  /** Plural resource name with its subresource, e.g. `ippools/status`. */
  resource: string;
  /** HTTP status, or 0 when no answer came. */
  code: number;
  durationMs: number;
}

export interface KubeClientOptions {
  /** Connections kept open to the API server. */
  maxSockets?: number;
  /** A call without an answer within this time fails. */
  requestTimeoutMs?: number;
  /** Called after every call. */
  onCall?: (call: ApiCall) => void;
  /** Credentials are re-read after this long, so rotated tokens are picked up. */
  credentialsTtlMs?: number;
  /**
   * Checked before every call that is not a GET: false refuses it with a
   * {@link WriteRefusedError} before anything is sent. A deposed leader's client says false
   * the moment its lease runs out, so no write of it can land afterwards.
   */
  canWrite?: () => boolean;
}

/** A write refused by {@link KubeClientOptions.canWrite}: this process may not write now. */
export class WriteRefusedError extends Error {
  override readonly name = "WriteRefusedError";
  readonly code = "WRITE_REFUSED";
  constructor(method: string, path: string) {
    super(`${method} ${path} refused: this controller is not the leader`);
  }
}

/** Query parameters of a call; undefined values are left out. */
export type Query = Record<string, string | number | boolean | undefined>;

export interface CallOptions {
  query?: Query;
  body?: unknown;
  /** Content type of `body`: JSON, or JSON merge patch for {@link KubeClient.mergePatch}. */
  contentType?: string;
}

const DEFAULT_MAX_SOCKETS = 32;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_CREDENTIALS_TTL_MS = 60_000;
const MERGE_PATCH = "application/merge-patch+json";
const LIST_PAGE_SIZE = 500;

interface Credentials {
  agent: Agent;
  headers: Record<string, string>;
  expiresAt: number;
}

/**
 * A small JSON client for the Kubernetes API on one keep-alive connection pool.
 *
 * @kubernetes/client-node builds a new TLS agent for every call, so each call pays a full TLS
 * handshake; the controller makes several calls per VM, so it talks through this client
 * instead (watches still use client-node's `Watch`). Credentials come from the same
 * `KubeConfig` (`applyToHTTPSOptions`), re-read every minute. Failures throw client-node's
 * `ApiException`, so `isNotFound` and `isConflict` from `api/errors` apply.
 *
 * @example
 * const kube = new KubeClient(kubeConfig);
 * const pool = await kube.get<IpPool>(resourcePath(IP_POOL, "default", "net-a"));
 */
export class KubeClient {
  readonly #kubeConfig: KubeConfig;
  readonly #options: KubeClientOptions;
  readonly #server: URL;
  #credentials: Credentials | undefined;

  constructor(kubeConfig: KubeConfig, options: KubeClientOptions = {}) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error("the kubeconfig names no current cluster");
    this.#kubeConfig = kubeConfig;
    this.#options = options;
    this.#server = new URL(cluster.server);
  }

  /** GET; undefined when the object does not exist. */
  async get<T>(path: string, query?: Query): Promise<T | undefined> {
    try {
      return await this.call<T>("GET", path, { query });
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) return undefined;
      throw error;
    }
  }

  /** Lists a collection page by page; returns the items and the resourceVersion to watch from. */
  async list<T>(path: string, query: Query = {}): Promise<{ items: T[]; resourceVersion: string }> {
    const items: T[] = [];
    let next: string | undefined;
    let resourceVersion = "";
    do {
      const page = await this.call<{
        items?: T[];
        metadata?: { continue?: string; resourceVersion?: string };
      }>("GET", path, { query: { ...query, limit: LIST_PAGE_SIZE, continue: next } });
      items.push(...(page.items ?? []));
      next = page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    } while (next);
    return { items, resourceVersion };
  }

  create<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>("POST", path, { body });
  }

  replace<T>(path: string, body: unknown): Promise<T> {
    return this.call<T>("PUT", path, { body });
  }

  /**
   * JSON merge patch (RFC 7386). A `metadata.resourceVersion` in the patch is a precondition:
   * the API server answers 409 when the object has changed since.
   */
  mergePatch<T>(path: string, patch: unknown): Promise<T> {
    return this.call<T>("PATCH", path, { body: patch, contentType: MERGE_PATCH });
  }

  /** DELETE; false when the object was already gone. */
  async delete(path: string, body?: unknown): Promise<boolean> {
    try {
      await this.call("DELETE", path, { body });
      return true;
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) return false;
      throw error;
    }
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.#credentials?.agent.destroy();
    this.#credentials = undefined;
  }

  /** One call; the answer's JSON body, or an `ApiException` for any non-2xx status. */
  async call<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
    if (method !== "GET" && this.#options.canWrite && !this.#options.canWrite()) {
      throw new WriteRefusedError(method, path);
    }
    const started = performance.now();
    let code = 0;
    try {
      const answer = await this.#send(method, path, options);
      code = answer.status;
      if (code < 200 || code > 299) throw apiException(code, answer.body);
      return (answer.body ? JSON.parse(answer.body) : {}) as T;
    } finally {
      const durationMs = performance.now() - started;
      this.#options.onCall?.({ verb: method, resource: resourceOf(path), code, durationMs });
    }
  }

  async #send(
    method: string,
    path: string,
    options: CallOptions,
  ): Promise<{ status: number; body: string }> {
    const { agent, headers } = await this.#currentCredentials();
    const url = new URL(this.#server.pathname.replace(/\/$/, "") + path, this.#server);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    const requestHeaders: Record<string, string> = { ...headers, Accept: "application/json" };
    if (payload !== undefined) {
      requestHeaders["Content-Type"] = options.contentType ?? "application/json";
      requestHeaders["Content-Length"] = String(Buffer.byteLength(payload));
    }
    const timeout = this.#options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    return exchange(url, { method, agent, headers: requestHeaders, timeout }, payload);
  }

  async #currentCredentials(): Promise<Credentials> {
    const now = Date.now();
    if (this.#credentials && this.#credentials.expiresAt > now) return this.#credentials;
    const options: RequestOptions = {};
    await this.#kubeConfig.applyToHTTPSOptions(options);
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(options.headers ?? {})) {
      if (value !== undefined) headers[key] = String(value);
    }
    const previous = this.#credentials;
    const sameTls = previous && sameTlsOptions(previous.agent.options, options);
    const agent = sameTls
      ? previous.agent
      : new Agent({
          keepAlive: true,
          maxSockets: this.#options.maxSockets ?? DEFAULT_MAX_SOCKETS,
          ca: options.ca,
          cert: options.cert,
          key: options.key,
          rejectUnauthorized: options.rejectUnauthorized,
          servername: options.servername,
        });
    if (previous && !sameTls) previous.agent.destroy();
    const ttl = this.#options.credentialsTtlMs ?? DEFAULT_CREDENTIALS_TTL_MS;
    this.#credentials = { agent, headers, expiresAt: now + ttl };
    return this.#credentials;
  }
}

function exchange(
  url: URL,
  options: RequestOptions,
  payload: string | undefined,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
      );
      res.on("error", reject);
    });
    req.once("timeout", () => req.destroy(new Error(`no answer within ${options.timeout} ms`)));
    req.once("error", reject);
    req.end(payload);
  });
}

function apiException(code: number, body: string): ApiException<unknown> {
  let parsed: unknown = body;
  try {
    parsed = JSON.parse(body);
  } catch {
    // Not JSON (a proxy's error page, say): keep the text.
  }
  const message = (parsed as { message?: unknown } | undefined)?.message;
  return new ApiException(code, typeof message === "string" ? message : body, parsed, {});
}

function sameTlsOptions(agentOptions: RequestOptions, options: RequestOptions): boolean {
  return (
    String(agentOptions.ca) === String(options.ca) &&
    String(agentOptions.cert) === String(options.cert) &&
    String(agentOptions.key) === String(options.key)
  );
}

/**
 * The resource (and subresource) a path names, for metrics: `/api/v1/namespaces/x/pods/y`
 * gives `pods`, `/apis/g/v/namespaces/x/ippools/y/status` gives `ippools/status`.
 */
export function resourceOf(path: string): string {
  const parts = path.split("?")[0]!.split("/").filter(Boolean);
  const rest = parts[0] === "api" ? parts.slice(2) : parts.slice(3);
  const scoped = rest[0] === "namespaces" && rest.length > 2 ? rest.slice(2) : rest;
  const [resource = "", , subresource] = scoped;
  return subresource ? `${resource}/${subresource}` : resource;
}
