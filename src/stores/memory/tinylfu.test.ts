import { describe, expect, it } from 'vitest';
import { entryWeight, MemoryStore } from './memory-store.js';
import type { EvictionPolicyName } from './policy.js';
import { zipfTrace } from './zipf.js';

const value = Buffer.from('v');

/** Replays a trace cache-aside style (read, fill on miss) and returns the hit ratio. */
function hitRatio(eviction: EvictionPolicyName, trace: Uint32Array, maxEntries: number): number {
  const store = new MemoryStore({ maxMemory: 1e12, maxEntries, eviction });
  let hits = 0;
  for (const index of trace) {
    const key = `key:${index}`;
    if (store.get(key) !== undefined) hits++;
    else store.set(key, value, undefined);
  }
  return hits / trace.length;
}

describe('W-TinyLFU eviction', () => {
  it('beats LRU by more than 3 points on a Zipf(0.99) trace', () => {
    const trace = zipfTrace({ keys: 20_000, requests: 200_000, s: 0.99, seed: 2024 });
    const lru = hitRatio('lru', trace, 2_000);
    const tinylfu = hitRatio('tinylfu', trace, 2_000);
    expect(lru).toBeGreaterThan(0.6);
    expect(tinylfu).toBeGreaterThan(lru + 0.03);
  });

  it('keeps frequently read keys through a scan of one-hit wonders (LRU does not)', () => {
    const retained = (eviction: EvictionPolicyName) => {
      const store = new MemoryStore({ maxMemory: 1e12, maxEntries: 1000, eviction });
      const hot = Array.from({ length: 300 }, (_, i) => `hot:${i}`);
      for (let round = 0; round < 8; round++) {
        for (const key of hot) if (store.get(key) === undefined) store.set(key, value, undefined);
      }
      for (let i = 0; i < 20_000; i++) {
        const key = `once:${i}`;
        if (store.get(key) === undefined) store.set(key, value, undefined);
      }
      return hot.filter((key) => store.exists(key)).length / hot.length;
    };
    expect(retained('lru')).toBe(0);
    expect(retained('tinylfu')).toBeGreaterThan(0.95);
  });

  it('admits a key that becomes popular after the cache filled', () => {
    const store = new MemoryStore({ maxMemory: 1e12, maxEntries: 100 });
    for (let i = 0; i < 100; i++) store.set(`old:${i}`, value, undefined);
    for (let round = 0; round < 10; round++) {
      // The newcomer is read often; one-off keys push it out of the window each round.
      if (store.get('newcomer') === undefined) store.set('newcomer', value, undefined);
      for (let i = 0; i < 5; i++) store.set(`filler:${round}:${i}`, value, undefined);
    }
    expect(store.exists('newcomer')).toBe(true);
  });

  it('keeps a key read in the window over an older unread one (the read counts as use)', () => {
    const evicted: string[] = [];
    // 200 entries: a window of two; main is filled with keys read often, so newcomers lose.
    const store = new MemoryStore(
      { maxMemory: 1e12, maxEntries: 200 },
      { onEvict: (key) => evicted.push(key) },
    );
    for (let i = 0; i < 198; i++) {
      store.set(`main:${i}`, value, undefined);
      for (let r = 0; r < 5; r++) store.get(`main:${i}`);
    }
    store.set('x', value, undefined);
    store.set('y', value, undefined);
    store.get('x'); // x is the window's oldest, but read since it came in
    store.set('z', value, undefined); // over by one: y, not x, competes and loses
    expect(evicted).toEqual(['y']);
    expect(store.exists('x')).toBe(true);
  });

  it('remembers the reads a key had while held after it leaves, so it wins its way back in', () => {
    const store = new MemoryStore({ maxMemory: 1e12, maxEntries: 100 });
    for (let i = 0; i < 99; i++) {
      store.set(`steady:${i}`, value, undefined);
      store.get(`steady:${i}`);
      store.get(`steady:${i}`);
    }
    store.set('popular', value, undefined);
    for (let r = 0; r < 10; r++) store.get('popular');
    store.delete('popular');
    if (store.get('popular') === undefined) store.set('popular', value, undefined);
    // One-off writes push it out of the window: it must beat a key read twice to stay.
    for (let i = 0; i < 5; i++) store.set(`once:${i}`, value, undefined);
    expect(store.exists('popular')).toBe(true);
  });

  it('keeps a just-written entry even when it is larger than the window', () => {
    const maxMemory = 20_000;
    const store = new MemoryStore({ maxMemory });
    for (let i = 0; i < 50; i++) {
      store.set(`small:${i}`, Buffer.alloc(100), undefined);
      store.get(`small:${i}`);
    }
    const big = Buffer.alloc(8000);
    store.set('big', big, undefined);
    expect(store.get('big')?.length).toBe(8000);
    expect(store.size().bytes).toBeLessThanOrEqual(maxMemory);
    expect(store.size().bytes).toBeGreaterThan(maxMemory - entryWeight('small:0', 100) * 2);
  });
});

