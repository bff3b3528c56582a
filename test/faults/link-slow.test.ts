/**
 * A slow, silent or broken link between a cache and a healthy Redis (a TCP proxy in the
 * middle, test/faults/support/tcp-proxy.ts), for RedisCache and TieredCache alike:
 *
 * - latency below the command timeout: everything works and every answer is right;
 * - latency above it, or a black hole: each call ends within the timeout (never hangs),
 *   getOrSet still answers from its factory, the breaker opens, and when the link heals the
 *   same cache works again by itself; a black-holed cache still stops promptly;
 * - replies that come after their command timed out are never handed to a later caller.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type BreakerState, RedisCache, TieredCache } from '../../src/index.js';
import { eventually } from '../eventually.js';
import { type RedisServer, startRedis } from '../harness/redis.js';
import { TcpProxy } from './support/tcp-proxy.js';

/** Short, so a test that waits out timeouts stays short. */
const TIMEOUT_MS = 300;
/**
 * "Within the timeout": the timeout plus a margin no loaded 2-core machine misses, and far
 * below a hang (ioredis never gives up on a silent socket by itself).
 */
const WITHIN_MS = TIMEOUT_MS + 4_000;
/** Far above the timeout: every command sent now times out. */
const SLOW_MS = 3 * TIMEOUT_MS;

type AnyCache = RedisCache | TieredCache;
type Options = ConstructorParameters<typeof RedisCache>[0] &
  ConstructorParameters<typeof TieredCache>[0];

let server: RedisServer;
let proxy: TcpProxy;
/** Writes the data the tests read, straight to Redis (not through the proxy). */
let direct: RedisCache;
const caches: AnyCache[] = [];

beforeAll(async () => {
  server = await startRedis();
  direct = new RedisCache({ url: server.url, prefix: 'link' });
  await direct.start();
}, 30_000);

afterAll(async () => {
  await direct?.stop();
  await server?.stop();
});

beforeEach(async () => {
  await server.cli('FLUSHALL');
  proxy = await TcpProxy.start({ port: server.port });
});

afterEach(async () => {
  proxy.heal();
  await Promise.all(caches.splice(0).map((c) => c.stop()));
  await proxy.close();
});

const kinds = {
  RedisCache: (o: Options) => new RedisCache(o),
  // One L1 entry: reads go to Redis (through the link) instead of being L1 hits.
  TieredCache: (o: Options) => new TieredCache({ ...o, l1: { maxEntries: 1 } }),
};

/** Runs `op`; returns how long it took and its value or error. */
async function timed<T>(op: () => Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const t0 = performance.now();
  try {
    const value = await op();
    return { ms: performance.now() - t0, value };
  } catch (error) {
    return { ms: performance.now() - t0, error };
  }
}

