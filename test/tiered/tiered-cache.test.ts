/**
 * TieredCache behaviour beyond the shared contract, with two instances in this process on
 * the shared standalone server: how long an L1 copy may live, the object L1, TTL jitter,
 * the URL form and option checks.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createCache, TieredCache, type TieredCacheOptions } from '../../src/index.js';
import { rejectsWith } from '../conformance/util.js';
import { eventually } from '../eventually.js';

const made: TieredCache[] = [];
const prefixes = new WeakMap<TieredCache, string>();
afterEach(async () => {
  await Promise.all(made.splice(0).map((c) => c.stop()));
});

/** Started caches sharing one fresh prefix. */
async function instances<N extends 1 | 2>(
  count: N,
  extra: TieredCacheOptions = {},
): Promise<N extends 1 ? [TieredCache] : [TieredCache, TieredCache]> {
  const prefix = `tiered-${randomUUID()}`;
  const caches = Array.from(
    { length: count },
    () => new TieredCache({ url: inject('redisUrl'), prefix, ...extra }),
  );
  made.push(...caches);
  for (const c of caches) prefixes.set(c, prefix);
  await Promise.all(caches.map((c) => c.start()));
  return caches as N extends 1 ? [TieredCache] : [TieredCache, TieredCache];
}

describe('TieredCache L1 lifetime', () => {
  it('an L1 copy never outlives the Redis entry it was read from', async () => {
    const [a] = await instances(1, { l1: { ttl: '1h' } });
    // Written behind the cache's back (no invalidation message): only the TTL can drop it.
    await a.client!.set(`${keyPrefix(a)}short`, 'v', 'PX', 300);
    expect((await a.get('short'))?.toString()).toBe('v');
    expect(a.stats().entries).toBe(1); // The read filled L1.
    await eventually(async () => expect(await a.get('short')).toBeUndefined());
  });

  it('l1.ttl bounds a copy that no invalidation reaches', async () => {
    const [a] = await instances(1, { l1: { ttl: 200 } });
    const client = a.client!;
    await client.set(`${keyPrefix(a)}k`, 'old');
    expect((await a.get('k'))?.toString()).toBe('old');
    await client.set(`${keyPrefix(a)}k`, 'new');
    await eventually(async () => expect((await a.get('k'))?.toString()).toBe('new'));
  });

  it('a write lands in the writer’s L1 with its TTL', async () => {
    const [a] = await instances(1);
    await a.set('w', 'v', '1h');
    expect(a.stats().entries).toBe(1);
    await a.client!.set(`${keyPrefix(a)}w`, 'changed-behind-its-back');
    expect((await a.get('w'))?.toString()).toBe('v');
  });

  it('reports the bus and the L1 in health', async () => {
    const [a] = await instances(1);
    await a.set('x', '1');
    const report = await a.health();
    expect(report.status).toBe('healthy');
    expect(report.details).toMatchObject({ bus: 'live', l1: { entries: 1 } });
  });
});

describe('TieredCache mget', () => {
  it('fills L1 from what L2 answers, each copy bounded by its Redis TTL', async () => {
    const [a] = await instances(1, { l1: { ttl: '1h' } });
    const client = a.client!;
    // Written behind the cache's back: only a fill can put them in L1.
    await client.set(`${keyPrefix(a)}long`, 'l', 'PX', 3_600_000);
    await client.set(`${keyPrefix(a)}short`, 's', 'PX', 300);
    const first = await a.mget(['long', 'short', 'absent']);
    expect(first.map((v) => v?.toString())).toEqual(['l', 's', undefined]);
    expect(a.stats().entries).toBe(2);
    // Served from L1 now: a change behind its back (no message) is not seen...
    await client.set(`${keyPrefix(a)}long`, 'changed', 'PX', 3_600_000);
    expect((await a.mget(['long']))[0]?.toString()).toBe('l');
    // ...and the short copy went with its Redis entry, not after l1.ttl.
    await eventually(async () => expect((await a.mget(['short']))[0]).toBeUndefined());
  });

  it('stores no copy of a key invalidated while its read was in flight', async () => {
    const [a, b] = await instances(2, { commandTimeout: '30s' });
    await a.mset({ k1: 'old', k2: 'two' });
    await eventually(() => expect(b.bus.received).toBeGreaterThan(0));
    // B's L2 connection answers in order: a BLPOP ahead of the mget holds its reply back
    // until A's write and its invalidation message have reached B.
    const list = `${keyPrefix(b)}hold`;
    const held = b.client!.blpop(list, 20);
    const read = b.mget(['k1', 'k2']);
    const received = b.bus.received;
    await a.set('k1', 'new');
    await eventually(() => expect(b.bus.received).toBeGreaterThan(received));
    await a.client!.lpush(list, 'go');
    await held;
    expect((await read).map((v) => v?.toString())).toEqual(['new', 'two']);
    // k2 was filled, k1 was not: the next read of k1 goes to Redis and sees a later change.
    expect(b.stats().entries).toBe(1);
    await a.client!.set(`${keyPrefix(a)}k2`, 'behind', 'PX', 60_000);
    await a.client!.set(`${keyPrefix(a)}k1`, 'behind');
    expect((await b.mget(['k1', 'k2'])).map((v) => v?.toString())).toEqual(['behind', 'two']);
  });
});

