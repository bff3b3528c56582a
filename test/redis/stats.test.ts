/**
 * What `stats()` promises on Redis: the counters, and no `entries` / `bytes` — Redis has
 * no cheap count of one prefix (DBSIZE and INFO cover the whole database or server), and
 * the README says so rather than report a number that is not this cache's.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisCache } from '../../src/index.js';
import { connectionFor } from './util.js';

const caches: RedisCache[] = [];
afterEach(async () => {
  await Promise.all(caches.splice(0).map((c) => c.stop()));
});

describe('stats() on Redis', () => {
  it('counts hits, misses, sets and deletes, and claims no entries or bytes', async () => {
    const cache = new RedisCache({ ...connectionFor('standalone'), prefix: `st-${randomUUID()}` });
    caches.push(cache);
    await cache.set('a', '1');
    await cache.get('a');
    await cache.get('missing');
    await cache.delete('a');
    const stats = cache.stats();
    expect(stats).toMatchObject({ hits: 1, misses: 1, sets: 1, deletes: 1, errors: 0 });
    expect(stats).not.toHaveProperty('entries');
    expect(stats).not.toHaveProperty('bytes');
  });
});
