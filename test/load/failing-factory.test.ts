/**
 * A failing and a hanging factory under concurrency (docs/reliability.md, "Load"): callers
 * get the error, the stale value (fail-safe, soft timeout) or `TIMEOUT` within their bound;
 * afterwards no getOrSet lock is left in Redis, no timer of the run is left alive, and the
 * key is not wedged: the next caller runs the factory again.
 *
 * Bounds here are "the configured timeout + a generous margin" (5 s beside 200–300 ms
 * settings): a loaded 2-core machine is late by far less, and a caller that is never
 * released would miss it by forever.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  type Cache,
  type CacheError,
  MemoryCache,
  RedisCache,
  TieredCache,
} from '../../src/index.js';
import { eventually, skewedClock } from '../eventually.js';
import { gate, grown, resources, trackTimers } from './support/load.js';

const CALLERS = 1_000;
/** Far above any delay a loaded machine adds to a 200–300 ms setting, far below "never". */
const MARGIN_MS = 5_000;

let admin: Redis;
beforeAll(async () => {
  admin = new Redis(inject('redisUrl'), { lazyConnect: true });
  await admin.connect();
});
afterAll(() => admin.disconnect());

type Kind = 'memory' | 'redis' | 'tiered';
const made: Cache[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((c) => c.stop()));
});

/** `n` caches of one kind sharing one fresh prefix (Redis kinds: one server, as n processes would). */
async function caches(kind: Kind, n: number, clock = skewedClock()) {
  const prefix = `load${randomBytes(6).toString('hex')}:`;
  const out: Cache[] = [];
  for (let i = 0; i < (kind === 'memory' ? 1 : n); i++) {
    const options = { url: inject('redisUrl'), prefix, clock };
    const cache =
      kind === 'memory'
        ? new MemoryCache({ clock })
        : kind === 'redis'
          ? new RedisCache(options)
          : new TieredCache(options);
    await cache.start();
    made.push(cache);
    out.push(cache);
  }
  return { caches: out, prefix, clock };
}

/** Every key under `prefix` on the shared server that is a getOrSet lock, with its PTTL. */
async function locks(prefix: string): Promise<number[]> {
  const out: number[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await admin.scanBuffer(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next.toString();
    for (const k of keys) {
      if (k.includes('{lock:')) out.push(await admin.pttl(k));
    }
  } while (cursor !== '0');
  return out;
}

function spread<T>(list: Cache[], call: (c: Cache, i: number) => Promise<T>): Promise<T>[] {
  return Array.from({ length: CALLERS }, (_, i) => call(list[i % list.length]!, i));
}

describe.each(['memory', 'redis', 'tiered'] as const)('%s', (kind) => {
  it('a failing factory: every one of 1,000 callers gets its error, nothing is cached, no lock is left', async () => {
    const { caches: list, prefix } = await caches(kind, 4);
    const timers = trackTimers();
    let calls = 0;
    const held = gate();
    const boom = new Error('origin down');
    const factory = async () => {
      calls++;
      await held.opened;
      throw boom;
    };
    const key = 'failing';
    const results = spread(list, (c) =>
      c.getOrSet(key, factory, { ttl: '1m' }).then(
        () => 'resolved',
        (e: unknown) => e,
      ),
    );
    await eventually(() => expect(calls).toBe(1));
    held.open();
    const outcomes = await Promise.all(results);
    expect(outcomes.every((o) => o === boom)).toBe(true);
    // In-process joiners share one run; across instances each tries at most once in turn.
    expect(calls).toBeLessThanOrEqual(list.length);
    expect(await list[0]!.get(key)).toBeUndefined();
    if (kind !== 'memory') await eventually(async () => expect(await locks(prefix)).toEqual([]));
    // Every timer the run started (lock renewal, waits) is gone once it has settled.
    await eventually(() => expect(timers.alive()).toEqual([]));
    timers.stop();
    // Not wedged: the next call runs the factory and caches its value.
    expect(await list[0]!.getOrSet(key, () => 'back', { ttl: '1m' })).toBe('back');
  });

  it('a failing factory with failSafe: every caller gets the stale value', async () => {
    const { caches: list, clock } = await caches(kind, 4);
    const key = 'failsafe';
    await list[0]!.getOrSet(key, () => 'old', { ttl: '1s', failSafe: '1h' });
    clock.advance(2_000);
    let calls = 0;
    const held = gate();
    const results = spread(list, (c) =>
      c.getOrSet(
        key,
        async () => {
          calls++;
          await held.opened;
          throw new Error('origin down');
        },
        { ttl: '1s', failSafe: '1h' },
      ),
    );
    await eventually(() => expect(calls).toBe(1));
    held.open();
    expect(new Set(await Promise.all(results))).toEqual(new Set(['old']));
    expect(calls).toBeLessThanOrEqual(list.length);
  });

  it('a hanging factory with a timeout: every caller gets TIMEOUT within it, the key is not wedged, the lock goes', async () => {
    const handles = resources();
    const { caches: list, prefix } = await caches(kind, 4);
    const timers = trackTimers();
    let hung = 0;
    const never = () => {
      hung++;
      return new Promise<string>(() => {});
    };
    const key = 'hanging';
    const options = { ttl: '1m', timeout: '200ms', lock: { wait: '300ms', ttl: '300ms' } } as const;
    const t0 = performance.now();
    const outcomes = await Promise.all(
      spread(list, (c) =>
        c.getOrSet(key, never, options).then(
          () => 'resolved',
          (e: CacheError) => e.code,
        ),
      ),
    );
    const took = performance.now() - t0;
    expect(new Set(outcomes)).toEqual(new Set(['TIMEOUT']));
    expect(took).toBeLessThan(200 + MARGIN_MS);
    // At most one hung run per instance: in-process callers joined it.
    expect(hung).toBeLessThanOrEqual(list.length);
    // Past lock.wait the hung run is given up: its lock is released (not renewed forever)…
    if (kind !== 'memory') await eventually(async () => expect(await locks(prefix)).toEqual([]));
    // …and a caller arriving now runs the factory afresh instead of joining it forever.
    await eventually(
      async () => expect(await list[0]!.getOrSet(key, () => 'fresh', options)).toBe('fresh'),
      { timeout: MARGIN_MS },
    );
    expect(await list[list.length - 1]!.getOrSet(key, never, options)).toBe('fresh');
    // The hung factories' promises never settle, yet no timer of ours waits on them.
    await eventually(() => expect(timers.alive()).toEqual([]));
    timers.stop();
    // And once the caches are stopped, no socket, timer or other handle of theirs is left.
    await Promise.all(made.splice(0).map((c) => c.stop()));
    await eventually(() => expect(grown(handles, resources())).toEqual([]));
  });

  it('a hanging factory with a stale value and a soft timeout: every caller gets the stale value', async () => {
    const { caches: list, clock } = await caches(kind, 4);
    const key = 'hanging-stale';
    await list[0]!.getOrSet(key, () => 'old', { ttl: '1s', failSafe: '1h' });
    clock.advance(2_000);
    const options = {
      ttl: '1s',
      failSafe: '1h',
      timeout: '200ms',
      lock: { wait: '300ms' },
    } as const;
    const t0 = performance.now();
    const values = await Promise.all(
      spread(list, (c) => c.getOrSet(key, () => new Promise<string>(() => {}), options)),
    );
    expect(new Set(values)).toEqual(new Set(['old']));
    expect(performance.now() - t0).toBeLessThan(200 + MARGIN_MS);
  });
});
