/**
 * Redis killed (SIGKILL) under load, then restarted on the same port, with a RedisCache and
 * a TieredCache on it at once, each under its own load: 16 writers, 24 readers, 24 getOrSet
 * callers and 4 deleters in flight when the server dies (support/redis-load.ts). Promised
 * (README, "What you can rely on when Redis fails" and TieredCache "While Redis is down"):
 * every call ends within its bound, getOrSet always answers (from its factory), reads never
 * reject (fail open) and never return a value older than the last acknowledged write, the
 * breaker opens and closes again, and once Redis is back the same cache objects are healthy
 * and serve hits and writes again — the harness restarts the server, nothing else.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis } from '../harness/redis.js';
import { allKinds, faultUnderLoad, KILL, type Subject } from './support/redis-faults.js';

let server: RedisServer | undefined;
let subjects: Subject[] = [];

afterEach(async () => {
  await Promise.all(subjects.map((s) => s.cache.stop()));
  await server?.stop();
  subjects = [];
  server = undefined;
});

describe('Redis killed mid-load and restarted (RedisCache and TieredCache)', () => {
  it('answers every call within its bound, never a wrong value, and recovers by itself', async () => {
    server = await startRedis();
    subjects = allKinds(server, 'kill');
    for (const r of await faultUnderLoad(server, subjects, KILL)) {
      expect([r.kind, r.load.violations]).toEqual([r.kind, []]);
      expect([r.kind, r.healthDuring]).toEqual([r.kind, 'unhealthy']);
      // Refused connections count like timeouts: the breaker opened, and closed again.
      expect(r.breakerStates).toContain('open');
      expect(r.breakerStates.at(-1)).toBe('closed');
      expect(r.load.counts.getOrSets).toBeGreaterThan(100);
    }
  }, 60_000);
});
