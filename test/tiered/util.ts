/**
 * Helpers for the tiered tests: TieredCaches on the shared servers of the vitest global
 * setup, each test in a namespace of its own.
 */
import type { TieredCacheOptions } from '../../src/index.js';
import { TieredCache } from '../../src/index.js';
import { namespaced, type Topology } from '../redis/util.js';

/** {@link namespaced} TieredCaches, as `namespacedCaches` makes RedisCaches. */
export function namespacedTiered(topology: Topology, extra: TieredCacheOptions = {}) {
  return namespaced((o: TieredCacheOptions) => new TieredCache(o), topology, extra);
}
