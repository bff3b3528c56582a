/**
 * Redis killed (SIGKILL) under load, then restarted on the same port, for a RedisCache and
 * a TieredCache: 16 writers, 24 readers, 24 getOrSet callers and 4 deleters in flight when
 * the server dies. Promised (README, "What you can rely on when Redis fails" and
 * TieredCache "While Redis is down"): every call ends within its bound, getOrSet always
 * answers (from its factory), reads never reject (fail open) and never return a value older
 * than the last acknowledged write, and once Redis is back the same cache object is healthy
 * and serves hits and writes again — the harness restarts the server, nothing else.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Cache } from '../../src/index.js';
import { type RedisServer, startRedis } from '../harness/redis.js';
import { CACHE_KINDS, KILL, outageUnderLoad } from './support/redis-faults.js';

let server: RedisServer | undefined;
let cache: Cache | undefined;

afterEach(async () => {
  await cache?.stop();
  await server?.stop();
  cache = undefined;
  server = undefined;
});

for (const [kind, make] of Object.entries(CACHE_KINDS)) {
  describe(`${kind}, Redis killed mid-load and restarted`, () => {
    it('answers every call within its bound, never a wrong value, and recovers by itself', async () => {
      server = await startRedis();
      cache = make(server.url, 'kill');
      await cache.start();
      const { load, healthDuring, breakerStates } = await outageUnderLoad(
        server,
        cache,
        'kill',
        KILL,
      );
      console.log(kind, JSON.stringify(load.counts), breakerStates.join(','));
      expect(load.violations).toEqual([]);
      expect(healthDuring).toBe('unhealthy');
      // Refused connections count like timeouts: the breaker opened, and closed again.
      expect(breakerStates).toContain('open');
      expect(breakerStates.at(-1)).toBe('closed');
      expect(load.counts.getOrSets).toBeGreaterThan(100);
    }, 60_000);
  });
}
