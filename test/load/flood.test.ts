/**
 * A flood of unique URLs through `serve` (docs/reliability.md, "Load"):
 * - on the memory backend with `maxMemory`, the cache's bytes never pass the bound while
 *   the flood runs, and the heap it holds after GC stays within the bound plus the
 *   README's measured overhead (bar: 1.2× the bound);
 * - on a private Redis, every key the library wrote — entries, Vary markers, tag versions,
 *   the version clock, getOrSet locks — has a TTL: none is persistent.
 *
 * The fast run floods LOAD_FLOOD_N URLs (4,000 by default, about 2.4 MB of responses against a
 * 512 KiB bound; Redis: 2,000); `npm run load` runs 1,000,000 (run-flood.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryCache, RedisCache, TieredCache } from '../../src/index.js';
import { type RedisServer, startRedis } from '../harness/redis.js';
import { flood, heapAfterGc } from './support/flood.js';
import { scanAll } from './support/load.js';

const N = Number(process.env.LOAD_FLOOD_N ?? 4_000);
const BOUND = 512 * 1024;
/** README, "The memory backend": the heap a full cache holds is 0.88–1.00× maxMemory; bar 1.2×. */
const OVERHEAD = 1.2;
/** Per test: the flood's work on a machine this loaded (~1,000 requests/s at worst), not a claim. */
const LIMIT = 60_000 + N * 20;

describe('a flood of unique URLs on the memory backend', () => {
  it(
    `holds the cache under maxMemory throughout, and its heap within ${OVERHEAD}× of it`,
    async () => {
      // A first small flood loads and warms every module the measured one uses, so the heap
      // difference below is the cache's alone.
      const warm = new MemoryCache({ maxMemory: '256kb' });
      await flood({ cache: warm, n: 1_000, writes: true });
      await warm.stop();

      const cache = new MemoryCache({ maxMemory: BOUND });
      await cache.start();
      let most = 0;
      const result = await flood({
        cache,
        n: N,
        writes: true,
        every: 500,
        progress: () => {
          most = Math.max(most, cache.stats().bytes ?? 0);
        },
      });
      expect([...result.statuses.keys()].sort()).toEqual([200, 204]);
      expect(result.stats.errors).toBe(0);
      // Each stored; most were evicted to hold the bound.
      expect(result.stats.evictions).toBeGreaterThan(N / 2);
      expect(most).toBeLessThanOrEqual(BOUND);
      expect(cache.stats().bytes).toBeLessThanOrEqual(BOUND);
      const full = heapAfterGc();
      await cache.clear();
      await cache.stop();
      const empty = heapAfterGc();
      if (process.env.LOAD_VERBOSE === '1') {
        console.log(
          `memory flood: ${result.done} requests at ${result.rate.toFixed(0)}/s, most ${most} B, heap held ${full - empty} B (${((full - empty) / BOUND).toFixed(2)}× the bound)`,
        );
      }
      expect(full - empty).toBeLessThanOrEqual(BOUND * OVERHEAD);
    },
    LIMIT,
  );
});

describe('a flood of unique URLs on Redis', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(() => server?.stop());

  it(
    'leaves no key without a TTL: entries, Vary markers, tag versions, clock, locks',
    async () => {
      const cache = new RedisCache({ url: server.url, prefix: 'flood' });
      await cache.start();
      const tiered = new TieredCache({ url: server.url, prefix: 'tiered' });
      await tiered.start();
      try {
        const result = await flood({ cache, n: Math.min(N, 2_000), writes: true });
        expect([...result.statuses.keys()].sort()).toEqual([200, 204]);
        expect(result.stats.errors).toBe(0);
        // The library's other writers on the same server: getOrSet with tags (tag keys, the
        // clock), a run still holding its lock when the scan runs, invalidations, tiered.
        for (const c of [cache, tiered]) {
          await c.getOrSet('user:1', () => ({ name: 'a' }), { ttl: '1h', tags: ['users'] });
          await c.invalidateTags(['users', 'never-written']);
          await c.getOrSet('user:2', () => 2, { ttl: '1h', tags: ['users', 'other'] });
        }
        let release!: () => void;
        const holding = cache.getOrSet(
          'slow',
          () => new Promise<number>((r) => (release = () => r(1))),
          { ttl: '1m' },
        );
        const keys = await scanAll(server.url);
        release?.();
        await holding;
        expect(keys.size).toBeGreaterThan(1_000);
        expect([...keys.keys()].some((k) => k.includes('{lock:slow}'))).toBe(true);
        const persistent = [...keys].filter(([, pttl]) => !(pttl > 0));
        // Caller data written without a TTL would be persistent by request (`set` with no TTL
        // and no defaultTTL); this run wrote none, so every key must have one.
        expect(persistent.map(([k]) => JSON.stringify(k))).toEqual([]);
      } finally {
        await tiered.stop();
        await cache.stop();
      }
    },
    LIMIT,
  );
});
