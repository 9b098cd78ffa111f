import type { Logger } from "@vm-dhcp/core";

/**
 * Keeps a role running until SIGTERM or SIGINT, then stops it once. A second signal exits at
 * once, for an operator whose shutdown is stuck.
 */
export function runUntilSignal(logger: Logger, stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) process.exit(130);
      stopping = true;
      logger.info("shutting down", { signal });
      stop().then(resolve, (error: unknown) => {
        logger.error("shutdown failed", { err: String(error) });
        resolve();
      });
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
}
