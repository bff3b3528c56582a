/**
 * Helpers for the tiered tests: TieredCaches on the shared servers of the vitest global
 * setup, each test in a namespace of its own.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach } from 'vitest';
import type { CommonCacheOptions, TieredCacheOptions } from '../../src/index.js';
import { TieredCache } from '../../src/index.js';
import { connectionFor, type Topology } from '../redis/util.js';

/**
 * A `makeCache` for the conformance suite, as `namespacedCaches` for Redis: caches of one
 * test share a fresh namespace, with the prefix the test asks for inside it.
 */
export function namespacedTiered(topology: Topology, extra: TieredCacheOptions = {}) {
  let namespace = '';
  const made: TieredCache[] = [];
  beforeEach(() => {
    namespace = `t${randomUUID()}:`;
  });
  afterEach(async () => {
    await Promise.all(made.splice(0).map((c) => c.stop()));
  });
  return async (options: CommonCacheOptions = {}): Promise<TieredCache> => {
    const cache = new TieredCache({
      ...connectionFor(topology),
      ...extra,
      ...options,
      prefix: namespace + (options.prefix ?? ''),
    });
    made.push(cache);
    await cache.start();
    return cache;
  };
}
