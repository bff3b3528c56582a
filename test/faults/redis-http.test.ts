/**
 * The HTTP caching middleware over Redis under load while Redis fails: killed and
 * restarted, paused and continued, out of memory — for each fault a middleware over a
 * RedisCache and one over a TieredCache on the same server, each on its own node:http
 * server under its own load of 32 concurrent GET loops and 4 PUT loops on 12 paths. Promised (README, HTTP response caching): a cache
 * failure never fails a request (every answer a 200 from the origin, within the bound), a
 * write's invalidation is never lost (no GET begun after a PUT was answered returns an older
 * version), and caching resumes by itself (hits again) once Redis is back. Found here: an
 * invalidation refused by a full Redis (OOM) was lost, and the old entry stayed a HIT.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type Cache, CachingMiddleware } from '../../src/index.js';
import { type RedisServer, startRedis } from '../harness/redis.js';
import {
  BOUND_MS,
  CACHE_KINDS,
  FAULT_MS,
  KILL,
  OOM_ARGS,
  OUT_OF_MEMORY,
  PAUSE,
  report,
  watchFor,
} from './support/redis-faults.js';
import { HttpModelLoad, listen, VersionedOrigin } from './support/redis-http-load.js';
import { until } from './support/redis-load.js';

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** One middleware over one cache kind, on its own port, under its own load. */
async function site(server: RedisServer, kind: keyof typeof CACHE_KINDS, prefix: string) {
  const cache: Cache = CACHE_KINDS[kind](server.url, `${prefix}-${kind}`);
  await cache.start();
  cleanups.push(() => cache.stop());
  const mw = new CachingMiddleware(cache);
  const handler = mw.handler({ ttl: '1h' }, new VersionedOrigin().handle);
  const http = await listen((req, res) => handler(req, res));
  cleanups.push(async () => {
    await http.close();
    mw.stop();
  });
  return { kind, cache, mw, load: new HttpModelLoad(http.url, { boundMs: BOUND_MS }) };
}

for (const fault of [KILL, PAUSE, OUT_OF_MEMORY]) {
  describe(`CachingMiddleware over a RedisCache and a TieredCache, Redis ${fault.name} under load`, () => {
    it('answers every request from the origin or a correct hit, loses no invalidation, and caches again', async () => {
      const server: RedisServer = await startRedis({ args: OOM_ARGS });
      cleanups.push(async () => {
        server.resume();
        await server.stop();
      });
      const sites = [
        await site(server, 'RedisCache', 'http'),
        await site(server, 'TieredCache', 'http'),
      ];
      const loads = sites.map((s) => s.load);
      try {
        await until('hits', () => loads.every((l) => l.counts.hits > 100));
        await until('many requests in flight', () => loads.every((l) => l.inFlight >= 20));
        await fault.begin(server);
        const errors = sites.map((s) => s.mw.stats().errors);
        await watchFor(loads, FAULT_MS);
        // The fault reached each middleware (it is not answering from a cache that still works).
        for (const [i, s] of sites.entries()) {
          expect([s.kind, s.mw.stats().errors > (errors[i] ?? 0)]).toEqual([s.kind, true]);
        }
        await fault.end(server);
        for (const { cache, load } of sites) {
          await until('health again', async () => (await cache.health()).status === 'healthy');
          const hits = load.counts.hits;
          const puts = load.counts.puts;
          await until(
            'hits again',
            () => load.counts.hits > hits + 100 && load.counts.puts > puts + 20,
          );
          load.assertNoHang();
        }
      } finally {
        await Promise.all(loads.map((l) => l.stop()));
      }
      report(sites.map((s) => `${s.kind} http ${fault.name}: ${JSON.stringify(s.load.counts)}`));
      for (const s of sites) expect([s.kind, s.load.violations]).toEqual([s.kind, []]);
    }, 60_000);
  });
}
