/**
 * getOrSet across processes: two RedisCache instances on separate connections stand in for
 * two processes. One factory run per expiry between them, waiters woken by the release
 * message, and a crashed holder (its lock never released) does not hold waiters past the
 * lock's own expiry.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisCache } from '../../src/index.js';
import { connectionFor, type Topology } from './util.js';

const caches: RedisCache[] = [];
afterEach(async () => {
  await Promise.all(caches.splice(0).map((c) => c.stop()));
});

async function pair(topology: Topology): Promise<[RedisCache, RedisCache, string]> {
  const prefix = `flights-${randomUUID()}`;
  const a = new RedisCache({ ...connectionFor(topology), prefix });
  const b = new RedisCache({ ...connectionFor(topology), prefix });
  caches.push(a, b);
  await Promise.all([a.start(), b.start()]);
  return [a, b, prefix];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(['standalone', 'cluster'] as const)('cross-process getOrSet (%s)', (topology) => {
  it('runs the factory once for concurrent callers in two processes', async () => {
    const [a, b] = await pair(topology);
    let runs = 0;
    const factory = async () => {
      runs++;
      await sleep(100);
      return { n: runs };
    };
    const calls = [
      ...Array.from({ length: 10 }, () => a.getOrSet('hot', factory, { ttl: '1m' })),
      ...Array.from({ length: 10 }, () => b.getOrSet('hot', factory, { ttl: '1m' })),
    ];
    const results = await Promise.all(calls);
    expect(runs).toBe(1);
    expect(results).toEqual(Array(20).fill({ n: 1 }));
  });

  it('wakes the waiting process on release, not after the lock would expire', async () => {
    const [a, b] = await pair(topology);
    const holder = a.getOrSet('k', async () => {
      await sleep(150);
      return 'from-a';
    });
    await sleep(30); // a holds the lock now
    const t0 = performance.now();
    const waiter = await b.getOrSet('k', () => 'from-b', { timeout: '5s' });
    const waited = performance.now() - t0;
    expect(await holder).toBe('from-a');
    expect(waiter).toBe('from-a');
    // Woken by the release (~120 ms), far from the 5 s lock.
    expect(waited).toBeLessThan(1_000);
  });

  it('a holder that never releases holds the others only until its lock expires', async () => {
    const [a, b, prefix] = await pair(topology);
    // The lock a crashed process would leave behind: 300 ms to live, never released.
    // Its key: the prefix, the bookkeeping byte 0xFF, then `{lock:<key>}` (see keys.ts).
    const lock = Buffer.concat([
      Buffer.from(`${prefix}:`),
      Buffer.of(0xff),
      Buffer.from('{lock:crashed}'),
    ]);
    expect(await a.client?.set(lock, 'gone', 'PX', 300, 'NX')).toBe('OK');
    const t0 = performance.now();
    expect(await b.getOrSet('crashed', () => 'recomputed', { timeout: '5s' })).toBe('recomputed');
    const waited = performance.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(250);
    expect(waited).toBeLessThan(1_500);
  });
});
