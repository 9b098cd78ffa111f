import { KubeConfig, type KubernetesObject } from "@kubernetes/client-node";
import { afterEach, describe, expect, it, vi } from "vitest";
import { silentLogger } from "../logger.js";
import {
  Reflector,
  type ReflectorOptions,
  type ReflectorState,
  type ReflectorTimers,
  type WatchFunction,
} from "./reflector.js";

type Query = Record<string, string | number | boolean>;
type ListResult = { items: KubernetesObject[]; resourceVersion: string };

/**
 * One watch request the reflector opened, answered by the test as the API server would. Like
 * client-node's Watch, it reports the end once, and cancelling it ends it with an AbortError.
 */
class FakeWatch {
  aborted = false;
  #ended = false;

  constructor(
    readonly query: Query,
    readonly onLine: (type: string, object: unknown) => void,
    readonly onDone: (error: unknown) => void,
  ) {}

  /** Sends one line of the stream. */
  send(type: string, object: unknown): this {
    this.onLine(type, object);
    return this;
  }

  /** Sends an ERROR event with `status`, then closes the stream, as the API server does. */
  fail(status: object): void {
    this.send("ERROR", status);
    this.end();
  }

  /** Ends the stream: cleanly without an argument, as client-node reports a failure with one. */
  end(error: unknown = null): void {
    if (this.#ended) return;
    this.#ended = true;
    this.onDone(error);
  }

  abort(): void {
    this.aborted = true;
    this.end(new DOMException("The operation was aborted.", "AbortError"));
  }
}

/**
 * What the fake server does with one watch request before answering it; the request is
 * answered (client-node's `watch` resolves) when the returned promise settles.
 */
type WatchScript = (watch: FakeWatch) => void | Promise<void>;

/** Timers that fire only when the test says so. */
class ManualTimers implements ReflectorTimers {
  readonly #timers = new Map<number, { callback: () => void; delayMs: number }>();
  #next = 1;

  setTimeout(callback: () => void, delayMs: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { callback, delayMs });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** Delays of the timers now pending. */
  get pending(): number[] {
    return [...this.#timers.values()].map((timer) => timer.delayMs);
  }

  /** Fires every pending timer. */
  fireAll(): void {
    const due = [...this.#timers.values()];
    this.#timers.clear();
    for (const timer of due) timer.callback();
  }
}

interface FixtureOptions extends Partial<ReflectorOptions<KubernetesObject>> {
  /** Answers to successive lists; the last one repeats; an Error is thrown. */
  lists?: (ListResult | Error)[];
  /** Scripts for successive watch requests; once they run out, requests stay open. */
  scripts?: WatchScript[];
}

/**
 * A reflector on a fake API server. Records what the consumer saw, the states reported and
 * the backoff delays requested; the injected sleep returns at the next turn of the event loop.
 */
class Fixture {
  readonly watches: FakeWatch[] = [];
  readonly seen: string[] = [];
  readonly states: ReflectorState[] = [];
  readonly sleeps: number[] = [];
  readonly timers = new ManualTimers();
  readonly reflector: Reflector<KubernetesObject>;
  readonly list: ReturnType<typeof vi.fn<() => Promise<ListResult>>>;
  readonly #lists: (ListResult | Error)[];
  readonly #scripts: WatchScript[];

  constructor({ lists, scripts, ...overrides }: FixtureOptions = {}) {
    this.#lists = [...(lists ?? [{ items: [], resourceVersion: "10" }])];
    this.#scripts = [...(scripts ?? [])];
    this.list = vi.fn(() => this.#nextList());
    this.reflector = new Reflector<KubernetesObject>({
      name: "pods",
      kubeConfig: new KubeConfig(),
      path: "/api/v1/namespaces/default/pods",
      list: this.list,
      watch: this.#watch,
      onList: (items) => this.seen.push(`LIST ${items.map(nameOf).join(",")}`),
      onEvent: (type, object) => this.seen.push(`${type} ${nameOf(object)}`),
      onState: (state) => this.states.push(state),
      logger: silentLogger,
      sleep: async (ms) => {
        this.sleeps.push(ms);
        await new Promise((resolve) => setImmediate(resolve));
      },
      timers: this.timers,
      initialBackoffMs: 100,
      maxBackoffMs: 1_000,
      ...overrides,
    });
    fixtures.push(this);
  }

  /** Waits until the reflector has opened `count` watch requests. */
  async watchesOpened(count: number): Promise<void> {
    await vi.waitFor(() => expect(this.watches.length).toBeGreaterThanOrEqual(count));
  }

  async #nextList(): Promise<ListResult> {
    const next = this.#lists.length > 1 ? this.#lists.shift()! : this.#lists[0]!;
    if (next instanceof Error) throw next;
    return next;
  }

  readonly #watch: WatchFunction = async (_path, query, onLine, onDone) => {
    const watch = new FakeWatch(query, onLine, onDone);
    this.watches.push(watch);
    await this.#scripts.shift()?.(watch);
    return { abort: () => watch.abort() };
  };
}

const fixtures: Fixture[] = [];
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((fixture) => fixture.reflector.stop()));
}, 5_000);

