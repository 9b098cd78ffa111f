import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ReleaseQueue } from "./release-queue.js";

function drain(queue: ReleaseQueue): number[] {
  const taken: number[] = [];
  for (let index = queue.take(); index >= 0; index = queue.take()) taken.push(index);
  return taken;
}

describe("ReleaseQueue", () => {
  it("hands back indices in release order", () => {
    const queue = new ReleaseQueue();
    for (const index of [7, 3, 9]) queue.push(index);
    expect(drain(queue)).toEqual([7, 3, 9]);
    expect(queue.take()).toBe(-1);
  });

  it("skips a withdrawn index", () => {
    const queue = new ReleaseQueue();
    for (const index of [1, 2, 3]) queue.push(index);
    queue.withdraw(2);
    expect(queue.size).toBe(2);
    expect(drain(queue)).toEqual([1, 3]);
  });

  it("keeps the later release of an index that was withdrawn and released again", () => {
    const queue = new ReleaseQueue();
    queue.push(5);
    queue.push(6);
    queue.withdraw(5); // taken by a static lease...
    queue.push(5); // ...and released again: now it is the most recent release
    expect(drain(queue)).toEqual([6, 5]);
  });

  it("grows past its initial capacity across the wrap-around", () => {
    const queue = new ReleaseQueue();
    for (let i = 0; i < 10; i++) queue.push(i);
    for (let i = 0; i < 8; i++) queue.take();
    for (let i = 10; i < 100; i++) queue.push(i);
    expect(drain(queue)).toEqual(Array.from({ length: 92 }, (_, i) => i + 8));
  });

  it("compacts so that endless withdraw and re-release cycles do not grow memory", () => {
    const queue = new ReleaseQueue();
    queue.push(1);
    for (let i = 0; i < 100_000; i++) {
      queue.withdraw(1);
      queue.push(1);
    }
    expect(queue.size).toBe(1);
    expect(queue.byteLength).toBeLessThanOrEqual(1024);
    expect(drain(queue)).toEqual([1]);
  });

  it("behaves like an array model under any push, withdraw and take sequence", () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant("push" as const), index: fc.nat(20) }),
      fc.record({ kind: fc.constant("withdraw" as const), index: fc.nat(20) }),
      fc.record({ kind: fc.constant("take" as const) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 300 }), (steps) => {
        const queue = new ReleaseQueue();
        let model: number[] = [];
        for (const s of steps) {
          if (s.kind === "push" && !model.includes(s.index)) {
            queue.push(s.index); // the pool pushes an index only while it is not queued
            model.push(s.index);
          } else if (s.kind === "withdraw" && model.includes(s.index)) {
            queue.withdraw(s.index);
            model = model.filter((i) => i !== s.index);
          } else if (s.kind === "take") {
            expect(queue.take()).toBe(model.shift() ?? -1);
          }
          expect(queue.size).toBe(model.length);
        }
        expect([...queue]).toEqual(model);
      }),
    );
  });
});
