import { describe, expect, it } from "vitest";
import { CodecInvariantError, DhcpDecodeError, DhcpEncodeError } from "./errors.js";

describe("DhcpDecodeError", () => {
  const error = new DhcpDecodeError({
    code: "BAD_OPTION_LENGTH",
    offset: 245,
    field: "option 51 (lease time)",
    reason: "value must be exactly 4 bytes",
    expected: "4 bytes",
    found: "3 bytes",
  });

  it("carries code, offset, field, reason, expected and found", () => {
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: "DhcpDecodeError",
      code: "BAD_OPTION_LENGTH",
      offset: 245,
      field: "option 51 (lease time)",
      reason: "value must be exactly 4 bytes",
      expected: "4 bytes",
      found: "3 bytes",
    });
  });

  it("names the offset and the reason in its message", () => {
    expect(error.message).toBe(
      "BAD_OPTION_LENGTH at offset 245 in option 51 (lease time): value must be exactly 4 bytes" +
        " (expected 4 bytes, found 3 bytes)",
    );
  });

  it("leaves the comparison out when there is none", () => {
    const bare = new DhcpDecodeError({
      code: "OPTION_OVERRUN",
      offset: 7,
      field: "f",
      reason: "r",
    });
    expect(bare.message).toBe("OPTION_OVERRUN at offset 7 in f: r");
    expect(bare.reason).toBe("r");
    expect(bare.expected).toBeUndefined();
  });
});

describe("DhcpEncodeError", () => {
  it("lists the option codes that did not fit", () => {
    const error = new DhcpEncodeError("DOES_NOT_FIT", "options", "no room", [119, 121]);
    expect(error).toMatchObject({ name: "DhcpEncodeError", code: "DOES_NOT_FIT" });
    expect(error.optionCodes).toEqual([119, 121]);
  });
});

describe("CodecInvariantError", () => {
  it("is neither of the input error classes", () => {
    const error = new CodecInvariantError("bug");
    expect(error).not.toBeInstanceOf(DhcpDecodeError);
    expect(error).not.toBeInstanceOf(DhcpEncodeError);
  });
});
