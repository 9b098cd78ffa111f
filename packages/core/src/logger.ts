import { apiErrorMessage, apiStatusCode } from "./api/errors.js";

/**
 * The logging contract every role receives through its options. Messages are constant text;
 * values go in `fields` (`pool`, `mac`, `ip`, `xid`, `err`…) so logs can be searched and
 * aggregated. winston's logger satisfies this interface; tests pass {@link silentLogger} or a
 * recorder.
 */
export interface Logger {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
}

/** Structured values attached to one log line. */
export type LogFields = Record<string, unknown>;

/** A logger that discards everything; the default for library use and tests. */
export const silentLogger: Logger = {
  error: () => {},
  warn: () => {},
  info: () => {},
  debug: () => {},
};

/**
 * Turns an unknown thrown value into a loggable string. A failed Kubernetes API call becomes
 * `HTTP <code>: <the API server's message>` (say, `HTTP 403: ippools ... is forbidden: User
 * ... cannot list ...`) rather than client-node's multi-line text with headers.
 */
export function errorText(error: unknown): string {
  const code = apiStatusCode(error);
  if (code !== undefined) return `HTTP ${code}: ${apiErrorMessage(error)}`;
  return error instanceof Error ? error.message : String(error);
}
