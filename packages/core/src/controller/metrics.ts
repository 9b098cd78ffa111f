import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** Labels of the pool gauges (SPEC section 6). */
export type PoolMetricLabels = "ippool" | "cidr" | "network";
/** Labels of the vmnetcfg gauge (SPEC section 6). */
export type VmNetCfgMetricLabels = "vmnetcfg" | "network" | "mac" | "ip" | "status";

/** The controller's Prometheus metrics, registered on the registry the role was given. */
export interface ControllerMetrics {
  /** SPEC: addresses in use per pool. */
  ippoolUsed: Gauge<PoolMetricLabels>;
  /** SPEC: free addresses per pool. */
  ippoolAvailable: Gauge<PoolMetricLabels>;
  /** SPEC: 1 per NIC of every vmnetcfg, its address and state in the labels. */
  vmnetcfgStatus: Gauge<VmNetCfgMetricLabels>;
  /** Reconciles by controller and result (`success`, `error`). */
  reconciles: Counter<"controller" | "result">;
  reconcileSeconds: Histogram<"controller">;
  /** Keys waiting per work queue. */
  queueDepth: Gauge<"queue">;
  /** Pool status writes by result (`ok`, `conflict`, `error`). */
  poolStatusWrites: Counter<"result">;
  /** Allocation and release requests carried by one pool status write. */
  poolWriteBatchSize: Histogram;
  /** API calls made by the controller, by verb, resource and HTTP status. */
  apiCalls: Counter<"verb" | "resource" | "code">;
  /** 1 while this process holds the leader lease (or runs without leader election). */
  leader: Gauge;
}

/** Where gauges read at scrape time get their values. */
export interface ControllerMetricSources {
  /** Keys waiting per work queue now. */
  queueDepths?: () => Record<string, number>;
}

/** Creates and registers the controller's metrics. */
export function createControllerMetrics(
  registry: Registry,
  sources: ControllerMetricSources = {},
): ControllerMetrics {
  const registers = [registry];
  const poolLabels: PoolMetricLabels[] = ["ippool", "cidr", "network"];
  return {
    ippoolUsed: new Gauge({
      name: "vmdhcpcontroller_ippool_used",
      help: "Addresses of the pool's range in use",
      labelNames: poolLabels,
      registers,
    }),
    ippoolAvailable: new Gauge({
      name: "vmdhcpcontroller_ippool_available",
      help: "Free addresses of the pool's range",
      labelNames: poolLabels,
      registers,
    }),
    vmnetcfgStatus: new Gauge({
      name: "vmdhcpcontroller_vmnetcfg_status",
      help: "One series per NIC of each VirtualMachineNetworkConfig, value 1",
      labelNames: ["vmnetcfg", "network", "mac", "ip", "status"],
      registers,
    }),
    reconciles: new Counter({
      name: "vmdhcpcontroller_reconciles_total",
      help: "Reconciles by controller and result",
      labelNames: ["controller", "result"],
      registers,
    }),
    reconcileSeconds: new Histogram({
      name: "vmdhcpcontroller_reconcile_duration_seconds",
      help: "Time spent in one reconcile",
      labelNames: ["controller"],
      buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10],
      registers,
    }),
    ...createQueueAndApiMetrics(registers, sources),
  };
}

function createQueueAndApiMetrics(registers: Registry[], sources: ControllerMetricSources) {
  return {
    queueDepth: new Gauge({
      name: "vmdhcpcontroller_workqueue_depth",
      help: "Keys waiting in a work queue",
      labelNames: ["queue"] as const,
      registers,
      collect() {
        if (!sources.queueDepths) return;
        this.reset();
        for (const [queue, depth] of Object.entries(sources.queueDepths())) {
          this.set({ queue }, depth);
        }
      },
    }),
    poolStatusWrites: new Counter({
      name: "vmdhcpcontroller_ippool_status_writes_total",
      help: "IPPool status writes by result (ok, conflict, error)",
      labelNames: ["result"] as const,
      registers,
    }),
    poolWriteBatchSize: new Histogram({
      name: "vmdhcpcontroller_ippool_status_write_batch_size",
      help: "Allocation and release requests carried by one IPPool status write",
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers,
    }),
    apiCalls: new Counter({
      name: "vmdhcpcontroller_api_calls_total",
      help: "Kubernetes API calls by verb, resource and HTTP status (watches not counted)",
      labelNames: ["verb", "resource", "code"] as const,
      registers,
    }),
    leader: new Gauge({
      name: "vmdhcpcontroller_leader",
      help: "1 while this process is the leader",
      registers,
    }),
  };
}
