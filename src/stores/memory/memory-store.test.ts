import { describe, expect, it } from 'vitest';
import { isCacheError } from '../../core/errors.js';
import type { EvictionReason } from '../../core/store.js';
import { ENTRY_OVERHEAD_BYTES, entryWeight, MemoryStore } from './memory-store.js';
import type { MemoryStoreOptions } from './store-options.js';
import { seededRandom } from './zipf.js';

function recordingStore(options: MemoryStoreOptions) {
  const evicted: [string, EvictionReason][] = [];
  const store = new MemoryStore(options, { onEvict: (key, reason) => evicted.push([key, reason]) });
  return { store, evicted };
}

const text = (b: Buffer | undefined) => b?.toString('utf8');

describe('MemoryStore basics', () => {
  it('stores, reads, overwrites and deletes bytes', () => {
    const store = new MemoryStore({ maxMemory: 1 << 20 });
    expect(store.get('a')).toBeUndefined();
    store.set('a', Buffer.from('one'), undefined);
    expect(text(store.get('a'))).toBe('one');
    store.set('a', Buffer.from('three'), undefined);
    expect(text(store.get('a'))).toBe('three');
    expect(store.exists('a')).toBe(true);
    expect(store.delete('a')).toBe(true);
    expect(store.delete('a')).toBe(false);
    expect(store.exists('a')).toBe(false);
  });

  it('keeps every byte value intact, including non-UTF-8 bytes', () => {
    const store = new MemoryStore({ maxMemory: 1 << 20 });
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    store.set('bin', all, undefined);
    expect(store.get('bin')?.equals(all)).toBe(true);
    store.set('empty', Buffer.alloc(0), undefined);
    expect(store.get('empty')?.length).toBe(0);
  });

  it('charges key bytes (UTF-8), value bytes and the fixed overhead', () => {
    const store = new MemoryStore({ maxMemory: 1 << 20 });
    expect(entryWeight('é', 10)).toBe(2 + 10 + ENTRY_OVERHEAD_BYTES);
    store.set('é', Buffer.alloc(10), undefined);
    store.set('k', Buffer.alloc(5), undefined);
    expect(store.size()).toEqual({ entries: 2, bytes: entryWeight('é', 10) + entryWeight('k', 5) });
    store.set('k', Buffer.alloc(50), undefined);
    expect(store.size().bytes).toBe(entryWeight('é', 10) + entryWeight('k', 50));
    store.delete('é');
    expect(store.size()).toEqual({ entries: 1, bytes: entryWeight('k', 50) });
  });

  it('getMany, setMany and deleteMany work per key, in order', () => {
    const store = new MemoryStore({ maxMemory: 1 << 20 });
    store.setMany(
      [
        ['a', Buffer.from('1')],
        ['b', Buffer.from('2')],
      ],
      undefined,
    );
    expect(store.getMany(['b', 'x', 'a']).map(text)).toEqual(['2', undefined, '1']);
    expect(store.deleteMany(['a', 'x', 'b'])).toBe(2);
    expect(store.size().entries).toBe(0);
  });

  it('reports health and size', async () => {
    const store = new MemoryStore({ maxMemory: 5000, maxEntries: 7 });
    store.set('a', Buffer.from('x'), undefined);
    expect(await store.health()).toEqual({
      status: 'healthy',
      details: {
        entries: 1,
        bytes: entryWeight('a', 1),
        maxMemory: 5000,
        maxEntries: 7,
        tags: 0,
        tagResets: 0,
      },
    });
  });

  it('rejects bad options, naming the option', () => {
    const bad: [Partial<MemoryStoreOptions>, string][] = [
      [{ maxMemory: 0 }, 'maxMemory'],
      [{ maxMemory: Number.NaN }, 'maxMemory'],
      [{ maxMemory: 100, maxEntries: 0 }, 'maxEntries'],
      [{ maxMemory: 100, maxEntries: 1.5 }, 'maxEntries'],
      [{ maxMemory: 100, sweepIntervalMs: 0 }, 'sweepIntervalMs'],
      [{ maxMemory: 100, eviction: 'fifo' as 'lru' }, 'eviction'],
    ];
    for (const [options, name] of bad) {
      expect(() => new MemoryStore(options as MemoryStoreOptions)).toThrow(name);
      try {
        new MemoryStore(options as MemoryStoreOptions);
      } catch (err) {
        expect(isCacheError(err, 'INVALID_CONFIG')).toBe(true);
      }
    }
  });
});

