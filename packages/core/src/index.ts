/**
 * vm-dhcp's Kubernetes side: typed access to the IPPool and VirtualMachineNetworkConfig
 * resources, condition helpers, the agent (DHCP data plane), and the HTTP endpoints every role
 * serves. The controller and webhook roles join as they are built.
 */
export * from "./agent/agent.js";
export * from "./agent/lease-store.js";
export * from "./agent/responder.js";
export * from "./api/index.js";
export * from "./controller/index.js";
export * from "./http/server.js";
export * from "./kube/reflector.js";
export * from "./logger.js";
export * from "./webhook/index.js";
