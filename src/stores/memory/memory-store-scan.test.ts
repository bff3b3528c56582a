import { describe, expect, it } from 'vitest';
import { MemoryStore } from './memory-store.js';

const v = Buffer.from('v');

async function collect(iterable: AsyncIterable<readonly string[]>): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of iterable) keys.push(...batch);
  return keys;
}

describe('MemoryStore scan / deletePattern', () => {
  it('yields live keys matching a Redis glob, in batches', async () => {
    const store = new MemoryStore({ maxMemory: 1 << 26 });
    for (let i = 0; i < 2500; i++) store.set(`user:${i}`, v, undefined);
    store.set('post:1', v, undefined);
    store.set('user[x]', v, undefined);
    const batches: (readonly string[])[] = [];
    for await (const batch of store.scan('user:*')) batches.push(batch);
    expect(batches.length).toBeGreaterThanOrEqual(3);
    expect(batches.every((b) => b.length > 0 && b.length <= 1000)).toBe(true);
    expect(batches.flat()).toHaveLength(2500);
    expect(await collect(store.scan('user:1?'))).toHaveLength(10);
    expect(await collect(store.scan('user\\[x]'))).toEqual(['user[x]']);
    expect(await collect(store.scan('nothing*'))).toEqual([]);
  });

  it('survives deletes and inserts while iterating; keys present throughout come at least once', async () => {
    const store = new MemoryStore({ maxMemory: 1 << 26 });
    const n = 25_000;
    for (let i = 0; i < n; i++) store.set(`k${i}`, v, undefined);
    const seen = new Set<string>();
    const touched = new Set<string>();
    let round = 0;
    for await (const batch of store.scan('*')) {
      for (const key of batch) seen.add(key);
      // Delete keys ahead of and behind the cursor, add new ones, re-add a deleted one.
      for (let j = 0; j < 50; j++) {
        const key = `k${(round * 997 + j * 31) % n}`;
        store.delete(key);
        touched.add(key);
      }
      for (let j = 0; j < 20; j++) store.set(`new${round}-${j}`, v, undefined);
      store.set(`k${(round * 997) % n}`, v, undefined);
      round++;
    }
    expect(round).toBeGreaterThan(20);
    let missing = 0;
    for (let i = 0; i < n; i++) {
      const key = `k${i}`;
      if (!touched.has(key) && !seen.has(key)) missing++;
    }
    expect(touched.size).toBeGreaterThan(1000);
    expect(missing).toBe(0);
  });

  it('stops with ABORTED when the signal fires', async () => {
    const store = new MemoryStore({ maxMemory: 1 << 26 });
    for (let i = 0; i < 5000; i++) store.set(`k${i}`, v, undefined);
    const controller = new AbortController();
    const run = async () => {
      for await (const _ of store.scan('*', controller.signal)) controller.abort();
    };
    await expect(run()).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('deletePattern removes only matching keys and counts them', async () => {
    const store = new MemoryStore({ maxMemory: 1 << 26 });
    for (let i = 0; i < 30_000; i++) store.set(`${i % 2 ? 'odd' : 'even'}:${i}`, v, undefined);
    expect(await store.deletePattern('odd:*')).toBe(15_000);
    expect(store.size().entries).toBe(15_000);
    expect(await collect(store.scan('odd:*'))).toEqual([]);
    expect(await store.deletePattern('even:[0-4]')).toBe(3);
    expect(await store.deletePattern('*')).toBe(14_997);
    expect(store.size()).toEqual({ entries: 0, bytes: 0 });
  });

  it('deletePattern lets other work run between slices of a large store', async () => {
    const store = new MemoryStore({ maxMemory: 1 << 26 });
    for (let i = 0; i < 40_000; i++) store.set(`k${i}`, v, undefined);
    const pending = store.deletePattern('k*');
    // The first slice ran synchronously; the rest waits for the event loop.
    const midway = store.size().entries;
    expect(midway).toBeGreaterThan(0);
    expect(midway).toBeLessThan(40_000);
    expect(await pending).toBe(40_000);
    expect(store.size().entries).toBe(0);
  });
});
