import { describe, expect, it } from "vitest";
import {
  boolean,
  namedBits,
  oid,
  sequence,
  smallInteger,
  time,
  tlv,
  unsignedInteger,
} from "./der.js";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe("tlv", () => {
  it.each([
    ["short form up to 127 bytes", 127, "047f"],
    ["long form with one length byte from 128", 128, "048180"],
    ["long form with two length bytes from 256", 300, "0482012c"],
  ])("%s", (_why, length, header) => {
    expect(hex(tlv(0x04, new Uint8Array(length))).slice(0, header.length)).toBe(header);
  });
});

describe("unsignedInteger", () => {
  it.each([
    ["zero is one zero byte", [], "020100"],
    ["redundant leading zeros are dropped", [0, 0, 5], "020105"],
    ["a set top bit gets a zero byte so the value stays positive", [0x80], "02020080"],
    ["a clear top bit needs no padding", [0x7f, 0xff], "02027fff"],
  ])("%s", (_why, magnitude, expected) => {
    expect(hex(unsignedInteger(Uint8Array.from(magnitude)))).toBe(expected);
  });

  it("smallInteger writes the certificate version 2 (v3)", () => {
    expect(hex(smallInteger(2))).toBe("020102");
  });
});

describe("oid", () => {
  it.each([
    [
      "ecdsa-with-SHA256, arcs above 127 in base 128",
      "1.2.840.10045.4.3.2",
      "06082a8648ce3d040302",
    ],
    ["commonName, first two arcs in one byte", "2.5.4.3", "0603550403"],
    ["serverAuth", "1.3.6.1.5.5.7.3.1", "06082b06010505070301"],
  ])("%s", (_why, dotted, expected) => {
    expect(hex(oid(dotted))).toBe(expected);
  });
});

describe("namedBits", () => {
  it.each([
    ["digitalSignature alone: seven unused bits", [0], "03020780"],
    ["digitalSignature, keyCertSign, cRLSign: one unused bit", [0, 5, 6], "03020186"],
    ["a bit in the second byte", [0, 8], "0303078080"],
  ])("%s", (_why, bits, expected) => {
    expect(hex(namedBits(bits))).toBe(expected);
  });
});

describe("time", () => {
  it.each([
    ["UTCTime through 2049", "2049-12-31T23:59:59.900Z", "170d3439313233313233353935395a"],
    ["GeneralizedTime from 2050", "2050-01-01T00:00:00.000Z", "180f32303530303130313030303030305a"],
  ])("%s", (_why, iso, expected) => {
    expect(hex(time(new Date(iso)))).toBe(expected);
  });
});

describe("sequence / boolean", () => {
  it("nests encoded elements; true is 0xff", () => {
    expect(hex(sequence(boolean(true), boolean(false)))).toBe("30060101ff010100");
  });
});
