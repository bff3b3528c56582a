/**
 * getOrSet across processes: two RedisCache instances on separate connections stand in for
 * two processes (test/multiprocess/ runs real ones). One factory run per expiry between
 * them, waiters woken by the release message, the fence and the lock's renewal, the wait
 * bound, grace and fail-safe across instances, and a crashed holder (its lock never
 * released) does not hold waiters past the lock's own expiry.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { type Clock, type GetOrSetOptions, RedisCache } from '../../src/index.js';
import { flightChannel } from '../../src/stores/redis/keys.js';
import { eventually, skewedClock } from '../eventually.js';
import { connectionFor, type Topology } from './util.js';

const caches: RedisCache[] = [];
afterEach(async () => {
  await Promise.all(caches.splice(0).map((c) => c.stop()));
});

async function pair(topology: Topology, clock?: Clock): Promise<[RedisCache, RedisCache, string]> {
  const prefix = `flights-${randomUUID()}`;
  const a = new RedisCache({ ...connectionFor(topology), prefix, clock });
  const b = new RedisCache({ ...connectionFor(topology), prefix, clock });
  caches.push(a, b);
  await Promise.all([a.start(), b.start()]);
  return [a, b, prefix];
}

/** A getOrSet lock's Redis key: the prefix, the bookkeeping byte 0xFF, then `{lock:<key>}` (see keys.ts). */
function lockKey(prefix: string, key: string): Buffer {
  return Buffer.concat([Buffer.from(`${prefix}:`), Buffer.of(0xff), Buffer.from(`{lock:${key}}`)]);
}

/** A promise and its resolver, to hold a factory open. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => {
    open = r;
  });
  return { promise, open };
}

/**
 * Subscribers to this cache's release channel, over every server behind `cache`. A waiting
 * process subscribes (after its `SET NX` failed), so a rise means a waiter is parked. The
 * channel is per prefix and each test has its own prefix, so other test files running at
 * the same time cannot move the count.
 */
async function waiters(cache: RedisCache, prefix: string): Promise<number> {
  const client = cache.client!;
  const channel = flightChannel(0, `${prefix}:`);
  if (!('nodes' in client)) {
    const [, n] = (await client.call('PUBSUB', 'NUMSUB', channel)) as [string, number];
    return Number(n);
  }
  // NUMSUB is per node, and a Cluster subscriber may sit on any node, replicas included,
  // which the cache's own client may not have connected to: ask every node CLUSTER NODES lists.
  const listing = (await client.call('CLUSTER', 'NODES')) as string;
  const addresses = listing
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => line.split(' ')[1]!.split('@')[0]!);
  const counts = await Promise.all(
    addresses.map(async (address) => {
      const [host, port] = address.split(':');
      const node = new Redis({ host, port: Number(port), lazyConnect: true });
      try {
        const [, n] = (await node.call('PUBSUB', 'NUMSUB', channel)) as [string, number];
        return Number(n);
      } finally {
        node.disconnect();
      }
    }),
  );
  return counts.reduce((sum, n) => sum + n, 0);
}

