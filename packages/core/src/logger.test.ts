import { ApiException } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { errorText } from "./logger.js";

const forbidden = {
  kind: "Status",
  apiVersion: "v1",
  status: "Failure",
  message: 'ippools.network.harvesterhci.io "net-a" is forbidden: User "x" cannot list',
  reason: "Forbidden",
  code: 403,
};

describe("errorText", () => {
  it.each([
    {
      why: "an API error whose body is a Status, as text (client-node's typed APIs)",
      error: new ApiException(403, "Unknown API Status Code!", JSON.stringify(forbidden), {}),
      text: `HTTP 403: ${forbidden.message}`,
    },
    {
      why: "an API error whose body is a parsed Status (the controller's client)",
      error: new ApiException(403, forbidden.message, forbidden, { "audit-id": "1" }),
      text: `HTTP 403: ${forbidden.message}`,
    },
    {
      why: "an answer that is not a Status keeps the start of its text, not the headers",
      error: new ApiException(502, "Bad Gateway", ` <html>${"x".repeat(300)}</html>`, {}),
      text: `HTTP 502: <html>${"x".repeat(194)}`,
    },
    { why: "any other Error gives its message", error: new Error("boom"), text: "boom" },
    { why: "a thrown string is itself", error: "plain", text: "plain" },
  ])("$why", ({ error, text }) => {
    expect(errorText(error)).toBe(text);
  });
});
