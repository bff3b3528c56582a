/**
 * Redis unreachable when the cache starts (a port nothing listens on), a server appearing
 * there later, for a RedisCache and a TieredCache under load: `start()` rejects with
 * CONNECTION (README: "start() connects and verifies"), but the same object keeps serving —
 * reads miss, writes reject, getOrSet answers from its factory, every call bounded — and
 * starts using Redis once it is there, with no restart of its own.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Cache } from '../../src/index.js';
import { type RedisServer, startRedis } from '../harness/redis.js';
import { CACHE_KINDS, lateStartUnderLoad } from './support/redis-faults.js';

let server: RedisServer | undefined;
let cache: Cache | undefined;

afterEach(async () => {
  await cache?.stop();
  await server?.stop();
  cache = undefined;
  server = undefined;
});

for (const [kind, make] of Object.entries(CACHE_KINDS)) {
  describe(`${kind} started while Redis is unreachable`, () => {
    it('serves from factories within its bound, then uses Redis once it appears', async () => {
      server = await startRedis();
      await server.kill(); // Its port is now free, and known.
      cache = make(server.url, 'late');
      const { load, startError, healthBefore } = await lateStartUnderLoad(server, cache, 'late');
      console.log(kind, JSON.stringify(load.counts));
      expect(load.violations).toEqual([]);
      expect(startError).toMatchObject({ name: 'CacheError', code: 'CONNECTION' });
      expect(healthBefore).toBe('unhealthy');
      expect(load.counts.getOrSets).toBeGreaterThan(100);
    }, 60_000);
  });
}