describe('TieredCache object L1 (serialize: false)', () => {
  it('hands every caller the same frozen object, computed once', async () => {
    const [a] = await instances(1, { l1: { serialize: false, freeze: true } });
    let runs = 0;
    const factory = () => ({ n: ++runs, list: [1] });
    const first = await a.getOrSet('obj', factory, { ttl: '1m' });
    const second = await a.getOrSet('obj', factory, { ttl: '1m' });
    expect(second).toBe(first);
    expect(runs).toBe(1);
    expect(Object.isFrozen(first.list)).toBe(true);
    expect(() => {
      first.list.push(2);
    }).toThrow(TypeError);
    expect(a.stats().hits).toBeGreaterThanOrEqual(1);
  });

  it('does not freeze with freeze: false', async () => {
    const [a] = await instances(1, { l1: { serialize: false, freeze: false } });
    const value = await a.getOrSet('obj', () => ({ n: 1 }), { ttl: '1m' });
    const again = await a.getOrSet('obj', () => ({ n: 2 }), { ttl: '1m' });
    expect(again).toBe(value);
    expect(Object.isFrozen(value)).toBe(false);
  });

  it('drops a kept object when another instance writes the key or invalidates its tag', async () => {
    const [a, b] = await instances(2, { l1: { serialize: false } });
    expect(await b.getOrSet('obj', () => ({ v: 1 }), { ttl: '1m' })).toEqual({ v: 1 });
    await a.setJSON('obj', { v: 2 });
    await eventually(async () =>
      expect(await b.getOrSet('obj', () => ({ v: 0 }), { ttl: '1m' })).toEqual({ v: 2 }),
    );
    expect(await b.getOrSet('t', () => ({ v: 1 }), { ttl: '1m', tags: ['x'] })).toEqual({ v: 1 });
    await a.invalidateTags(['x']);
    await eventually(async () =>
      expect(await b.getOrSet('t', () => ({ v: 3 }), { ttl: '1m', tags: ['x'] })).toEqual({
        v: 3,
      }),
    );
  });

  it('serves a stale object within grace no longer than its logical expiry', async () => {
    let now = Date.now();
    const clock = { now: () => now };
    const [a] = await instances(1, { l1: { serialize: false }, clock });
    let runs = 0;
    const factory = () => ({ run: ++runs });
    await a.getOrSet('g', factory, { ttl: 100, grace: '1m' });
    now += 200; // Past its logical expiry: the kept object is no longer served as fresh.
    const stale = await a.getOrSet('g', factory, { ttl: 100, grace: '1m' });
    expect(stale).toEqual({ run: 1 }); // Grace: the stale value, while one refresh runs.
    await eventually(async () =>
      expect(await a.getOrSet('g', factory, { ttl: 100, grace: '1m' })).toEqual({ run: 2 }),
    );
  });
});

describe('TieredCache jitter', () => {
  it('shortens each getOrSet TTL by up to the jitter fraction', async () => {
    const [a] = await instances(1, { jitter: 0.5 });
    const keys = Array.from({ length: 20 }, (_, i) => `j${i}`);
    for (const key of keys) await a.getOrSet(key, () => 1, { ttl: '100s' });
    const ttls = await Promise.all(keys.map((k) => a.client!.pttl(`${keyPrefix(a)}${k}`)));
    for (const ttl of ttls) {
      expect(ttl).toBeGreaterThan(49_000);
      expect(ttl).toBeLessThanOrEqual(100_000);
    }
    expect(new Set(ttls.map((t) => Math.round(t / 1000))).size).toBeGreaterThan(1);
  });
});

describe('TieredCache configuration', () => {
  it('is created from a tiered+redis:// URL with L1 options in the query', () => {
    const cache = createCache(
      'tiered+redis://127.0.0.1:6399/2?prefix=app&l1.maxMemory=1mb&l1.ttl=5s&jitter=0.1',
    );
    expect(cache).toBeInstanceOf(TieredCache);
    expect(cache.name).toBe('tiered');
    expect(createCache({ type: 'tiered', url: 'redis://127.0.0.1:6399' })).toBeInstanceOf(
      TieredCache,
    );
  });

  it('rejects bad L1 options and URL parameters with INVALID_CONFIG, naming them', () => {
    expect(() => createCache('tiered+redis://127.0.0.1?l1.ttl=soon')).toThrow(/l1\.ttl/);
    expect(() => createCache('tiered+redis://127.0.0.1?l1.colour=red')).toThrow(/l1\.colour/);
    expect(() => new TieredCache({ l1: { size: 1 } as never })).toThrow(/unknown l1 option "size"/);
    expect(() => new TieredCache({ jitter: 1 })).toThrow(/jitter/);
    expect(() => new TieredCache({ l1: { maxEntries: 0 } })).toThrow(/l1\.maxEntries/);
  });

  it('rejects operations after stop() with STOPPED, object L1 included', async () => {
    const [a] = await instances(1, { l1: { serialize: false } });
    await a.getOrSet('k', () => 1);
    await a.stop();
    await rejectsWith(
      a.getOrSet('k', () => 2),
      'STOPPED',
    );
  });
});

/** The Redis key prefix of a cache made by `instances` (its prefix plus ':'). */
function keyPrefix(cache: TieredCache): string {
  return `${prefixes.get(cache)}:`;
}
