import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AddressBitmap } from "./address-bitmap.js";
import { IpamInvariantError } from "./errors.js";

describe("AddressBitmap", () => {
  it.each([
    [0, false, "empty bitmap"],
    [31, true, "one bit short of a word: the tail mask must stop at bit 30"],
    [32, true, "exactly one word"],
    [33, true, "one bit into the second word"],
    [100, false, "clear bitmap"],
  ])("size %d filled=%s (%s) holds exactly the expected bits", (size, filled) => {
    const bitmap = new AddressBitmap(size, filled);
    const found: number[] = [];
    for (let i = bitmap.nextAtOrAfter(0); i >= 0; i = bitmap.nextAtOrAfter(i + 1)) found.push(i);
    expect(found).toEqual(filled ? Array.from({ length: size }, (_, i) => i) : []);
  });

  it.each([
    [[5, 40, 95], 0, 5, "lowest set bit of the first word"],
    [[5, 40, 95], 6, 40, "skips the rest of word 0 and lands in word 1"],
    [[5, 40, 95], 41, 95, "skips a whole empty word"],
    [[5, 40, 95], 96, -1, "nothing at or after the last set bit"],
    [[31], 31, 31, "bit 31 is the sign bit of the int32 word"],
    [[64], 64, 64, "from itself is included"],
  ])("set %j, from %d finds %d (%s)", (bits, from, expected) => {
    const bitmap = new AddressBitmap(100, false);
    for (const bit of bits) bitmap.add(bit);
    expect(bitmap.nextAtOrAfter(from)).toBe(expected);
  });

  it("stores 16.7 million indices in 2 MiB", () => {
    expect(new AddressBitmap(2 ** 24, true).byteLength).toBe(2 * 1024 * 1024);
  });

  it.each([
    [-1, "negative index"],
    [100, "index equal to size"],
    [Number.NaN, "NaN"],
  ])("refuses to touch index %d (%s) as a broken invariant", (index) => {
    expect(() => new AddressBitmap(100, true).delete(index)).toThrow(IpamInvariantError);
  });

  it("agrees with a Set for any sequence of adds and deletes", () => {
    const ops = fc.array(fc.tuple(fc.boolean(), fc.nat(199)), { maxLength: 200 });
    fc.assert(
      fc.property(ops, fc.nat(199), (steps, from) => {
        const bitmap = new AddressBitmap(200, false);
        const model = new Set<number>();
        for (const [add, index] of steps) {
          if (add) {
            bitmap.add(index);
            model.add(index);
          } else {
            bitmap.delete(index);
            model.delete(index);
          }
        }
        const expected = [...model].filter((i) => i >= from).sort((a, b) => a - b)[0] ?? -1;
        expect(bitmap.nextAtOrAfter(from)).toBe(expected);
        expect(bitmap.has(from)).toBe(model.has(from));
      }),
    );
  });
});
