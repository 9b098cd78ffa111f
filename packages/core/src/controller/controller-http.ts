import type { CacheDump, IpamDump } from "@vm-dhcp/ipam";
import type { Express, Response } from "express";

/** What the dump routes read. */
export interface CacheDumpSource {
  ipamDump(namespace: string, name: string): IpamDump | undefined;
  cacheDump(namespace: string, name: string): CacheDump | undefined;
}

/**
 * `--enable-cache-dump-api` (SPEC section 6): `/ipams/<ns>/<name>` answers IP -> "true"
 * (allocated) or "false" (free) for the pool's range, `/caches/<ns>/<name>` MAC -> IP. A pool
 * this replica does not serve now (unknown, paused, or a standby) is a 404 with a JSON reason.
 */
export function cacheDumpRoutes(app: Express, source: CacheDumpSource): void {
  app.get("/ipams/:namespace/:name", (req, res) => {
    answer(res, source.ipamDump(req.params.namespace, req.params.name), req.params);
  });
  app.get("/caches/:namespace/:name", (req, res) => {
    answer(res, source.cacheDump(req.params.namespace, req.params.name), req.params);
  });
}

function answer(res: Response, dump: object | undefined, ref: { namespace: string; name: string }) {
  if (dump) {
    res.json(dump);
    return;
  }
  const error =
    `IPPool ${ref.namespace}/${ref.name} has no cache here: ` +
    "unknown, paused, or this replica is not the leader";
  res.status(404).json({ error });
}
