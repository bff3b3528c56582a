/**
 * The HTTP caching middleware over Redis under load while Redis fails: killed and
 * restarted, paused and continued, out of memory — 32 concurrent GET loops and 4 PUT loops
 * on 12 paths through a node:http server. Promised (README, HTTP response caching): a cache
 * failure never fails a request (every answer a 200 from the origin, within the bound), a
 * write's invalidation is never lost (no GET begun after a PUT was answered returns an older
 * version), and caching resumes by itself (hits again) once Redis is back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Cache, CachingMiddleware } from '../../src/index.js';
import { type RedisServer, startRedis } from '../harness/redis.js';
import {
  BOUND_MS,
  CACHE_KINDS,
  FAULT_MS,
  type Fault,
  KILL,
  OOM_ARGS,
  OUT_OF_MEMORY,
  PAUSE,
} from './support/redis-faults.js';
import { HttpModelLoad, listen, VersionedOrigin } from './support/redis-http-load.js';
import { until } from './support/redis-load.js';

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Keeps checking for hung requests for `ms`. */
async function watch(load: HttpModelLoad, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    load.assertNoHang();
    await new Promise((r) => setTimeout(r, 50));
  }
}

const CASES: [keyof typeof CACHE_KINDS, Fault][] = [
  ['RedisCache', KILL],
  ['RedisCache', PAUSE],
  ['RedisCache', OUT_OF_MEMORY],
  ['TieredCache', PAUSE],
];

for (const [kind, fault] of CASES) {
  describe(`CachingMiddleware over a ${kind}, Redis ${fault.name} under load`, () => {
    it('answers every request from the origin or a correct hit, loses no invalidation, and caches again', async () => {
      const server: RedisServer = await startRedis({ args: OOM_ARGS });
      cleanups.push(async () => {
        server.resume();
        await server.stop();
      });
      const cache: Cache = CACHE_KINDS[kind](server.url, 'http');
      await cache.start();
      cleanups.push(() => cache.stop());
      const mw = new CachingMiddleware(cache);
      const origin = new VersionedOrigin();
      const handler = mw.handler({ ttl: '1h' }, origin.handle);
      const http = await listen((req, res) => handler(req, res));
      cleanups.push(async () => {
        await http.close();
        mw.stop();
      });

      const load = new HttpModelLoad(http.url, { boundMs: BOUND_MS });
      try {
        await until('hits', () => load.counts.hits > 100);
        await until('many requests in flight', () => load.inFlight >= 20);
        await fault.begin(server);
        const errors = mw.stats().errors;
        await watch(load, FAULT_MS);
        // The fault reached the middleware (it is not answering from a cache that still works).
        expect(mw.stats().errors).toBeGreaterThan(errors);
        await fault.end(server);
        await until('health again', async () => (await cache.health()).status === 'healthy');
        const hits = load.counts.hits;
        const puts = load.counts.puts;
        await until(
          'hits again',
          () => load.counts.hits > hits + 100 && load.counts.puts > puts + 20,
        );
        load.assertNoHang();
      } finally {
        await load.stop();
      }
      console.log(kind, fault.name, JSON.stringify(load.counts), JSON.stringify(mw.stats()));
      expect(load.violations).toEqual([]);
    }, 60_000);
  });
}
