import type { AddressInfo } from "node:net";
import express, { type Express } from "express";
import type { Registry } from "prom-client";
import type { Logger } from "../logger.js";

/** Port of `/healthz`, `/readyz` and `/metrics` in every role (SPEC: observability). */
export const DEFAULT_HTTP_PORT = 8080;

/** A readiness verdict with the facts behind it, shown in the probe's body. */
export interface Readiness {
  ready: boolean;
  checks: Record<string, string | boolean | number>;
}

export interface HttpServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  /** Liveness: false only when the process cannot recover by itself and should restart. */
  healthy?: () => boolean;
  readiness: () => Readiness;
  /** Adds role-specific routes, e.g. the cache dump API. */
  routes?: (app: Express) => void;
  logger: Logger;
}

/** The running HTTP endpoint. */
export interface HttpServer {
  port: number;
  close(): Promise<void>;
}

/** Serves the probes and metrics every role has, plus the role's own routes. */
export function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const app = express();
  app.disable("x-powered-by");
  app.get("/healthz", (_req, res) => {
    const healthy = options.healthy?.() ?? true;
    res
      .status(healthy ? 200 : 500)
      .type("text/plain")
      .send(healthy ? "ok\n" : "unhealthy\n");
  });
  app.get("/readyz", (_req, res) => {
    const readiness = options.readiness();
    res.status(readiness.ready ? 200 : 503).json(readiness);
  });
  app.get("/metrics", async (_req, res) => {
    res.type(options.registry.contentType).send(await options.registry.metrics());
  });
  options.routes?.(app);

  return new Promise((resolve, reject) => {
    const server = app.listen(options.port, options.host ?? "0.0.0.0");
    server.once("error", reject);
    server.once("listening", () => {
      const port = (server.address() as AddressInfo).port;
      options.logger.info("HTTP endpoints listening", { port });
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
