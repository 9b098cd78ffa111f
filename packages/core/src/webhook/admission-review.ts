/**
 * The `admission.k8s.io/v1` AdmissionReview exchange: what the API server sends a webhook and
 * what it expects back. Only the fields this webhook reads or writes are typed.
 */
import type { JsonPatchOperation } from "./ippool-defaults.js";

/** The only AdmissionReview version this webhook speaks (`admissionReviewVersions: [v1]`). */
export const ADMISSION_REVIEW_API_VERSION = "admission.k8s.io/v1";

/** What the request does to the object. */
export type AdmissionOperation = "CREATE" | "UPDATE" | "DELETE" | "CONNECT";

/** The part of a review the API server fills in. */
export interface AdmissionRequest<T = unknown> {
  uid: string;
  kind?: { group: string; version: string; kind: string };
  resource?: { group: string; version: string; resource: string };
  subResource?: string;
  name?: string;
  namespace?: string;
  operation: AdmissionOperation;
  userInfo?: { username?: string };
  /** The new object (CREATE, UPDATE); null on DELETE. */
  object?: T | null;
  /** The stored object (UPDATE, DELETE); null on CREATE. */
  oldObject?: T | null;
  dryRun?: boolean;
}

/** The part of a review the webhook fills in. */
export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason: string; message: string };
  patchType?: "JSONPatch";
  /** Base64 of the JSON Patch. */
  patch?: string;
  warnings?: string[];
}

/** The envelope posted by the API server and sent back with the response. */
export interface AdmissionReview<T = unknown> {
  apiVersion: string;
  kind: "AdmissionReview";
  request?: AdmissionRequest<T>;
  response?: AdmissionResponse;
}

/** A webhook's answer before it is wrapped for the API server. */
export type AdmissionVerdict =
  | {
      readonly allowed: true;
      readonly patch?: readonly JsonPatchOperation[];
      readonly warnings?: readonly string[];
    }
  | {
      readonly allowed: false;
      /** HTTP status the API server reports: 422 for an invalid spec, 403 for a refused delete. */
      readonly code: number;
      /** Kubernetes `StatusReason`; kubectl prints `Invalid` as "The request is invalid". */
      readonly reason: "Invalid" | "Forbidden" | "InternalError" | "BadRequest";
      readonly message: string;
      readonly warnings?: readonly string[];
    };

/** Allows the request, with optional warnings and patch. */
export function allow(
  warnings: readonly string[] = [],
  patch: readonly JsonPatchOperation[] = [],
): AdmissionVerdict {
  return { allowed: true, warnings, patch };
}

/** Refuses an invalid spec (HTTP 422, reason Invalid). */
export function denyInvalid(message: string, warnings: readonly string[] = []): AdmissionVerdict {
  return { allowed: false, code: 422, reason: "Invalid", message, warnings };
}

/** Refuses an operation that the object's surroundings forbid (HTTP 403, reason Forbidden). */
export function denyForbidden(message: string): AdmissionVerdict {
  return { allowed: false, code: 403, reason: "Forbidden", message };
}

/** Wraps a verdict as the AdmissionReview response for request `uid`. */
export function admissionResponse(uid: string, verdict: AdmissionVerdict): AdmissionReview {
  const response: AdmissionResponse = { uid, allowed: verdict.allowed };
  if (verdict.warnings && verdict.warnings.length > 0) response.warnings = [...verdict.warnings];
  if (verdict.allowed && verdict.patch && verdict.patch.length > 0) {
    response.patchType = "JSONPatch";
    response.patch = Buffer.from(JSON.stringify(verdict.patch)).toString("base64");
  }
  if (!verdict.allowed) {
    response.status = { code: verdict.code, reason: verdict.reason, message: verdict.message };
  }
  return { apiVersion: ADMISSION_REVIEW_API_VERSION, kind: "AdmissionReview", response };
}