function nameOf(object: KubernetesObject): string {
  return object.metadata?.name ?? "";
}

function pod(name: string, resourceVersion: string): KubernetesObject {
  return { apiVersion: "v1", kind: "Pod", metadata: { namespace: "ns", name, resourceVersion } };
}

/** A failed watch request, as client-node's Watch reports it to `done`. */
function httpError(statusCode: number): Error {
  return Object.assign(new Error(`HTTP ${statusCode}`), { statusCode });
}

/** The Status object an ERROR watch event carries. */
function status(code: number, reason: string) {
  return { kind: "Status", apiVersion: "v1", status: "Failure", code, reason, message: reason };
}

/** A request the server never answers until `answer` is called. */
function unanswered(): { script: WatchScript; answer: () => void } {
  let answer = () => {};
  const script = () => new Promise<void>((resolve) => (answer = resolve));
  return { script, answer: () => answer() };
}

/** Every list after the first one answers with resourceVersion 50. */
const RELISTED: ListResult = { items: [pod("b", "49")], resourceVersion: "50" };
const LISTS: ListResult[] = [{ items: [pod("a", "9")], resourceVersion: "10" }, RELISTED];

describe("Reflector", () => {
  describe("start", () => {
    it("lists, hands over the whole set, then watches from the list's version", async () => {
      const fixture = new Fixture({
        lists: LISTS,
        labelSelector: "app=x",
        fieldSelector: "metadata.name=a",
        watchTimeoutSeconds: 60,
      });
      await fixture.reflector.start();
      await fixture.watchesOpened(1);

      expect(fixture.reflector.state).toBe("synced");
      expect(fixture.seen).toEqual(["LIST a"]);
      expect(fixture.watches[0]!.query).toEqual({
        resourceVersion: "10",
        allowWatchBookmarks: true,
        timeoutSeconds: 60,
        labelSelector: "app=x",
        fieldSelector: "metadata.name=a",
      });
    });

    it("resolves only after a list succeeded, backing off while it fails", async () => {
      const refused = new Error("connect ECONNREFUSED");
      const fixture = new Fixture({ lists: [refused, refused, ...LISTS] });
      expect(fixture.reflector.state).toBe("starting");

      await fixture.reflector.start();

      expect(fixture.list).toHaveBeenCalledTimes(3);
      expect(fixture.sleeps).toEqual([100, 200]);
      expect(fixture.seen).toEqual(["LIST a"]);
    });

    it("resolves when stopped before any list succeeded", async () => {
      const fixture = new Fixture({ lists: [new Error("connect ECONNREFUSED")] });
      const starting = fixture.reflector.start();
      await vi.waitFor(() => expect(fixture.sleeps.length).toBeGreaterThan(1));

      await fixture.reflector.stop();
      await starting;

      expect(fixture.reflector.state).toBe("stopped");
      expect(fixture.watches).toEqual([]);
    });
  });

  describe("watch", () => {
    it("hands ADDED, MODIFIED, DELETED over in order; not BOOKMARK or unknown", async () => {
      const fixture = new Fixture({
        scripts: [
          (watch) => {
            watch.send("ADDED", pod("a", "11")).send("MODIFIED", pod("a", "12"));
            watch.send("BOOKMARK", { metadata: { resourceVersion: "13" } });
            watch.send("SOMETHING", pod("z", "14")).send("DELETED", pod("a", "15"));
          },
        ],
      });
      await fixture.reflector.start();
      await fixture.watchesOpened(1);

      expect(fixture.seen).toEqual(["LIST ", "ADDED a", "MODIFIED a", "DELETED a"]);
    });

    it.each<{ why: string; script: WatchScript; resumeFrom: string; lists: number }>([
      {
        why: "a stream the server closed resumes after the last event, without a relist",
        script: (watch) =>
          watch.send("ADDED", pod("a", "11")).send("MODIFIED", pod("a", "12")).end(),
        resumeFrom: "12",
        lists: 1,
      },
      {
        why: "a bookmark moves the resume point though the consumer never sees it",
        script: (watch) => watch.send("BOOKMARK", { metadata: { resourceVersion: "15" } }).end(),
        resumeFrom: "15",
        lists: 1,
      },
      {
        why: "a stream closed before any event resumes from where it started",
        script: (watch) => watch.end(),
        resumeFrom: "10",
        lists: 1,
      },
      {
        why: "an ERROR event with code 410 (history compacted) relists",
        script: (watch) => watch.send("ADDED", pod("a", "11")).fail(status(410, "Expired")),
        resumeFrom: "50",
        lists: 2,
      },
      {
        why: "a watch request answered with HTTP 410 relists",
        script: (watch) => watch.end(httpError(410)),
        resumeFrom: "50",
        lists: 2,
      },
    ])("$why", async ({ script, resumeFrom, lists }) => {
      const fixture = new Fixture({ lists: LISTS, scripts: [script] });
      await fixture.reflector.start();
      await fixture.watchesOpened(2);

      expect(fixture.watches[1]!.query.resourceVersion).toBe(resumeFrom);
      expect(fixture.list).toHaveBeenCalledTimes(lists);
      expect(fixture.sleeps).toEqual([]);
    });

    it("hands the new set to onList after a 410, so consumers drop what is gone", async () => {
      const fixture = new Fixture({
        lists: LISTS,
        scripts: [(watch) => watch.end(httpError(410))],
      });
      await fixture.reflector.start();
      await fixture.watchesOpened(2);

      expect(fixture.seen).toEqual(["LIST a", "LIST b"]);
    });

    it.each<{ why: string; script: WatchScript; resumeFrom: string }>([
      {
        why: "a dropped connection resumes after the events already delivered",
        script: (watch) => watch.send("ADDED", pod("a", "11")).end(new Error("socket hang up")),
        resumeFrom: "11",
      },
      {
        why: "an ERROR event other than 410 (failing conversion webhook) is not rewatched at once",
        script: (watch) => watch.fail(status(500, "conversion webhook failed")),
        resumeFrom: "10",
      },
      {
        why: "a watch request the server refuses is retried from the same version",
        script: (watch) => watch.end(httpError(403)),
        resumeFrom: "10",
      },
      {
        why: "a watch that cannot even be sent is retried",
        script: () => {
          throw new Error("No currently active cluster");
        },
        resumeFrom: "10",
      },
    ])("backs off and does not relist: $why", async ({ script, resumeFrom }) => {
      const fixture = new Fixture({ lists: LISTS, scripts: [script] });
      await fixture.reflector.start();
      await fixture.watchesOpened(2);

      expect(fixture.sleeps).toEqual([100]);
      expect(fixture.watches[1]!.query.resourceVersion).toBe(resumeFrom);
      expect(fixture.list).toHaveBeenCalledTimes(1);
    });
  });

  describe("backoff", () => {
    const fail: WatchScript = (watch) => watch.end(new Error("connect ECONNREFUSED"));
    const close: WatchScript = (watch) => watch.end();

    it.each<{ why: string; options?: FixtureOptions; scripts: WatchScript[]; sleeps: number[] }>([
      {
        why: "doubles from the initial delay up to the cap, then stays there",
        scripts: [fail, fail, fail, fail, fail, fail, fail],
        sleeps: [100, 200, 400, 800, 1_000, 1_000, 1_000],
      },
      {
        why: "defaults to 200 ms doubling up to 30 s",
        options: { initialBackoffMs: undefined, maxBackoffMs: undefined },
        scripts: Array(10).fill(fail),
        sleeps: [200, 400, 800, 1_600, 3_200, 6_400, 12_800, 25_600, 30_000, 30_000],
      },
      {
        why: "starts over after a watch that ended cleanly",
        scripts: [fail, fail, close, fail],
        sleeps: [100, 200, 100],
      },
      {
        why: "counts a failing relist like a failing watch",
        options: { lists: [LISTS[0]!, new Error("503"), new Error("503"), RELISTED] },
        scripts: [(watch) => watch.end(httpError(410))],
        sleeps: [100, 200],
      },
    ])("$why", async ({ options, scripts, sleeps }) => {
      const fixture = new Fixture({ lists: LISTS, ...options, scripts });
      await fixture.reflector.start();
      await fixture.watchesOpened(scripts.length + 1);

      expect(fixture.sleeps).toEqual(sleeps);
    });
  });

  describe("stall watchdog", () => {
    it("allows a watch its server timeout plus a grace period, re-armed by each line", async () => {
      const fixture = new Fixture({ watchTimeoutSeconds: 60 });
      await fixture.reflector.start();
      await fixture.watchesOpened(1);
      expect(fixture.timers.pending).toEqual([90_000]);

      fixture.watches[0]!.send("ADDED", pod("a", "11")).send("MODIFIED", pod("a", "12"));

      expect(fixture.timers.pending).toEqual([90_000]);
    });

    it("cuts a silent watch and, after backoff, resumes from the last version seen", async () => {
      const fixture = new Fixture({ lists: LISTS });
      await fixture.reflector.start();
      await fixture.watchesOpened(1);
      fixture.watches[0]!.send("ADDED", pod("a", "11"));

      fixture.timers.fireAll();
      await fixture.watchesOpened(2);

      expect(fixture.watches[0]!.aborted).toBe(true);
      expect(fixture.sleeps).toEqual([100]);
      expect(fixture.watches[1]!.query.resourceVersion).toBe("11");
      expect(fixture.states).toEqual(["synced", "disconnected", "synced"]);
    });

    it("gives up on a request the server never answers, cancelling it if it does", async () => {
      const { script, answer } = unanswered();
      const fixture = new Fixture({ lists: LISTS, scripts: [script] });
      await fixture.reflector.start();
      await fixture.watchesOpened(1);

      fixture.timers.fireAll();
      await fixture.watchesOpened(2);
      answer();

      await vi.waitFor(() => expect(fixture.watches[0]!.aborted).toBe(true));
      expect(fixture.sleeps).toEqual([100]);
      expect(fixture.watches[1]!.query.resourceVersion).toBe("10");
    });
  });

  describe("state", () => {
    type StateRow = {
      why: string;
      options: FixtureOptions;
      watches: number;
      states: ReflectorState[];
    };
    const fail: WatchScript = (watch) => watch.end(new Error("socket hang up"));

    it.each<StateRow>([
      {
        why: "the first list makes it synced",
        options: {},
        watches: 1,
        states: ["synced"],
      },
      {
        why: "a failing first list reports disconnected until a list succeeds",
        options: { lists: [new Error("connect ECONNREFUSED"), ...LISTS] },
        watches: 1,
        states: ["disconnected", "synced"],
      },
      {
        why: "a failed watch reports disconnected until the server accepts one again",
        options: { scripts: [fail, fail] },
        watches: 3,
        states: ["synced", "disconnected", "synced"],
      },
      {
        why: "a relist after 410 is routine and never reports disconnected",
        options: { lists: LISTS, scripts: [(watch) => watch.end(httpError(410))] },
        watches: 2,
        states: ["synced"],
      },
    ])("$why, then stopped", async ({ options, watches, states }) => {
      const fixture = new Fixture(options);
      await fixture.reflector.start();
      await fixture.watchesOpened(watches);
      await fixture.reflector.stop();

      expect(fixture.states).toEqual([...states, "stopped"]);
    });
  });

  describe("stop", () => {
    it("cancels the open watch, clears the watchdog and reports stopped", async () => {
      const fixture = new Fixture();
      await fixture.reflector.start();
      await fixture.watchesOpened(1);

      await fixture.reflector.stop();

      expect(fixture.watches[0]!.aborted).toBe(true);
      expect(fixture.timers.pending).toEqual([]);
      expect(fixture.reflector.state).toBe("stopped");
    });

    it("returns at once while the watch request is still unanswered", async () => {
      const { script, answer } = unanswered();
      const fixture = new Fixture({ scripts: [script] });
      await fixture.reflector.start();
      await fixture.watchesOpened(1);

      await fixture.reflector.stop();
      answer();

      await vi.waitFor(() => expect(fixture.watches[0]!.aborted).toBe(true));
      expect(fixture.reflector.state).toBe("stopped");
    });

    it("interrupts the backoff sleep when none is injected", async () => {
      const fixture = new Fixture({
        sleep: undefined,
        initialBackoffMs: 60_000,
        scripts: [(watch) => watch.end(new Error("socket hang up"))],
      });
      await fixture.reflector.start();
      await vi.waitFor(() => expect(fixture.reflector.state).toBe("disconnected"));

      const before = Date.now();
      await fixture.reflector.stop();

      expect(Date.now() - before).toBeLessThan(1_000);
      expect(fixture.watches).toHaveLength(1);
    });
  });
});
