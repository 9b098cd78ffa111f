import { KubeConfig, type KubernetesObject } from "@kubernetes/client-node";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { WatchEventType, WatchFunction } from "../kube/reflector.js";
import { silentLogger } from "../logger.js";
import { Informer, type InformerEvent, InformerGroup } from "./informer.js";

type Pod = KubernetesObject & { metadata: { labels?: Record<string, string> } };

/** A watch stream the test drives: `send` delivers a line, `end` closes it as client-node does. */
interface OpenWatch {
  send(type: WatchEventType, object: Pod): void;
  end(error?: unknown): void;
}

function pod(name: string, resourceVersion: string, network = "x"): Pod {
  return { metadata: { namespace: "ns", name, resourceVersion, labels: { network } } };
}

/** The answer client-node gives a watch whose resourceVersion the server no longer keeps. */
const GONE = Object.assign(new Error("Gone"), { statusCode: 410 });

/**
 * An informer over a fake API server: lists answer from `lists` in turn (the last repeats),
 * watch requests stay open for the test to drive. Records every event handed to handlers.
 */
class Fixture {
  readonly watches: OpenWatch[] = [];
  readonly events: InformerEvent<Pod>[] = [];
  readonly informer: Informer<Pod>;

  constructor(lists: Pod[][]) {
    const answers = [...lists];
    const kube = {
      list: async <T>() => {
        const items = answers.length > 1 ? answers.shift()! : answers[0]!;
        return { items: items as T[], resourceVersion: String(this.watches.length + 1) };
      },
    };
    const watch: WatchFunction = async (_path, _query, onLine, onDone) => {
      this.watches.push({ send: onLine, end: (error = null) => onDone(error) });
      return { abort: () => {} };
    };
    this.informer = new Informer<Pod>({
      name: "pods",
      kubeConfig: new KubeConfig(),
      kube,
      watch,
      path: "/api/v1/namespaces/ns/pods",
      indexers: { network: (object) => [object.metadata.labels?.network ?? ""] },
      logger: silentLogger,
    });
    this.informer.on((event) => this.events.push(event));
    fixtures.push(this);
  }

  /** Starts the informer and waits for its first watch. */
  async start(): Promise<void> {
    await this.informer.start();
    await this.watchesOpened(1);
  }

  /** Ends the open watch with 410 Gone and waits for the relist and the next watch. */
  async relist(): Promise<InformerEvent<Pod>[]> {
    const before = this.events.length;
    this.watches.at(-1)!.end(GONE);
    await this.watchesOpened(this.watches.length + 1);
    return this.events.slice(before);
  }

  async watchesOpened(count: number): Promise<void> {
    await vi.waitFor(() => expect(this.watches.length).toBeGreaterThanOrEqual(count));
  }
}

const fixtures: Fixture[] = [];
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((fixture) => fixture.informer.stop()));
}, 5_000);

/** Events reduced to what a row states: type, key, and versions now and before. */
function summary(events: InformerEvent<Pod>[]) {
  return events.map(({ type, key, object, previous }) => ({
    type,
    key,
    version: object.metadata.resourceVersion,
    ...(previous ? { previous: previous.metadata.resourceVersion } : {}),
  }));
}