describe('LRU eviction', () => {
  it('evicts the least recently used entry first; reads and overwrites count as use', () => {
    const evicted: string[] = [];
    const store = new MemoryStore(
      { maxMemory: 1e9, maxEntries: 3, eviction: 'lru' },
      { onEvict: (key) => evicted.push(key) },
    );
    store.set('a', value, undefined);
    store.set('b', value, undefined);
    store.set('c', value, undefined);
    store.get('a'); // order now b, c, a
    store.set('d', value, undefined); // evicts b
    store.set('c', value, undefined); // order a, d, c
    store.set('e', value, undefined); // evicts a
    store.exists('d'); // exists is not a use
    store.set('f', value, undefined); // evicts d
    expect(evicted).toEqual(['b', 'a', 'd']);
    expect(store.getMany(['c', 'e', 'f']).every((b) => b !== undefined)).toBe(true);
  });

  it('evicts as many entries as a heavy write needs, oldest first', () => {
    const evicted: string[] = [];
    const per = entryWeight('k0', 100);
    const store = new MemoryStore(
      { maxMemory: per * 5, eviction: 'lru' },
      { onEvict: (key) => evicted.push(key) },
    );
    for (let i = 0; i < 5; i++) store.set(`k${i}`, Buffer.alloc(100), undefined);
    store.set('wide', Buffer.alloc(per * 2), undefined);
    expect(evicted).toEqual(['k0', 'k1', 'k2']);
  });

  it('a new key does not inherit the read count of the key whose slot it reuses', async () => {
    for (const before of ['nothing', 'clear'] as const) {
      const store = new MemoryStore({ maxMemory: 1e12, maxEntries: 100 });
      if (before === 'clear') {
        // Slots handed out and counted, then all dropped at once.
        for (let i = 0; i < 300; i++) store.set(`old:${i}`, value, undefined);
        for (let i = 0; i < 300; i++) store.get(`old:${i}`);
        await store.clear();
      }
      for (let i = 0; i < 100; i++) store.set(`main:${i}`, value, undefined);
      for (let round = 0; round < 2; round++) for (let i = 0; i < 100; i++) store.get(`main:${i}`);
      // A key read to the counter's limit leaves; the next key to arrive takes its slot.
      store.set('popular', value, undefined);
      for (let i = 0; i < 20; i++) store.get('popular');
      store.delete('popular');
      store.set('newcomer', value, undefined);
      // Pushed out of the window, the never-read newcomer must lose to main's read entries.
      store.set('filler', value, undefined);
      expect(store.exists('newcomer'), before).toBe(false);
      expect(store.size().entries, before).toBe(100);
    }
  });

  it("a held key's reads fade as the sketch ages: old popularity does not keep it for good", () => {
    const evicted: string[] = [];
    const store = new MemoryStore(
      { maxMemory: 1e12, maxEntries: 100 },
      { onEvict: (key) => evicted.push(key) },
    );
    // Over the bound once, so entries sit in main; then every one is read 15 times.
    for (let i = 0; i <= 100; i++) store.set(`old:${i}`, value, undefined);
    for (let round = 0; round < 15; round++) for (let i = 0; i < 100; i++) store.get(`old:${i}`);
    // Many reads of one key: the sketch ages several times over, halving every count.
    for (let i = 0; i < 100_000; i++) store.get('old:1');
    // A newcomer asked for twice now beats entries read 15 times long ago.
    store.get('fresh');
    store.get('fresh');
    store.set('fresh', value, undefined);
    store.set('filler', value, undefined);
    expect(store.exists('fresh')).toBe(true);
    expect(evicted.filter((key) => key.startsWith('old:')).length).toBeGreaterThan(1);
  });
});
