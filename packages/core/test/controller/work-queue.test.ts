import { describe, expect, it } from "vitest";
import { WorkQueue } from "../../src/controller/work-queue.js";
import { FakeClock } from "./fake-clock.js";

describe("WorkQueue", () => {
  it("hands out a key once however often it was added", async () => {
    const queue = new WorkQueue();
    for (const key of ["a", "b", "a", "a", "b"]) queue.add(key);
    expect(queue.length).toBe(2);
    expect([await queue.get(), await queue.get()]).toEqual(["a", "b"]);
  });

  it("never hands a key to two workers; a re-add while processing comes back at done", async () => {
    const queue = new WorkQueue();
    queue.add("a");
    const key = await queue.get();
    queue.add("a");
    expect(queue.length).toBe(0);
    queue.done(key!);
    expect(queue.length).toBe(1);
    expect(await queue.get()).toBe("a");
  });

  it("wakes a waiting worker when a key arrives", async () => {
    const queue = new WorkQueue();
    const waiting = queue.get();
    queue.add("a");
    expect(await waiting).toBe("a");
    expect(queue.processing).toBe(1);
  });

  it.each([
    { failures: 1, delayMs: 10, why: "first retry waits the base delay" },
    { failures: 2, delayMs: 20, why: "doubles" },
    { failures: 4, delayMs: 80, why: "keeps doubling" },
    { failures: 9, delayMs: 1_000, why: "is capped" },
  ])("backs off $delayMs ms after $failures failures ($why)", ({ failures, delayMs }) => {
    const queue = new WorkQueue({ clock: new FakeClock(), baseDelayMs: 10, maxDelayMs: 1_000 });
    let last = 0;
    for (let i = 0; i < failures; i++) last = queue.addRateLimited("a");
    expect(last).toBe(delayMs);
  });

  it("re-adds a failing key only after its delay, and forget resets the backoff", async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({ clock, baseDelayMs: 10, maxDelayMs: 1_000 });
    queue.addRateLimited("a");
    await clock.advance(10);
    queue.done((await queue.get())!);
    queue.addRateLimited("a");
    await clock.advance(19);
    expect(queue.length).toBe(0);
    await clock.advance(1);
    expect(queue.length).toBe(1);
    queue.forget("a");
    expect(queue.failures("a")).toBe(0);
    expect(queue.addRateLimited("a")).toBe(10);
  });

  it("keeps the earliest of several delays of one key", async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({ clock });
    queue.addAfter("a", 500);
    queue.addAfter("a", 100);
    queue.addAfter("a", 300);
    await clock.advance(100);
    expect(queue.length).toBe(1);
    expect(clock.pending).toBe(0);
  });

  it("answers undefined to workers after shutDown and drops delayed keys", async () => {
    const clock = new FakeClock();
    const queue = new WorkQueue({ clock });
    const waiting = queue.get();
    queue.addAfter("a", 100);
    queue.shutDown();
    expect(await waiting).toBeUndefined();
    expect(await queue.get()).toBeUndefined();
    expect(clock.pending).toBe(0);
  });
});
