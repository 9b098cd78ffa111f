import type { ControllerMetrics, VmNetCfgMetricLabels } from "./metrics.js";
import type { NicResult } from "./vmnetcfg-plan.js";

type Labels = Record<VmNetCfgMetricLabels, string>;

/**
 * Keeps `vmdhcpcontroller_vmnetcfg_status` equal to the vmnetcfgs' NICs: one series of value 1
 * per NIC, labelled with its address and state; series of a NIC whose labels changed, or of a
 * deleted vmnetcfg, are removed rather than left behind.
 */
export class VmNetCfgMetrics {
  readonly #gauge: ControllerMetrics["vmnetcfgStatus"];
  readonly #series = new Map<string, Labels[]>();

  constructor(metrics: ControllerMetrics) {
    this.#gauge = metrics.vmnetcfgStatus;
  }

  set(key: string, results: readonly NicResult[]): void {
    const next = results.map((result) => ({
      vmnetcfg: key,
      network: result.networkName,
      mac: result.mac,
      ip: result.ip ?? "",
      status: result.state,
    }));
    const wanted = new Set(next.map((labels) => JSON.stringify(labels)));
    for (const labels of this.#series.get(key) ?? []) {
      if (!wanted.has(JSON.stringify(labels))) this.#gauge.remove(labels);
    }
    for (const labels of next) this.#gauge.set(labels, 1);
    this.#series.set(key, next);
  }

  delete(key: string): void {
    for (const labels of this.#series.get(key) ?? []) this.#gauge.remove(labels);
    this.#series.delete(key);
  }
}
