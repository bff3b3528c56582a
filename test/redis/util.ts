/**
 * Helpers for the real-Redis tests: caches on the shared servers of the vitest global
 * setup, each test in a namespace of its own so tests (and test files running in
 * parallel) never see each other's keys.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, inject } from 'vitest';
import type { CommonCacheOptions } from '../../src/index.js';
import { RedisCache, type RedisCacheOptions } from '../../src/index.js';

/** Where a test's caches connect: the shared standalone server or the shared cluster. */
export type Topology = 'standalone' | 'cluster';

/** Connection options for the shared server of a topology. */
export function connectionFor(topology: Topology): RedisCacheOptions {
  return topology === 'standalone'
    ? { url: inject('redisUrl') }
    : { cluster: { nodes: inject('clusterNodes') } };
}

/** What {@link namespaced} needs of a cache: start and stop. */
interface NamespacedCache {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A `makeCache` for the conformance suite, for any Redis-backed cache class: every cache
 * made during one test shares a fresh random namespace, and the prefix the test asks for
 * goes inside it — so two caches of one test with prefixes `same:` and `same` still share
 * keys, as the suite expects, while nothing leaks between tests.
 */
export function namespaced<O extends RedisCacheOptions, C extends NamespacedCache>(
  make: (options: O) => C,
  topology: Topology,
  extra: O,
) {
  let namespace = '';
  const made: C[] = [];
  beforeEach(() => {
    namespace = `t${randomUUID()}:`;
  });
  afterEach(async () => {
    await Promise.all(made.splice(0).map((c) => c.stop()));
  });
  return async (options: CommonCacheOptions = {}): Promise<C> => {
    const cache = make({
      ...connectionFor(topology),
      ...extra,
      ...options,
      prefix: namespace + (options.prefix ?? ''),
    } as O);
    made.push(cache);
    await cache.start();
    return cache;
  };
}

/** {@link namespaced} RedisCaches. */
export function namespacedCaches(topology: Topology, extra: RedisCacheOptions = {}) {
  return namespaced((o: RedisCacheOptions) => new RedisCache(o), topology, extra);
}
