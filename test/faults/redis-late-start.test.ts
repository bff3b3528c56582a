/**
 * Redis unreachable when the caches start (a port nothing listens on), a server appearing
 * there later, with a RedisCache and a TieredCache under load: `start()` rejects with
 * CONNECTION (README: "start() connects and verifies"), but the same objects keep serving —
 * reads miss, writes reject, getOrSet answers from its factory, every call bounded — and
 * start using Redis once it is there, with no restart of their own.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis } from '../harness/redis.js';
import { allKinds, COME_UP, faultUnderLoad, type Subject } from './support/redis-faults.js';

let server: RedisServer | undefined;
let subjects: Subject[] = [];

afterEach(async () => {
  await Promise.all(subjects.map((s) => s.cache.stop()));
  await server?.stop();
  subjects = [];
  server = undefined;
});

describe('caches started while Redis is unreachable (RedisCache and TieredCache)', () => {
  it('serve from factories within their bound, then use Redis once it appears', async () => {
    server = await startRedis();
    await server.kill(); // Its port is now free, and known.
    subjects = allKinds(server, 'late');
    for (const r of await faultUnderLoad(server, subjects, COME_UP, { lateStart: true })) {
      expect([r.kind, r.load.violations]).toEqual([r.kind, []]);
      expect(r.startError).toMatchObject({ name: 'CacheError', code: 'CONNECTION' });
      expect([r.kind, r.healthDuring]).toEqual([r.kind, 'unhealthy']);
      expect(r.load.counts.getOrSets).toBeGreaterThan(100);
    }
  }, 60_000);
});
