/**
 * Redis paused (SIGSTOP) under load, then continued (SIGCONT), with a RedisCache and a
 * TieredCache on it at once, each under its own load (support/redis-load.ts): connections
 * stay open and nothing answers, so every call in flight waits for its command timeout.
 * Promised (README, "What you can rely on when Redis fails"): every call ends within its
 * bound, the breaker opens (so later calls stop paying the timeout) and closes by itself,
 * getOrSet always answers, and no reply of a timed-out command reaches a later caller —
 * every value names the key it was asked for, across 32 keys with ~64 calls in flight.
 * Found here: two getOrSet lock leaks (redis-lock-leak.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis } from '../harness/redis.js';
import { allKinds, faultUnderLoad, PAUSE, type Subject } from './support/redis-faults.js';

let server: RedisServer | undefined;
let subjects: Subject[] = [];

afterEach(async () => {
  server?.resume();
  await Promise.all(subjects.map((s) => s.cache.stop()));
  await server?.stop();
  subjects = [];
  server = undefined;
});

describe('Redis paused mid-load and continued (RedisCache and TieredCache)', () => {
  it('answers every call within its bound, never a wrong value, and recovers by itself', async () => {
    server = await startRedis();
    subjects = allKinds(server, 'pause');
    for (const r of await faultUnderLoad(server, subjects, PAUSE)) {
      expect([r.kind, r.load.violations]).toEqual([r.kind, []]);
      expect([r.kind, r.healthDuring]).toEqual([r.kind, 'unhealthy']);
      expect(r.breakerStates).toContain('open');
      // The breaker stops paying the timeout: without it every call of the fault would wait
      // one (about 64 loops × 2.8 s / 0.2 s ≈ 900 calls, all slow); with it, the calls in
      // flight when the pause began and a few more wait, the thousands after do not.
      expect(r.duringFault.slow).toBeLessThan(r.duringFault.calls / 5);
      expect(r.breakerStates.at(-1)).toBe('closed');
      expect(r.load.counts.getOrSets).toBeGreaterThan(100);
    }
  }, 60_000);
});
