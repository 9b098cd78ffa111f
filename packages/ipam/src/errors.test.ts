import { describe, expect, it } from "vitest";
import { fail, IpamError, IpamInvariantError, succeed } from "./errors.js";

describe("IpamError", () => {
  it("carries a stable code and the details that apply", () => {
    const cause = new Error("lower level");
    const error = new IpamError("ALREADY_ALLOCATED", "10.0.0.5 is allocated to a", {
      field: "wanted",
      value: "10.0.0.5",
      owner: "a",
      cause,
    });
    expect(error).toBeInstanceOf(Error);
    expect([error.name, error.code, error.field, error.value, error.owner]).toEqual([
      "IpamError",
      "ALREADY_ALLOCATED",
      "wanted",
      "10.0.0.5",
      "a",
    ]);
    expect(error.cause).toBe(cause);
  });

  it("serialises to a plain object for structured logs, without unset details", () => {
    const error = new IpamError("EXHAUSTED", "no free address left");
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      name: "IpamError",
      code: "EXHAUSTED",
      message: "no free address left",
    });
  });
});

describe("IpamInvariantError", () => {
  it("is not an IpamError, so callers never handle a bug as a refusal", () => {
    const error = new IpamInvariantError("free index 3 is allocated");
    expect(error).not.toBeInstanceOf(IpamError);
    expect(error.name).toBe("IpamInvariantError");
  });
});

describe("succeed and fail", () => {
  it("build both sides of an IpamResult", () => {
    const error = new IpamError("NOT_ALLOCATED", "nothing held");
    expect(succeed(1)).toEqual({ ok: true, value: 1 });
    expect(fail(error)).toEqual({ ok: false, error });
  });
});
