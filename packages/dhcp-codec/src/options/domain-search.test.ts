import { describe, expect, it } from "vitest";
import { DhcpEncodeError } from "../errors.js";
import { decodeValue, encodeValue } from "./codec.js";
import { domainSearchCodec } from "./domain-search.js";

const bytes = (hex: string) => new Uint8Array(Buffer.from(hex.replace(/\s+/g, ""), "hex"));
const hexOf = (value: Uint8Array) => Buffer.from(value).toString("hex");
const label = (text: string) =>
  (text.length < 16 ? "0" : "") + text.length.toString(16) + Buffer.from(text).toString("hex");

/** The example of RFC 3397 §3: the second name points back at "apple.com" (offset 4). */
const RFC_3397_EXAMPLE =
  `${label("eng")}${label("apple")}${label("com")}00` + ` ${label("marketing")}c004`;

describe("domainSearchCodec", () => {
  it.each([
    [
      "the RFC 3397 example, compressed",
      ["eng.apple.com", "marketing.apple.com"],
      RFC_3397_EXAMPLE,
    ],
    ["a single name", ["example.com"], `${label("example")}${label("com")}00`],
    ["the root, as a lone zero byte", ["."], "00"],
    [
      "a repeated name, as one pointer",
      ["corp.example", "corp.example"],
      `${label("corp")}${label("example")}00 c000`,
    ],
    [
      "names differing in case, not merged, so the text comes back exactly",
      ["a.Example", "b.example"],
      `${label("a")}${label("Example")}00 ${label("b")}${label("example")}00`,
    ],
    ["an empty list", [], ""],
  ])("round-trips %s", (_why, names, wire) => {
    const compact = wire.replace(/\s+/g, "");
    expect(domainSearchCodec.encodedLength(names, "f")).toBe(compact.length / 2);
    expect(hexOf(encodeValue(domainSearchCodec, names, "f"))).toBe(compact);
    expect(decodeValue(domainSearchCodec, bytes(wire))).toEqual(names);
  });

  it("follows a pointer to a pointer when each points further back", () => {
    expect(decodeValue(domainSearchCodec, bytes("016100 c000 c003"))).toEqual(["a", "a", "a"]);
  });

  it("accepts a trailing dot on encode, since every search name is fully qualified", () => {
    expect(hexOf(encodeValue(domainSearchCodec, ["example.com."], "f"))).toBe(
      `${label("example")}${label("com")}00`,
    );
  });

  /** "a", then 130 names that each point at the one before: the last needs 130 hops. */
  const pointer = (target: number) => (0xc000 | target).toString(16);
  const chain = [
    "016100",
    pointer(0),
    ...Array.from({ length: 129 }, (_, i) => pointer(3 + 2 * i)),
  ];

  it.each([
    ["a pointer forward, past itself", "c002 016100", "NAME_COMPRESSION_LOOP", 0],
    ["a name pointing at its own start", "016100 0162 c003", "NAME_COMPRESSION_LOOP", 5],
    ["a name whose pointer leads back into it", "0161 c000", "NAME_COMPRESSION_LOOP", 2],
    ["more than 128 pointers in one name", chain.join(""), "NAME_COMPRESSION_LOOP", 3],
    ["a pointer cut in half", "016100 c0", "BAD_DOMAIN_NAME", 3],
    ["a label running past the option", "05616263", "BAD_DOMAIN_NAME", 0],
    ["a name without its root label", "0161", "BAD_DOMAIN_NAME", 2],
    ["the reserved 0x40 label type", "4161", "BAD_DOMAIN_NAME", 0],
    ["a dot inside a label", "03612e6200", "BAD_DOMAIN_NAME", 2],
    ["a name over 255 bytes", `${label("a".repeat(63)).repeat(5)}00`, "BAD_DOMAIN_NAME", 192],
  ])("rejects %s", (_why, wire, code, index) => {
    expect(() => decodeValue(domainSearchCodec, bytes(wire), 119, "domain search", 1000)).toThrow(
      expect.objectContaining({ code, offset: 1000 + index, field: "option 119 (domain search)" }),
    );
  });

  it.each([
    ["an empty name (the root is '.')", [""]],
    ["an empty label", ["a..b"]],
    ["a label over 63 bytes", [`${"a".repeat(64)}.com`]],
    ["a name over 255 bytes", [Array(5).fill("a".repeat(63)).join(".")]],
    ["a character that is not one byte", ["\u2603.com"]],
  ])("refuses %s", (_why, names) => {
    expect(() => encodeValue(domainSearchCodec, names, "option 119")).toThrow(DhcpEncodeError);
  });
});
