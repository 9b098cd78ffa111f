import { ApiException } from "@kubernetes/client-node";

/** HTTP status of a failed Kubernetes API call, or undefined for transport errors. */
export function apiStatusCode(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

/** The object does not exist (404). */
export function isNotFound(error: unknown): boolean {
  return apiStatusCode(error) === 404;
}

/** Someone else wrote the object since we read it (409 on update, or 409 AlreadyExists). */
export function isConflict(error: unknown): boolean {
  return apiStatusCode(error) === 409;
}

/** Longest piece of a non-Status answer (a proxy's error page, say) kept in a message. */
const MAX_BODY_TEXT = 200;

/**
 * The message the API server gave for a failed call (its `Status.message`), for logs and
 * conditions. An answer that is not a Status gives the start of its text; anything else,
 * the error's own message.
 */
export function apiErrorMessage(error: unknown): string {
  if (error instanceof ApiException) {
    const body = typeof error.body === "string" ? safeJson(error.body) : error.body;
    const message = (body as { message?: unknown } | undefined)?.message;
    if (typeof message === "string") return message;
    const text = typeof error.body === "string" ? error.body.trim() : "";
    if (body === undefined && text) return text.slice(0, MAX_BODY_TEXT);
  }
  return error instanceof Error ? error.message : String(error);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