describe.each(['standalone', 'cluster'] as const)('cross-process getOrSet (%s)', (topology) => {
  it('runs the factory once for concurrent callers in two processes', async () => {
    const [a, b, prefix] = await pair(topology);
    let runs = 0;
    const held = gate();
    const factory = async () => {
      runs++;
      await held.promise;
      return { n: runs };
    };
    const calls = [
      ...Array.from({ length: 10 }, () => a.getOrSet('hot', factory, { ttl: '1m' })),
      ...Array.from({ length: 10 }, () => b.getOrSet('hot', factory, { ttl: '1m' })),
    ];
    // One process runs the factory, the other waits on the lock; then let the run finish.
    await eventually(async () => {
      expect(runs).toBe(1);
      expect(await waiters(a, prefix)).toBeGreaterThan(0);
    });
    held.open();
    const results = await Promise.all(calls);
    expect(runs).toBe(1);
    expect(results).toEqual(Array(20).fill({ n: 1 }));
  });

  it('wakes the waiting process on release, not after the lock would expire', async () => {
    const [a, b, prefix] = await pair(topology);
    const started = gate();
    const held = gate();
    // A lock of 60 s, and as long a wait: without the message, b would wake only then.
    const lock = { ttl: '60s', wait: '60s' } as const;
    const holder = a.getOrSet(
      'k',
      async () => {
        started.open();
        await held.promise;
        return 'from-a';
      },
      { lock },
    );
    await started.promise;
    const waiter = b.getOrSet('k', () => 'from-b', { lock });
    await eventually(async () => expect(await waiters(a, prefix)).toBeGreaterThan(0));
    const t0 = performance.now();
    held.open();
    expect(await holder).toBe('from-a');
    expect(await waiter).toBe('from-a');
    // Woken by the release, not by the 60 s lock running out: a bound far from both.
    expect(performance.now() - t0).toBeLessThan(30_000);
  });

  it('fence: a holder whose lock another process took drops its write, and leaves that lock alone', async () => {
    const [a, b, prefix] = await pair(topology);
    const started = gate();
    const held = gate();
    const first = a.getOrSet('k', async () => {
      started.open();
      await held.promise;
      return 'old';
    });
    await started.promise;
    // a's lock runs out (stalled past its TTL) and another process takes it and writes.
    const lock = lockKey(prefix, 'k');
    await a.client?.del(lock);
    expect(await a.client?.set(lock, 'newer-holder', 'PX', 30_000, 'NX')).toBe('OK');
    await b.setJSON('k', 'new', '1m');
    held.open();
    expect(await first).toBe('old'); // a's callers still get what a computed...
    expect(await b.getJSON('k')).toBe('new'); // ...but it did not overwrite the newer value,
    expect(await a.client?.get(lock)).toBe('newer-holder'); // nor release the other's lock.
  });

  it('a factory slower than the lock TTL still runs once: the holder renews its lock', async () => {
    const [a, b, prefix] = await pair(topology);
    const started = gate();
    const held = gate();
    const lock = { ttl: 300 };
    const first = a.getOrSet(
      'slow',
      async () => {
        started.open();
        await held.promise;
        return 'from-a';
      },
      { lock },
    );
    await started.promise;
    let bRuns = 0;
    const second = b.getOrSet('slow', () => ++bRuns, { lock });
    // Three renewals (the PTTL rose three times) span a whole TTL: unrenewed, it would be gone.
    const key = lockKey(prefix, 'slow');
    let last = Number.POSITIVE_INFINITY;
    let renewals = 0;
    await eventually(
      async () => {
        const left = Number(await a.client?.pttl(key));
        if (left > last) renewals++;
        last = left;
        expect(renewals).toBeGreaterThanOrEqual(3);
      },
      { timeout: 30_000 },
    );
    held.open();
    expect(await first).toBe('from-a');
    expect(await second).toBe('from-a');
    expect(bRuns).toBe(0);
  });

  it('a waiter runs the factory itself once lock.wait runs out', async () => {
    const [a, b] = await pair(topology);
    const started = gate();
    const held = gate();
    const first = a.getOrSet('k', async () => {
      started.open();
      await held.promise;
      return 'from-a';
    });
    await started.promise;
    expect(await b.getOrSet('k', () => 'from-b', { lock: { wait: 200 } })).toBe('from-b');
    held.open();
    expect(await first).toBe('from-a');
  });

  it("announces a release on its own prefix's channel", async () => {
    const [a, , prefix] = await pair(topology);
    const client = a.client!;
    const sub = 'nodes' in client ? client.duplicate() : client.duplicate();
    const heard: string[] = [];
    sub.on('message', (channel: string, message: string) => heard.push(`${channel} ${message}`));
    try {
      await sub.subscribe(`__codeai:flights:0:${prefix}:`, '__codeai:flights');
      await a.getOrSet('k', () => 1);
      await eventually(() => expect(heard).toEqual([`__codeai:flights:0:${prefix}: ${prefix}:k`]));
    } finally {
      sub.disconnect();
    }
  });

  it('grace: every process serves the stale value at once while one refresh runs', async () => {
    const clock = skewedClock();
    const [a, b] = await pair(topology, clock);
    const options: GetOrSetOptions = { ttl: '1m', grace: '1h' };
    await a.getOrSet('g', () => 'old', options);
    clock.advance(120_000); // Stale, inside grace.
    let runs = 0;
    const held = gate();
    const refresh = async () => {
      runs++;
      await held.promise;
      return 'new';
    };
    expect(await a.getOrSet('g', refresh, options)).toBe('old');
    expect(await b.getOrSet('g', refresh, options)).toBe('old');
    held.open();
    await eventually(async () => {
      expect(await a.getOrSet('g', refresh, options)).toBe('new');
      expect(await b.getOrSet('g', refresh, options)).toBe('new');
    });
    expect(runs).toBe(1);
  });

  it('failSafe: when the refresh fails, callers in every process get the stale value', async () => {
    const clock = skewedClock();
    const [a, b] = await pair(topology, clock);
    const options: GetOrSetOptions = { ttl: '1m', failSafe: '1h' };
    await a.getOrSet('f', () => 'old', options);
    clock.advance(120_000); // Expired, kept for fail-safe.
    const started = gate();
    const held = gate();
    let runs = 0;
    const failing = async () => {
      runs++;
      started.open();
      await held.promise;
      throw new Error('origin down');
    };
    const first = a.getOrSet('f', failing, options);
    await started.promise; // a holds the lock; b waits on it, then tries once itself.
    const second = b.getOrSet('f', failing, options);
    held.open();
    expect(await first).toBe('old');
    expect(await second).toBe('old');
    // One run per process, one after the other (never at once); the failure is not cached.
    expect(runs).toBe(2);
  });

  it('a holder that never releases holds the others only until its lock expires', async () => {
    const [a, b, prefix] = await pair(topology);
    // The lock a crashed process would leave behind: 1 s to live, never released.
    const lock = lockKey(prefix, 'crashed');
    expect(await a.client?.set(lock, 'gone', 'PX', 1_000, 'NX')).toBe('OK');
    const t0 = performance.now();
    let lockWhenComputing: string | null | undefined;
    const recompute = async () => {
      lockWhenComputing = await a.client?.get(lock);
      return 'recomputed';
    };
    const options = { lock: { wait: '60s' } } as const;
    expect(await b.getOrSet('crashed', recompute, options)).toBe('recomputed');
    // b took the lock over (its own random token), so only after the crashed one ran out...
    expect(lockWhenComputing).toMatch(/^[0-9a-f-]{36}$/);
    // ...and was woken by that expiry, not by its 60 s wait bound: a bound far from both.
    expect(performance.now() - t0).toBeLessThan(30_000);
  });
});
