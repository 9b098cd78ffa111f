import {
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { isConflict, isNotFound } from "./errors.js";
import type { ResourceKind } from "./types.js";

/** A namespaced custom object with the metadata every call needs. */
export type NamespacedObject = KubernetesObject & {
  metadata: { name?: string; namespace?: string; resourceVersion?: string };
};

/** A list result: the items and the resourceVersion to start a watch from. */
export interface ObjectList<T> {
  items: T[];
  resourceVersion: string;
}

/** Which objects a list returns, in the API server's selector syntax. */
export interface ListSelectors {
  /** e.g. `app=vm-dhcp-agent` */
  labelSelector?: string;
  /** e.g. `metadata.name=net-a` */
  fieldSelector?: string;
}

/** How often an optimistic-concurrency update re-reads and retries before giving up. */
export const DEFAULT_CONFLICT_ATTEMPTS = 5;

/**
 * Typed access to one custom resource kind, on @kubernetes/client-node's CustomObjectsApi.
 *
 * Writes that replace an object carry its `resourceVersion`, so a concurrent change makes the
 * API server answer 409 instead of silently losing the other writer's change; the `*WithRetry`
 * methods re-read and re-apply a mutation on conflict.
 *
 * @example
 * ```ts
 * const pools = new ResourceClient<IpPool>(kubeConfig, IP_POOL);
 * await pools.updateStatusWithRetry("default", "net-a", (pool) => {
 *   pool.status = { ...pool.status, lastUpdate: new Date().toISOString() };
 *   return pool;
 * });
 * ```
 */
export class ResourceClient<T extends NamespacedObject> {
  readonly #api: CustomObjectsApi;
  readonly #kind: ResourceKind;

  constructor(kubeConfig: KubeConfig, kind: ResourceKind) {
    this.#api = kubeConfig.makeApiClient(CustomObjectsApi);
    this.#kind = kind;
  }

  /** The kind this client serves. */
  get kind(): ResourceKind {
    return this.#kind;
  }

  /** Reads one object; undefined when it does not exist. */
  async get(namespace: string, name: string): Promise<T | undefined> {
    try {
      return (await this.#api.getNamespacedCustomObject({ ...this.#at(namespace), name })) as T;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /**
   * Lists the objects of one namespace, or of all namespaces when `namespace` is undefined,
   * narrowed by the selectors when given.
   */
  async list(namespace?: string, selectors: ListSelectors = {}): Promise<ObjectList<T>> {
    const { group, version, plural } = this.#kind;
    const { labelSelector, fieldSelector } = selectors;
    const query = { labelSelector, fieldSelector };
    const list = (
      namespace === undefined
        ? await this.#api.listClusterCustomObject({ group, version, plural, ...query })
        : await this.#api.listNamespacedCustomObject({ ...this.#at(namespace), ...query })
    ) as { items: T[]; metadata?: { resourceVersion?: string } };
    return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? "" };
  }

  /** Creates the object in its `metadata.namespace`. */
  async create(object: T): Promise<T> {
    const body = { apiVersion: this.#apiVersion, kind: this.#kind.kind, ...object };
    return (await this.#api.createNamespacedCustomObject({
      ...this.#at(namespaceOf(object)),
      body,
    })) as T;
  }

  /** Replaces spec and metadata; fails with 409 when `metadata.resourceVersion` is stale. */
  async update(object: T): Promise<T> {
    return (await this.#api.replaceNamespacedCustomObject({
      ...this.#at(namespaceOf(object)),
      name: nameOf(object),
      body: object,
    })) as T;
  }

  /** Replaces the status subresource; fails with 409 when `metadata.resourceVersion` is stale. */
  async updateStatus(object: T): Promise<T> {
    return (await this.#api.replaceNamespacedCustomObjectStatus({
      ...this.#at(namespaceOf(object)),
      name: nameOf(object),
      body: object,
    })) as T;
  }

  /** Applies a JSON merge patch (RFC 7386) to the status subresource. */
  async patchStatus(namespace: string, name: string, patch: object): Promise<T> {
    return (await this.#api.patchNamespacedCustomObjectStatus(
      { ...this.#at(namespace), name, body: patch },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    )) as T;
  }

  /** Deletes the object; returns false when it was already gone. */
  async delete(namespace: string, name: string): Promise<boolean> {
    try {
      await this.#api.deleteNamespacedCustomObject({ ...this.#at(namespace), name });
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  /**
   * Reads the object, lets `mutate` change it, and writes it back (spec and metadata, or the
   * status subresource), re-reading on conflict. `mutate` returns undefined to skip the write.
   * Returns the stored object, or undefined when it does not exist or nothing was written.
   */
  async updateWithRetry(
    namespace: string,
    name: string,
    mutate: (current: T) => T | undefined,
    options: { subresource?: "status"; attempts?: number } = {},
  ): Promise<T | undefined> {
    const attempts = options.attempts ?? DEFAULT_CONFLICT_ATTEMPTS;
    for (let attempt = 1; ; attempt++) {
      const current = await this.get(namespace, name);
      if (!current) return undefined;
      const next = mutate(structuredClone(current));
      if (!next) return undefined;
      try {
        return options.subresource === "status"
          ? await this.updateStatus(next)
          : await this.update(next);
      } catch (error) {
        if (!isConflict(error) || attempt >= attempts) throw error;
      }
    }
  }

  /** {@link updateWithRetry} on the status subresource. */
  updateStatusWithRetry(
    namespace: string,
    name: string,
    mutate: (current: T) => T | undefined,
  ): Promise<T | undefined> {
    return this.updateWithRetry(namespace, name, mutate, { subresource: "status" });
  }

  /** The API path of this kind, for informers and watches (all namespaces when undefined). */
  path(namespace?: string): string {
    const { group, version, plural } = this.#kind;
    const scope = namespace === undefined ? "" : `/namespaces/${namespace}`;
    return `/apis/${group}/${version}${scope}/${plural}`;
  }

  get #apiVersion(): string {
    return `${this.#kind.group}/${this.#kind.version}`;
  }

  #at(namespace: string) {
    const { group, version, plural } = this.#kind;
    return { group, version, plural, namespace };
  }
}

function namespaceOf(object: NamespacedObject): string {
  const namespace = object.metadata?.namespace;
  if (!namespace) throw new TypeError("object has no metadata.namespace");
  return namespace;
}

function nameOf(object: NamespacedObject): string {
  const name = object.metadata?.name;
  if (!name) throw new TypeError("object has no metadata.name");
  return name;
}
