/**
 * Cold-key stampede (docs/reliability.md, "Load"): 1,000 concurrent callers of one cold key
 * run the factory (or reach the origin) exactly once, and all get the same value.
 *
 * The factory / origin is held open by a gate until all 1,000 callers are in (counted, not
 * slept for), so every caller truly overlaps the one run: a single-flight that let anyone
 * through would show a second call.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { type Cache, CachingMiddleware, MemoryCache, RedisCache } from '../../src/index.js';
import { createProxy } from '../../src/proxy/index.js';
import { eventually } from '../eventually.js';
import { namespacedCaches } from '../redis/util.js';
import { namespacedTiered } from '../tiered/util.js';
import { burst, countRequests, gate, listen } from './support/load.js';

const CALLERS = 1_000;
/**
 * Followers wait for the leader at most `coalesceWait` (10 s by default), then fetch on
 * their own, by design. Here the origin answers only once all 1,000 requests are in, which
 * a machine this loaded can take longer than 10 s to accept: the wait is raised so the test
 * checks coalescing, not how fast 1,000 connections open.
 */
const COALESCE_WAIT = '60s';
/** Per HTTP test: opening 1,000 connections on a loaded machine, not a claim. */
const HTTP_LIMIT = 90_000;

/**
 * Runs CALLERS getOrSet calls spread over `caches` (each a separate instance: on Redis, a
 * separate lock client, as separate processes are), the factory held until all are waiting.
 */
async function stampede(caches: Cache[]): Promise<{ calls: number; values: unknown[] }> {
  let calls = 0;
  let waiting = 0;
  const held = gate();
  const value = { id: randomBytes(8).toString('hex'), list: [1, 2, 3] };
  const factory = async () => {
    calls++;
    await held.opened;
    return value;
  };
  const key = `cold:${randomBytes(4).toString('hex')}`;
  const results: Promise<unknown>[] = [];
  for (let i = 0; i < CALLERS; i++) {
    const cache = caches[i % caches.length]!;
    // The lock wait is far above the test's duration: a waiter that gave up would run its own.
    results.push(cache.getOrSet(key, factory, { ttl: '1m', lock: { wait: '60s' } }));
    waiting++;
  }
  expect(waiting).toBe(CALLERS);
  // Every call is issued. Whether another instance's caller reaches the lock before or after
  // the release, it must not run the factory: it waits on the lock or reads the value.
  await eventually(() => expect(calls).toBe(1));
  held.open();
  const values = await Promise.all(results);
  expect(values.every((v) => JSON.stringify(v) === JSON.stringify(value))).toBe(true);
  return { calls, values };
}

describe('1,000 concurrent getOrSet callers on one cold key', () => {
  it('memory: one factory call, one value for all', async () => {
    const cache = new MemoryCache();
    await cache.start();
    try {
      const { calls } = await stampede([cache]);
      expect(calls).toBe(1);
    } finally {
      await cache.stop();
    }
  });

  const redis = namespacedCaches('standalone');
  it('Redis, four instances sharing the server: one factory call', async () => {
    const caches = await Promise.all([redis(), redis(), redis(), redis()]);
    const { calls } = await stampede(caches);
    expect(calls).toBe(1);
  });

  const tiered = namespacedTiered('standalone');
  it('TieredCache, four instances sharing the server: one factory call', async () => {
    const caches = await Promise.all([tiered(), tiered(), tiered(), tiered()]);
    const { calls } = await stampede(caches);
    expect(calls).toBe(1);
  });
});

describe('1,000 concurrent requests for one cold URL', () => {
  const closers: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  /** An origin body (binary, 16 KiB) that only the first request ever sees. */
  const BODY = randomBytes(16 * 1024);

  /**
   * An origin that answers after `front` has received every request; it counts its own.
   * `front` is the server clients talk to (the middleware's or the proxy's).
   */
  async function heldOrigin() {
    const release = gate();
    const origin = await listen((_req, res) => {
      void release.opened.then(() => {
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'cache-control': 'max-age=60',
        });
        res.end(BODY);
      });
    });
    closers.push(origin.close);
    return { origin, release, hits: countRequests(origin.server) };
  }

  async function check(
    front: string,
    frontCount: () => number,
    originCount: () => number,
    release: () => void,
  ) {
    const answers = burst(front, Array(CALLERS).fill('/cold?x=1'), CALLERS);
    // Every request reached the front before the origin answers anything.
    await eventually(() => expect(frontCount()).toBe(CALLERS), { timeout: 60_000 });
    release();
    const got = await answers;
    expect(originCount()).toBe(1);
    for (const a of got) {
      expect(a.status).toBe(200);
      expect(a.body.equals(BODY)).toBe(true);
    }
    // One leader fetched; the followers were served its response.
    expect(got.filter((a) => a.xCache === 'MISS').length).toBe(1);
  }

  async function middlewareCase(cache: Cache) {
    const { origin, release, hits } = await heldOrigin();
    const mw = new CachingMiddleware(cache, { coalesceWait: COALESCE_WAIT });
    closers.push(() => mw.stop());
    // The app behind the middleware fetches from the held origin.
    const handler = mw.handler({ ttl: '1m' }, async (_req, res) => {
      const r = await fetch(`${origin.url}/cold`);
      res.writeHead(r.status, { 'content-type': 'application/octet-stream' });
      res.end(Buffer.from(await r.arrayBuffer()));
    });
    const front = await listen(handler);
    closers.push(front.close);
    const seen = countRequests(front.server);
    await check(front.url, seen.count, hits.count, release.open);
  }

  it(
    'node:http middleware on memory: one origin request, identical bytes',
    async () => {
      const cache = new MemoryCache();
      closers.push(() => cache.stop());
      await middlewareCase(cache);
    },
    HTTP_LIMIT,
  );

  const redis = namespacedCaches('standalone');
  it(
    'node:http middleware on Redis: one origin request, identical bytes',
    async () => {
      await middlewareCase(await redis());
    },
    HTTP_LIMIT,
  );

  async function serveCase(cache: Cache | string) {
    const { origin, release, hits } = await heldOrigin();
    const proxy = createProxy({
      upstream: origin.url,
      cache,
      middleware: { coalesceWait: COALESCE_WAIT },
    });
    const seen = countRequests(proxy.server);
    const address = await proxy.listen(0, '127.0.0.1');
    closers.push(() => proxy.close(1_000));
    await check(address.url, seen.count, hits.count, release.open);
  }

  it(
    'serve on memory: one origin request, identical bytes',
    async () => {
      await serveCase('memory://');
    },
    HTTP_LIMIT,
  );

  it(
    'serve on Redis: one origin request, identical bytes',
    async () => {
      const cache = new RedisCache({
        url: inject('redisUrl'),
        prefix: `t${randomBytes(6).toString('hex')}:`,
      });
      closers.push(() => cache.stop());
      await serveCase(cache);
    },
    HTTP_LIMIT,
  );
});
