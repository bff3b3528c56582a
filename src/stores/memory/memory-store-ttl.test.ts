import { afterEach, describe, expect, it, vi } from 'vitest';
import type { EvictionReason } from '../../core/store.js';
import { MemoryStore } from './memory-store.js';

function fakeClockStore(
  extra: { maxEntries?: number; sweepIntervalMs?: number; eviction?: 'lru' | 'tinylfu' } = {},
) {
  const clock = { t: 1_000, now: () => clock.t };
  const evicted: [string, EvictionReason][] = [];
  const store = new MemoryStore(
    { maxMemory: 1 << 24, clock, ...extra },
    { onEvict: (key, reason) => evicted.push([key, reason]) },
  );
  return { store, clock, evicted };
}

const v = (s: string) => Buffer.from(s);

describe('MemoryStore TTL', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('serves an entry until its TTL has passed, then reports it expired once', () => {
    const { store, clock, evicted } = fakeClockStore();
    store.set('k', v('x'), 100);
    clock.t += 100;
    expect(store.get('k')?.toString()).toBe('x');
    clock.t += 1;
    expect(store.get('k')).toBeUndefined();
    expect(store.get('k')).toBeUndefined();
    expect(evicted).toEqual([['k', 'expired']]);
    expect(store.size().entries).toBe(0);
  });

  it('expires lazily on every read path', async () => {
    const { store, clock, evicted } = fakeClockStore();
    for (const key of ['get', 'many', 'exists', 'delete', 'incr', 'scan'])
      store.set(key, v('1'), 10);
    store.set('forever', v('1'), undefined);
    clock.t += 11;
    expect(store.getMany(['many'])).toEqual([undefined]);
    expect(store.exists('exists')).toBe(false);
    expect(store.delete('delete')).toBe(false);
    // An expired counter counts as missing: it restarts at 0 and no longer expires.
    expect(store.incrBy('incr', 5n)).toBe(5n);
    const scanned: string[] = [];
    for await (const batch of store.scan('*')) scanned.push(...batch);
    expect(scanned.sort()).toEqual(['forever', 'incr']);
    expect(evicted.map(([k]) => k).sort()).toEqual([
      'delete',
      'exists',
      'get',
      'incr',
      'many',
      'scan',
    ]);
    expect(evicted.every(([, reason]) => reason === 'expired')).toBe(true);
    clock.t += 1_000_000;
    expect(store.get('incr')?.toString()).toBe('5');
  });

  it('an overwrite replaces the TTL (none means no expiry)', () => {
    const { store, clock } = fakeClockStore();
    store.set('k', v('a'), 10);
    store.set('k', v('b'), undefined);
    clock.t += 1000;
    expect(store.get('k')?.toString()).toBe('b');
    store.set('k', v('c'), 5);
    clock.t += 6;
    expect(store.exists('k')).toBe(false);
  });

  it('setMany applies one TTL to every key', () => {
    const { store, clock } = fakeClockStore();
    store.setMany(
      [
        ['a', v('1')],
        ['b', v('2')],
      ],
      50,
    );
    clock.t += 50;
    expect(store.getMany(['a', 'b']).map(String)).toEqual(['1', '2']);
    clock.t += 1;
    expect(store.getMany(['a', 'b'])).toEqual([undefined, undefined]);
  });

  it('reports an already expired entry evicted for room as expired, not capacity', () => {
    const { store, clock, evicted } = fakeClockStore({ maxEntries: 2, eviction: 'lru' });
    store.set('old', v('1'), 5);
    store.set('b', v('2'), undefined);
    clock.t += 10;
    store.set('c', v('3'), undefined);
    expect(evicted).toEqual([['old', 'expired']]);
  });

  it('the sweep removes expired entries in bounded slices, once started', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const { store, clock, evicted } = fakeClockStore({ sweepIntervalMs: 1000 });
    for (let i = 0; i < 12_000; i++) store.set(`k${i}`, v('x'), 10);
    store.set('keep', v('x'), undefined);
    clock.t += 11;
    vi.advanceTimersByTime(5000);
    expect(evicted).toHaveLength(0); // not started: the constructor starts nothing
    void store.start();
    void store.start(); // idempotent: still one timer
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1000);
    const afterOneTick = store.size().entries;
    expect(afterOneTick).toBeGreaterThan(1);
    expect(afterOneTick).toBeLessThan(12_001);
    vi.advanceTimersByTime(5000);
    expect(store.size().entries).toBe(1);
    expect(evicted).toHaveLength(12_000);
    expect(evicted.every(([, reason]) => reason === 'expired')).toBe(true);
  });

  it('stop() clears the sweep timer and is idempotent', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const { store, clock } = fakeClockStore({ sweepIntervalMs: 100 });
    await store.start();
    expect(vi.getTimerCount()).toBe(1);
    await store.stop();
    await store.stop();
    expect(vi.getTimerCount()).toBe(0);
    store.set('k', v('x'), 1);
    clock.t += 5;
    vi.advanceTimersByTime(1000);
    expect(store.size().entries).toBe(1); // nothing sweeps after stop; reads still expire
    expect(store.get('k')).toBeUndefined();
  });

  it('a started store never holds the process open', async () => {
    const store = new MemoryStore({ maxMemory: 1 << 20, sweepIntervalMs: 50 });
    const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timeouts();
    await store.start();
    expect(timeouts()).toBe(before);
    await store.stop();
    expect(timeouts()).toBe(before);
  });
});
