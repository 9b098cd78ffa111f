/** Polling instead of sleeping: tests wait for a condition, never for a fixed time. */

const POLL_INTERVAL_MS = 100;

/** Thrown by a poll check to stop waiting at once (e.g. the process it waits for died). */
export class PollAbort extends Error {
  override readonly name = "PollAbort";
}

/**
 * Calls `check` until it returns something other than false or undefined, and returns that.
 * After `timeoutMs` it fails naming `what` and the check's last error. Errors are retried,
 * except {@link PollAbort}.
 */
export async function poll<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | false | undefined> | T | false | undefined,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== false && value !== undefined) return value;
    } catch (error) {
      if (error instanceof PollAbort) throw error;
      lastError = error;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}
