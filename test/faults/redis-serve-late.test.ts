/**
 * `serve` (the caching reverse proxy, here in process through `createProxy`, as the CLI
 * builds it) and the caching middleware, started with a Redis URL nothing listens on yet,
 * under load. What users expect, and what it does: the proxy starts (it says so in its log)
 * instead of refusing to, answers every request from the origin meanwhile — 200s within the
 * bound, never a 5xx — and starts caching once Redis appears, with no restart; no write's
 * invalidation is lost on the way. (`test/serve/redis.test.ts` checks the CLI's own message
 * with one request at a time.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createProxy } from '../../src/index.js';
import { type RedisServer, startRedis } from '../harness/redis.js';
import {
  BOUND_MS,
  COMMAND_TIMEOUT_MS,
  FAULT_MS,
  report,
  watchFor,
} from './support/redis-faults.js';
import { HttpModelLoad, VersionedOrigin } from './support/redis-http-load.js';
import { until } from './support/redis-load.js';

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('serve with a Redis URL that is down at start-up', () => {
  it('starts, answers from the origin under load, then caches once Redis is there', async () => {
    const server: RedisServer = await startRedis();
    cleanups.push(() => server.stop());
    await server.kill(); // Its port is known, and nothing listens on it.
    const origin = new VersionedOrigin(true);
    const upstream = await origin.listen();
    cleanups.push(upstream.close);
    const logged: string[] = [];
    const proxy = createProxy({
      upstream: upstream.url,
      cache: `${server.url}?prefix=serve&commandTimeout=${COMMAND_TIMEOUT_MS}ms&connectTimeout=500ms`,
      log: (line) => logged.push(line),
    });
    const address = await proxy.listen(0);
    cleanups.push(() => proxy.close(1_000));
    expect(logged.join('\n')).toMatch(/answering from the origin/);

    const load = new HttpModelLoad(address.url, { boundMs: BOUND_MS });
    try {
      await until('requests answered', () => load.counts.requests > 200);
      await watchFor([load], FAULT_MS);
      expect(load.counts.hits).toBe(0); // Nothing to hit: Redis is not there.
      await server.restart();
      await until('hits once Redis is up', () => load.counts.hits > 100);
      load.assertNoHang();
    } finally {
      await load.stop();
    }
    report([`serve late start: ${JSON.stringify(load.counts)}`]);
    expect(load.violations).toEqual([]);
    // The invalidations kept while Redis was away land by themselves: healthy, not degraded.
    await until('healthy', async () => (await proxy.cache.health()).status === 'healthy');
  }, 60_000);
});
