import { Counter, Gauge, type Registry } from "prom-client";

/** The agent's Prometheus metrics, registered on the registry the role was given. */
export interface AgentMetrics {
  /** Requests received, by DHCP message type name ("DISCOVER", …, "BOOTP" without option 53). */
  received: Counter<"type">;
  /** Replies sent, by message type name ("OFFER", "ACK", "NAK"). */
  sent: Counter<"type">;
  /** Requests dropped without a reply, by reason (see DhcpServer's DropReason). */
  dropped: Counter<"reason">;
  /** Packets that could not be decoded, by decode error code. */
  malformed: Counter<"code">;
  /** RELEASE and DECLINE messages from clients, by kind. */
  clientNotices: Counter<"kind">;
  /** Leases in the store. */
  leases: Gauge;
}

/** Creates and registers the agent's metrics. */
export function createAgentMetrics(registry: Registry): AgentMetrics {
  const registers = [registry];
  return {
    received: new Counter({
      name: "vmdhcpagent_packets_received_total",
      help: "DHCP requests received, by message type",
      labelNames: ["type"],
      registers,
    }),
    sent: new Counter({
      name: "vmdhcpagent_packets_sent_total",
      help: "DHCP replies sent, by message type",
      labelNames: ["type"],
      registers,
    }),
    dropped: new Counter({
      name: "vmdhcpagent_requests_dropped_total",
      help: "DHCP requests not answered, by reason (unknown-client, foreign-relay, ...)",
      labelNames: ["reason"],
      registers,
    }),
    malformed: new Counter({
      name: "vmdhcpagent_malformed_packets_total",
      help: "Packets dropped because they could not be decoded, by error code",
      labelNames: ["code"],
      registers,
    }),
    clientNotices: new Counter({
      name: "vmdhcpagent_client_notices_total",
      help: "RELEASE and DECLINE messages received from clients",
      labelNames: ["kind"],
      registers,
    }),
    leases: new Gauge({
      name: "vmdhcpagent_leases",
      help: "Leases the agent currently serves",
      registers,
    }),
  };
}