describe('MemoryStore values are private copies', () => {
  it('does not see later changes to the buffer it was given', () => {
    const store = new MemoryStore({ maxMemory: 1 << 20 });
    const input = Buffer.from('hello');
    store.set('k', input, undefined);
    input.fill(0);
    expect(text(store.get('k'))).toBe('hello');
  });

  it('returns a fresh copy on every read', () => {
    const store = new MemoryStore({ maxMemory: 1 << 20 });
    store.set('k', Buffer.from('hello'), undefined);
    const first = store.get('k')!;
    first.fill(0x78);
    const second = store.get('k')!;
    expect(text(second)).toBe('hello');
    expect(second.buffer === first.buffer && second.byteOffset === first.byteOffset).toBe(false);
    expect(text(store.getMany(['k'])[0])).toBe('hello');
  });
});

describe('MemoryStore hard bound', () => {
  it('rejects a value larger than maxMemory with VALUE_TOO_LARGE and keeps the old value', () => {
    const { store, evicted } = recordingStore({ maxMemory: 1000 });
    store.set('other', Buffer.from('o'), undefined);
    store.set('k', Buffer.from('old'), undefined);
    let error: unknown;
    try {
      store.set('k', Buffer.alloc(1000), undefined);
    } catch (err) {
      error = err;
    }
    expect(isCacheError(error, 'VALUE_TOO_LARGE')).toBe(true);
    expect((error as Error).message).toContain(String(entryWeight('k', 1000)));
    expect((error as Error).message).toContain('1000');
    expect(text(store.get('k'))).toBe('old');
    expect(text(store.get('other'))).toBe('o');
    expect(evicted).toEqual([]);
  });

  it('setMany with one oversized value writes nothing', () => {
    const store = new MemoryStore({ maxMemory: 1000 });
    const batch: [string, Buffer][] = [
      ['a', Buffer.from('1')],
      ['b', Buffer.alloc(2000)],
    ];
    expect(() => store.setMany(batch, undefined)).toThrow(/maxMemory/);
    expect(store.size().entries).toBe(0);
  });

  it('accepts a value of exactly the bound, evicting everything else', () => {
    const { store, evicted } = recordingStore({ maxMemory: 1000 });
    store.set('a', Buffer.from('1'), undefined);
    const exact = 1000 - entryWeight('big', 0);
    store.set('big', Buffer.alloc(exact), undefined);
    expect(store.size()).toEqual({ entries: 1, bytes: 1000 });
    expect(evicted).toEqual([['a', 'capacity']]);
  });

  const cases = [
    ['tinylfu', 25],
    ['lru', 25],
    ['tinylfu', undefined],
    ['lru', undefined],
  ] as const;
  for (const [eviction, entryBound] of cases) {
    it(`${eviction}, maxEntries ${entryBound}: bounds hold and reads stay truthful after every random operation`, () => {
      const random = seededRandom(eviction.length * 100 + (entryBound ?? 0));
      let now = 1_000_000;
      const maxMemory = 6000;
      const maxEntries = entryBound ?? Number.POSITIVE_INFINITY;
      const { store } = recordingStore({
        maxMemory,
        maxEntries: entryBound,
        eviction,
        clock: { now: () => now },
      });
      const model = new Map<string, string>();
      const pick = (n: number) => Math.floor(random() * n);
      for (let step = 0; step < 20_000; step++) {
        const key = `k${pick(80)}`;
        const op = pick(10);
        if (op < 4) {
          const value = `${step}:`.padEnd(pick(1200), '.');
          const ttl = random() < 0.3 ? 1 + pick(50) : undefined;
          store.set(key, Buffer.from(value), ttl);
          model.set(key, value);
          // The write just made is readable at once, whatever the policy thinks of it.
          expect(text(store.get(key))).toBe(value);
        } else if (op < 5) {
          const batch: [string, Buffer][] = [0, 1, 2].map((i) => [
            `k${pick(80)}`,
            Buffer.from(`${step}/${i}`),
          ]);
          store.setMany(batch, undefined);
          for (const [k, v] of batch) model.set(k, v.toString());
        } else if (op < 6) {
          try {
            const next = store.incrBy(key, BigInt(pick(1000) - 500));
            model.set(key, String(next));
          } catch (err) {
            expect(isCacheError(err, 'NOT_INTEGER')).toBe(true);
          }
        } else if (op < 7) {
          store.delete(key);
          model.delete(key);
        } else {
          const got = store.get(key);
          // Eviction may drop a value, never change it.
          if (got !== undefined) expect(got.toString()).toBe(model.get(key));
        }
        if (random() < 0.05) now += pick(30);
        const { entries, bytes } = store.size();
        expect(bytes).toBeLessThanOrEqual(maxMemory);
        expect(entries).toBeLessThanOrEqual(maxEntries);
      }
    });
  }

  it('keeps its byte total equal to the sum of what it holds', async () => {
    const store = new MemoryStore({ maxMemory: 20_000, maxEntries: 40 });
    const random = seededRandom(5);
    for (let i = 0; i < 2000; i++) {
      const key = `key-${Math.floor(random() * 100)}-é`;
      if (random() < 0.8) store.set(key, Buffer.alloc(Math.floor(random() * 900)), undefined);
      else store.delete(key);
    }
    let sum = 0;
    let count = 0;
    for await (const batch of store.scan('*')) {
      for (const key of batch) {
        sum += entryWeight(key, store.get(key)!.length);
        count++;
      }
    }
    expect(store.size()).toEqual({ entries: count, bytes: sum });
  });
});

