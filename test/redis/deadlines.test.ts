/**
 * The deadline sweep (src/stores/redis/deadlines.ts) on a paused (SIGSTOP) private
 * redis-server: one interval per store times out every command in flight, with the
 * `TIMEOUT` code and breaker accounting ioredis's per-command timer used to give.
 */
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BreakerState, type CacheError, RedisCache } from '../../src/index.js';
import { tickFor } from '../../src/stores/redis/deadlines.js';
import { type RedisServer, startRedis } from '../harness/redis.js';

const TIMEOUT_MS = 300;
/** Room for a loaded 2-core machine on top of timeout + tick; a hang would take forever. */
const SLACK_MS = 3_000;

let server: RedisServer;
const caches: RedisCache[] = [];

beforeEach(async () => {
  server = await startRedis();
});

afterEach(async () => {
  server.resume();
  await Promise.all(caches.splice(0).map((c) => c.stop()));
  await server.stop();
});

async function started(
  options: ConstructorParameters<typeof RedisCache>[0] = {},
): Promise<RedisCache> {
  const cache = new RedisCache({
    url: server.url,
    prefix: 'deadlines',
    commandTimeout: TIMEOUT_MS,
    failOpen: false,
    ...options,
  });
  caches.push(cache);
  await cache.start();
  return cache;
}

/** Settles `op`, returning its error code (or 'resolved') and when it settled, in ms from `t0`. */
async function settle(op: Promise<unknown>, t0: number): Promise<{ code: string; ms: number }> {
  try {
    await op;
    return { code: 'resolved', ms: performance.now() - t0 };
  } catch (err) {
    return { code: (err as CacheError).code ?? (err as Error).message, ms: performance.now() - t0 };
  }
}

describe('the deadline sweep on a paused server', () => {
  it('rejects a command with TIMEOUT no sooner than commandTimeout, within about one sweep tick after it', async () => {
    const cache = await started({ breaker: false });
    await cache.set('k', 'v');
    server.pause();
    const t0 = performance.now();
    const { code, ms } = await settle(cache.get('k'), t0);
    expect(code).toBe('TIMEOUT');
    expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 1);
    expect(ms).toBeLessThan(TIMEOUT_MS + tickFor(TIMEOUT_MS) + SLACK_MS);
  });

  it('times out every command in flight, and the breaker counts them', async () => {
    const cache = await started({ breaker: { threshold: 5, cooldown: '1h' } });
    const states: BreakerState[] = [];
    cache.on('breaker', (e) => states.push(e.state));
    server.pause();
    const t0 = performance.now();
    const ops = [
      ...Array.from({ length: 100 }, (_, i) => cache.get(`k${i}`)),
      cache.set('s', 'v'),
      cache.mget(['a', 'b']),
      cache.incr('n'),
    ];
    const results = await Promise.all(ops.map((op) => settle(op, t0)));
    expect(new Set(results.map((r) => r.code))).toEqual(new Set(['TIMEOUT']));
    for (const { ms } of results) expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 1);
    expect(states).toEqual(['open']);
    // Open: refused at once, without waiting for the server.
    const refused = await settle(cache.get('k'), performance.now());
    expect(refused.code).toBe('CONNECTION');
    expect(refused.ms).toBeLessThan(TIMEOUT_MS);
  });

  it('expires commands in the order they were sent, each on its own deadline', async () => {
    const cache = await started({ breaker: false });
    server.pause();
    const t0 = performance.now();
    const first = settle(cache.get('first'), t0);
    await new Promise((r) => setTimeout(r, TIMEOUT_MS / 2));
    const second = settle(cache.get('second'), t0);
    const [a, b] = await Promise.all([first, second]);
    expect([a.code, b.code]).toEqual(['TIMEOUT', 'TIMEOUT']);
    // The second was sent at least half a timeout later, so it cannot expire with the first.
    expect(b.ms).toBeGreaterThanOrEqual(TIMEOUT_MS * 1.5 - 1);
    expect(b.ms).toBeGreaterThan(a.ms);
  });

  it('also bounds the commands of a duplicated connection (the getOrSet subscriber)', async () => {
    const cache = await started({ breaker: false });
    const duplicate = (cache.client as Redis).duplicate();
    try {
      await duplicate.ping();
      server.pause();
      const t0 = performance.now();
      const { code, ms } = await settle(duplicate.get('deadlines:k'), t0);
      expect(code).toBe('Command timed out');
      expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 1);
      expect(ms).toBeLessThan(TIMEOUT_MS + tickFor(TIMEOUT_MS) + SLACK_MS);
    } finally {
      duplicate.disconnect();
    }
  });

  it('answers normally once the server is back, and a late reply reaches no one else', async () => {
    const cache = await started({ breaker: false });
    await cache.set('a', 'A');
    await cache.set('b', 'B');
    server.pause();
    const late = await settle(cache.get('a'), performance.now());
    expect(late.code).toBe('TIMEOUT');
    server.resume();
    // The GET of 'a' is still queued on the connection; its reply must be dropped, not given to 'b'.
    expect((await cache.get('b'))?.toString()).toBe('B');
    expect((await cache.get('a'))?.toString()).toBe('A');
  });
});