describe.each(Object.entries(kinds))('%s over a faulty link', (_name, make) => {
  async function started(options: Options = {}): Promise<AnyCache> {
    const cache = make({
      url: proxy.url,
      prefix: 'link',
      commandTimeout: TIMEOUT_MS,
      breaker: { threshold: 3, cooldown: 200 },
      ...options,
    });
    caches.push(cache);
    await cache.start();
    return cache;
  }

  it('with latency below the timeout, works and answers right', async () => {
    const cache = await started({ commandTimeout: 2_000 });
    proxy.latency(50);
    const keys = Array.from({ length: 30 }, (_, i) => `slow:${i}`);
    await Promise.all(keys.map((k) => cache.set(k, `value of ${k}`)));
    const got = await Promise.all(keys.map((k) => cache.get(k)));
    expect(got.map((b) => b?.toString())).toEqual(keys.map((k) => `value of ${k}`));
    expect((await cache.mget(keys)).map((b) => b?.toString())).toEqual(
      keys.map((k) => `value of ${k}`),
    );
    let runs = 0;
    const values = await Promise.all(
      keys.map((k) =>
        cache.getOrSet(`gos:${k}`, () => {
          runs++;
          return `made for ${k}`;
        }),
      ),
    );
    expect(values).toEqual(keys.map((k) => `made for ${k}`));
    expect(runs).toBe(keys.length);
    expect(cache.stats().errors).toBe(0);
  });

  for (const fault of ['latency above the timeout', 'a black hole'] as const) {
    it(`with ${fault}: calls end within the timeout, getOrSet answers, the breaker opens, and the cache recovers by itself`, async () => {
      const cache = await started({ failOpen: false });
      const states: BreakerState[] = [];
      cache.on('breaker', (e) => states.push(e.state));
      await direct.set('before', 'b1');
      expect((await cache.get('before'))?.toString()).toBe('b1');

      if (fault === 'a black hole') proxy.blackhole();
      else proxy.latency(SLOW_MS);

      for (let i = 0; i < 5; i++) {
        const r = await timed(() => cache.get(`fresh:${i}`));
        expect(r.error).toMatchObject({ code: expect.stringMatching(/^(TIMEOUT|CONNECTION)$/) });
        expect(r.ms).toBeLessThan(WITHIN_MS);
      }
      expect(states).toContain('open');
      const w = await timed(() => cache.set('during', 'x'));
      expect(w.error).toMatchObject({ code: expect.stringMatching(/^(TIMEOUT|CONNECTION)$/) });
      expect(w.ms).toBeLessThan(WITHIN_MS);
      const g = await timed(() => cache.getOrSet('made', () => ({ from: 'factory' })));
      expect(g.value).toEqual({ from: 'factory' });
      expect(g.ms).toBeLessThan(WITHIN_MS);

      proxy.heal();
      await eventually(() => expect(states.at(-1)).toBe('closed'));
      // Same cache, no restart: reads and writes work and are right.
      await direct.set('after', 'a1');
      expect((await cache.get('after'))?.toString()).toBe('a1');
      await cache.set('written', 'w1');
      expect(await direct.get('written').then((b) => b?.toString())).toBe('w1');
      expect((await cache.get('before'))?.toString()).toBe('b1');
    });
  }

  it('stops promptly while the link is a black hole', async () => {
    const cache = await started();
    await cache.set('k', 'v');
    proxy.blackhole();
    const pending = [cache.get('k2'), cache.set('k3', 'v').catch(() => {})];
    const t0 = performance.now();
    await cache.stop();
    // stop() bounds QUIT at 250 ms and then destroys the sockets: far below a hang.
    expect(performance.now() - t0).toBeLessThan(WITHIN_MS);
    const settled = await timed(() => Promise.allSettled(pending));
    expect(settled.ms).toBeLessThan(WITHIN_MS);
  });

  it('never hands the reply of a timed-out command to a later caller', async () => {
    const cache = await started({ failOpen: false, breaker: false });
    // Latencies around the timeout: in each round some commands time out and their replies
    // arrive later, on the same connection, while other commands are waiting for theirs.
    const latencies = [150, 250, 320, 0, 450, 280];
    let answered = 0;
    let failed = 0;
    for (const [round, latency] of latencies.entries()) {
      const keys = Array.from({ length: 40 }, (_, i) => `r${round}:k${i}`);
      await direct.mset(Object.fromEntries(keys.map((k) => [k, `value of ${k}`])));
      proxy.latency(latency);
      if (round === 4) setTimeout(() => proxy.heal(), TIMEOUT_MS / 2);
      const results = await Promise.all(
        keys.map((k, i) =>
          timed(() =>
            i % 4 === 0 ? cache.mget([k, `${k}:absent`]).then(([v]) => v) : cache.get(k),
          ),
        ),
      );
      for (const [i, r] of results.entries()) {
        expect(r.ms).toBeLessThan(latency + WITHIN_MS);
        if (r.error === undefined) {
          answered++;
          expect(r.value?.toString()).toBe(`value of ${keys[i]}`);
        } else {
          failed++;
          expect(r.error).toMatchObject({ code: 'TIMEOUT' });
        }
      }
    }
    // Both branches ran: the test saw late replies and right answers after them.
    expect(answered).toBeGreaterThan(0);
    expect(failed).toBeGreaterThan(0);
    proxy.heal();
    await eventually(async () =>
      expect((await cache.get('r0:k1'))?.toString()).toBe('value of r0:k1'),
    );
  });
});
