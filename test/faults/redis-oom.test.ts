/**
 * Redis at `maxmemory` with `noeviction` (every write answered `OOM …`), under load, for a
 * RedisCache and a TieredCache. Promised (README, "Reads fail open, writes fail loud" and
 * the Redis README's failure table): writes reject with BACKEND (the OOM reply kept as the
 * message), reads keep answering from what is stored, getOrSet answers (a value from Redis
 * or its factory), the multi-key writes are all-or-nothing (an `mset` with a TTL is one
 * MULTI/EXEC, a tagged `set` reads its tag versions first: nothing half-written), and once
 * memory is freed writes land again — same cache object. An invalidation with `retry` that
 * Redis refused is kept, bypassed meanwhile, and lands once memory is freed.
 *
 * The server starts with `--maxmemory 8mb`, and one 8 MB key written behind the cache's back
 * pushes it over; deleting that key frees the memory. (Not `1mb`: an empty Redis 7 uses
 * about 0.9 MB, and the connections of one TieredCache push that past 1 MB, so the cache
 * could not write even its first entry.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Cache } from '../../src/index.js';
import { type RedisServer, startRedis } from '../harness/redis.js';
import { BOUND_MS, CACHE_KINDS, report } from './support/redis-faults.js';
import { ModelLoad, until } from './support/redis-load.js';

let server: RedisServer | undefined;
let cache: Cache | undefined;

afterEach(async () => {
  await cache?.stop();
  await server?.stop();
  cache = undefined;
  server = undefined;
});

const OOM = { name: 'CacheError', code: 'BACKEND', message: expect.stringMatching(/OOM/) };

for (const [kind, make] of Object.entries(CACHE_KINDS)) {
  describe(`${kind} on a Redis out of memory (noeviction)`, () => {
    it('rejects writes, keeps reads and getOrSet answering, writes nothing by halves, and recovers', async () => {
      server = await startRedis({
        args: ['--maxmemory', '8mb', '--maxmemory-policy', 'noeviction'],
      });
      const c = make(server.url, 'oom');
      cache = c;
      await c.start();
      await c.mset({ m1: 'old', m2: 'old' }, '5m');
      await c.set('tagged', 'old', '5m', { tags: ['t'] });
      await c.set('n', '5');
      const load = new ModelLoad(c, { boundMs: BOUND_MS });
      try {
        await until('the load to warm the cache', () => load.counts.getHits > 100);
        await server.cli('SETRANGE', 'filler', String(8 << 20), 'x');
        const hits = load.counts.getHits;
        const answered = load.counts.getOrSets;
        await until('writes to be refused', () => (load.counts.writeErrors.BACKEND ?? 0) > 50);
        // A PING still answers, but health says what the writes meet.
        expect(await c.health()).toMatchObject({
          status: 'degraded',
          error: expect.stringMatching(/OOM/),
        });
        await until(
          'reads and getOrSet to keep answering',
          () => load.counts.getHits > hits + 100 && load.counts.getOrSets > answered + 100,
        );

        // All or nothing: the MULTI of an mset with a TTL is refused whole.
        await expect(c.mset({ m1: 'new', m2: 'new' }, '5m')).rejects.toMatchObject(OOM);
        expect(await server.cli('MGET', 'oom:m1', 'oom:m2')).toBe('old\nold');
        // A tagged write: refused, and nothing of it in Redis.
        await expect(c.set('tagged2', 'new', '5m', { tags: ['t2'] })).rejects.toMatchObject(OOM);
        expect(await server.cli('EXISTS', 'oom:tagged2')).toBe('0');
        // incr is INCRBY and a GET in one MULTI: refused whole, in Redis and in an L1 alike.
        await expect(c.incr('n')).rejects.toMatchObject(OOM);
        expect(await server.cli('GET', 'oom:n')).toBe('5');
        expect((await c.get('n'))?.toString()).toBe('5');
        // An invalidation is refused loudly; with `retry` (what the HTTP middleware uses)
        // it is kept and retried, and meanwhile this instance bypasses the tag's entries
        // (regression: the refusal rejected, and every HTTP write's invalidation was lost).
        await expect(c.invalidateTags(['t'])).rejects.toMatchObject(OOM);
        expect(await c.get('tagged')).toBeDefined();
        expect(await c.invalidateTags(['t'], { retry: true })).toEqual({ queued: true });
        expect(await c.get('tagged')).toBeUndefined();
        expect(await c.health()).toMatchObject({ status: 'degraded', details: { outbox: 1 } });
        // Reads still answer, and never a mix: both old (RedisCache), or both the refused
        // values a TieredCache keeps in its own L1 (README: a failed set lands in L1).
        const [m1, m2] = (await c.mget(['m1', 'm2'])).map(String);
        expect(m1).toBe(m2);
        expect(['old', 'new']).toContain(m1);

        await server.cli('DEL', 'filler');
        const acked = load.counts.setsAcked;
        await until('writes to land again', () => load.counts.setsAcked > acked + 100);
        await c.mset({ m1: 'new', m2: 'new' }, '5m');
        expect(await server.cli('MGET', 'oom:m1', 'oom:m2')).toBe('new\nnew');
        // The kept invalidation lands by itself once Redis takes writes again.
        await until(
          'the invalidation to land',
          async () => (await c.health()).status === 'healthy',
        );
        expect(await c.get('tagged')).toBeUndefined();
        await c.set('tagged', 'new', '5m', { tags: ['t'] });
        expect((await c.get('tagged'))?.toString()).toBe('new');
        load.assertNoHang();
      } finally {
        await load.stop();
      }
      report([`${kind} out of memory: ${JSON.stringify(load.counts)}`]);
      expect(load.violations).toEqual([]);
      expect(Object.keys(load.counts.writeErrors)).toEqual(['BACKEND']);
    }, 60_000);
  });
}