describe("Informer", () => {
  it("reports the first list as added and is synced after it", async () => {
    const fixture = new Fixture([[pod("a", "1"), pod("b", "1")]]);
    expect(fixture.informer.synced).toBe(false);

    await fixture.start();

    expect(fixture.informer.synced).toBe(true);
    expect(summary(fixture.events)).toEqual([
      { type: "added", key: "ns/a", version: "1" },
      { type: "added", key: "ns/b", version: "1" },
    ]);
  });

  describe("relist", () => {
    it.each<{ why: string; before: Pod[]; after: Pod[]; events: object[] }>([
      {
        why: "an object gone from the new list is deleted, reported with the last version seen",
        before: [pod("a", "1"), pod("b", "1")],
        after: [pod("a", "1")],
        events: [{ type: "deleted", key: "ns/b", version: "1" }],
      },
      {
        why: "an object with a new resourceVersion is updated, reported with the previous one",
        before: [pod("a", "1")],
        after: [pod("a", "7")],
        events: [{ type: "updated", key: "ns/a", version: "7", previous: "1" }],
      },
      {
        why: "an object missing before is added",
        before: [],
        after: [pod("a", "3")],
        events: [{ type: "added", key: "ns/a", version: "3" }],
      },
      {
        why: "an unchanged object is not reported again",
        before: [pod("a", "1")],
        after: [pod("a", "1")],
        events: [],
      },
      {
        why: "an empty list deletes everything cached",
        before: [pod("a", "1"), pod("b", "2")],
        after: [],
        events: [
          { type: "deleted", key: "ns/a", version: "1" },
          { type: "deleted", key: "ns/b", version: "2" },
        ],
      },
    ])("$why", async ({ before, after, events }) => {
      const fixture = new Fixture([before, after]);
      await fixture.start();

      expect(summary(await fixture.relist())).toEqual(events);
      expect(fixture.informer.list()).toEqual(after);
    });

    it("compares with the version the watch delivered last, not with the old list", async () => {
      const fixture = new Fixture([[pod("a", "1")], [pod("a", "2")]]);
      await fixture.start();
      fixture.watches[0]!.send("MODIFIED", pod("a", "2"));

      expect(summary(await fixture.relist())).toEqual([]);
    });

    it("moves the indexes before any handler runs", async () => {
      const fixture = new Fixture([
        [pod("a", "1", "x"), pod("b", "1", "x"), pod("c", "1", "y")],
        [pod("a", "1", "x"), pod("b", "2", "y")],
      ]);
      await fixture.start();
      const seenByHandlers: string[][] = [];
      fixture.informer.on(() => seenByHandlers.push(fixture.informer.keys()));

      await fixture.relist();

      expect(fixture.informer.byIndex("network", "x")).toEqual([pod("a", "1", "x")]);
      expect(fixture.informer.byIndex("network", "y")).toEqual([pod("b", "2", "y")]);
      expect(fixture.informer.get("ns/c")).toBeUndefined();
      expect(seenByHandlers).toEqual([
        ["ns/a", "ns/b"],
        ["ns/a", "ns/b"],
      ]);
    });
  });

  describe("watch events", () => {
    it.each<{ why: string; type: WatchEventType; object: Pod; events: object[] }>([
      {
        why: "a new object is added",
        type: "ADDED",
        object: pod("b", "2"),
        events: [{ type: "added", key: "ns/b", version: "2" }],
      },
      {
        why: "a new resourceVersion is an update",
        type: "MODIFIED",
        object: pod("a", "2"),
        events: [{ type: "updated", key: "ns/a", version: "2", previous: "1" }],
      },
      {
        why: "the version already cached (a replayed event) is not reported again",
        type: "MODIFIED",
        object: pod("a", "1"),
        events: [],
      },
      {
        why: "a cached object is deleted",
        type: "DELETED",
        object: pod("a", "2"),
        events: [{ type: "deleted", key: "ns/a", version: "2" }],
      },
      {
        why: "deleting an object never cached is not reported",
        type: "DELETED",
        object: pod("z", "2"),
        events: [],
      },
    ])("$why", async ({ type, object, events }) => {
      const fixture = new Fixture([[pod("a", "1")]]);
      await fixture.start();
      const before = fixture.events.length;

      fixture.watches[0]!.send(type, object);

      expect(summary(fixture.events.slice(before))).toEqual(events);
    });
  });
});

describe("InformerGroup", () => {
  it("answers for all its members and is synced only when every member is", async () => {
    const east = new Fixture([[pod("a", "1", "x")]]);
    const west = new Fixture([[pod("b", "1", "x")]]);
    const group = new InformerGroup([east.informer, west.informer]);
    await east.start();
    expect(group.synced).toBe(false);

    await west.start();

    expect(group.synced).toBe(true);
    expect(group.state).toBe("synced");
    expect(group.get("ns/b")).toEqual(pod("b", "1", "x"));
    expect(group.byIndex("network", "x")).toEqual([pod("a", "1", "x"), pod("b", "1", "x")]);
  });
});