describe('MemoryStore tags', () => {
  it('starts every tag at 0 and bumps each listed tag once per call', () => {
    const store = new MemoryStore({ maxMemory: 1 << 20 });
    expect(store.tagVersions(['a', 'b'])).toEqual([0, 0]);
    store.bumpTags(['a']);
    store.bumpTags(['a', 'b', 'a']);
    expect(store.tagVersions(['a', 'b', 'c'])).toEqual([2, 1, 0]);
  });

  it('clear() drops entries and tags but never reuses a version seen before it', async () => {
    const store = new MemoryStore({ maxMemory: 1 << 20 });
    store.set('k', Buffer.from('v'), undefined);
    const before = store.tagVersions(['a', 'b']);
    store.bumpTags(['a']);
    await store.clear();
    expect(store.size()).toEqual({ entries: 0, bytes: 0 });
    expect(store.get('k')).toBeUndefined();
    const after = store.tagVersions(['a', 'b']);
    expect(after[0]).not.toBe(before[0]);
    expect(after[0]).not.toBe(1);
    expect(after[1]).not.toBe(before[1]);
    expect(((await store.health()).details as { tags: number }).tags).toBe(0);
  });

  it('past maxTags forgets every invalidated tag, invalidating all tagged entries but no others', async () => {
    const store = new MemoryStore({ maxMemory: 1 << 20, maxTags: 3 });
    store.bumpTags(['a', 'b']);
    const recorded = store.tagVersions(['a', 'b', 'never-bumped']);
    store.bumpTags(['c']);
    expect(((await store.health()).details as { tags: number }).tags).toBe(3);
    store.bumpTags(['d']);
    const details = (await store.health()).details as { tags: number; tagResets: number };
    expect(details).toMatchObject({ tags: 0, tagResets: 1 });
    // Every version recorded before the reset is now stale, even for tags never bumped.
    const now = store.tagVersions(['a', 'b', 'never-bumped']);
    for (let i = 0; i < now.length; i++) expect(now[i]).not.toBe(recorded[i]);
  });

  it('rejects a maxTags that is not a positive integer', () => {
    for (const maxTags of [0, -1, 1.5, Number.NaN]) {
      expect(() => new MemoryStore({ maxMemory: 1 << 20, maxTags })).toThrow(/maxTags/);
    }
  });
});
