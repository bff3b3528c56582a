/**
 * The HTTP middleware over a RedisCache while Redis does not answer (SIGSTOP on a private
 * server). Two regressions from issue #8:
 * - "lost invalidation": a PUT answered 200 while its tag bump timed out, and once Redis
 *   was back the old GET stayed a HIT for its whole TTL;
 * - "slow outage": every request paid the command timeout for as long as Redis was paused
 *   (and a miss paid it twice: the read, then the tag snapshot).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CachingMiddleware } from '../../src/http/caching-middleware.js';
import type { BreakerState, RedisCacheOptions } from '../../src/index.js';
import { RedisCache } from '../../src/stores/redis/redis-cache.js';
import { type RedisServer, startRedis } from '../harness/redis.js';
import { sleep } from '../harness/tools.js';
import { send, until } from './client.js';

/** A command timeout long enough that a request which waited for Redis is unmistakable. */
const SLOW_MS = 2_000;

let redis: RedisServer;
const cleanups: (() => Promise<void>)[] = [];

beforeEach(async () => {
  redis = await startRedis();
});

afterEach(async () => {
  redis.resume();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await redis.stop();
});

/** A product origin: GET answers the current version, PUT makes a new one. */
function productOrigin() {
  let version = 1;
  return (req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'PUT') {
      version++;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('updated');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ id: 2, version }));
  };
}

/** The node:http handler of a CachingMiddleware over a RedisCache, listening on a free port. */
async function serve(options: RedisCacheOptions) {
  const cache = new RedisCache({ url: redis.url, prefix: 'http-outage', ...options });
  await cache.start();
  const mw = new CachingMiddleware(cache);
  const handler = mw.handler({ ttl: '1h' }, productOrigin());
  const server: Server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const stopped = { done: false };
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    mw.stop();
    if (!stopped.done) await cache.stop();
  });
  const states: BreakerState[] = [];
  cache.on('breaker', (e) => states.push(e.state));
  return { cache, mw, url, states, stopped };
}

async function timedGet(url: string, path: string) {
  const t0 = performance.now();
  const response = await send(url, path);
  return { response, ms: performance.now() - t0 };
}

describe('a write while Redis is paused (regression: lost invalidation)', () => {
  it('never serves the old entry as a HIT once Redis is back', async () => {
    const { url, mw } = await serve({ commandTimeout: 300 });
    expect((await send(url, '/products/2')).xCache).toBe('MISS');
    await until(() => mw.stats().stores >= 1, 10_000, 'the response to be stored');
    const hit = await send(url, '/products/2');
    expect(hit.xCache).toBe('HIT');
    expect(JSON.parse(hit.text)).toEqual({ id: 2, version: 1 });

    redis.pause();
    const put = await send(url, '/products/2', { method: 'PUT' });
    expect(put.status).toBe(200);
    redis.resume();

    // Poll until the cache serves hits again (the deadline is generous); no answer on the
    // way may be the old entry.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const got = await send(url, '/products/2');
      expect(JSON.parse(got.text)).toEqual({ id: 2, version: 2 });
      if (got.xCache === 'HIT') break;
      if (Date.now() > deadline) throw new Error('the cache never served a hit again');
      await sleep(50);
    }
  });
});

describe('requests while Redis is paused (regression: slow outage)', () => {
  it('stop paying the command timeout once the breaker is open (at most 5 slow requests)', async () => {
    const { url, states, cache, stopped } = await serve({ commandTimeout: SLOW_MS });
    expect((await send(url, '/products/2')).status).toBe(200);
    redis.pause();

    let slow = 0;
    while (!states.includes('open')) {
      const { response } = await timedGet(url, '/products/2');
      expect(response.status).toBe(200); // Served from the origin: a cache failure never fails a request.
      slow++;
      expect(slow).toBeLessThanOrEqual(5);
    }
    for (let i = 0; i < 5; i++) {
      const { response, ms } = await timedGet(url, '/products/2');
      expect(response.status).toBe(200);
      // A request that waited for Redis would take ≥ SLOW_MS; the bar is 250 ms.
      expect(ms).toBeLessThan(SLOW_MS / 2);
    }

    const t0 = performance.now();
    await cache.stop();
    stopped.done = true;
    expect(performance.now() - t0).toBeLessThan(1_000);
  });
});

describe('one request while Redis is paused, breaker off', () => {
  it('regression: a miss paid the command timeout twice (the read, then the tag snapshot)', async () => {
    const commandTimeout = 1_000;
    const { url, mw } = await serve({ commandTimeout, breaker: false });
    expect((await send(url, '/products/1')).status).toBe(200);
    // Connected, and a path stored: the store's SET must have landed before the pause. The
    // client (ioredis with auto-pipelining, src/stores/redis/connect.ts) runs one pipeline
    // at a time, so a SET still in flight when Redis stops would hold this miss's read and
    // snapshot until it timed out, and the miss would pay that timeout before its own.
    await until(() => mw.stats().stores >= 1, 10_000, 'the first response to be stored');
    redis.pause();
    const { response, ms } = await timedGet(url, '/products/2');
    expect(response.status).toBe(200);
    // The read and the snapshot wait together: one timeout (≥ 1 s), never two (≥ 2 s).
    expect(ms).toBeLessThan(1.8 * commandTimeout);
  });
});
